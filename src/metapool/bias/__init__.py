"""Small-study effects and publication bias.

Egger-type regression tests (all of metafor's ``regtest`` variants), Begg's
rank correlation test, Peters' test, trim-and-fill, fail-safe N, the LFK
index with Doi-plot data, and funnel-plot data with significance contours.
Each function dispatches on the type of the fitted result and returns its
own frozen result type; :data:`BIAS_TESTS` is the vocabulary. GLMM fits are
analysed on their study-level logits (see :mod:`metapool.bias.glmm`).
"""

from . import glmm as _glmm  # registers the GLMM adapters
from . import mh_peto as _mh_peto  # registers the Mantel-Haenszel and Peto adapters
from .failsafe import FailSafeN, fsn
from .funnel import FunnelData, funnel_data
from .lfk import LFKResult, lfk, lfk_index
from .rank import RankTest, ranktest
from .registry import BIAS_TESTS, DEFAULT_BIAS_TESTS, BiasTest
from .regression import PREDICTORS, RegressionTest, peters, regtest
from .report import bias_report
from .trimfill import TrimFillResult, trimfill

__all__ = [
    "BIAS_TESTS", "DEFAULT_BIAS_TESTS", "PREDICTORS", "BiasTest", "FailSafeN", "FunnelData",
    "LFKResult", "RankTest", "RegressionTest", "TrimFillResult", "bias_report", "fsn", "funnel_data", "lfk",
    "lfk_index", "peters", "ranktest", "regtest", "trimfill",
]  # fmt: skip

"""metapool: meta-analysis of clinical studies, numerically identical to metafor.

The public API is small and imports no plotting code (nor pandas or scipy.stats):

>>> import metapool as mp
>>> es = mp.escalc("PLO", xi=[3, 10, 20], ni=[30, 40, 50])
>>> res = mp.rma(es, method="REML")
>>> result = mp.audit("The pooled rate was 26% (95% CI 24-48%).")  # check the numbers of a text
"""

from .effect_sizes import MEASURES, EffectSizeTable, escalc
from .models.results import RMAResult
from .models.rma import rma
from .glmm import GLMMResult, rma_glmm
from .models.mh_peto import MHResult, rma_mh, rma_peto
from .models.rootfind import Control
from .models.tau2 import ESTIMATORS
from .inference.tests import TESTS
from .exceptions import (
    ConvergenceError,
    DataValidationError,
    MetapoolError,
    MetapoolWarning,
    OptionError,
)
from ._summary import load_renderers_with
from . import audit  # the package is callable: mp.audit(text) (light: its checks are imported on the first audit)


def _register_renderers() -> None:
    """Register every result's document renderer (on the first summary, not at import: they import every result)."""
    from .formatting import renderers  # noqa: F401


load_renderers_with(_register_renderers)

__version__ = "0.1.0"

__all__ = [
    "ESTIMATORS", "TESTS", "Control", "RMAResult", "rma", "GLMMResult", "rma_glmm", "MHResult", "rma_mh", "rma_peto", "MEASURES", "ConvergenceError", "DataValidationError", "EffectSizeTable",
    "MetapoolError", "MetapoolWarning", "OptionError", "escalc", "audit", "__version__",
]  # fmt: skip

"""Inference: coefficient tests (z, t, Knapp-Hartung), heterogeneity, intervals.

One place for each formula: prediction intervals and back-transformed limits
(:mod:`.intervals`), exact binomial and Poisson intervals (:mod:`.exact`), Q,
I^2, H^2 and the GLMM Wald-type Q (:mod:`.heterogeneity`). This layer imports
only from the core and the effect-size estimators, never from the models.
"""

from .._deprecation import moved
from .exact import clopper_pearson, poisson_exact
from .heterogeneity import Heterogeneity, common_i2_h2, heterogeneity, random_i2_h2, wald_q, wald_terms
from .intervals import natural_limits, prediction_interval
from .tests import TESTS, Coefficients, coefficient_tests, critical, knha_scale

__all__ = [
    "TESTS", "Coefficients", "Heterogeneity", "clopper_pearson", "coefficient_tests", "common_i2_h2",
    "critical", "heterogeneity", "knha_scale", "natural_limits", "poisson_exact", "prediction_interval",
    "random_i2_h2", "wald_q", "wald_terms",
]  # fmt: skip

#: Names that moved up to the models layer.
_MOVED_TO_MODELS = ("QProfile", "q_profile")


def __getattr__(name: str):
    """``QProfile`` and ``q_profile`` moved to :mod:`metapool.models.q_profile` (issue 11): importable here with a
    DeprecationWarning until 0.2 (the layer test allows this one upward import: it only forwards deprecated names)."""
    if name in _MOVED_TO_MODELS:
        from ..models import q_profile as new

        return moved(__name__, new, _MOVED_TO_MODELS)(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Inference: coefficient tests (z, t, Knapp-Hartung), heterogeneity, intervals.

One place for each formula: prediction intervals and back-transformed limits
(:mod:`.intervals`), exact binomial and Poisson intervals (:mod:`.exact`), Q,
I^2, H^2 and the GLMM Wald-type Q (:mod:`.heterogeneity`). This layer imports
only from the core and the effect-size estimators, never from the models.
"""

from .exact import clopper_pearson, poisson_exact
from .heterogeneity import (Heterogeneity, common_i2_h2, heterogeneity, moved_to_models, random_i2_h2, wald_q,
                            wald_terms)
from .intervals import natural_limits, prediction_interval
from .tests import TESTS, Coefficients, coefficient_tests, critical, knha_scale

__all__ = [
    "TESTS", "Coefficients", "Heterogeneity", "clopper_pearson", "coefficient_tests", "common_i2_h2",
    "critical", "heterogeneity", "knha_scale", "natural_limits", "poisson_exact", "prediction_interval",
    "random_i2_h2", "wald_q", "wald_terms",
]  # fmt: skip

__getattr__ = moved_to_models(__name__)  # QProfile, q_profile: deprecated, now in metapool.models.q_profile

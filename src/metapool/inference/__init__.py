"""Inference: coefficient tests (z, t, Knapp-Hartung), heterogeneity, intervals."""

from .heterogeneity import Heterogeneity, QProfile, heterogeneity, q_profile
from .tests import TESTS, Coefficients, coefficient_tests, critical, knha_scale

__all__ = [
    "TESTS", "Coefficients", "Heterogeneity", "QProfile", "coefficient_tests",
    "critical", "heterogeneity", "knha_scale", "q_profile",
]  # fmt: skip

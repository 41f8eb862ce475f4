"""Effect sizes: the measure registry, ``escalc`` and back-transformations."""

from . import measures as _measures  # noqa: F401  (registers the measures)
from .escalc import CORRECTION_TARGETS, ROLES, escalc
from .registry import FAMILIES, MEASURES, Measure, get_measure
from .table import EffectSizeTable, Exclusion
from .transforms import TRANSFORMS

__all__ = [
    "CORRECTION_TARGETS", "EffectSizeTable", "Exclusion", "FAMILIES", "MEASURES",
    "Measure", "ROLES", "TRANSFORMS", "escalc", "get_measure",
]  # fmt: skip

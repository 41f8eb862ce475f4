"""Moved to :mod:`metapool.glmm.model` (issue 11); the old import path warns until 0.2."""

from .._deprecation import moved
from ..glmm import model as _new

__getattr__ = moved(__name__, _new, ("rma_glmm", "GLMM_MEASURES", "model_studies", "SATURATED_NOTE", "HESSIAN_NOTE"))

"""Moved to :mod:`metapool.glmm.model` (issue 11); the old import path warns until 0.2."""

from .._deprecation import moved

__getattr__ = moved(__name__, "metapool.glmm.model",
                    ("rma_glmm", "GLMM_MEASURES", "model_studies", "SATURATED_NOTE", "HESSIAN_NOTE"))

"""Moved to :mod:`metapool.glmm.result` (issue 11); the old import path warns until 0.2."""

from .._deprecation import moved

__getattr__ = moved(__name__, "metapool.glmm.result", ("GLMMResult", "GLMM_MODELS"))

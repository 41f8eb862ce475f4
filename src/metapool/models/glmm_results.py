"""Moved to :mod:`metapool.glmm.result` (issue 11); the old import path warns until 0.2."""

from .._deprecation import moved
from ..glmm import result as _new

__getattr__ = moved(__name__, _new, ("GLMMResult", "GLMM_MODELS"))

"""The moderator formula grammar: re-exported from :mod:`metapool.models.design.formula`, where it lives.

It moved to the models layer because :func:`metapool.rma` builds its design matrix with it.
"""

from ..models.design.formula import (
    ALLOWED,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_OPERATIONS,
    MAX_TERMS,
    Categorical,
    Column,
    Formula,
    Transform,
    Variable,
    parse_formula,
)

__all__ = ["ALLOWED", "MAX_DEPTH", "MAX_LENGTH", "MAX_OPERATIONS", "MAX_TERMS", "Categorical", "Column", "Formula",
           "Transform", "Variable", "parse_formula"]

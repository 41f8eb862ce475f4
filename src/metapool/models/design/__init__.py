"""Design matrices of meta-regression, from moderator columns or a formula in metapool's own grammar.

:mod:`.formula` parses a formula (never evaluated as Python), :mod:`.arithmetic`
computes its ``I(...)`` terms and transforms on numeric columns, and
:mod:`.matrix` builds the design matrix as R's ``model.matrix`` does. They sit
in the models layer because :func:`metapool.rma` builds its design matrix with
them; ``metapool.moderators.design``, ``.formula`` and ``.arithmetic`` re-export
them.
"""

from .formula import ALLOWED, Categorical, Column, Formula, Transform, parse_formula
from .matrix import Design, build_design, check_rank

__all__ = ["ALLOWED", "Categorical", "Column", "Design", "Formula", "Transform", "build_design", "check_rank",
           "parse_formula"]

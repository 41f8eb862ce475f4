"""The arithmetic of moderator formulas: re-exported from :mod:`metapool.models.design.arithmetic`, where it lives.

It moved to the models layer because :func:`metapool.rma` builds its design matrix with it.
"""

from ..models.design.arithmetic import (
    FUNCTIONS,
    PLAIN_NAME,
    Binary,
    Call,
    Expr,
    Group,
    Name,
    Negative,
    Number,
    column_names,
    evaluate,
    quote_name,
    render,
)

__all__ = ["FUNCTIONS", "PLAIN_NAME", "Binary", "Call", "Expr", "Group", "Name", "Negative", "Number", "column_names",
           "evaluate", "quote_name", "render"]

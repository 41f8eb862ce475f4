"""Which rows of the input table a pooled result's studies come from.

Study labels are text the user typed: two rows may carry the same label, or
none. Weights, counts and study-level columns are therefore related to the
input by row index, never by label. Every result knows its studies' rows:
the ones it lists in ``rows`` (the pooled median of medians), or else every
row it does not list among its ``exclusions`` (rma, Mantel-Haenszel and Peto,
GLMMs, median survival), whose studies (``slab``, ``yi``, ``weights``) keep
the order of the table.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import DataValidationError

__all__ = ["model_rows"]


def model_rows(result, n_rows: int) -> np.ndarray:
    """0-based indices of the input rows of ``result``'s studies, in the order of its studies.

    Parameters
    ----------
    result
        A pooled result with ``k`` studies and either ``rows`` or
        ``exclusions`` (:class:`~metapool.effect_sizes.table.Exclusion`, rows
        0-based).
    n_rows
        Number of rows of the table the result was computed from; a table of
        ``k`` rows is taken to hold just the result's studies (e.g. a GLMM's
        own study-level effect sizes, or a subgroup's rows).

    Raises
    ------
    DataValidationError
        When the rows found are not ``k`` rows of the table (the result was
        computed from another table).
    """
    rows = getattr(result, "rows", None)
    if n_rows == int(result.k):
        rows = range(n_rows)
    elif rows is None:
        excluded = {int(e.row) for e in getattr(result, "exclusions", ())}
        rows = [r for r in range(n_rows) if r not in excluded]
    rows = np.asarray(rows, dtype=int)
    if rows.size != int(result.k) or np.any((rows < 0) | (rows >= n_rows)):
        raise DataValidationError(
            f"The {int(result.k)} studies of the model do not match the rows of the {n_rows}-row table given."
        )
    return rows

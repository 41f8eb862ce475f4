"""Which rows of the input table a pooled result's studies come from.

Study labels are text the user typed: two rows may carry the same label, or
none. Weights, counts and study-level columns are therefore related to the
input by row index, never by label. Every result records its studies'
input rows in ``rows`` (rma, Mantel-Haenszel and Peto, GLMMs, each subgroup's
fit, pooled medians), in the order of its studies (``slab``, ``yi``, ``weights``);
a table restricted to some rows (:meth:`EffectSizeTable.take
<metapool.effect_sizes.table.EffectSizeTable.take>`) keeps the input row of
each entry in its own ``rows``.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import DataValidationError

__all__ = ["model_rows"]


def model_rows(result, table_rows) -> np.ndarray:
    """Positions, in a table, of ``result``'s studies, in the order of its studies.

    Parameters
    ----------
    result
        A pooled result with ``k`` studies and their input ``rows``.
    table_rows
        The input row of each entry of the table (``EffectSizeTable.rows``),
        or the number of rows of a table holding every input row in order
        (a study table, or values given per input row).

    Raises
    ------
    DataValidationError
        When the table does not hold every study of the result (the result was
        computed from another table).
    """
    table_rows = np.arange(table_rows) if np.ndim(table_rows) == 0 else np.asarray(table_rows, dtype=int)
    position = {int(r): i for i, r in enumerate(table_rows)}
    rows = np.asarray(result.rows, dtype=int)
    if rows.size != int(result.k) or any(int(r) not in position for r in rows):
        raise DataValidationError(
            f"The {int(result.k)} studies of the model do not match the rows of the {table_rows.size}-row table given."
        )
    return np.array([position[int(r)] for r in rows], dtype=int)

"""Pack a long table (one row per study) into padded batches of analyses.

A long table holds many meta-analyses, told apart by a key. The rows are put
in an order where each analysis is contiguous and analyses of similar size are
neighbours, and then cut into chunks of whole analyses whose padded arrays
(``B x K`` cells) fit a memory budget. Analyses of similar size share a chunk,
so little of each padded array is padding, whatever the spread of k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Layout", "layout", "chunks", "pad"]


@dataclass(frozen=True)
class Layout:
    """Where the rows of every analysis are.

    Attributes
    ----------
    order
        Row indices of the long table in processing order: analyses contiguous,
        sorted by size, then by key; rows of an analysis in table order.
    starts, sizes
        First position in ``order`` and number of rows of each analysis, in
        processing order.
    analyses
        Analysis number (key order) of each analysis in processing order.
    """

    order: np.ndarray
    starts: np.ndarray
    sizes: np.ndarray
    analyses: np.ndarray


def layout(codes: np.ndarray, n_groups: int, within: np.ndarray | None = None) -> Layout:
    """Order the rows of a long table by analysis size and key.

    Parameters
    ----------
    codes
        Analysis number of each row, ``0 <= code < n_groups`` (key order).
    n_groups
        Number of analyses.
    within
        Position of each row among the rows of its analysis (0, 1, ...; e.g.
        pandas' ``cumcount``); computed by a stable sort when not given.
    """
    codes = np.asarray(codes, dtype=np.int64)
    counts = np.bincount(codes, minlength=n_groups)
    analyses = np.lexsort((np.arange(n_groups), counts))
    rank = np.empty(n_groups, dtype=np.int64)
    rank[analyses] = np.arange(n_groups)
    sizes = counts[analyses]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    if within is None:
        order = np.argsort(rank[codes], kind="stable")
    else:
        order = np.empty(len(codes), dtype=np.int64)
        order[starts[rank[codes]] + np.asarray(within, dtype=np.int64)] = np.arange(len(codes))
    return Layout(order, starts, sizes, analyses)


def chunks(sizes: np.ndarray, max_cells: int) -> list[tuple[int, int]]:
    """Cut analyses (sorted by size) into ranges ``[a, b)`` of at most ``max_cells`` padded cells.

    A chunk of analyses ``[a, b)`` is padded to its largest, ``sizes[b - 1]``;
    an analysis larger than the budget gets a chunk of its own.
    """
    sizes = np.maximum(np.asarray(sizes, dtype=np.int64), 1)
    out = []
    a, n = 0, len(sizes)
    while a < n:
        # (b - a) * sizes[b - 1] grows with b: the largest b within budget, by bisection.
        lo, hi = a + 1, n
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if (mid - a) * int(sizes[mid - 1]) <= max_cells:
                lo = mid
            else:
                hi = mid - 1
        out.append((a, lo))
        a = lo
    return out


def pad(values, positions: np.ndarray, rows: np.ndarray, n_rows: int, width: int, fill: float) -> np.ndarray:
    """Scatter ``values`` into a ``[n_rows, width]`` array at ``(rows, positions)``.

    ``(rows, positions)`` must be in row-major order; when they fill every cell
    the values are simply reshaped.
    """
    width = max(width, 1)
    if len(rows) == n_rows * width:
        return np.broadcast_to(values, rows.shape).reshape(n_rows, width)
    out = np.full((n_rows, width), fill, dtype=np.result_type(values, fill))
    out[rows, positions] = values
    return out

"""Packing a long table: layout by size and key, chunks within the cell budget, padding."""

import numpy as np

from metapool.batch.pack import chunks, layout, pad


def test_layout_orders_by_size_then_key_and_keeps_row_order():
    codes = np.array([2, 0, 1, 2, 0, 2, 3, 1])
    within = np.array([0, 0, 0, 1, 1, 2, 0, 1])
    for lay in (layout(codes, 4), layout(codes, 4, within)):
        assert lay.analyses.tolist() == [3, 0, 1, 2]
        assert lay.sizes.tolist() == [1, 2, 2, 3] and lay.starts.tolist() == [0, 1, 3, 5]
        assert lay.order.tolist() == [6, 1, 4, 2, 7, 0, 3, 5]


def test_chunks_respect_the_budget_and_cover_everything():
    sizes = np.sort(np.random.default_rng(0).integers(1, 50, 500))
    for budget in (1, 7, 100, 10_000):
        parts = chunks(sizes, budget)
        assert parts[0][0] == 0 and parts[-1][1] == len(sizes)
        assert all(b == c for (_, b), (c, _) in zip(parts, parts[1:]))
        assert all((b - a) * sizes[b - 1] <= budget or b - a == 1 for a, b in parts)


def test_pad_scatters_or_reshapes():
    rows, pos = np.array([0, 0, 1]), np.array([0, 1, 0])
    out = pad(np.array([1.0, 2.0, 3.0]), pos, rows, 2, 2, np.nan)
    assert np.array_equal(out, [[1, 2], [3, np.nan]], equal_nan=True)
    full = pad(np.arange(4.0), np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1]), 2, 2, 0.0)
    assert full.tolist() == [[0, 1], [2, 3]]

"""Reading a metafor fixture (``*.json.gz`` written by a ``generate_*.R`` script) and comparing with it."""

from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


@functools.lru_cache(maxsize=None)
def load(name: str) -> dict:
    """The fixture ``tests/reference/{name}`` (read once per session)."""
    with gzip.open(HERE / name, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def arr(x) -> np.ndarray:
    """A fixture vector (jsonlite writes length-1 vectors as scalars, NA as null)."""
    return np.atleast_1d(np.array(x, dtype=float))


def close(actual, expected, what: str, rtol: float = 1e-8) -> None:
    """``actual`` equals metafor's ``expected`` to ``rtol`` (relative; 1e-12 absolute near 0; NaN where NA)."""
    np.testing.assert_allclose(arr(actual), arr(expected), rtol=rtol, atol=1e-12, equal_nan=True, err_msg=what)

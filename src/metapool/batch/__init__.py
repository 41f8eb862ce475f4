"""Batch engine: many meta-analyses of a long table at once (optionally on Dask).

:func:`fit_many` packs a long table (one row per study, a key per analysis)
into padded arrays and fits them with the kernels behind :func:`metapool.rma`.
"""

from .engine import BACK_COLUMNS, DEFAULT_MAX_CELLS, RESULT_COLUMNS, STATUSES, fit_many

__all__ = ["fit_many", "RESULT_COLUMNS", "BACK_COLUMNS", "STATUSES", "DEFAULT_MAX_CELLS"]

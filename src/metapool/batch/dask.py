"""Dask adapter of :func:`metapool.batch.fit_many`: partitions aligned on the key.

The long table is shuffled on the key columns so that all rows of an analysis
sit in one partition; every partition is then fitted by the pandas
``fit_many``. Dask is an optional dependency (``pip install 'metapool[dask]'``).
"""

from __future__ import annotations

__all__ = ["fit_many_dask"]


def fit_many_dask(table, keys: list, options: dict):
    """``fit_many`` on a ``dask.dataframe.DataFrame``; returns one, lazily.

    Parameters
    ----------
    table
        Long table as a dask DataFrame (one row per study).
    keys
        Key columns of the analyses.
    options
        Keyword arguments of :func:`~metapool.batch.fit_many` (measure, method,
        column roles, ...), already checked.

    Returns
    -------
    dask.dataframe.DataFrame
        One row per analysis, with the columns of the pandas result; rows are
        sorted by key within each partition (not across partitions).
    """
    from .engine import fit_many

    aligned = table.shuffle(on=keys)
    meta = fit_many(table._meta, keys, **options)
    return aligned.map_partitions(fit_many, keys, **options, meta=meta, align_dataframes=False)

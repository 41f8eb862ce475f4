"""Dask adapter of :func:`metapool.batch.fit_many`: partitions aligned on the key.

The long table is shuffled on the key columns so that all rows of an analysis
sit in one partition; every partition is then fitted by the pandas engine,
which :func:`~metapool.batch.fit_many` hands in (so this adapter imports
nothing of the engine). Dask is an optional dependency
(``pip install 'metapool[dask]'``).
"""

from __future__ import annotations

__all__ = ["fit_partitions"]


def fit_partitions(table, keys: list, fit):
    """Apply the pandas fit to a ``dask.dataframe.DataFrame``, one analysis per partition; lazily.

    Parameters
    ----------
    table
        Long table as a dask DataFrame (one row per study).
    keys
        Key columns of the analyses.
    fit
        The pandas fit of one frame (``DataFrame -> DataFrame``), its options
        already checked; it must be picklable for distributed schedulers.

    Returns
    -------
    dask.dataframe.DataFrame
        One row per analysis, with the columns of the pandas result; rows are
        sorted by key within each partition (not across partitions).
    """
    aligned = table.shuffle(on=keys)
    return aligned.map_partitions(fit, meta=fit(table._meta), align_dataframes=False)

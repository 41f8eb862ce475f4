"""fit_many on a dask DataFrame, run on a distributed LocalCluster bound to loopback."""

import pandas as pd
import pytest

from metapool.batch import fit_many
from test_batch_contract import long_table

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


def test_dask_partitions_give_the_pandas_results():
    data = long_table(seed=5, n_analyses=30)
    kw = {"measure": "OR", "method": "REML", "test": "knha", "ai": "x", "n1i": "n", "ci": "c", "n2i": "n2"}
    want = fit_many(data, "review", **kw)
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                                       host="127.0.0.1", scheduler_port=0, dashboard_address=None)
    with cluster, distributed.Client(cluster):
        lazy = fit_many(dd.from_pandas(data, npartitions=4), "review", **kw)
        assert isinstance(lazy, dd.DataFrame)
        got = lazy.compute()
    got = got.sort_values("review").reset_index(drop=True)
    assert got["review"].tolist() == want["review"].tolist()
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-12)

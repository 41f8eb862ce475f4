"""Names removed or renamed by issue 11 stay importable, with a DeprecationWarning."""

from __future__ import annotations

import importlib

import pytest

import metapool.exceptions as exceptions
from metapool import MetapoolWarning


@pytest.mark.parametrize("name", ["ZeroCellWarning", "SmallSampleWarning"])
def test_removed_warnings_import_with_a_deprecation(name):
    with pytest.warns(DeprecationWarning, match=f"{name} is deprecated.*never raises it"):
        cls = getattr(exceptions, name)
    assert issubclass(cls, MetapoolWarning) and cls is not MetapoolWarning and cls.__name__ == name
    with pytest.warns(DeprecationWarning):
        assert getattr(exceptions, name) is cls  # one class, so `except` and filters keep working
    assert name not in exceptions.__all__


def test_unknown_names_are_still_attribute_errors():
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchWarning'"):
        exceptions.NoSuchWarning  # noqa: B018


@pytest.mark.parametrize(("old", "new", "name"), [
    ("metapool.models.glmm", "metapool.glmm.model", "rma_glmm"),
    ("metapool.models.glmm", "metapool.glmm.model", "GLMM_MEASURES"),
    ("metapool.models.glmm_results", "metapool.glmm.result", "GLMMResult"),
    ("metapool.models.glmm_results", "metapool.glmm.result", "GLMM_MODELS"),
])
def test_moved_glmm_names_import_from_their_old_modules_with_a_deprecation(old, new, name):
    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=rf"{old}\.{name} is deprecated.*import it from {new}"):
        obj = getattr(module, name)
    assert obj is getattr(importlib.import_module(new), name)  # the same object: isinstance keeps working
    with pytest.raises(AttributeError, match="has no attribute 'fit_glmm'"):
        module.fit_glmm  # noqa: B018  (internal names are not forwarded)


@pytest.mark.parametrize("old", ["metapool.inference", "metapool.inference.heterogeneity"])
@pytest.mark.parametrize("name", ["QProfile", "q_profile"])
def test_q_profile_names_import_from_inference_with_a_deprecation(old, name):
    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=rf"{old}\.{name} is deprecated.*import it from metapool.models.q_profile"):
        obj = getattr(module, name)
    assert obj is getattr(importlib.import_module("metapool.models.q_profile"), name)
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        module.nothing  # noqa: B018


def test_subgroup_test_keeps_its_old_names_with_a_deprecation():
    import metapool as mp
    from metapool.moderators.subgroups import subgroup_analysis

    es = mp.escalc("PLO", xi=[3, 10, 20, 7, 4, 9], ni=[30, 40, 50, 25, 20, 35])
    res = subgroup_analysis(es, ["a", "a", "a", "b", "b", "b"], method="DL")
    for old, new in (("q", "qm"), ("df", "qm_df"), ("ddf", "qm_ddf"), ("pvalue", "qm_pvalue")):
        with pytest.warns(DeprecationWarning, match=rf"SubgroupResult\.{old} is deprecated.*use \.{new}"):
            assert getattr(res, old) == getattr(res, new)
    assert res.to_dict()["subgroup_test"] == {"q": res.qm, "df": res.qm_df, "ddf": None, "pvalue": res.qm_pvalue}
    back = res.subgroups[0].back()
    assert back.scale == "natural" and res.to_dict()["subgroups"][0]["back"]["estimate"] == back.estimate


def test_pooled_median_keeps_studies_and_excluded_with_a_deprecation():
    from metapool.medians import pool_medians

    res = pool_medians([1.0, float("nan"), 3.0, 2.0], slab=["a", "b", "c", "d"])
    with pytest.warns(DeprecationWarning, match=r"PooledMedian\.studies is deprecated.*use \.slab"):
        assert res.studies == res.slab == ("a", "c", "d")
    with pytest.warns(DeprecationWarning, match=r"PooledMedian\.excluded is deprecated.*use \.exclusions"):
        assert res.excluded == ("b",)
    assert res.to_dict()["excluded"] == [{"row": 2, "study": "b", "reason": "median missing"}]


def test_heterogeneity_of_a_batch_keeps_its_old_signature_with_a_deprecation():
    import numpy as np

    from metapool.inference import heterogeneity
    from metapool.models.fit import batch_heterogeneity
    from metapool.models.kernels import Batch

    batch = Batch.from_arrays(np.array([0.1, 0.5, -0.2, 0.3]), np.array([0.04, 0.09, 0.05, 0.02]))
    tau2 = np.array([0.03])
    want = batch_heterogeneity(batch, tau2, True)
    for call in (lambda: heterogeneity(batch, tau2, True), lambda: heterogeneity(batch, tau2=tau2, random=True)):
        with pytest.warns(DeprecationWarning, match=r"heterogeneity\(batch, tau2, random\) is deprecated"):
            got = call()
        assert all(np.array_equal(getattr(got, f), getattr(want, f)) for f in ("q", "df", "pvalue", "i2", "h2", "vt"))
    with pytest.raises(TypeError, match="needs q, df, trace_p, tau2 and random"):
        heterogeneity(np.array([3.0]), np.array([2.0]))

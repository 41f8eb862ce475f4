"""Every pooled result satisfies :class:`~metapool.models.protocol.PooledResult` and knows its input rows."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import metapool as mp
from metapool.datasets import load_dataset
from metapool.models.mh_peto import rma_mh, rma_peto
from metapool.models.protocol import PooledResult
from metapool.models.results import Prediction
from metapool.moderators.subgroups import subgroup_analysis

#: A table with a row no model can use (row 3: a missing count) and a repeated label, so that rows and
#: labels differ.
TABLES = {"study": ["A", "B", "C", "B", "E", "F"], "ai": [4, 6, None, 3, 9, 5], "n1i": [123, 306, 50, 231, 140, 90],
          "ci": [11, 29, 0, 11, 12, 9], "n2i": [139, 303, 60, 220, 150, 95], "grp": ["x", "x", "y", "y", "y", "x"]}


def _es():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mp.escalc("OR", TABLES, ai="ai", n1i="n1i", ci="ci", n2i="n2i", slab="study")


def _subgroup_fits():
    return subgroup_analysis(_es(), "grp", TABLES, method="REML").fits


#: name -> the results to check (a list: subgroup analyses have one fit per subgroup).
RESULTS = {
    "rma REML": lambda: [mp.rma(_es(), method="REML")],
    "rma CE": lambda: [mp.rma(_es(), method="CE")],
    "MH": lambda: [rma_mh("OR", TABLES, ai="ai", n1i="n1i", ci="ci", n2i="n2i", slab="study")],
    "Peto": lambda: [rma_peto(TABLES, ai="ai", n1i="n1i", ci="ci", n2i="n2i", slab="study")],
    "subgroup fits": _subgroup_fits,
    "GLMM OR": lambda: [mp.rma_glmm("OR", TABLES, ai="ai", n1i="n1i", ci="ci", n2i="n2i", slab="study")],
    "GLMM PLO": lambda: [mp.rma_glmm("PLO", TABLES, xi="ci", ni="n2i", slab="study")],
    "GLMM IRLN": lambda: [mp.rma_glmm("IRLN", TABLES, xi="ai", ti="n1i", slab="study")],
}


@pytest.mark.parametrize("name", RESULTS)
def test_pooled_results_share_one_shape(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = RESULTS[name]()
    for res in results:
        assert isinstance(res, PooledResult)
        k = res.k
        assert res.rows.dtype.kind == "i" and res.rows.shape == (k,) and len(set(res.rows.tolist())) == k
        assert len(res.slab) == k and np.shape(res.weights) == (k,)
        assert all(hasattr(e, "row") and hasattr(e, "reason") for e in res.exclusions)
        assert 2 not in res.rows.tolist() or name == "GLMM PLO"  # row 2 misses ai
        assert res.coefficients.names == ("intrcpt",) and res.coefficients.estimate[0] == res.estimate
        assert 0 < res.level < 1 and all(isinstance(getattr(res, n), float) for n in (
            "estimate", "se", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "tau2", "tau2_se", "i2", "h2",
            "q", "q_df", "q_pvalue"))
        p = res.predict(level=0.9)
        assert isinstance(p, Prediction) and p.level == 0.9
        assert res.conf_int(0.9) == (p.ci_lower, p.ci_upper)
        assert res.conf_int() == (res.ci_lower, res.ci_upper)
        back = res.back()
        assert back is None or (isinstance(back, Prediction) and back.scale == "natural")
    excluded = [e.row for res in results for e in res.exclusions]
    if name == "subgroup fits":  # the fits see only usable rows; the analysis lists what it left out
        excluded = [e.row for e in subgroup_analysis(_es(), "grp", TABLES, method="REML").exclusions]
    assert excluded == ([] if name == "GLMM PLO" else [2]), "the row with a missing count is an exclusion, by its row"


def test_a_model_with_moderators_is_not_a_pooled_result():
    data = load_dataset("bcg")
    es = mp.escalc("RR", data, ai="tpos", bi="tneg", ci="cpos", di="cneg", slab="author")
    assert not isinstance(mp.rma(es, mods=["ablat"], data=data), PooledResult)


def test_results_record_their_input_rows():
    es = _es()
    assert es.rows.tolist() == list(range(6)) and [e.row for e in es.exclusions] == [2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert mp.rma(es).rows.tolist() == [0, 1, 3, 4, 5]
        mh = rma_mh("OR", TABLES, ai="ai", n1i="n1i", ci="ci", n2i="n2i", slab="study")
    assert mh.rows.tolist() == [0, 1, 3, 4, 5] and [e.row for e in mh.exclusions] == [2]
    glmm = mp.rma_glmm("OR", TABLES, ai="ai", n1i="n1i", ci="ci", n2i="n2i", slab="study")
    assert glmm.rows.tolist() == [0, 1, 3, 4, 5] and [e.row for e in glmm.exclusions] == [2]
    x, y = _subgroup_fits()
    assert x.rows.tolist() == [0, 1, 5] and y.rows.tolist() == [3, 4]
    assert y.slab == ("B", "E") and y.exclusions == ()  # a subgroup is formed from usable rows


def test_take_keeps_input_rows():
    es = _es()
    sub = es.take(np.array([False, True, True, True, False, False]))
    assert sub.rows.tolist() == [1, 2, 3] and [e.row for e in sub.exclusions] == [2]
    assert sub.take([2]).rows.tolist() == [3]
    frame = sub.to_frame()
    assert not math.isnan(frame["yi"].iloc[0]) and frame["excluded"].tolist()[1] != ""


# -- rows, not labels: two studies with one label in a subgroup analysis ------------------------
SHARED = """study,n,resp,grp
Lee,40,12,a
Smith,50,,a
Smith,55,30,a
Smith,30,9,b
Park,60,33,a
Kim,45,20,b
Ito,35,7,b
"""

SHARED_SPEC = """title = "Shared labels"
data = "studies.csv"
study = "study"
n = "n"

[[outcome]]
name = "Response"
kind = "proportion"
events = "resp"
total = "n"
subgroup = "grp"
"""


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    from metapool.analysis import run_analysis
    from metapool.spec import parse_spec

    folder = tmp_path_factory.mktemp("shared")
    (folder / "studies.csv").write_text(SHARED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_analysis(parse_spec(SHARED_SPEC, "analysis.toml", folder))


def test_subgroup_fits_record_input_rows_under_repeated_labels(shared):
    o = shared.outcomes[0]
    a, b = o.subgroups.fits
    assert o.rows == (0, 2, 3, 4, 5, 6) and o.model.rows.tolist() == [0, 2, 3, 4, 5, 6]
    assert a.rows.tolist() == [0, 2, 4] and a.slab == ("Lee", "Smith", "Park")
    assert b.rows.tolist() == [3, 5, 6] and b.slab == ("Smith", "Kim", "Ito")
    assert [e.row for e in o.model.exclusions] == [1]


def test_forest_blocks_take_each_study_from_its_row(shared):
    from metapool.plots import forest_table_subgroups

    o = shared.outcomes[0]
    t = forest_table_subgroups(o.subgroups, o.effects)
    a, b = t.blocks
    assert [s.cells[:2] for s in a.studies] == [("12", "40"), ("30", "55"), ("33", "60")]
    assert [s.cells[:2] for s in b.studies] == [("9", "30"), ("20", "45"), ("7", "35")]
    assert [s.weight for s in a.studies] == o.subgroups.fits[0].weights.tolist()
    assert [s.estimate for s in b.studies] == [9 / 30, 20 / 45, 7 / 35]


def test_effect_sizes_csv_and_card_count_rows_not_labels(shared):
    from metapool.report.card import build_card
    from metapool.report.render import effect_size_rows

    rows = effect_size_rows(shared)
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    assert [r["study"] for r in rows][1:4] == ["Smith (row 2)", "Smith (row 3)", "Smith (row 4)"]
    model = shared.outcomes[0].model
    assert [r["weight_percent"] for r in rows] == [model.weights[0], "", *model.weights[1:]]
    assert rows[1]["excluded"] != "" and all(r["excluded"] == "" for r in rows if r["row"] != 2)
    card = build_card(shared)
    assert card.n_studies == 6 and card.rows[0].k == 6 and card.n_patients == 40 + 55 + 30 + 60 + 45 + 35


def test_messages_name_the_input_row_of_a_subgroup_study():
    from metapool.exceptions import DataValidationError

    es = mp.escalc("GEN", yi=[0.1, 0.2, 0.3, 0.4], vi=[0.01, 0.02, 1e-200, 0.03], slab=["A", "B", "C", "D"])
    with pytest.raises(DataValidationError, match=r"in row 3 \(study 'C'\) is too small to pool"):
        mp.rma(es.take([2, 3]))

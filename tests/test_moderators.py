"""Meta-regression and subgroup analyses: API behaviour (numbers vs metafor are in tests/reference)."""

import json
import warnings

import numpy as np
import pytest

import metapool as mp
from metapool.cli.main import main
from metapool.datasets import load_dataset
from metapool.exceptions import DataValidationError
from metapool.moderators.subgroups import subgroup_analysis


@pytest.fixture(scope="module")
def bcg():
    data = load_dataset("bcg")
    es = mp.escalc("RR", data, ai="tpos", bi="tneg", ci="cpos", di="cneg", slab="author")
    return data, es


def test_bcg_ablat_matches_metafor_spot_values(bcg):
    data, es = bcg
    # metafor: rma(yi, vi, mods = ~ ablat, data = dat.bcg RR), method REML (fixture values;
    # metafor's tau2 = 0.0763547 stops at its 1e-5 threshold).
    res = mp.rma(es, mods=["ablat"], data=data)
    assert res.tau2 == pytest.approx(0.0763547, abs=1e-5)
    assert res.coefficients.estimate == pytest.approx([0.251464294, -0.0291016609], abs=2e-4)
    assert res.moderators.statistic == pytest.approx(16.3571, abs=5e-3)
    assert res.moderators.r2 == pytest.approx(75.62, abs=0.05)


def test_formula_and_columns_agree(bcg):
    data, es = bcg
    a = mp.rma(es, mods=["ablat", "year"], data=data, method="DL")
    b = mp.rma(es, mods="~ ablat + year", data=data, method="DL")
    np.testing.assert_allclose(a.coefficients.estimate, b.coefficients.estimate, rtol=1e-12)
    assert a.coefficients.names == b.coefficients.names == ("intrcpt", "ablat", "year")


def test_categorical_reference_level(bcg):
    data, es = bcg
    res = mp.rma(es, mods=["alloc"], data=data, reference={"alloc": "random"}, method="DL")
    assert res.coefficients.names == ("intrcpt", "alloc[alternate]", "alloc[systematic]")
    assert res.moderators.df == 2
    with pytest.raises(DataValidationError, match="not a level of moderator 'alloc'"):
        mp.rma(es, mods=["alloc"], data=data, reference={"alloc": "nope"})


def test_knha_gives_an_f_test(bcg):
    data, es = bcg
    res = mp.rma(es, mods=["ablat"], data=data, test="knha")
    m = res.moderators
    assert m.ddf == 11 and m.df == 1
    assert m.statistic == pytest.approx(res.coefficients.statistic[1] ** 2, rel=1e-10)
    assert "F(df1 = 1, df2 = 11)" in str(res)


def test_predict_at_new_values(bcg):
    data, es = bcg
    res = mp.rma(es, mods=["ablat"], data=data)
    (p,) = res.predict(newmods=[[30.0]])
    b, vb = res.coefficients.estimate, res.vb
    x = np.array([1.0, 30.0])
    assert p.estimate == pytest.approx(x @ b)
    assert p.se == pytest.approx(np.sqrt(x @ vb @ x))
    assert p.pi_upper - p.pi_lower == pytest.approx(2 * 1.959963984540054 * np.sqrt(p.se**2 + res.tau2))
    (back,) = res.predict(newmods=[30.0], transf=True)
    assert back.estimate == pytest.approx(np.exp(p.estimate))


def test_collinear_moderator_is_an_error(bcg):
    data, es = bcg
    dup = {**{k: data[k] for k in data}, "ablat2": [2 * float(x) for x in data["ablat"]]}
    with pytest.raises(DataValidationError, match="'ablat2' is collinear with the other moderators"):
        mp.rma(es, mods=["ablat", "ablat2"], data=dup)
    const = {**dup, "one": ["1"] * len(es)}
    with pytest.raises(DataValidationError, match="'one' is collinear with the intercept"):
        mp.rma(es, mods=["one"], data=const)


def test_missing_moderator_excludes_the_study(bcg):
    data, es = bcg
    holes = {**{k: data[k] for k in data}, "ablat": ["" if i == 2 else x for i, x in enumerate(data["ablat"])]}
    res = mp.rma(es, mods=["ablat"], data=holes)
    assert res.k == 12
    assert [(e.row, e.reason) for e in res.exclusions] == [(2, "missing value of moderator 'ablat'")]


def test_too_many_coefficients(bcg):
    data, es = bcg
    few = es.take(np.arange(3))
    with pytest.raises(DataValidationError, match="3 coefficients and tau2 but only k = 3"):
        mp.rma(few, mods=["ablat", "year"], data={k: list(data[k])[:3] for k in data})


def test_subgroups_separate_and_common(bcg):
    data, es = bcg
    sep = subgroup_analysis(es, "alloc", data, method="DL")
    assert [s.level for s in sep.subgroups] == ["alternate", "random", "systematic"]
    assert [s.k for s in sep.subgroups] == [2, 7, 4]
    for s, fit in zip(sep.subgroups, sep.fits):
        assert s.estimate == fit.estimate and s.tau2 == fit.tau2
    w = np.array([1 / s.se**2 for s in sep.subgroups])
    est = np.array([s.estimate for s in sep.subgroups])
    mean = np.sum(w * est) / np.sum(w)
    assert sep.qm == pytest.approx(np.sum(w * (est - mean) ** 2))
    assert sep.qm_df == 2
    common = subgroup_analysis(es, "alloc", data, tau2="common", method="DL")
    assert len({s.tau2 for s in common.subgroups}) == 1
    qm = mp.rma(es, mods=["alloc"], data=data, method="DL").moderators
    assert common.qm == pytest.approx(qm.statistic) and common.qm_pvalue == pytest.approx(qm.pvalue)


def test_subgroup_with_one_study_is_shown(bcg):
    data, es = bcg
    groups = ["solo"] + ["rest"] * (len(es) - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = subgroup_analysis(es, groups)
    solo = next(s for s in res.subgroups if s.level == "solo")
    assert solo.k == 1 and solo.tau2 == 0.0


def test_subgroup_needs_two_levels(bcg):
    _, es = bcg
    with pytest.raises(DataValidationError, match="has 1 level"):
        subgroup_analysis(es, ["x"] * len(es))


def test_cli_mods_and_subgroups(tmp_path, capsys):
    path = tmp_path / "bcg.csv"
    path.write_text(load_dataset("bcg").to_frame().to_csv(index=False))
    args = ["pool", str(path), "--events1", "tpos", "--events2", "cpos", "--study", "author", "--measure", "RR", "--json"]
    data = load_dataset("bcg")
    n1 = [int(a) + int(b) for a, b in zip(data["tpos"], data["tneg"])]
    n2 = [int(a) + int(b) for a, b in zip(data["cpos"], data["cneg"])]
    frame = data.to_frame().assign(n1=n1, n2=n2)
    path.write_text(frame.to_csv(index=False))
    args += ["--total1", "n1", "--total2", "n2"]
    assert main([*args, "--mods", "ablat,alloc:cat"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"coefficients", "qm", "qm_df", "qm_pvalue", "r2"} <= set(out)
    assert [c["name"] for c in out["coefficients"]] == ["intrcpt", "ablat", "alloc[random]", "alloc[systematic]"]
    assert main([*args, "--subgroup", "alloc"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [s["level"] for s in out["subgroups"]] == ["alternate", "random", "systematic"]
    assert set(out["subgroup_test"]) >= {"q", "df", "pvalue"}


def test_cli_permutation_test(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("study,yi,vi,x\na,0.1,0.02,1\nb,0.3,0.03,2\nc,0.5,0.05,3\nd,0.2,0.04,4\ne,0.9,0.02,5\n")
    assert main(["pool", str(path), "--yi", "yi", "--vi", "vi", "--mods", "x", "--permutations", "500", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["permutation"]["exact"] is True and out["permutation"]["iterations"] == 120


def test_q_profile_ci_of_residual_heterogeneity(bcg):
    data, es = bcg
    # metafor: confint(rma(yi, vi, mods = ~ ablat, data = dat.bcg RR), control = list(tol = 1e-10))
    hci = mp.rma(es, mods=["ablat"], data=data).heterogeneity_ci(tol=1e-10)
    assert hci.tau2[1:] == pytest.approx((0.0166800683208299, 0.784835254581465), rel=1e-8)
    assert hci.i2[1:] == pytest.approx((32.0978832362159423, 95.697443536860618), rel=1e-8)


def test_cli_bias_runs_peters_for_two_group_binary_data(tmp_path, capsys):
    frame = load_dataset("bcg").to_frame()
    frame["n1"] = frame.tpos.astype(int) + frame.tneg.astype(int)
    frame["n2"] = frame.cpos.astype(int) + frame.cneg.astype(int)
    path = tmp_path / "bcg.csv"
    path.write_text(frame.to_csv(index=False))
    args = ["pool", str(path), "--events1", "tpos", "--total1", "n1", "--events2", "cpos", "--total2", "n2",
            "--measure", "RR", "--bias", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    from metapool.bias import peters

    es = mp.escalc("RR", ai=frame.tpos, n1i=frame.n1, ci=frame.cpos, n2i=frame.n2)
    assert out["bias"]["peters"]["p"] == pytest.approx(peters(mp.rma(es), table=es).pvalue, rel=1e-12)


@pytest.mark.parametrize("old, new", [("moderators.design", "models.design.matrix"),
                                      ("moderators.formula", "models.design.formula"),
                                      ("moderators.arithmetic", "models.design.arithmetic")])
def test_old_paths_of_the_formula_grammar_re_export_it(old, new):
    """The design matrix builder and its grammar live in models/design/; the moderators paths stay importable."""
    import importlib

    old_module, new_module = (importlib.import_module("metapool." + m) for m in (old, new))
    assert old_module.__all__
    for name in old_module.__all__:
        assert getattr(old_module, name) is getattr(new_module, name), name

"""rma_glmm's add / to / drop00 (metafor's rma.glmm arguments): checks, pass-through and refits.

The numbers themselves are compared with metafor in
``tests/reference/test_glmm_options.py``.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import metapool as mp
from metapool.cli.main import main
from metapool.exceptions import OptionError
from metapool.influence import cumulative, gosh, influence, leave_one_out
from metapool.models.methods import fit

XI, NI = [0, 3, 10, 7, 12, 0, 25], [20, 40, 60, 35, 50, 15, 100]
TABLES = dict(ai=[0, 2, 9, 0, 15, 3, 1, 0], n1i=[30, 25, 40, 20, 50, 30, 40, 25],
              ci=[0, 6, 2, 3, 12, 1, 8, 0], n2i=[30, 25, 40, 20, 50, 30, 40, 25])


def glmm(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mp.rma_glmm(*args, **kw)


@pytest.mark.parametrize(("option", "value", "words"), [
    ("add", -0.5, "'add' parameter of rma_glmm must be a finite number >= 0"),
    ("add", "half", "'add' parameter of rma_glmm"),
    ("to", "some", "'to' parameter of rma_glmm must be one of {'only0', 'all', 'if0all', 'none'}"),
    ("drop00", "yes", "'drop00' parameter of rma_glmm must be True or False"),
])
def test_options_are_checked_as_escalc_checks_them(option, value, words):
    with pytest.raises(OptionError, match=words.replace("(", r"\(").replace("{", r"\{")):
        mp.rma_glmm("PLO", xi=XI, ni=NI, **{option: value})


def test_defaults_are_metafors_and_recorded():
    res = glmm("PLO", xi=XI, ni=NI)
    assert res.correction.to_dict() == {"add": 0.5, "to": "only0", "drop00": True}
    assert glmm("PLO", xi=XI, ni=NI, to="ALL").correction.to == "all"  # canonical spelling, as escalc


def test_fit_passes_the_options_to_the_glmm_and_its_effects():
    out = fit("GLMM", xi=XI, ni=NI, add=0.1, to="all")
    assert out.model.correction.to_dict() == {"add": 0.1, "to": "all", "drop00": True}
    direct = glmm("PLO", xi=XI, ni=NI, add=0.1, to="all")
    assert out.model.i2 == direct.i2 and out.model.vt == direct.vt
    np.testing.assert_allclose(out.effects.yi, out.model.effect_sizes().yi)
    # drop00 None is the model's default: True for the GLMM (metafor's rma.glmm), for its effects too
    tables = fit("GLMM", **TABLES)
    assert tables.model.correction.drop00 and tables.model.k == 6
    assert np.isnan(tables.effects.yi[[0, 7]]).all()
    kept = fit("GLMM", drop00=False, **TABLES)
    assert kept.model.k == 8 and kept.model.q_df == 7 and np.isfinite(kept.effects.yi).all()
    # one group: drop00 does not drop studies without events (metafor passes it to escalc for 2x2 tables only)
    assert fit("GLMM", drop00=True, xi=XI, ni=NI).effects.included.all()


def test_double_zero_tables_carry_no_information_but_count():
    dropped, kept = glmm("OR", **TABLES), glmm("OR", drop00=False, **TABLES)
    assert kept.estimate == pytest.approx(dropped.estimate, abs=1e-10)
    assert kept.tau2 == pytest.approx(dropped.tau2, abs=1e-10)
    assert kept.se == pytest.approx(dropped.se, rel=1e-10)
    assert (kept.k, kept.q_df, dropped.k, dropped.q_df) == (8, 7, 6, 5)
    assert kept.weights[0] == 0 and kept.weights[-1] == 0 and kept.weights.sum() == pytest.approx(100)
    assert any("drop00 = False" in n for n in kept.notes)
    ci, ci0 = kept.heterogeneity_ci(), dropped.heterogeneity_ci()
    assert ci.tau2 == pytest.approx(ci0.tau2, rel=1e-6)
    with pytest.raises(mp.exceptions.DataValidationError, match="no events"):
        glmm("OR", ai=[0, 0], n1i=[10, 10], ci=[0, 0], n2i=[10, 10], drop00=False)


@pytest.mark.parametrize(("measure", "data", "options"), [
    ("PLO", dict(xi=XI, ni=NI), dict(add=0.0)),
    ("PLO", dict(xi=XI, ni=NI), dict(add=0.1, to="all")),
    ("OR", TABLES, dict(drop00=False, to="if0all")),
])
def test_refits_use_the_fits_options(measure, data, options):
    res = glmm(measure, **data, **options)
    loo = leave_one_out(res)
    counts = {r: np.asarray(v) for r, v in data.items()}
    full = glmm(measure, **counts, **options)
    rows = full.rows
    for i in range(res.k):
        keep = np.delete(rows, i)
        direct = glmm(measure, **{r: v[keep] for r, v in counts.items()}, **options)
        assert loo.estimate[i] == pytest.approx(direct.estimate, abs=1e-6)
        assert loo.i2[i] == pytest.approx(direct.i2, rel=1e-6, abs=1e-8)
    cum = cumulative(res)
    assert cum.i2[-1] == pytest.approx(res.i2, rel=1e-6, abs=1e-8)
    assert np.isfinite(influence(res).weight).all()
    g = gosh(res)
    assert g.i2[g.k == res.k][0] == pytest.approx(res.i2, rel=1e-6, abs=1e-8)


def test_summary_and_json_show_the_options(tmp_path, capsys):
    res = glmm("PLO", xi=XI, ni=NI, add=0, to="only0")
    text = str(res.summary())
    assert "add = 0, to = 'only0'" in text and "2 of the 7 studies have no finite PLO" in text
    assert "Observed outcomes" not in str(glmm("PLO", xi=XI, ni=NI).summary())
    path = tmp_path / "tables.csv"
    rows = ["study,a,n1,c,n2"] + [f"S{i},{a},{n1},{c},{n2}" for i, (a, n1, c, n2) in
                                  enumerate(zip(*(TABLES[r] for r in ("ai", "n1i", "ci", "n2i")), strict=True))]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    base = ["pool", str(path), "--method", "GLMM", "--events1", "a", "--total1", "n1", "--events2", "c",
            "--total2", "n2", "--json"]
    outputs = []
    for extra in ([], ["--no-drop00", "--add", "0.1", "--to", "all"]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert main([*base, *extra]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0]["k"] == 6 and outputs[0]["correction"] == {"add": 0.5, "to": "only0", "drop00": True}
    assert outputs[1]["k"] == 8 and outputs[1]["correction"] == {"add": 0.1, "to": "all", "drop00": False}

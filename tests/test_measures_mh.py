"""Rates, one-group means, ROM, correlations, Mantel-Haenszel and Peto: input
checks, conventions and the command line (numbers against metafor are in
tests/reference/test_measures_mh_reference.py)."""

import json
import math
import warnings

import numpy as np
import pytest

import metapool as mp
from metapool.cli.main import main
from metapool.exceptions import DataValidationError, MetapoolWarning, OptionError
from metapool.models.mh_peto import mh_tables, peto_tables, rma_mh, rma_peto

TABLES = {"ai": [4, 6, 3, 0], "n1i": [123, 306, 231, 50], "ci": [11, 29, 11, 0], "n2i": [139, 303, 220, 60]}
SLAB = ["A", "B", "C", "D"]


# -- bad input -------------------------------------------------------------------
@pytest.mark.parametrize("ti", [0.0, -5.0])
def test_person_time_must_be_positive(ti):
    data = {"study": ["a", "b"], "events": [1, 2], "py": [100.0, ti]}
    with pytest.raises(DataValidationError, match=r"row 2 \(study 'b'\), column 'py': person-time must be > 0"):
        mp.escalc("IRLN", data, xi="events", ti="py", slab="study")


@pytest.mark.parametrize("r", [1.2, -1.01])
def test_correlation_outside_unit_interval(r):
    data = {"study": ["a", "b", "c"], "r": [0.2, 0.4, r], "n": [20, 30, 40]}
    message = r"row 3 \(study 'c'\), column 'r': correlation .* is outside \[-1, 1\]"
    with pytest.raises(DataValidationError, match=message):
        mp.escalc("COR", data, ri="r", ni="n", slab="study")


def test_log_measures_need_positive_means():
    with pytest.raises(DataValidationError, match=r"row 2.*'meani'.*MNLN takes its log"):
        mp.escalc("MNLN", meani=[2.0, 0.0], sdi=[1.0, 1.0], ni=[10, 10])
    with pytest.raises(DataValidationError, match=r"row 1.*'m2i'.*ROM takes its log"):
        mp.escalc("ROM", m1i=[2.0], sd1i=[1.0], n1i=[10], m2i=[-1.0], sd2i=[1.0], n2i=[10])


def test_rate_counts_are_checked():
    with pytest.raises(DataValidationError, match="not a whole number"):
        mp.escalc("IR", xi=[1.5], ti=[10.0])
    with pytest.raises(DataValidationError, match="standard deviation must be > 0"):
        mp.escalc("MN", meani=[1.0], sdi=[0.0], ni=[10])


def test_mh_measure_is_checked():
    with pytest.raises(OptionError, match="'measure' parameter of rma_mh"):
        rma_mh("SMD", **TABLES)


def test_peto_without_any_informative_table():
    with pytest.raises(DataValidationError, match="Peto's odds ratio is undefined"):
        rma_peto(ai=[0, 0], n1i=[10, 20], ci=[0, 0], n2i=[10, 20])


# -- conventions -------------------------------------------------------------------
def test_rate_correction_touches_events_only():
    es = mp.escalc("IR", xi=[0, 4], ti=[200.0, 100.0])
    assert es.yi[0] == pytest.approx(0.5 / 200.0)  # metafor: xi + 1/2, person-time unchanged
    assert list(es.corrected) == [True, False]
    assert mp.escalc("IRFT", xi=[0, 4], ti=[200.0, 100.0]).corrected.sum() == 0  # add = 0 by default
    assert es.ni.tolist() == [200.0, 100.0]  # person-time, as metafor's ni attribute


def test_fisher_z_needs_four_pairs():
    es = mp.escalc("ZCOR", ri=[0.3, 0.5, 0.1], ni=[3, 10, 20], slab=["x", "y", "z"])
    assert math.isnan(es.yi[0]) and es.included.tolist() == [False, True, True]
    assert "n >= 4" in es.exclusions[0].reason


def test_mh_keeps_double_zero_tables_out_of_q_only():
    res = rma_mh("OR", **TABLES, slab=SLAB)
    assert (res.k, res.k_yi, res.q_df) == (4, 3, 2.0)
    assert res.exclusions == () and "D" in res.notes[0]
    assert math.isnan(res.yi[3]) and res.weights[3] == 0.0
    assert res.weights.sum() == pytest.approx(100.0)
    # the MH risk difference does use the double-zero table
    rd4 = rma_mh("RD", **TABLES)
    rd3 = rma_mh("RD", **{k: v[:3] for k, v in TABLES.items()})
    assert rd4.estimate != pytest.approx(rd3.estimate)


def test_mh_from_cells_equals_from_totals():
    cells = {"ai": TABLES["ai"], "bi": np.subtract(TABLES["n1i"], TABLES["ai"]),
             "ci": TABLES["ci"], "di": np.subtract(TABLES["n2i"], TABLES["ci"])}
    assert rma_mh("RR", **cells).to_dict() == rma_mh("RR", **TABLES).to_dict()


def test_missing_rows_are_excluded_with_reason():
    data = {"s": ["a", "b", "c"], "e1": [4, None, 3], "n1": [50, 60, 70], "e2": [8, 9, 12], "n2": [50, 60, 70]}
    res = rma_peto(data, ai="e1", n1i="n1", ci="e2", n2i="n2", slab="s")
    assert res.k == 2 and [e.label for e in res.exclusions] == ["b"]
    assert res.to_dict()["excluded"][0]["row"] == 2


def test_undefined_mh_odds_ratio_is_reported():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = rma_mh("OR", ai=[2, 5], n1i=[50, 50], ci=[0, 0], n2i=[50, 40])
    assert any(issubclass(w.category, MetapoolWarning) for w in caught)
    d = res.to_dict()
    assert d["estimate"] is None and d["cmh"]["statistic"] is not None and d["breslow_day"]["statistic"] is None
    json.dumps(d, allow_nan=False)


def test_table_kernels_batch_equals_loop():
    rng = np.random.default_rng(3)
    n1, n2 = rng.integers(5, 80, (2, 6)), rng.integers(5, 80, (2, 6))
    a, c = rng.binomial(n1, 0.2), rng.binomial(n2, 0.3)
    b, d = n1 - a, n2 - c
    mask = np.ones((2, 6), dtype=bool)
    mask[1, 4:] = False  # second analysis has 4 tables
    for kernel in (lambda *x: mh_tables("OR", *x), lambda *x: mh_tables("RD", *x), peto_tables):
        both = kernel(a, b, c, d, mask)
        for i, k in enumerate((6, 4)):
            one = kernel(a[i : i + 1, :k], b[i : i + 1, :k], c[i : i + 1, :k], d[i : i + 1, :k], mask[i : i + 1, :k])
            np.testing.assert_allclose(both.estimate[i], one.estimate[0], rtol=1e-14)
            np.testing.assert_allclose(both.se[i], one.se[0], rtol=1e-14)


def test_summary_lists_the_table_tests():
    text = str(rma_mh("OR", **TABLES, slab=SLAB))
    assert "Mantel-Haenszel" in text and "Breslow-Day test" in text and "Tarone" in text


# -- command line ----------------------------------------------------------------------
@pytest.fixture
def tables_csv(tmp_path):
    path = tmp_path / "trials.csv"
    rows = ["study,e1,n1,e2,n2"] + [f"{s},{a},{n},{c},{m}" for s, a, n, c, m in zip(SLAB, *TABLES.values())]
    path.write_text("\n".join(rows) + "\n")
    return path


def run_json(capsys, *args):
    assert main([*map(str, args), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


BINARY = ("--events1", "e1", "--total1", "n1", "--events2", "e2", "--total2", "n2")


def test_cli_mh_and_peto_share_the_core_keys(tables_csv, capsys):
    core = set(run_json(capsys, "pool", tables_csv, *BINARY, "--method", "CE"))
    mh = run_json(capsys, "pool", tables_csv, *BINARY, "--method", "MH", "--measure", "RR")
    peto = run_json(capsys, "pool", tables_csv, *BINARY, "--method", "peto")
    assert core <= set(mh) and core <= set(peto)
    assert (mh["method"], mh["measure"], mh["tau2"]) == ("MH", "RR", 0.0)
    assert (peto["method"], peto["measure"]) == ("PETO", "PETO")
    assert mh["estimate"] == pytest.approx(rma_mh("RR", **TABLES).estimate, rel=1e-12)
    out = run_json(capsys, "pool", tables_csv, *BINARY, "--method", "MH")
    assert {"cmh", "breslow_day", "tarone", "k_yi"} <= set(out) and out["cmh"]["df"] == 1


@pytest.mark.parametrize("method, extra, message", [
    ("MH", ("--test", "knha"), "The 'test' parameter of rma_mh must be one of {'z'}. Got 'knha'."),
    ("MH", ("--measure", "SMD"), "The 'measure' parameter of rma_mh must be one of {'OR', 'RR', 'RD'}. Got 'SMD'."),
    ("PETO", ("--measure", "RR"), "The 'measure' parameter of rma_peto must be one of {'OR', 'PETO'}. Got 'RR'."),
    ("PETO", ("--subgroup", "study"), "Method 'PETO' (Peto's one-step odds ratio) takes no moderators"),
    ("MH", ("--mods", "n1"), "Method 'MH' (Mantel-Haenszel) takes no moderators"),
])  # fmt: skip
def test_cli_mh_rejects_what_it_cannot_do(tables_csv, capsys, method, extra, message):
    """The registry's one-line errors (messages of the registry of methods since issue 11)."""
    assert main(["pool", str(tables_csv), *BINARY, "--method", method, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_cli_mh_needs_two_group_counts(tmp_path, capsys):
    path = tmp_path / "one.csv"
    path.write_text("e,n\n1,10\n2,20\n")
    assert main(["pool", str(path), "--events", "e", "--total", "n", "--method", "PETO"]) == 2
    assert "two-group binary" in capsys.readouterr().err


@pytest.fixture
def misc_csv(tmp_path):
    path = tmp_path / "misc.csv"
    path.write_text("study,ev,pt,m,s,n,r\nA,3,1200.5,10.2,2.1,30,0.31\n"
                    "B,0,800,11.5,3.0,25,0.12\nC,7,2300,9.8,2.5,40,-0.05\n")
    return path


@pytest.mark.parametrize("flags, measure, api", [
    (("--events", "ev", "--time", "pt"), "IRLN", {"xi": "ev", "ti": "pt"}),
    (("--mean", "m", "--sd", "s", "--n", "n"), "MN", {"meani": "m", "sdi": "s", "ni": "n"}),
    (("--r", "r", "--n", "n"), "ZCOR", {"ri": "r", "ni": "n"}),
])  # fmt: skip
def test_cli_new_column_flags(misc_csv, capsys, flags, measure, api):
    from metapool.io.tables import read_table

    out = run_json(capsys, "pool", misc_csv, *flags, "--method", "DL")
    assert out["measure"] == measure  # default measure for these columns
    expected = mp.rma(mp.escalc(measure, read_table(misc_csv), slab="study", **api), method="DL")
    assert out["estimate"] == pytest.approx(expected.estimate, rel=1e-12)


def test_cli_bad_person_time(tmp_path, capsys):
    path = tmp_path / "rates.csv"
    path.write_text("study,ev,pt\nA,1,100\nB,2,0\n")
    assert main(["pool", str(path), "--events", "ev", "--time", "pt"]) == 2
    err = capsys.readouterr().err
    assert "row 2 (study 'B')" in err and "'pt'" in err and "person-time" in err

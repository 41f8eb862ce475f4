"""Large inputs (issue 10): ``metapool run`` caps what grows faster than k, and says so.

Leave-one-out and influence diagnostics (cost ~k^2) are skipped above
``MAX_K_REFITS`` studies, forest plots above 200 rows and point-per-study
plots above 5,000 studies, each with its reason in the outcome's ``skipped``
and the report. The limits are made small here so that a few thousand studies
exercise them quickly; ``benchmarks/bench_large_input.py`` times 100,000.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from metapool.influence import report as sensitivity
from metapool.cli.main import main
from metapool.report import figures


@pytest.fixture
def small_limits(monkeypatch):
    monkeypatch.setattr(sensitivity, "MAX_K_REFITS", 50)
    monkeypatch.setattr(sensitivity, "MAX_K_REFITS_GLMM", 20)
    limits = {"forest_plots": (figures.FIGURE_LIMITS["forest_plots"][0], 30, "forest plots (one row per study)"),
              "study_plots": (figures.FIGURE_LIMITS["study_plots"][0], 1000, "point plots")}
    monkeypatch.setattr(figures, "FIGURE_LIMITS", limits)


def _study_table(path, k: int) -> None:
    rng = np.random.default_rng(11)
    n = rng.integers(20, 300, k)
    e = rng.binomial(n, 0.3)
    rows = "\n".join(f"S{i},{e[i]},{n[i]},{'abc'[i % 3]},{rng.uniform():.3f}" for i in range(k))
    path.write_text("study,e,n,g,x\n" + rows + "\n", encoding="utf-8")


def test_run_on_thousands_of_studies_skips_with_reasons(tmp_path, small_limits, capsys):
    _study_table(tmp_path / "s.csv", 3000)
    (tmp_path / "a.toml").write_text(
        'data = "s.csv"\nstudy = "study"\n[[outcome]]\nname = "R"\nkind = "proportion"\nevents = "e"\n'
        'total = "n"\nsubgroup = "g"\nmods = ["x"]\nbias = true\nsensitivity = true\n', encoding="utf-8")
    assert main(["run", str(tmp_path / "a.toml"), "-o", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    out = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))["outcomes"][0]
    assert out["k"] == 3000 and "bias" in out and "subgroups" in out and "regression" in out
    assert "leave_one_out" not in out and "influence" not in out
    skipped = out["skipped"]
    assert skipped["leave_one_out"].startswith("k = 3,000 > 50: skipped, as its cost grows with k²")
    assert "metapool.influence.influence" in skipped["influence"]
    assert skipped["forest_plots"].startswith("k = 3,000 > 30 studies: forest plots")
    assert skipped["study_plots"].startswith("k = 3,000 > 1,000 studies: point plots are not drawn")
    assert not list((tmp_path / "out" / "figures").iterdir())
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Forest plots not shown: k = 3,000 &gt; 30 studies" in report
    assert len(report) < 200_000


def test_small_runs_keep_every_analysis_and_figure(tmp_path, small_limits, capsys):
    _study_table(tmp_path / "s.csv", 25)
    (tmp_path / "a.toml").write_text(
        'data = "s.csv"\nstudy = "study"\n[[outcome]]\nname = "R"\nkind = "proportion"\nevents = "e"\n'
        'total = "n"\nbias = true\nsensitivity = true\n[[outcome]]\nname = "G"\nkind = "proportion"\n'
        'events = "e"\ntotal = "n"\nmethod = "GLMM"\nsensitivity = true\nbias = false\n', encoding="utf-8")
    assert main(["run", str(tmp_path / "a.toml"), "-o", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    rma_out, glmm_out = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))["outcomes"]
    assert rma_out["skipped"] == {} and "leave_one_out" in rma_out and "influence" in rma_out
    assert glmm_out["skipped"]["leave_one_out"].startswith("k = 25 > 20: skipped")
    kinds = {p.stem.split("_", 2)[2] for p in (tmp_path / "out" / "figures").glob("01_*.svg")}
    assert {"forest", "funnel", "doi", "baujat", "leave_one_out"} <= kinds


def test_pool_sensitivity_has_the_same_limit(tmp_path, monkeypatch, capsys):
    """``metapool pool --sensitivity`` skips the per-study refits above the limit, with the reason, as a run does."""
    monkeypatch.setattr(sensitivity, "MAX_K_REFITS", 50)
    _study_table(tmp_path / "s.csv", 60)
    assert main(["pool", str(tmp_path / "s.csv"), "--events", "e", "--total", "n", "--sensitivity", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["sensitivity"]
    for name in ("leave_one_out", "influence"):
        assert out[name]["undefined"].startswith("k = 60 > 50: skipped, as its cost grows with k²")

"""Figures of a report: --figures, results first, drawn in worker processes alike, errors named, report size.

Speed itself is measured in benchmarks/bench_report.py, never here.
"""

import json
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import pytest

from metapool.analysis import run_analysis
from metapool.cli.main import build_parser
from metapool.datasets import DATASETS
from metapool.exceptions import MetapoolError
from metapool.io.outputs import MARKER
from metapool.report.drawing import DEFAULT_FIGURES, FIGURE_FORMATS, FigureJob, draw_report_figures
from metapool.report.render import FIGURES_NOTE, write_outputs
from metapool.spec import load_spec

DATA = """study,n,resp,design
Alpha 2019,40,20,prospective
Beta 2020,55,30,retrospective
Gamma 2020,25,9,retrospective
Delta 2021,60,33,prospective
Epsilon 2022,48,21,prospective
"""

SPEC = """title = "Drawing test"
data = "studies.csv"
study = "study"
n = "n"

[[outcome]]
name = "Response"
kind = "proportion"
events = "resp"
total = "n"
subgroup = "design"
"""


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    folder = tmp_path_factory.mktemp("drawing")
    (folder / "studies.csv").write_text(DATA)
    (folder / "analysis.toml").write_text(SPEC)
    return run_analysis(load_spec(folder / "analysis.toml"))


def _files(folder) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_flag_takes_the_registry_values_and_defaults_to_svg():
    parser = build_parser()
    for command in (["run", "a.toml", "-o", "out"], ["demo"]):
        assert parser.parse_args(command).figures == DEFAULT_FIGURES == "svg"
        for value in FIGURE_FORMATS:
            assert parser.parse_args([*command, "--figures", value]).figures == value
        with pytest.raises(SystemExit) as exc:
            parser.parse_args([*command, "--figures", "pdf"])
        assert exc.value.code == 2


@pytest.mark.parametrize("figures", list(FIGURE_FORMATS))
def test_folder_contents_per_figures_value(analysis, tmp_path, figures):
    seen = []
    written = write_outputs(analysis, tmp_path / "out", figures=figures,
                            on_results=lambda w: seen.append(_files(w["report"].parent)))
    out = tmp_path / "out"
    results_first = seen[0]  # the folder as the results-first phase left it: complete, without figures
    assert sorted(results_first) == sorted([MARKER, "card.html", "card.md", "effect_sizes.csv", "report.html",
                                            "results.json"])
    report = (out / "report.html").read_text(encoding="utf-8")
    suffixes = {p.suffix for p in written["figures"]}
    if figures == "none":
        assert not (out / "figures").exists() and written["figures"] == []
        assert FIGURES_NOTE["none"].split(";")[0] in report and "<svg" not in report
        assert _files(out) == results_first
        return
    assert FIGURES_NOTE["pending"][:40] in results_first["report.html"].decode()
    assert FIGURES_NOTE["pending"][:40] not in report and "<svg" in report
    assert suffixes == {f".{fmt}" for fmt in FIGURE_FORMATS[figures]}
    assert sorted(p.name for p in (out / "figures").iterdir()) == sorted(p.name for p in written["figures"])
    marker = json.loads((out / MARKER).read_text())["files"]
    assert {f"figures/{p.name}" for p in written["figures"]} <= set(marker)
    for name in ("results.json", "effect_sizes.csv", "card.html", "card.md"):  # the same results in both phases
        assert (out / name).read_bytes() == results_first[name]


def test_figures_are_the_same_drawn_in_worker_processes_or_not(analysis, tmp_path):
    write_outputs(analysis, tmp_path / "serial", workers=1)
    write_outputs(analysis, tmp_path / "parallel", workers=2)
    serial, parallel = _files(tmp_path / "serial"), _files(tmp_path / "parallel")
    serial.pop(MARKER), parallel.pop(MARKER)  # the time it was written
    assert any(name.startswith("figures/") for name in serial)
    assert serial == parallel


def test_figure_order_and_captions_do_not_depend_on_workers(analysis):
    jobs = [draw_report_figures(analysis, figures="svg", workers=w) for w in (1, 2)]
    (serial, _), (parallel, _) = (job.save(None) for job in jobs)
    assert [(f.kind, f.caption, f.svg) for f in serial["Response"]] == \
           [(f.kind, f.caption, f.svg) for f in parallel["Response"]]


def _failing(exc) -> Future:
    future = Future()
    future.set_exception(exc)
    return future


@pytest.mark.parametrize("exc, message", [
    (ValueError("no finite values"), "figure 01_response_forest could not be drawn: ValueError: no finite values"),
    (BrokenProcessPool("gone"), "the process drawing figure 01_response_forest stopped unexpectedly"),
])
def test_a_worker_error_is_one_message_naming_the_figure(analysis, exc, message):
    job = draw_report_figures(analysis, figures="svg", workers=1)
    job.futures = [_failing(exc) for _ in job.tasks]
    with pytest.raises(MetapoolError, match=message):
        job.save(None)


def test_the_demo_report_is_small(tmp_path):
    """SVG text as text, no metadata or indentation: the demo's report stays under 1.5 MB (it was 4.6 MB)."""
    analysis = run_analysis(load_spec(DATASETS["aml_hma_ven_synthetic"].analysis_path))
    written = write_outputs(analysis, tmp_path / "demo", figures="svg", workers=None)
    report = written["report"].read_text(encoding="utf-8")
    assert report.count("<svg") == len(written["figures"]) > 30
    assert written["report"].stat().st_size < 1_500_000
    assert "<path d=\"M" in report and "<text " in report and "<metadata>" not in report


def test_an_error_drawing_in_this_process_is_the_same_one_message(analysis):
    job = draw_report_figures(analysis, figures="svg", workers=1)
    assert job.futures is None  # drawn here, not in workers

    def broken():
        raise ValueError("no finite values")

    job.tasks = [(*task[:5], broken) for task in job.tasks]
    with pytest.raises(MetapoolError, match="figure 01_response_forest could not be drawn: ValueError: no finite"):
        job.save(None)

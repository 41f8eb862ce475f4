"""The issue's end-to-end test in a real browser (Playwright driving Debian's chromium).

Upload the bundled demo table, keep the guessed mapping, run, and check that the numbers on the
results page and on the evidence card page equal results.json of ``metapool init`` + ``metapool run``
on the same file (the CLI's own functions, in this process). Screenshots of every screen at 1280 and
390 px wide go to the ``screenshots`` folder (look at them: tests/web/screenshots, not in git).
"""

from __future__ import annotations

import json
import re

import pytest

from metapool.cli.main import main
from metapool.datasets import DATASETS

DEMO = DATASETS["aml_hma_ven_synthetic"].path
WIDTHS = (1280, 390)


def _shots(page, folder, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"analysis-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _cli_results(tmp_path) -> dict:
    """results.json of `metapool init DEMO` then `metapool run` (exit 0 or 1: every outcome is reported either way)."""
    analysis = tmp_path / "cli" / "analysis.toml"
    analysis.parent.mkdir()
    assert main(["init", str(DEMO), "-o", str(analysis)]) == 0
    assert main(["run", str(analysis), "-o", str(tmp_path / "cli" / "out"), "--figures", "none"]) in (0, 1)
    return json.loads((tmp_path / "cli" / "out" / "results.json").read_text(encoding="utf-8"))


def test_upload_map_run_and_the_numbers_equal_metapool_run(page, live_server, screenshots, tmp_path):
    base, workspace = live_server
    page.goto(f"{base}/analysis")
    _shots(page, screenshots, "1-new")
    page.get_by_label(re.compile("Study table")).set_input_files(str(DEMO))
    page.get_by_role("button", name="Upload and map the columns").click()
    page.wait_for_url(re.compile(r"/analysis/setup\?"))
    assert page.locator("#study-study").input_value() == "study"
    _shots(page, screenshots, "2-setup")
    page.get_by_role("button", name="Save the analysis file").click()
    page.wait_for_url(re.compile(r"/analysis/view\?"))
    _shots(page, screenshots, "3-analysis")
    page.get_by_role("button", name="Run the analysis").click()
    page.wait_for_url(re.compile(r"/analysis/job/"))
    page.locator("progress, a.button").first.wait_for()
    _shots(page, screenshots, "4-progress")
    page.wait_for_url(re.compile(r"/analysis/result\?"), timeout=180_000)  # htmx follows HX-Redirect when done
    page.locator("iframe.card-frame").wait_for()
    images = page.locator("figure img")
    for i in range(images.count()):  # lazy images: bring each into view, then check it loaded
        images.nth(i).scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=images.nth(i).element_handle())
    _shots(page, screenshots, "5-results")
    for width in WIDTHS:  # the embedded card alone (a very tall full-page shot may leave frames unpainted)
        page.set_viewport_size({"width": width, "height": 900})
        page.locator("iframe.card-frame").screenshot(path=str(screenshots / f"analysis-5-results-card-{width}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})

    cli = _cli_results(tmp_path)
    run = next((workspace / "runs").glob("*/1"))
    app = json.loads((run / "results.json").read_text(encoding="utf-8"))
    cli_rows = {r["outcome"]: r for r in cli["card"]["outcomes"]}
    app_rows = {r["outcome"]: r for r in app["card"]["outcomes"]}
    assert cli_rows.keys() == app_rows.keys() and cli_rows
    for name, row in cli_rows.items():
        assert {k: app_rows[name][k] for k in ("estimate", "k", "n", "i2")} == {k: row[k] for k in ("estimate", "k", "n", "i2")}
    summary = page.locator("#summary tbody tr")
    shown = {summary.nth(i).locator("th").inner_text(): summary.nth(i).locator("td").first.inner_text()
             for i in range(summary.count())}
    assert {name: row["estimate"] for name, row in cli_rows.items()}.items() <= shown.items()
    card_text = page.frame_locator("iframe.card-frame").locator("table").inner_text()
    assert all(row["estimate"] in card_text for row in cli_rows.values())

    page.get_by_role("link", name="Open the card as a page").click()
    page.wait_for_url(re.compile(r"/card\?"))
    body = page.locator("body").inner_text()
    assert all(row["estimate"] in body for row in cli_rows.values())
    assert all(s in body for s in cli["card"]["statements"])
    _shots(page, screenshots, "6-card")


@pytest.mark.parametrize("width", WIDTHS)
def test_every_input_of_the_setup_form_is_labelled(page, live_server, width):
    base, _ = live_server
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{base}/analysis")
    page.get_by_label(re.compile("Study table")).set_input_files(str(DEMO))
    page.get_by_role("button", name="Upload and map the columns").click()
    page.wait_for_url(re.compile(r"/analysis/setup\?"))
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name)""")
    assert unlabelled == []


def test_edit_shows_a_refused_choice_with_its_reason(page, live_server, screenshots):
    base, workspace = live_server
    page.goto(f"{base}/analysis")
    page.get_by_label(re.compile("Study table")).set_input_files(str(DEMO))
    page.get_by_role("button", name="Upload and map the columns").click()
    page.get_by_role("button", name="Save the analysis file").click()
    page.wait_for_url(re.compile(r"/analysis/view\?"))
    page.get_by_role("link", name="Edit").click()
    page.wait_for_url(re.compile(r"/analysis/edit\?"))
    page.locator("#o1-method").select_option("MH")
    page.get_by_role("button", name="Save the analysis file").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "MH" in alert.inner_text() and "was not written" in alert.inner_text()
    assert page.locator("#o1-method").input_value() == "MH"  # the form keeps what was chosen
    _shots(page, screenshots, "7-edit-refused")

"""The review in a real browser (Playwright on Debian's chromium): screen ten records with the keyboard alone,
resolve a conflict, open the PRISMA page; screenshots of every review screen at 1280 and 390 px."""

from __future__ import annotations

from metapool.datasets.review_demo import build_review_demo
from metapool.review.duplicates import run_dedup
from metapool.review.screening import conflicts, decide, reviewer_progress
from metapool.review.store import open_review

from .test_review import FRESH, PAIR_RIS, fresh_review

KEYS = ("i", "e", "m", "e", "e", "i", "e", "m", "e", "i")
DECISIONS = {"i": "include", "e": "exclude", "m": "maybe"}


def _shoot(page, screenshots, name: str) -> None:
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(screenshots / f"review-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_screen_ten_records_by_keyboard_resolve_a_conflict_and_open_prisma(page, live_server, screenshots):
    base, workspace = live_server
    folder = fresh_review(workspace, files=(("embase.ris", "Embase (Ovid)"), ("medline.nbib", "MEDLINE (PubMed)")))
    review = open_review(folder)
    run_dedup(review, who="test")
    build_review_demo(workspace / "reviews" / "demo").engine.dispose()

    page.goto(f"{base}/review")
    _shoot(page, screenshots, "list")
    page.goto(f"{base}/review/new")
    _shoot(page, screenshots, "new")
    page.goto(f"{base}/review/open?path={FRESH}")
    _shoot(page, screenshots, "overview")
    page.goto(f"{base}/review/import?path={FRESH}")
    _shoot(page, screenshots, "import")
    upload = workspace.parent / "two-copies.ris"
    upload.write_bytes(PAIR_RIS)
    page.set_input_files("#files", str(upload))
    page.select_option("#source", "Scopus")
    with page.expect_navigation():
        page.get_by_role("button", name="Import").click()
    assert "Imported 2 records from Scopus" in page.content()
    _shoot(page, screenshots, "imported")
    page.goto(f"{base}/review/dedup?path={FRESH}")
    with page.expect_navigation():
        page.get_by_role("button", name="Run deduplication").click()
    assert page.locator("table.pair tr.differs").count() >= 1  # the pair side by side, its differences marked
    _shoot(page, screenshots, "dedup")
    with page.expect_navigation():
        page.get_by_role("button", name="Not a duplicate").click()
    assert "Pairs waiting for a person: 0" in page.content()

    page.goto(f"{base}/review/screen?path={FRESH}&stage=ta")
    assert page.locator("mark").count() > 0  # the review's keywords are marked
    _shoot(page, screenshots, "screen")
    page.keyboard.press("Tab")  # the skip link, then the page's controls: each shows its focus
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('button.decision')"):
            break
    assert page.evaluate("document.activeElement.textContent").startswith("Include")
    style = page.evaluate("(() => { const s = getComputedStyle(document.activeElement);"
                          " return [s.outlineStyle, s.outlineWidth]; })()")
    assert style[0] != "none" and style[1] != "0px"
    _shoot(page, screenshots, "screen-focus")

    pressed = {}
    for key in KEYS:
        record = int(page.locator('input[name="record"]').get_attribute("value"))
        with page.expect_navigation():
            page.keyboard.press(key)
        pressed[record] = DECISIONS[key]
    progress = reviewer_progress(review, "ta", "local")
    assert progress.screened == 10 and {r: v.decision for r, v in progress.mine.items()} == pressed
    assert "10 of" in page.locator(".progress-box").inner_text()

    last = progress.last
    with page.expect_navigation():
        page.keyboard.press("u")  # U: back to the last decision, to change it
    assert int(page.locator('input[name="record"]').get_attribute("value")) == last
    with page.expect_navigation():
        page.keyboard.press("i")
    assert reviewer_progress(review, "ta", "local").mine[last].decision == "include"

    # a second reviewer disagrees on one of them (seeded through the library); the lead resolves it
    disputed = next(r for r, d in pressed.items() if d == "exclude")
    decide(review, disputed, "ta", "Reviewer B", "include", who="test")
    page.goto(f"{base}/review/conflicts?path={FRESH}&stage=ta")
    _shoot(page, screenshots, "conflicts")
    card = page.locator(f"#conflict-{disputed}").locator("xpath=..")
    card.get_by_role("button", name="Resolve: exclude").click()
    page.wait_for_load_state()
    assert f"Record {disputed} resolved" in page.content()
    assert conflicts(review, "ta") == ()

    # full text by keyboard: E asks for the reason, the arrow keys choose it, Enter excludes
    forward = reviewer_progress(review, "ta", "local").next  # a record nobody decided yet
    for name in ("Reviewer C", "Reviewer D"):
        decide(review, forward, "ta", name, "include", who="test")
    page.goto(f"{base}/review/screen?path={FRESH}&stage=ft")
    assert int(page.locator('input[name="record"]').get_attribute("value")) == forward
    page.keyboard.press("e")
    assert page.evaluate("document.activeElement.id") == "reason"
    _shoot(page, screenshots, "screen-ft")
    page.keyboard.press("ArrowDown")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    vote = reviewer_progress(review, "ft", "local").mine[forward]
    assert (vote.decision, vote.reason) == ("exclude", "population")

    page.goto(f"{base}/review/agreement?path=reviews/demo")
    _shoot(page, screenshots, "agreement")
    page.goto(f"{base}/review/prisma?path=reviews/demo")
    page.wait_for_function("document.querySelector('figure.prisma img').complete")
    assert page.evaluate("document.querySelector('figure.prisma img').naturalWidth") > 300
    _shoot(page, screenshots, "prisma")
    page.goto(f"{base}/review/screen?path=reviews/demo&stage=ft")
    _shoot(page, screenshots, "screen-done")

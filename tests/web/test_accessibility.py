"""Accessibility basics of every page, in a real browser: labels, alt text, visible focus, contrast (WCAG 2.1 AA).

:data:`PAGES` lists the pages walked; a page another screen has not landed yet (404) is skipped, so the
list can name every screen of the app. Each page is checked in local mode (signed in through the launch
link) and the sign-in page of a team server too; screenshots at 1280 and 390 px go to the
``screenshots`` folder.

References
----------
W3C, Web Content Accessibility Guidelines (WCAG) 2.1: 1.1.1 Non-text Content, 1.3.1 Info and
Relationships / 4.1.2 Name, Role, Value (labels), 1.4.3 Contrast (Minimum), 2.4.7 Focus Visible; the
definitions of relative luminance and contrast ratio.
"""

from __future__ import annotations

import threading
import time

import pytest

from .conftest import _free_port

#: (path, name of the screenshots) of every page to check; extend it as screens land.
PAGES = [
    ("/", "workspace"),
    ("/accounts", "accounts"),
    ("/login", "login-local"),
    ("/analysis", "analyses"),
    ("/analysis/new", "analysis-new"),
    ("/review", "reviews"),
    ("/review/new", "review-new"),
    ("/audit", "audit"),
]

#: WCAG 2.1 AA: 4.5:1 for text, 3:1 for large text (at least 24 px, or 18.66 px bold).
NORMAL, LARGE = 4.5, 3.0

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && !['submit', 'button', 'reset', 'image'].includes(el.type))
  .filter(el => {
    if (el.labels && [...el.labels].some(l => l.textContent.trim())) return false;
    if ((el.getAttribute('aria-label') || '').trim()) return false;
    const ids = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
    return !ids.some(id => (document.getElementById(id)?.textContent || '').trim());
  }).map(el => el.outerHTML.slice(0, 120))"""

NO_ALT = """() => [...document.querySelectorAll('img')].filter(el => !el.hasAttribute('alt'))
  .map(el => el.outerHTML.slice(0, 120))"""

#: Text elements with their colour and the first opaque background behind them (walking up the tree).
TEXT_COLOURS = """() => {
  const parse = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest('[disabled], svg, script, style')) continue;
    const box = el.getBoundingClientRect(), st = getComputedStyle(el);
    if (box.width <= 1 || box.height <= 1 || st.visibility === 'hidden' || st.display === 'none') continue;
    let bg = [255, 255, 255, 1];
    for (let a = el; a; a = a.parentElement) {
      const c = parse(getComputedStyle(a).backgroundColor);
      if (c.length && (c.length < 4 || c[3] > 0)) { bg = c.length < 4 ? [...c, 1] : c; break; }
    }
    out.push({text: el.textContent.trim().slice(0, 40), tag: el.tagName, color: parse(st.color), bg,
              size: parseFloat(st.fontSize), weight: parseInt(st.fontWeight, 10)});
  }
  return out;
}"""

FOCUS_STYLE = """el => { const s = getComputedStyle(el);
  return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow].join(' | '); }"""

REMEMBER_UNFOCUSED = """() => { const f = document.activeElement; if (f) f.blur();
  for (const el of document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')) {
    const s = getComputedStyle(el);
    el.__unfocused = [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow].join(' | ');
  } }"""


def _luminance(rgb) -> float:
    """WCAG relative luminance of an sRGB colour (0-255 channels)."""
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg, bg) -> float:
    """WCAG contrast ratio of text colour ``fg`` (RGBA, alpha blended onto ``bg``) on background ``bg``."""
    alpha = fg[3] if len(fg) > 3 else 1.0
    blended = [alpha * f + (1 - alpha) * b for f, b in zip(fg[:3], bg[:3])]
    lighter, darker = sorted((_luminance(blended), _luminance(bg)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_contrast_formula_matches_wcag_examples():
    assert contrast([0, 0, 0], [255, 255, 255]) == pytest.approx(21)
    assert contrast([118, 118, 118], [255, 255, 255]) == pytest.approx(4.54, abs=0.01)  # #767676, the AA limit
    assert contrast([255, 255, 255, 0.5], [255, 255, 255]) == pytest.approx(1)


def check_page(page, label: str, screenshots) -> list[str]:
    """The accessibility problems of the page open in ``page`` (empty when none); screenshots written."""
    problems = [f"unlabelled field {html}" for html in page.evaluate(UNLABELLED)]
    problems += [f"image without alt {html}" for html in page.evaluate(NO_ALT)]
    for item in page.evaluate(TEXT_COLOURS):
        large = item["size"] >= 24 or (item["size"] >= 18.66 and item["weight"] >= 700)
        ratio = contrast(item["color"], item["bg"])
        if ratio < (LARGE if large else NORMAL):
            problems.append(f"contrast {ratio:.2f}:1 of <{item['tag'].lower()}> {item['text']!r}")
    page.evaluate(REMEMBER_UNFOCUSED)
    seen = 0
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement === document.body"):
            break
        seen += 1
        focused, before = page.evaluate(f"() => ({FOCUS_STYLE})(document.activeElement)"), \
            page.evaluate("() => document.activeElement.__unfocused")
        if before is not None and focused == before:
            what = page.evaluate("() => document.activeElement.outerHTML.slice(0, 100)")
            problems.append(f"no visible focus on {what}")
    focusable = page.evaluate("() => [...document.querySelectorAll('a[href], button, input, select, textarea')]"
                              ".filter(el => el.type !== 'hidden' && !el.disabled && el.offsetParent !== null).length")
    if focusable and not seen:  # a static page (the printable card) may have nothing to focus
        problems.append("nothing can be reached with Tab")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(screenshots / f"a11y-{label}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    return problems


@pytest.mark.parametrize("path, label", PAGES, ids=[label for _, label in PAGES])
def test_page_is_accessible(page, live_server, screenshots, path, label):
    base, _ = live_server
    response = page.goto(base + path)
    if response.status == 404:
        pytest.skip(f"{path} is not on this branch yet")
    assert response.status == 200
    assert check_page(page, label, screenshots) == []


@pytest.fixture
def team_server(workspace, monkeypatch):
    """A team server on a free loopback port with the lead account ``ana`` (quick Argon2 parameters)."""
    import uvicorn
    from argon2 import PasswordHasher

    from metapool.web import accounts as acc
    from metapool.web.app import Settings, create_app

    monkeypatch.setattr(acc, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    acc.add_user(acc.open_accounts(workspace), "ana", "correct horse battery", "lead")
    acc.add_user(acc.open_accounts(workspace), "rui", "correct horse battery", "reviewer")
    port = _free_port()
    app = create_app(Settings(workspace=workspace, token=None, team=True, secret="t" * 43))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the team server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_team_sign_in_and_accounts_pages_are_accessible(browser, team_server, screenshots):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(team_server + "/")
        assert page.url.startswith(team_server + "/login")
        assert check_page(page, "login-team", screenshots) == []
        page.fill("#login-password", "not the password")
        page.fill("#login-name", "ana")
        page.press("#login-password", "Enter")
        page.wait_for_load_state()
        assert "Wrong account name or password." in page.inner_text("main")
        page.fill("#login-name", "ana")
        page.fill("#login-password", "correct horse battery")
        page.press("#login-password", "Enter")
        page.wait_for_url(team_server + "/")
        page.goto(team_server + "/accounts")
        assert "rui" in page.inner_text("main") and "ana (lead)" in page.inner_text("header")
        assert check_page(page, "accounts-team", screenshots) == []
        page.goto(team_server + "/password")
        assert check_page(page, "password-team", screenshots) == []
    finally:
        context.close()


def test_the_checks_find_each_kind_of_problem(browser, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.set_content("""<style>a:focus { outline: none; } .pale { color: #999; }</style>
            <main><p class="pale">Pale grey text</p><input type="text" name="q"><img src="x.png">
            <label for="ok">Labelled</label><input id="ok" type="text"><a href="#">A link</a></main>""")
        problems = check_page(page, "check-self-test", tmp_path)
    finally:
        context.close()
    assert any(p.startswith("unlabelled field <input") and 'name="q"' in p for p in problems)
    assert any(p.startswith("image without alt") for p in problems)
    assert any(p.startswith("contrast 2.85:1 of <p> 'Pale grey text'") for p in problems)
    assert any(p.startswith("no visible focus on <a") for p in problems)
    assert not any("Labelled" in p or 'id="ok"' in p for p in problems)


def test_the_analysis_screens_are_accessible(page, live_server, screenshots):
    """The Analysis flow's pages that need a table first: column mapping, the analysis, its results, the card."""
    import re

    from metapool.datasets import DATASETS

    base, _ = live_server
    page.goto(f"{base}/analysis/new")
    page.get_by_label(re.compile("Study table")).set_input_files(str(DATASETS["aml_hma_ven_synthetic"].path))
    page.get_by_role("button", name="Upload and map the columns").click()
    page.wait_for_url(re.compile(r"/analysis/setup\?"))
    problems = check_page(page, "analysis-setup", screenshots)
    page.get_by_role("button", name="Save the analysis file").click()
    page.wait_for_url(re.compile(r"/analysis/view\?"))
    problems += check_page(page, "analysis-view", screenshots)
    page.get_by_role("button", name="Run the analysis").click()
    page.wait_for_url(re.compile(r"/analysis/result\?"), timeout=180_000)
    page.locator("iframe.card-frame").wait_for()
    page.wait_for_load_state("load")
    problems += check_page(page, "analysis-result", screenshots)
    page.get_by_role("link", name="Evidence card page").click()
    page.wait_for_url(re.compile(r"/card\?"))
    problems += check_page(page, "card", screenshots)
    assert problems == []

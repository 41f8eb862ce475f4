"""The presentations of an audit: the terminal table, the highlighted HTML fragment and page."""

from __future__ import annotations

import html
import io
import re

from metapool.audit.model import AuditResult, Finding, Statistic
from metapool.audit.render import highlight_html, print_table, render_page, stylesheet

TEXT = 'ORR 26% (95% CI 24–48%) <script>alert("x")</script> =cmd|\' /C calc\'!A0 \x1b[31mred [bold]k[/bold]\nI² = 40%'


def result(findings):
    return AuditResult(TEXT, (Statistic("proportion", (4, 23), TEXT[4:23], value=0.26),), tuple(findings), "in<put>.txt")


def finding(start, end, status, check="recompute", reason="Because <b>so</b>.", consistent=None):
    return Finding(TEXT[start:end], (start, end), check, status, reason, consistent)


def plain(fragment: str) -> str:
    """The text of the fragment's text block, tags removed and entities decoded."""
    block = re.search(r'<div class="audit-text">(.*?)</div>', fragment, re.S).group(1)
    return html.unescape(re.sub(r"<[^>]+>", "", block))


def test_overlapping_and_nested_spans_are_split_into_marks_of_the_worst_status():
    findings = [finding(4, 23, "pass"), finding(4, 7, "flag"), finding(16, 30, "cannot_check"),
                finding(4, 23, "cannot_check", check="ci_bounds")]
    fragment = highlight_html(result(findings))
    assert plain(fragment) == TEXT  # every character once, in order
    marks = re.findall(r'<mark class="audit-mark (audit-[a-z-]+)" title="[^"]*"><a href="#audit-finding-(\d)">(.*?)</a>',
                       fragment)
    assert [(css, html.unescape(piece)) for css, _, piece in marks] == [
        ("audit-flag", TEXT[4:7]), ("audit-cannot-check", TEXT[7:16]), ("audit-cannot-check", TEXT[16:23]),
        ("audit-cannot-check", TEXT[23:30])]
    assert "<mark" not in re.sub(r"<mark[^>]*>.*?</mark>", "", fragment)  # never nested
    for i in range(1, 5):  # each finding: an anchor at its span and an entry linking back to it
        assert f'id="audit-span-{i}"' in fragment and f'id="audit-finding-{i}"' in fragment
        assert f'href="#audit-span-{i}"' in fragment


def test_user_text_is_escaped_everywhere():
    findings = [finding(24, 54, "flag", reason='Quote "<img src=x onerror=alert(1)>"', consistent="<i>1</i>")]
    page = render_page(result(findings))
    assert "<script>" not in page and "<img" not in page and "<i>1" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(" in page and "&lt;img src=x" in page and "in&lt;put&gt;.txt" in page
    assert "=cmd|' /C calc'!A0" in html.unescape(re.sub(r"<[^>]+>", "", page))  # inert in HTML: shown as written
    assert "<script" not in page.lower().replace("&lt;script", "")  # the page itself has no script
    assert "http://" not in page and "https://" not in page and "src=" not in page.replace("src=x", "")
    assert stylesheet() in page


def test_fragment_classes_are_prefixed_and_the_stylesheet_defines_them():
    fragment = highlight_html(result([finding(4, 23, "pass"), finding(4, 7, "flag"), finding(8, 9, "cannot_check")]))
    classes = {c for attr in re.findall(r'class="([^"]+)"', fragment) for c in attr.split()}
    assert all(c.startswith("audit-") for c in classes)
    css = stylesheet()
    assert all(f".{c}" in css for c in classes - {"audit-anchor", "audit-summary"} | {"audit-flag"})


def test_terminal_table_is_plain_text_off_a_terminal():
    out = io.StringIO()
    print_table(result([finding(4, 23, "flag", consistent="27% (23% to 31%)"),
                        finding(55, 80, "pass", reason="[bold]fine[/bold]")]), file=out)
    printed = out.getvalue()
    assert "\x1b" not in printed  # no colour codes, and the text's own escape character is gone
    assert "in<put>.txt: 1 flag, 0 cannot check, 1 pass" in printed
    assert "[bold]fine[/bold]" in printed  # user text is never read as rich markup
    assert "27% (23% to 31%)" in printed and "flag" in printed


def test_no_findings():
    empty = AuditResult("Nothing here.", (), (), None, ("No reported statistic was recognised in the text.",))
    out = io.StringIO()
    print_table(empty, file=out)
    assert "0 flags, 0 cannot check, 0 passes (0 statistics read)" in out.getvalue()
    assert "No reported statistic" in highlight_html(empty)

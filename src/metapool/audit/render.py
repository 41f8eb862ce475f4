"""Present an audit: a table on the terminal, the text highlighted in HTML, a standalone HTML page.

:func:`highlight_html` is the piece the web app reuses: a self-contained fragment (every class
``audit-``, its stylesheet in :func:`stylesheet`) in which each finding's span is a ``<mark>`` of its
status, linked to the finding's entry in the list below the text. Overlapping spans are split into
the pieces between their ends: each piece is marked with the most serious status of the findings
over it (flag, then cannot check, then pass) and links to the first of them; each finding's list
entry links back to an anchor at the start of its span. Every piece of user text (the audited text,
quotes, reasons, the source's name) is escaped by markupsafe or Jinja2's autoescape.
"""

from __future__ import annotations

import sys
from importlib.resources import files
from typing import TextIO

from .model import AuditResult, Finding

__all__ = ["STATUS_LABELS", "check_title", "stylesheet", "highlight_html", "render_page", "print_table",
           "summary_line"]

#: Status -> (words shown, CSS class, terminal style), most serious first.
STATUS_LABELS = {
    "flag": ("flag", "audit-flag", "bold red"),
    "cannot_check": ("cannot check", "audit-cannot-check", "yellow"),
    "pass": ("pass", "audit-pass", "green"),
}
_RANK = {status: i for i, status in enumerate(STATUS_LABELS)}


def check_title(key: str) -> str:
    """The title of check ``key`` in :data:`metapool.audit.checks.CHECKS` (the key if it has none)."""
    from .checks import CHECKS

    check = CHECKS.get(key)
    return check.title if check is not None else key


def stylesheet() -> str:
    """The CSS of :func:`highlight_html`'s classes (for a page that embeds the fragment)."""
    return files("metapool.audit").joinpath("templates/audit.css").read_text(encoding="utf-8")


def summary_line(result: AuditResult) -> str:
    """``"2 flags, 3 passes, 1 cannot check (12 statistics read)"``."""
    counts = result.counts()
    words = {"flag": ("flag", "flags"), "pass": ("pass", "passes"), "cannot_check": ("cannot check",) * 2}
    parts = [f"{counts[s]} {words[s][counts[s] != 1]}" for s in STATUS_LABELS]
    return f"{', '.join(parts)} ({len(result.statistics)} statistics read)"


def _pieces(text: str, findings: tuple[Finding, ...]) -> list[tuple[int, int, list[int]]]:
    """The text cut at every span's ends: ``(start, end, indices of the findings over the piece)``."""
    cuts = {0, len(text)}
    for f in findings:
        cuts |= {min(max(f.span[0], 0), len(text)), min(max(f.span[1], 0), len(text))}
    bounds = sorted(cuts)
    pieces = []
    for start, end in zip(bounds, bounds[1:]):
        over = [i for i, f in enumerate(findings) if f.span[0] <= start and end <= f.span[1] and f.span[0] < f.span[1]]
        pieces.append((start, end, sorted(over, key=lambda i: (_RANK[findings[i].status], i))))
    return pieces


def highlight_html(result: AuditResult) -> str:
    """The audited text with each finding's span highlighted, and the list of findings, as HTML.

    Returns
    -------
    str
        A ``<div class="audit-report">`` fragment: a summary line, the text (``white-space:
        pre-wrap``) with ``<mark class="audit-mark audit-flag">`` pieces linking to
        ``#audit-finding-N``, and an ordered list of findings (``id="audit-finding-N"``) whose quotes
        link back to ``#audit-span-N``. Style it with :func:`stylesheet`.
    """
    from markupsafe import Markup, escape

    findings = result.findings
    starts: dict[int, list[int]] = {}
    for i, f in enumerate(findings):
        starts.setdefault(min(max(f.span[0], 0), len(result.text)), []).append(i)
    out = [Markup('<div class="audit-report">\n<p class="audit-summary">')]
    counts = result.counts()
    for status, (words, css, _) in STATUS_LABELS.items():
        out.append(Markup('<span class="audit-count {}">{} {}</span>').format(css, counts[status], words))
    out.append(Markup("</p>\n"))
    for note in result.notes:
        out.append(Markup('<p class="audit-notes">{}</p>\n').format(note))
    out.append(Markup('<div class="audit-text">'))
    for start, end, over in _pieces(result.text, findings):
        for i in starts.pop(start, []):
            out.append(Markup('<span class="audit-anchor" id="audit-span-{}"></span>').format(i + 1))
        piece = result.text[start:end]
        if not over:
            out.append(escape(piece))
            continue
        first = findings[over[0]]
        title = "; ".join(f"{check_title(findings[i].check)}: {STATUS_LABELS[findings[i].status][0]}" for i in over)
        out.append(Markup('<mark class="audit-mark {}" title="{}"><a href="#audit-finding-{}">{}</a></mark>').format(
            STATUS_LABELS[first.status][1], title, over[0] + 1, piece))
    for indices in starts.values():  # spans that start at the end of the text
        out += [Markup('<span class="audit-anchor" id="audit-span-{}"></span>').format(i + 1) for i in indices]
    out.append(Markup('</div>\n<ol class="audit-findings">\n'))
    for i, f in enumerate(findings, start=1):
        words, css, _ = STATUS_LABELS[f.status]
        item = Markup('<li class="audit-finding {}" id="audit-finding-{}"><span class="audit-status">{}</span> · '
                      '{} · <a class="audit-quote" href="#audit-span-{}">“{}”</a><br>{}').format(
            css, i, words, check_title(f.check), i, f.quote, f.reason)
        if f.consistent_value:
            item += Markup('<br><span class="audit-consistent">Consistent value: {}</span>').format(f.consistent_value)
        out.append(item + Markup("</li>\n"))
    out.append(Markup("</ol>\n</div>\n"))
    return str(Markup("").join(out))


def render_page(result: AuditResult) -> str:
    """A standalone HTML page of :func:`highlight_html` (inline style, no script, no external resource)."""
    from jinja2 import Environment, PackageLoader, select_autoescape
    from markupsafe import Markup

    from .. import __version__

    env = Environment(loader=PackageLoader("metapool.audit", "templates"),
                      autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True))
    return env.get_template("audit.html.j2").render(
        source=result.source, version=__version__, stylesheet=Markup(stylesheet()),
        fragment=Markup(highlight_html(result)))


def print_table(result: AuditResult, file: TextIO | None = None) -> None:
    """Print the findings as a table (rich): quote, check, status, reason, consistent value.

    Colours only on a terminal; user text is printed as text (never as rich markup) on one line,
    control characters replaced by spaces.
    """
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ..formatting.text import one_line

    file = file or sys.stdout
    tty = file.isatty()
    console = Console(file=file, width=None if tty else 160, no_color=not tty, force_terminal=tty,
                      highlight=False, emoji=False, markup=False, soft_wrap=False)
    header = f"metapool audit of {one_line(result.source)}" if result.source else "metapool audit"
    console.print(Text(f"{header}: {summary_line(result)}"))
    for note in result.notes:
        console.print(Text(one_line(note)))
    if not result.findings:
        return
    table = Table(show_lines=True, expand=False)
    for name, ratio in (("#", None), ("Quote", 3), ("Check", 2), ("Status", None), ("Reason", 5),
                        ("Consistent value", 3)):
        table.add_column(name, ratio=ratio, overflow="fold")
    for i, f in enumerate(result.findings, start=1):
        words, _, style = STATUS_LABELS[f.status]
        table.add_row(str(i), Text(one_line(f.quote)), Text(one_line(check_title(f.check))), Text(words, style=style),
                      Text(one_line(f.reason)), Text(one_line(f.consistent_value or "")))
    console.print(table)

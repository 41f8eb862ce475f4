"""A tiny document model: summaries are data, renderers turn them into text.

A :class:`Document` is a title and a list of blocks (paragraphs, key-value
lists and tables of already formatted cells). :func:`metapool.formatting.document`
builds the document of a result; the methods here produce plain text,
Markdown and HTML (escaped) from it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from .text import md_escape, one_line


def _plain(value) -> str:
    return one_line(str(value))


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class KeyValues:
    title: str
    items: tuple  # ((key, value), ...)


@dataclass(frozen=True)
class Table:
    title: str
    header: tuple
    rows: tuple  # tuple of tuples of str
    note: str = ""


@dataclass(frozen=True, repr=False)
class Document:
    """A summary: a title and blocks, shown as text in a terminal and as HTML in Jupyter.

    ``print(doc)``, ``str(doc)`` and the interactive prompt (``repr``, IPython's
    pretty printer) give :meth:`to_text`; Jupyter shows :meth:`to_html`
    (``_repr_html_``); :meth:`to_markdown` gives Markdown.
    """

    title: str
    blocks: tuple = field(default_factory=tuple)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """IPython's terminal display: the text."""
        printer.text(self.to_text())

    def _repr_html_(self) -> str:
        """Jupyter's display: the HTML."""
        return self.to_html()

    def to_text(self) -> str:
        """Plain text for a terminal; every text is put on one line (:func:`~metapool.formatting.text.one_line`),
        so a label cannot break a table or send control sequences to the terminal."""
        t = _plain
        out = [t(self.title), ""]
        for b in self.blocks:
            if isinstance(b, Paragraph):
                out += [t(b.text), ""]
            elif isinstance(b, KeyValues):
                if b.title:
                    out.append(t(b.title))
                items = [(t(k), t(v)) for k, v in b.items]
                width = max((len(k) for k, _ in items), default=0)
                out += [f"{k + ':':<{width + 1}} {v}" for k, v in items]
                out.append("")
            elif isinstance(b, Table):
                if b.title:
                    out += [t(b.title), ""]
                rows = [tuple(t(c) for c in row) for row in (b.header, *b.rows)]
                widths = [max(len(c) for c in col) for col in zip(*rows)]
                first_left = [True] + [False] * (len(widths) - 1)
                for row in rows:
                    cells = [
                        f"{c:<{w}}" if left else f"{c:>{w}}"
                        for c, w, left in zip(row, widths, first_left)
                    ]
                    out.append("  ".join(cells).rstrip())
                if b.note:
                    out += ["", t(b.note)]
                out.append("")
        return "\n".join(out).rstrip() + "\n"

    def to_markdown(self) -> str:
        """Markdown of the document; every text is escaped (:func:`~metapool.formatting.text.md_escape`)."""
        e = md_escape
        out = [f"### {e(self.title)}", ""]
        for b in self.blocks:
            if isinstance(b, Paragraph):
                out += [e(b.text), ""]
            elif isinstance(b, KeyValues):
                if b.title:
                    out += [f"**{e(b.title)}**", ""]
                out += [f"- {e(k)}: {e(v)}" for k, v in b.items] + [""]
            elif isinstance(b, Table):
                if b.title:
                    out += [f"**{e(b.title)}**", ""]
                out.append("| " + " | ".join(map(e, b.header)) + " |")
                out.append("|" + "---|" * len(b.header))
                out += ["| " + " | ".join(map(e, r)) + " |" for r in b.rows]
                out += (["", e(b.note)] if b.note else []) + [""]
        return "\n".join(out).rstrip() + "\n"

    def to_html(self) -> str:
        e = html.escape
        out = [f"<div class='metapool-summary'><h4>{e(self.title)}</h4>"]
        for b in self.blocks:
            if isinstance(b, Paragraph):
                out.append(f"<p>{e(b.text)}</p>")
            elif isinstance(b, KeyValues):
                if b.title:
                    out.append(f"<h5>{e(b.title)}</h5>")
                out.append("<table>" + "".join(
                    f"<tr><th style='text-align:left'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in b.items
                ) + "</table>")
            elif isinstance(b, Table):
                if b.title:
                    out.append(f"<h5>{e(b.title)}</h5>")
                head = "".join(f"<th>{e(h)}</th>" for h in b.header)
                body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in b.rows)
                out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
                if b.note:
                    out.append(f"<p><small>{e(b.note)}</small></p>")
        out.append("</div>")
        return "".join(out)


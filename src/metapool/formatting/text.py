"""User text in generated files: one line per cell, Markdown and HTML escaped.

Study labels, outcome names, titles and units come from files people send
each other. Written into a Markdown table or a CSV cell they must stay one
cell: :func:`one_line` turns every character that some reader takes as a line
break into a space, and :func:`md_escape` makes the text inert in Markdown
(no table row, emphasis, link, list, heading or raw HTML) while it still reads
the same when rendered.
"""

from __future__ import annotations

import re

__all__ = ["one_line", "md_escape"]

#: Characters some reader breaks a line (or a row) on: the C0 and C1 controls (``\t \n \v \f
#: \r``, U+0085 NEL, ...), DEL, and the Unicode line and paragraph separators.
_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: Markdown punctuation that takes effect anywhere in a line (escaped with a backslash).
_INLINE = re.compile(r"([\\`*_{}\[\]#|~])")
#: Block markers that take effect at the start of a line or cell: lists and rules ``-``, ``+``,
#: setext ``=``, and ordered lists ``1.``, ``1)`` before a space (``#``, ``*`` and ``>`` are
#: escaped everywhere).
_LEADING = re.compile(r"^([-+=]|\d+[.)](?=\s|$))")
_HTML = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))


def one_line(text: str) -> str:
    """``text`` with every line break and control character replaced by a space."""
    return _BREAKS.sub(" ", text)


def md_escape(value) -> str:
    """``value`` as text that Markdown (CommonMark, GitHub tables) shows literally, on one line.

    Line breaks become spaces (:func:`one_line`) and surrounding spaces are
    dropped; ``\\ ` * _ { } [ ] # | ~`` are backslash-escaped, ``& < >``
    become HTML entities, and a list, heading or rule marker at the start is
    escaped. Parentheses and ``!`` are inert once brackets are escaped, and
    ``. - +`` inside the text are left as they are, so that "Smith-Jones
    (2010)" stays readable.

    Examples
    --------
    >>> md_escape("A | B\\u2028<script>")
    'A \\\\| B &lt;script&gt;'
    >>> md_escape("1. Overall response")
    '1\\\\. Overall response'
    """
    text = _INLINE.sub(r"\\\1", one_line(str(value)).strip())
    for char, entity in _HTML:
        text = text.replace(char, entity)
    return _LEADING.sub(lambda m: m[0][:-1] + "\\" + m[0][-1], text)

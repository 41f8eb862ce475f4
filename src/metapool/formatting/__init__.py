"""Renderers: number and text formatting, the document model, and ``document(result)``.

``document(result)`` turns any result of the package into a :class:`Document`
(text, Markdown, HTML); every result's ``summary()`` is ``document(result)``.
The renderers are registered by the ``*_summary`` modules here, one per
concept (:mod:`.renderers` imports them all; ``import metapool`` imports it).
"""

# The module formatting/document.py (the document model's old path) is imported first: importing it
# later would bind the package attribute ``document`` to the module instead of the dispatcher.
from . import document as _old_document_module  # noqa: F401
from .._summary import document
from .blocks import Document, KeyValues, Paragraph, Table
from .numbers import fmt, fmt_interval, fmt_p, fmt_pct, fmt_percents, fmt_values, stars
from .text import md_escape, one_line

__all__ = ["Document", "KeyValues", "Paragraph", "Table", "document", "fmt", "fmt_interval", "fmt_p", "fmt_pct",
           "fmt_percents", "fmt_values", "md_escape", "one_line", "stars"]

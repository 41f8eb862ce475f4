"""Renderers: number and text formatting and the document model behind every summary."""

from .document import Document, KeyValues, Paragraph, Table
from .numbers import fmt, fmt_interval, fmt_p, fmt_pct, fmt_percents, fmt_values, stars
from .text import md_escape, one_line

__all__ = ["Document", "KeyValues", "Paragraph", "Table", "fmt", "fmt_interval", "fmt_p", "fmt_pct",
           "fmt_percents", "fmt_values", "md_escape", "one_line", "stars"]

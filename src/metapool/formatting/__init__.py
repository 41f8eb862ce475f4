"""Renderers: number formatting and the document model behind every summary."""

from .document import Document, KeyValues, Paragraph, Table
from .numbers import fmt, fmt_p, fmt_pct, stars

__all__ = ["Document", "KeyValues", "Paragraph", "Table", "fmt", "fmt_p", "fmt_pct", "stars"]

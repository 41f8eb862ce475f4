"""Summary of a bundle of follow-up analyses (:class:`~metapool.analysis_report.AnalysisReport`)."""

from __future__ import annotations

from .._summary import document
from ..analysis_report import AnalysisReport
from .blocks import Document, Paragraph


@document.register
def _(res: AnalysisReport) -> Document:
    """Each analysis' document under its title, or the reason it is undefined."""
    blocks = []
    for code, title in res.titles.items():
        if code in res.results:
            doc = document(res.results[code])
            blocks += [Paragraph(doc.title), *doc.blocks]
        else:
            blocks.append(Paragraph(f"{title}: {res.undefined[code]}"))
    return Document(res.title, tuple(blocks))

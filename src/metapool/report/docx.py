"""The report as a Word manuscript draft (``report.docx``), for a team to paste into its paper.

``metapool run ANALYSIS -o OUTDIR --docx`` writes it beside ``report.html``
(inside the staged output folder, :func:`~metapool.report.render.write_outputs`);
from Python, :func:`write_docx` writes it for an :class:`~metapool.analysis.Analysis`::

    from metapool.report.docx import write_docx
    write_docx(analysis, "report.docx", figures=figures)   # figures: outcome name -> Figures

The document holds the title, a one-paragraph summary (the card's key takeaway),
the summary-of-findings table, the methods paragraph with its numbered
references, the results of each outcome (the HTML report's plain tables,
:func:`~metapool.report.plain.outcome_tables`: pooled result on the natural
scale, subgroups, meta-regression, small-study tests, sensitivity summary,
leave-one-out; then the GRADE domains) and its figures (the PNG files of ``figures/``, scaled to the text
width). Tables and figures are numbered ("Table 1.", "Figure 1."). Without
figures the document says so.

Every text comes from the evidence card (:func:`~metapool.report.card.build_card`),
the methods text (:func:`~metapool.report.methods.methods_text`) and the plain
tables of the HTML report (:mod:`metapool.report.plain`): nothing is computed,
rounded or worded here. User text (titles, outcome names, study labels,
subgroup levels) is written as text, never interpreted, on one line, with the
characters XML cannot hold removed (:func:`docx_text`).

python-docx is imported when a document is written, never with ``import metapool``.

References
----------
python-docx: https://python-docx.readthedocs.io (styles, tables, inline pictures).
ICMJE (2024). Recommendations for the conduct, reporting, editing, and publication of scholarly work in
medical journals, section IV.A (manuscript preparation: numbered tables and figures with captions).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..formatting.text import one_line
from ..io.outputs import atomic_file, check_output_file
from .card import build_card
from .methods import methods_text
from .plain import influence_note, outcome_tables

__all__ = ["write_docx", "docx_text"]

#: The document's one font and its size in points (tables and captions are smaller).
FONT, FONT_SIZE, SMALL_SIZE = "Calibri", 11, 9
#: Characters XML 1.0 cannot hold that :func:`~metapool.formatting.text.one_line` leaves (surrogates, U+FFFE/F).
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
#: Largest share of the page's text height a figure may take, its caption under it (a tall forest plot
#: fills the page; others take the text width).
FIGURE_HEIGHT = 0.88
#: Average width of a character in the tables, as a share of the font size (Calibri: about half, digits and signs more).
CHAR_WIDTH = 0.55


def docx_text(value) -> str:
    """User or generated text as a Word run holds it: on one line, without XML-illegal characters.

    Line breaks and control characters become spaces
    (:func:`~metapool.formatting.text.one_line`); lone surrogates (e.g. from
    undecodable bytes) and U+FFFE/U+FFFF are removed. Nothing is interpreted:
    ``<b>``, ``&amp;`` or ``=cmd`` stay those characters.
    """
    return _NOT_XML.sub("", one_line(str(value)))


class _Writer:
    """A python-docx document with numbered tables and figures, written in the manuscript style."""

    def __init__(self):
        from docx import Document
        from docx.shared import Cm, Pt, RGBColor

        self.doc = Document()
        self.tables = self.figures = 0
        for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3", "Caption"):
            style = self.doc.styles[name]
            style.font.name = FONT
            style.font.color.rgb = RGBColor(0, 0, 0)
        self.doc.styles["Normal"].font.size = Pt(FONT_SIZE)
        self.doc.styles["Caption"].font.size = Pt(SMALL_SIZE + 1)
        section = self.doc.sections[0]
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Cm(2.54))
        self.width = section.page_width - section.left_margin - section.right_margin
        self.height = section.page_height - section.top_margin - section.bottom_margin

    def heading(self, text: str, level: int) -> None:
        self.doc.add_heading(docx_text(text), level)

    def paragraph(self, text: str, *, bold: bool = False, italic: bool = False, small: bool = False) -> None:
        """A paragraph of one run (``small``: the size of tables and notes, tighter spacing)."""
        from docx.shared import Pt

        p = self.doc.add_paragraph()
        run = p.add_run(docx_text(text))
        run.bold, run.italic = bold or None, italic or None
        if small:
            run.font.size = Pt(SMALL_SIZE)
            p.paragraph_format.space_after = Pt(SMALL_SIZE / 3)

    def table(self, caption: str, header, rows, note: str = "", header_row: bool = True) -> None:
        """A numbered table ("Table N. caption") with a bold header row; cells are text or (text, superscript).

        ``header_row=False`` leaves the header out (a table of labels and values, :attr:`PlainTable.show_header`).

        A row shorter than ``header`` ends in a cell spanning the remaining
        columns (:class:`~metapool.report.plain.PlainTable`: why a row has no numbers).

        Columns get widths by their longest text (:func:`_column_widths`); the
        rows are kept with each other and with the caption on one page where
        they fit.
        """
        from docx.shared import Pt

        self.tables += 1
        self._caption(f"Table {self.tables}.", caption, keep_with_next=True)
        table = self.doc.add_table(rows=int(header_row), cols=len(header), style="Table Grid")
        table.autofit = False
        cells = [[value if isinstance(value, tuple) else (value, "") for value in row] for row in rows]
        for cell, text in zip(table.rows[0].cells if header_row else (), header):
            run = cell.paragraphs[0].add_run(docx_text(text))
            run.bold, run.font.size = True, Pt(SMALL_SIZE)
        for row in cells:
            targets = list(table.add_row().cells)
            if len(row) < len(header):  # a reason instead of numbers: its text spans the remaining columns
                targets = targets[:len(row) - 1] + [targets[len(row) - 1].merge(targets[-1])]
            for cell, (text, sup) in zip(targets, row):
                paragraph = cell.paragraphs[0]
                paragraph.add_run(docx_text(text)).font.size = Pt(SMALL_SIZE)
                if sup:
                    run = paragraph.add_run(docx_text(sup))
                    run.font.superscript, run.font.size = True, Pt(SMALL_SIZE)
        texts = ([text for text, _ in row] + [""] * (len(header) - len(row)) for row in cells)
        widths = _column_widths([header, *texts], self.width)
        for column, width in zip(table.columns, widths):
            column.width = width
            for cell in column.cells:
                cell.width = width
        for row in table.rows[:-1]:
            for cell in row.cells:
                cell.paragraphs[0].paragraph_format.keep_with_next = True
        if note:
            self.paragraph(note, small=True)

    def figure(self, png: Path, caption: str) -> None:
        """A numbered figure, centred: the picture scaled to the text width (less when it would be too tall)."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        self.figures += 1
        paragraph = self.doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.keep_with_next = True  # the caption stays under its picture
        shape = paragraph.add_run().add_picture(str(png), width=self.width)
        limit = int(FIGURE_HEIGHT * self.height)
        if shape.height > limit:
            shape.width, shape.height = int(shape.width * limit / shape.height), limit
        self._caption(f"Figure {self.figures}.", caption)

    def _caption(self, number: str, text: str, keep_with_next: bool = False) -> None:
        from docx.shared import Pt

        p = self.doc.add_paragraph(style="Caption")
        p.paragraph_format.space_before = Pt(SMALL_SIZE)
        p.add_run(number + " ").bold = True
        p.add_run(docx_text(text))
        p.paragraph_format.keep_with_next = keep_with_next

    def page_numbers(self, text: str) -> None:
        """Footer: ``text`` and the page number (a PAGE field, which Word and LibreOffice fill in)."""
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Pt

        footer = self.doc.sections[0].footer.paragraphs[0]
        footer.add_run(docx_text(text) + " · page ").font.size = Pt(SMALL_SIZE - 1)
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), "PAGE")
        run = OxmlElement("w:r")
        label = OxmlElement("w:t")
        label.text = "1"
        run.append(label)
        field.append(run)
        footer._p.append(field)


def _column_widths(rows, total: int) -> list:
    """Column widths (EMU, summing to ``total``) as a browser lays out an automatic table.

    Each column needs at least its longest word (no word is broken) and
    would like its longest text on one line; the room beyond the minimums is
    shared in proportion to what each column would still like, so that long
    reasons get room and counts keep theirs. Text width is estimated at
    :data:`CHAR_WIDTH` of the font size per character, plus the cell's margins.
    """
    from docx.shared import Cm, Pt

    char, pad = Pt(SMALL_SIZE) * CHAR_WIDTH, Cm(0.5)
    columns = list(zip(*rows))
    least = [pad + char * max((len(w) for text in c for w in text.split()), default=1) for c in columns]
    most = [pad + char * max(len(text) for text in c) for c in columns]
    if sum(most) <= total:
        least, most = most, [m * total / sum(most) for m in most]  # all on one line: widen each alike
    spare, wanted = total - sum(least), sum(m - n for m, n in zip(most, least))
    if spare <= 0 or wanted <= 0:
        return [int(n * total / sum(least)) for n in least]
    return [int(n + spare * (m - n) / wanted) for n, m in zip(least, most)]


# --- sections ---------------------------------------------------------------------------------------

def _front(w: _Writer, analysis, card) -> None:
    w.heading(analysis.spec.title, 0)
    if card.synthetic:
        w.paragraph("SYNTHETIC DATA: the studies in this document are generated for demonstration; they are not"
                    " real patients or trials.", bold=True)
    if analysis.spec.population:
        w.paragraph(analysis.spec.population, italic=True)
    w.heading("Summary", 1)
    w.paragraph(card.takeaway)
    w.paragraph(f"Evidence: {card.evidence.text}. Studies analysed: {card.patients_note}."
                + (f" {card.counting}." if card.counting else ""), small=True)


def _sof(w: _Writer, analysis, card) -> None:
    """The summary-of-findings table of the HTML report (the card's rows, their footnotes numbered)."""
    w.heading("Summary of findings", 1)
    if not card.rows:
        w.paragraph("No outcome could be analysed.")
        return
    absolute = any(r.sof.grade is not None and r.sof.grade.absolute is not None for r in card.rows)
    spec = analysis.spec
    header = ("Outcome", "Relative effect / pooled estimate" if absolute else "Pooled estimate")
    if absolute:
        header += (f"Risk with {spec.comparator or 'comparator'} (per 1,000)",
                   f"Risk with {spec.intervention or 'intervention'} (per 1,000)", "Difference (per 1,000)")
    header += ("Participants (studies)", "I²", "Certainty of the evidence (GRADE)")
    rows, notes = [], []
    for r in card.rows:
        marks = []
        for note in r.sof.flagged:
            notes.append(f"{r.outcome}: {note}")
            marks.append(str(len(notes)))
        cells = (r.outcome, r.sof.relative)
        cells += (r.sof.control, r.sof.intervention, r.sof.difference) if absolute else ()
        rows.append(cells + (r.sof.participants, r.i2_text, (f"{r.sof.certainty} ({r.sof.why})" if r.sof.why
                                                               else r.sof.certainty, ",".join(marks))))
    w.table(f"Summary of findings: {spec.title}", header, rows)
    for i, note in enumerate(notes, 1):
        w.paragraph(f"{i}. {note}", small=True)
    for caution in card.cautions:
        w.paragraph(f"Caution: {caution}", small=True)


def _grade(w: _Writer, o, sof) -> None:
    if sof is None or sof.grade is None:
        return
    rows = [(name[:1].upper() + name[1:], judgement, note) for name, judgement, note in sof.domains]
    w.table(f"Certainty of the evidence (GRADE): {o.spec.name}", ("Domain", "Judgement", "Reason"), rows,
            f"Start: {sof.grade.start.reason}. Certainty: {sof.certainty} — {sof.reason}.")


def _outcome(w: _Writer, o, row, figures: tuple | None) -> None:
    w.heading(o.spec.name, 2)
    if o.error is not None:
        w.paragraph(f"Not analysed: {o.error}")
        return
    w.paragraph(row.sof.statement)
    for table in outcome_tables(o):  # the HTML report's plain tables, the same texts
        w.table(f"{table.title}: {o.spec.name}", table.header, table.rows, table.note, header_row=table.show_header)
    if o.influence is not None:
        w.paragraph(influence_note(o), small=True)
    w.paragraph(f"Evidence level: {o.evidence.text}.", small=True)
    _grade(w, o, row.sof)
    _figures(w, figures, o.spec.name)
    if o.exclusions:
        w.paragraph("Not pooled: " + "; ".join(map(str, o.exclusions)) + ".", small=True)  # as the API prints
    for name, why in o.skipped.items():
        w.paragraph(f"{name.replace('_', ' ').capitalize()} not shown: {why}", small=True)
    for warning in o.warnings:
        w.paragraph(f"Warning: {warning}", small=True)


def _search(w: _Writer, review, prisma_png: Path | None) -> None:
    """Search and selection: the report's sentences (from results.json's review, the criteria among them), PRISMA."""
    from .search import PRISMA_CAPTION, search_claims

    w.heading("Search and selection", 2)
    w.paragraph(" ".join(c.text for c in search_claims(review)))  # the criteria among them
    if prisma_png is not None:
        w.figure(prisma_png, PRISMA_CAPTION)


def _png(figure) -> Path | None:
    return next((Path(f) for f in figure.files if str(f).endswith(".png")), None)


def _figures(w: _Writer, figures: tuple | None, what: str) -> None:
    """The figures' PNG files with their captions, or a sentence saying why there are none."""
    if figures is None:
        w.paragraph(f"Figures of {what} were not drawn for this document (metapool run --figures none).",
                    italic=True)
        return
    drawn = [(png, f.caption) for f in figures if (png := _png(f)) is not None]
    if not drawn:
        w.paragraph(f"No figure was drawn for {what}.", italic=True)
    for png, caption in drawn:
        w.figure(png, caption)


def write_docx(analysis, path, figures: dict | None = None, rob_figures: tuple = (), card=None,
               prisma_png: Path | None = None) -> Path:
    """Write the analysis as a Word manuscript draft (module docstring) to ``path``; returns its absolute path.

    Parameters
    ----------
    analysis
        A :class:`~metapool.analysis.Analysis` (:func:`~metapool.analysis.run_analysis`).
    path
        The ``.docx`` file to write: replaced if it exists, as a whole (written aside, then
        moved into place), never when it is an input file of the analysis, a folder or a
        symbolic link (:func:`~metapool.io.outputs.check_output_file` raises
        :class:`~metapool.exceptions.MetapoolError`).
    figures
        Each outcome's :class:`~metapool.report.figures.Figure` tuple by outcome name, as
        :func:`~metapool.report.figures.outcome_figures` draws them into a folder (their PNG
        files are embedded); None when no figures were drawn (the document says so).
    rob_figures
        The risk-of-bias plots (:func:`~metapool.report.figures.risk_of_bias_figures`).
    card
        The analysis' evidence card when already built (:func:`~metapool.report.card.build_card`).
    prisma_png
        The PRISMA 2020 diagram (PNG) of the analysis' review (``review =`` in the analysis
        file), shown in "Search and selection" with the report's search sentences
        (:func:`~metapool.report.search.search_claims`).
    """
    card = build_card(analysis) if card is None else card
    rows = iter(card.rows)  # one per analysed outcome, in order (outcome names may repeat)
    w = _Writer()
    _front(w, analysis, card)
    _sof(w, analysis, card)
    methods, references = methods_text(analysis)
    w.heading("Methods", 1)
    if analysis.review is not None:
        _search(w, analysis.review, prisma_png)
    w.paragraph(methods)
    if rob_figures:
        w.heading("Risk of bias", 1)
        _figures(w, rob_figures, "risk of bias")
    w.heading("Results", 1)
    for o in analysis.outcomes:
        row = next(rows) if o.error is None else None
        _outcome(w, o, row, None if figures is None else figures.get(o.spec.name, ()))
    w.heading("References", 1)
    for i, reference in enumerate(references, 1):
        w.paragraph(f"{i}. {reference}")
    w.paragraph(f"Generated by metapool {analysis.version} on {analysis.created}; input {analysis.spec.data}"
                f" (SHA-256 {analysis.input_sha256}).", small=True)
    w.page_numbers(f"{analysis.spec.title} — draft generated by metapool {analysis.version}")
    target = check_output_file(path, analysis.spec.input_files)
    with atomic_file(target) as tmp:
        w.doc.save(str(tmp))
    return target

"""The report as a Word manuscript draft (``report.docx``), for a team to paste into its paper.

``metapool run ANALYSIS -o OUTDIR --docx`` writes it beside ``report.html``
(inside the staged output folder, :func:`~metapool.report.render.write_outputs`);
from Python, :func:`write_docx` writes it for an :class:`~metapool.analysis.Analysis`::

    from metapool.report.docx import write_docx
    write_docx(analysis, "report.docx", figures=figures)   # figures: outcome name -> Figures

The document holds the title, a one-paragraph summary (the card's key takeaway),
the summary-of-findings table, the methods paragraph with its numbered
references, the results of each outcome (pooled estimate with its CI on the
natural scale, prediction interval, between-study variance τ², I², the test
for heterogeneity, subgroups, meta-regression, small-study tests, the GRADE
domains) and its figures (the PNG files of ``figures/``, scaled to the text
width). Tables and figures are numbered ("Table 1.", "Figure 1."). Without
figures the document says so.

Every text comes from the evidence card (:func:`~metapool.report.card.build_card`),
the methods text (:func:`~metapool.report.methods.methods_text`) and the number
formats the HTML report uses (:mod:`metapool.formatting.numbers`): nothing is
computed or rounded here. User text (titles, outcome names, study labels,
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

import math
import re
from pathlib import Path

from ..effect_sizes import MEASURES
from ..formatting.numbers import fmt, fmt_interval, fmt_level, fmt_p_clinical, fmt_percent, fmt_range, fmt_values
from ..formatting.text import one_line
from ..io.outputs import atomic_file, check_output_file
from ..models.protocol import PooledResult
from .card import _prediction_interval, _unit, build_card
from .certainty import is_proportion
from .methods import _BIAS_TEXT, methods_text

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

    def table(self, caption: str, header, rows, note: str = "") -> None:
        """A numbered table ("Table N. caption") with a bold header row; cells are text or (text, superscript).

        Columns get widths by their longest text (:func:`_column_widths`); the
        rows are kept with each other and with the caption on one page where
        they fit.
        """
        from docx.shared import Pt

        self.tables += 1
        self._caption(f"Table {self.tables}.", caption, keep_with_next=True)
        table = self.doc.add_table(rows=1, cols=len(header), style="Table Grid")
        table.autofit = False
        cells = [[value if isinstance(value, tuple) else (value, "") for value in row] for row in rows]
        for cell, text in zip(table.rows[0].cells, header):
            run = cell.paragraphs[0].add_run(docx_text(text))
            run.bold, run.font.size = True, Pt(SMALL_SIZE)
        for row in cells:
            for cell, (text, sup) in zip(table.add_row().cells, row):
                paragraph = cell.paragraphs[0]
                paragraph.add_run(docx_text(text)).font.size = Pt(SMALL_SIZE)
                if sup:
                    run = paragraph.add_run(docx_text(sup))
                    run.font.superscript, run.font.size = True, Pt(SMALL_SIZE)
        widths = _column_widths([header, *([text for text, _ in row] for row in cells)], self.width)
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


def _pooled_rows(o, row) -> list:
    """The pooled result in plain words: estimate, prediction interval, τ², I², test for heterogeneity."""
    model, pooled, medians = o.model, o.pooled, o.medians
    rows = [("Studies (participants)", row.sof.participants)]
    if medians is None:
        rows.append(("Pooled estimate", row.estimate))
    else:  # a median of the study medians, with the sign test's CI
        interval = fmt_interval(medians.estimate, medians.ci_lower, medians.ci_upper, unit=_unit(o),
                                label=f"{medians.coverage * 100:.4g}% CI")
        test = "exact" if medians.exact else "normal approximation to the"
        rows.append((f"Pooled median ({medians.method_name})", f"{interval}; CI from the {test} sign test"))
    if pooled is not None and math.isfinite(pooled.pi_lower):
        rows.append(("Prediction interval", _prediction_interval(o)))
    if isinstance(model, PooledResult):
        if math.isfinite(model.tau2):
            rows.append(("Between-study variance τ²", fmt(model.tau2)))
        rows.append(("Heterogeneity I²", row.i2_text))
        if math.isfinite(model.q):
            rows.append(("Test for heterogeneity", f"Q = {fmt(model.q, 2)}, df = {model.q_df:g},"
                         f" {fmt_p_clinical(model.q_pvalue)}"))
    return rows


def _natural(prediction, model, unit: str = "") -> str:
    """A natural-scale estimate with its CI, formatted as the card formats pooled estimates."""
    return fmt_interval(prediction.estimate, prediction.ci_lower, prediction.ci_upper,
                        percent=is_proportion(model), unit=unit, label=f"{fmt_level(model.level)} CI")


def _subgroups(w: _Writer, o) -> None:
    sub = o.subgroups
    model = o.model
    rows = [(s.level, str(s.k),
             _natural(s.natural, model, _unit(o)) if s.natural is not None
             else fmt_interval(s.estimate, s.ci_lower, s.ci_upper, label=f"{fmt_level(model.level)} CI"),
             fmt(s.tau2), fmt_percent(s.i2)) for s in sub.subgroups]
    stat = f"Q = {fmt(sub.qm, 2)}, df = {sub.qm_df}" if sub.qm_ddf is None else \
        f"F = {fmt(sub.qm, 2)}, df = {sub.qm_df} and {sub.qm_ddf:g}"
    w.table(f"Subgroups by {sub.column}: {o.spec.name}", ("Subgroup", "Studies", "Pooled estimate",
                                                          "Between-study variance τ²", "I²"), rows,
            f"Test for subgroup differences: {stat}, {fmt_p_clinical(sub.qm_pvalue)}.")


def _regression(w: _Writer, o) -> None:
    reg = o.regression
    coef = reg.coefficients
    level = fmt_level(reg.level)
    rows = []
    for name, *values, p in zip(coef.names, coef.estimate, coef.ci_lower, coef.ci_upper, coef.pvalue):
        estimate, lower, upper = fmt_values(values)
        rows.append(("Intercept" if name == "intrcpt" else name, estimate, fmt_range(lower, upper),
                     fmt_p_clinical(float(p))))
    m = reg.moderators
    note = ""
    if m is not None:
        stat = f"Q = {fmt(m.statistic, 2)}, df = {m.df}" if m.ddf is None else \
            f"F = {fmt(m.statistic, 2)}, df = {m.df} and {m.ddf:g}"
        note = f"Test of the moderators: {stat}, {fmt_p_clinical(m.pvalue)}."
        if m.r2 == m.r2:
            note += f" Heterogeneity accounted for (R²): {fmt_percent(m.r2)}."
    scale = "" if reg.measure is None else f": {MEASURES[reg.measure].scale}"
    w.table(f"Meta-regression: {o.spec.name} (coefficients on the analysis scale{scale})",
            ("Coefficient", "Estimate", f"{level} CI", "p-value"), rows, note)


def _bias_result(code: str, res) -> str:
    """One small-study analysis in a line ("z = 1.23, p = 0.22"; trim-and-fill on the natural scale)."""
    if code in ("egger", "peters"):
        stat = "z" if res.ddf is None else f"t (df = {res.ddf:g})"
        return f"{stat} = {_value(res.statistic)}, {fmt_p_clinical(res.pvalue)}"
    if code == "begg":
        return f"Kendall's τ = {_value(res.tau)}, {fmt_p_clinical(res.pvalue)}"
    if code == "trimfill":
        missing = f"{res.k0} missing {'study' if res.k0 == 1 else 'studies'} estimated on the {res.side} side"
        filled = res.model.back() or res.model.predict()  # on the natural scale, as the forest plot's
        return missing + (f"; adjusted estimate {_natural(filled, res.model)}" if res.k0 else "")
    if code == "lfk":
        return f"LFK index {_value(res.index)} ({res.interpretation})"
    return f"{fmt(res.fsnum, 0)} studies"


def _value(x: float) -> str:
    """A statistic as the report's readers see values (two decimals or more, a true minus sign)."""
    return fmt_values((x,))[0]


def _bias_name(code: str, title: str) -> str:
    """The plain name of a bias analysis (as the methods text names it), else its registry title."""
    name = _BIAS_TEXT[code][0] if code in _BIAS_TEXT else title
    return name[:1].upper() + name[1:]


def _bias(w: _Writer, o) -> None:
    bias = o.bias
    rows = [(_bias_name(code, title), _bias_result(code, bias.results[code]) if code in bias.results
             else f"not computed: {bias.undefined[code]}") for code, title in bias.titles.items()]
    w.table(f"Small-study effects and publication bias: {o.spec.name}", ("Analysis", "Result"), rows)


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
    w.table(f"Pooled result: {o.spec.name}", ("", "Result"), _pooled_rows(o, row),
            f"Evidence level: {o.evidence.text}.")
    if o.subgroups is not None:
        _subgroups(w, o)
    if o.regression is not None:
        _regression(w, o)
    if o.bias is not None:
        _bias(w, o)
    _grade(w, o, row.sof)
    _figures(w, figures, o.spec.name)
    excluded = {e.row: e for e in (*(o.effects.exclusions if o.effects is not None else ()),
                                   *getattr(o.model, "exclusions", ()))}  # a row left out of both: once
    if excluded:
        w.paragraph("Not pooled: " + "; ".join(f"{e.label} (row {e.row + 1}): {e.reason}"
                                               for e in excluded.values()) + ".", small=True)
    for name, why in o.skipped.items():
        w.paragraph(f"{name.replace('_', ' ').capitalize()} not shown: {why}", small=True)
    for warning in o.warnings:
        w.paragraph(f"Warning: {warning}", small=True)


def _png(figure) -> Path | None:
    return next((Path(f) for f in figure.files if str(f).endswith(".png")), None)


def _figures(w: _Writer, figures: tuple | None, what: str) -> None:
    """The figures' PNG files with their captions, or a sentence saying why there are none."""
    if figures is None:
        w.paragraph(f"Figures of {what} were not drawn for this document (see figures/ of the report folder).",
                    italic=True)
        return
    drawn = [(png, f.caption) for f in figures if (png := _png(f)) is not None]
    if not drawn:
        w.paragraph(f"No figure was drawn for {what}.", italic=True)
    for png, caption in drawn:
        w.figure(png, caption)


def write_docx(analysis, path, figures: dict | None = None, rob_figures: tuple = (), card=None) -> Path:
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
    """
    card = build_card(analysis) if card is None else card
    rows = iter(card.rows)  # one per analysed outcome, in order (outcome names may repeat)
    w = _Writer()
    _front(w, analysis, card)
    _sof(w, analysis, card)
    methods, references = methods_text(analysis)
    w.heading("Methods", 1)
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

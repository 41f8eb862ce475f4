"""Render an analysis into the report's files: HTML, JSON, CSV, figures and the evidence card."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from .._validation import check_choice
from ..formatting.text import md_escape, one_line
from .card import build_card
from .drawing import DEFAULT_FIGURES, FIGURE_FORMATS, draw_report_figures
from .figures import labelled_svg
from .methods import methods_text
from .plain import figure_sections, influence_note, outcome_tables

__all__ = ["render_report", "render_card", "effect_size_rows", "write_outputs", "safe_cell", "inline_json"]

#: A text cell starting with one of these is read as a formula by spreadsheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _environment():
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("metapool.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["count"] = "{:,}".format  # patients and studies with thousands separators
    return env


def inline_json(obj) -> str:
    """JSON safe to place inside an HTML ``<script>`` element (``<``, ``>``, ``&`` escaped)."""
    text = json.dumps(obj, allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def safe_cell(value):
    """A CSV text cell kept on one line and guarded against spreadsheet formulas; numbers pass unchanged.

    Line breaks and control characters (U+2028, ``\\r``, ...) become spaces
    (:func:`~metapool.formatting.text.one_line`), so that no reader splits
    the row; a cell starting as a formula gets a leading ``'``.
    """
    if not isinstance(value, str):
        return value
    value = one_line(value)
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _outcome_blocks(o) -> list[str]:
    """The outcome's console summaries (metafor's names), for its technical section."""
    blocks = [o.model.summary().to_html()] if o.model is not None else []
    for name in ("subgroups", "regression", "bias", "leave_one_out", "influence"):
        value = getattr(o, name)
        if value is not None:
            blocks.append(value.summary().to_html())
    if o.medians is not None:
        blocks.append(o.medians.summary().to_html())
    return blocks


def render_report(analysis, figures: dict | None = None, card=None, rob_figures: tuple = (),
                  figures_note: str = "", prisma=None) -> str:
    """The self-contained HTML report (inline CSS and SVG; no external assets).

    ``figures`` are each outcome's (by name), ``rob_figures`` the risk-of-bias
    plots (:func:`~metapool.report.figures.risk_of_bias_figures`), ``prisma``
    the PRISMA diagram of the analysis' review (:func:`prisma_figure`); ``card``
    is the analysis' evidence card when already built (:func:`~metapool.report.card.build_card`);
    ``figures_note`` says, under the title, why the report has no figures.
    """
    card = build_card(analysis) if card is None else card
    methods, references = methods_text(analysis)
    figures = figures or {}
    outcomes = []
    for o in analysis.outcomes:
        tables = outcome_tables(o)
        sections = figure_sections(figures.get(o.spec.name, ()), tables)
        outcomes.append({
            "result": o,
            "tables": tables,
            "influence": influence_note(o) if o.influence is not None else "",
            "figures": {anchor: [(labelled_svg(f.svg, f.caption), f.caption) for f in figs]
                        for anchor, figs in sections.items()},
            "technical": _outcome_blocks(o),
            "sof": next((r.sof for r in card.rows if r.outcome == o.spec.name), None),
        })
    rob_figures = [(labelled_svg(f.svg, f.caption), f.caption) for f in rob_figures]
    review = getattr(analysis, "review", None)
    search = None
    if review is not None:
        from .search import search_section

        search = search_section(review, prisma)
    provenance = {"metapool": analysis.version, "created": analysis.created,
                  "input_sha256": analysis.input_sha256, "spec": analysis.spec.to_dict()}
    return _environment().get_template("report.html.j2").render(
        analysis=analysis, spec=analysis.spec, card=card, methods=methods, references=references,
        outcomes=outcomes, provenance=inline_json(provenance), rob_figures=rob_figures, figures_note=figures_note,
        search=search,
        anchors={o.spec.name: f"outcome-{i}" for i, o in reversed(list(enumerate(analysis.outcomes, 1)))},
    )


def render_card(analysis, card=None) -> tuple[str, str]:
    """The evidence card as (HTML, Markdown); ``card`` as in :func:`render_report`."""
    card = build_card(analysis) if card is None else card
    env = _environment()
    args = {"card": card, "version": analysis.version}
    return env.get_template("card.html.j2").render(**args), env.get_template("card.md.j2").render(**args)


def effect_size_rows(analysis) -> list[dict]:
    """One row per study and outcome: table row, effect size, variance, CI, weight and status.

    ``row`` is the study's row of the table (1-based). Weights (those of the
    forest plot: :func:`~metapool.plots.study_level.study_values`, for a GLMM
    each study's information share) are mapped to rows
    (:func:`~metapool.models.rows.model_rows`), never by label; a label
    that several rows carry is followed by its row ("Smith 2010 (row 3)").
    ``level`` is the level of the CI (percent); ``excluded`` gives the reason
    a row is not in the model.
    """
    from ..formatting.labels import distinct_labels
    from ..inference.intervals import study_interval
    from ..models.rows import model_rows
    from ..plots.study_level import study_values

    rows = []
    for o in analysis.outcomes:
        es, model = o.effects, o.model  # effect sizes come with the model they were pooled by
        if es is None:
            continue
        weights = np.full(len(es), np.nan)
        weights[model_rows(model, es.rows)] = study_values(model).weights
        in_model = np.isin(np.arange(len(es)), model_rows(model, es.rows))
        reasons = {e.row: e.reason for e in o.exclusions}
        lower, upper = study_interval(es.yi, es.vi, model.level)
        for i, label in enumerate(distinct_labels(es.slab, es.rows)):
            row = int(es.rows[i])
            yi, vi = float(es.yi[i]), float(es.vi[i])
            ok = bool(np.isfinite(yi) and np.isfinite(vi))
            rows.append({
                "outcome": o.spec.name, "row": row + 1, "study": label, "measure": es.measure,
                "yi": yi if ok else "", "vi": vi if ok else "", "level": 100 * model.level,
                "ci_lower": float(lower[i]) if ok else "", "ci_upper": float(upper[i]) if ok else "",
                "weight_percent": float(weights[i]) if np.isfinite(weights[i]) else "",
                "corrected": bool(es.corrected[i]), "excluded": "" if in_model[i] else reasons.get(row, ""),
            })
    return rows


def prisma_figure(review, folder: Path | None, figures: str):
    """The PRISMA 2020 diagram of the analysis' review as a report figure, saved into ``folder`` as ``prisma.*``.

    Drawn once, as the outcomes' figures are (:func:`~metapool.report.figures.render_plan`),
    in the formats of ``figures`` (the SVG always, for the report).
    """
    from ..plots.prisma import prisma_plot
    from .figures import render_plan, saved_figure
    from .search import PRISMA_CAPTION

    formats = FIGURE_FORMATS[figures]
    images = render_plan(lambda: prisma_plot(review.prisma), formats, "prisma")
    return saved_figure("prisma", PRISMA_CAPTION, images, folder, "prisma", formats)


def _csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: safe_cell(v) for k, v in row.items()})
    return buf.getvalue()


#: What a report without figures says under its title: while they are drawn, and with ``--figures none``.
FIGURES_NOTE = {
    "pending": "The figures were still being drawn when this page was written; the run replaces it with the report"
               " with figures when they are done. If the run has ended, it was stopped before: run it again to"
               " draw them.",
    "none": "Figures were not drawn (metapool run --figures none); every number is in the tables below,"
            " results.json and effect_sizes.csv.",
}


def write_outputs(analysis, outdir, force: bool = False, docx: bool = False, figures: str = DEFAULT_FIGURES,
                  on_results=None, workers: int | None = 1) -> dict:
    """Write report.html, results.json, effect_sizes.csv, the card and figures/ into ``outdir``, results first.

    Two atomic phases, each built aside and swapped into place
    (:func:`metapool.io.outputs.staged_folder`): first a complete folder
    with the results (results.json, effect_sizes.csv, card.html, card.md and
    report.html without figures, saying they are being drawn), then the
    figures are drawn (:func:`~metapool.report.drawing.draw_report_figures`)
    and the same files with figures/ and the report with its figures replace it. A reader of
    ``outdir`` sees the previous output, then the results-first folder, then
    the whole report, never a half-written folder; an error or interrupt
    while drawing leaves the results-first folder (the error names the figure).
    Nothing is written outside ``outdir``, and a folder holding an input
    file, a symbolic link or files metapool did not write is refused. An
    existing report is only replaced with ``force=True``.

    Parameters
    ----------
    docx
        Write report.docx too (a Word manuscript draft:
        :func:`metapool.report.docx.write_docx`), with the figures' PNG files
        (``figures="svg"`` becomes ``"both"`` for them; none with ``"none"``);
        it comes with the figures (with the results when none are drawn).
    figures
        Files written per figure (:data:`~metapool.report.drawing.FIGURE_FORMATS`:
        ``"svg"`` (default), ``"both"`` SVG and PNG, ``"png"``, or ``"none"``: no figures,
        the report says so). The report shows the figures inline as SVG
        unless ``"none"``.
    on_results
        Called with the written paths (as returned, without figures) once
        the results-first folder is in place.
    workers
        Worker processes drawing the figures: 1 (default) draws in this
        process, None one per processor (what ``metapool run`` does). Worker
        processes start as ``multiprocessing`` children: a script calling
        this with ``workers`` other than 1 needs the usual
        ``if __name__ == "__main__":`` guard.

    Returns
    -------
    dict
        The written paths (in ``outdir``) by name; ``"figures"`` lists the figure files.
    """
    from ..io.outputs import absolute_path, reserved_folder, staged_folder

    inputs = analysis.spec.input_files
    out = absolute_path(outdir)
    drawn = bool(FIGURE_FORMATS[check_choice("write_outputs", "figures", figures, FIGURE_FORMATS)])
    if docx and figures == "svg":
        figures = "both"  # the Word document embeds the PNG files
    with reserved_folder(outdir, inputs, force):
        card = build_card(analysis)
        card_html, card_md = render_card(analysis, card)
        files = {
            "report": ("report.html", render_report(analysis, card=card,
                                                    figures_note=FIGURES_NOTE["pending" if drawn else "none"])),
            "results": ("results.json", json.dumps(analysis.to_dict() | {"card": card.to_dict()},
                                                   indent=2, allow_nan=False)),
            "effect_sizes": ("effect_sizes.csv", _csv(effect_size_rows(analysis))),
            "card_html": ("card.html", card_html),
            "card_md": ("card.md", card_md),
        }
        with staged_folder(outdir, inputs, force) as tmp:
            _write_texts(tmp, files)
            if docx and not drawn:
                _write_docx(analysis, tmp, None, (), card)
        written = {key: out / name for key, (name, _) in files.items()} | {"figures": []}
        if docx and not drawn:
            written["docx"] = out / "report.docx"
        if on_results is not None:
            on_results(written)
        if not drawn:
            return written
        job = draw_report_figures(analysis, "SYNTHETIC data" if card.synthetic else "", figures, workers)
        try:
            with staged_folder(outdir, inputs, force=True) as tmp:  # replaces the results-first folder
                figdir = tmp / "figures"
                figdir.mkdir()
                by_outcome, rob_figures = job.save(figdir)
                prisma = None if analysis.review is None else prisma_figure(analysis.review, figdir, figures)
                files["report"] = ("report.html", render_report(analysis, by_outcome, card, rob_figures,
                                                                prisma=prisma))
                _write_texts(tmp, files)
                if docx:
                    _write_docx(analysis, tmp, by_outcome, rob_figures, card, prisma)
        finally:
            job.close()
    if docx:
        written["docx"] = out / "report.docx"
    written["figures"] = [out / Path(f).relative_to(tmp) for figs in (*by_outcome.values(), rob_figures)
                          for fig in figs for f in fig.files]
    written["figures"] += [out / Path(f).relative_to(tmp) for f in (prisma.files if prisma is not None else ())]
    return written


def _write_docx(analysis, folder: Path, figures, rob_figures, card, prisma=None) -> None:
    from .docx import write_docx

    png = next((Path(f) for f in (prisma.files if prisma is not None else ()) if f.endswith(".png")), None)
    write_docx(analysis, folder / "report.docx", figures, rob_figures, card, prisma_png=png)


def _write_texts(folder: Path, files: dict) -> None:
    for name, text in files.values():
        (folder / name).write_text(text, encoding="utf-8")

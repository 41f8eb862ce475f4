"""Render an analysis into the report's files: HTML, JSON, CSV, figures and the evidence card."""

from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path

import numpy as np

from ..formatting.text import md_escape, one_line
from .card import build_card
from .figures import outcome_figures, risk_of_bias_figures
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


def labelled_svg(svg: str, caption: str) -> str:
    """An inline SVG figure with its caption as alternative text (``role="img"``, ``aria-label``, ``<title>``).

    The XML declaration and DOCTYPE before ``<svg`` (not valid inside HTML) are dropped.
    """
    start = svg.find("<svg")
    if start < 0:
        return svg
    end = svg.index(">", start)
    label = html.escape(caption, quote=True)
    return (f'<svg role="img" aria-label="{label}"{svg[start + 4:end]}><title>{label}</title>'
            + svg[end + 1:])


def render_report(analysis, figures: dict | None = None, card=None, rob_figures: tuple = ()) -> str:
    """The self-contained HTML report (inline CSS and SVG; no external assets).

    ``figures`` are each outcome's (by name), ``rob_figures`` the risk-of-bias
    plots (:func:`~metapool.report.figures.risk_of_bias_figures`); ``card``
    is the analysis' evidence card when already built (:func:`~metapool.report.card.build_card`).
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
    provenance = {"metapool": analysis.version, "created": analysis.created,
                  "input_sha256": analysis.input_sha256, "spec": analysis.spec.to_dict()}
    return _environment().get_template("report.html.j2").render(
        analysis=analysis, spec=analysis.spec, card=card, methods=methods, references=references,
        outcomes=outcomes, provenance=inline_json(provenance), rob_figures=rob_figures,
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
        reasons = {e.row: e.reason for e in (*es.exclusions, *model.exclusions)}
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


def _csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: safe_cell(v) for k, v in row.items()})
    return buf.getvalue()


def write_outputs(analysis, outdir, force: bool = False, docx: bool = False) -> dict:
    """Write report.html, results.json, effect_sizes.csv, figures/ and the card into ``outdir``.

    With ``docx``, report.docx too (a Word manuscript draft: :func:`metapool.report.docx.write_docx`).

    The whole folder is built aside and swapped into place at the end
    (:func:`metapool.io.outputs.staged_folder`): an error or interrupt leaves
    the previous output as it was, nothing is written outside ``outdir``, and
    a folder holding an input file, a symbolic link or files metapool did not
    write is refused. An existing report is only replaced with ``force=True``.
    Returns the written paths (in ``outdir``) by name.
    """
    from ..io.outputs import absolute_path, staged_folder

    with staged_folder(outdir, analysis.spec.input_files, force) as tmp:
        figdir = tmp / "figures"
        figdir.mkdir()
        card = build_card(analysis)
        note = "SYNTHETIC data" if card.synthetic else ""
        figures = {o.spec.name: outcome_figures(o, figdir, analysis.table, note, index=i)
                   for i, o in enumerate(analysis.outcomes, 1) if o.error is None}
        rob_figures = risk_of_bias_figures(analysis, figdir, note)
        card_html, card_md = render_card(analysis, card)
        files = {
            "report": ("report.html", render_report(analysis, figures, card, rob_figures)),
            "results": ("results.json", json.dumps(analysis.to_dict() | {"card": card.to_dict()},
                                                   indent=2, allow_nan=False)),
            "effect_sizes": ("effect_sizes.csv", _csv(effect_size_rows(analysis))),
            "card_html": ("card.html", card_html),
            "card_md": ("card.md", card_md),
        }
        for name, text in files.values():
            (tmp / name).write_text(text, encoding="utf-8")
        if docx:
            from .docx import write_docx

            write_docx(analysis, tmp / "report.docx", figures, rob_figures, card)
    out = absolute_path(outdir)
    written = {key: out / name for key, (name, _) in files.items()} | ({"docx": out / "report.docx"} if docx else {})
    written["figures"] = [out / Path(f).relative_to(tmp) for figs in (*figures.values(), rob_figures) for fig in figs
                          for f in fig.files]
    return written

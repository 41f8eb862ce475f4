"""``metapool run`` (an analysis file to a report folder) and ``metapool init`` (a template)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..exceptions import MetapoolError


def add_run_parsers(sub) -> None:
    run = sub.add_parser("run", help="run an analysis file: report, results, figures, evidence card",
                         description="Run an analysis file (TOML) and write the report into OUTDIR.")
    run.add_argument("analysis", help="analysis file (TOML); see `metapool init`")
    run.add_argument("-o", "--outdir", required=True,
                     help="output folder: new or empty, or a report metapool wrote (with --force)")
    run.add_argument("--force", action="store_true", help="replace the report metapool wrote into OUTDIR before")
    add_figures_argument(run)
    init = sub.add_parser("init", help="write a commented template analysis file for a data file",
                          description="Write a commented template analysis file from a data file's columns.")
    init.add_argument("data", help="CSV/XLSX study table")
    init.add_argument("-o", "--output", default="analysis.toml", help="file to write (default analysis.toml)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file (never the data file)")


def add_figures_argument(parser) -> None:
    """The ``--figures`` option of ``metapool run`` and ``metapool demo``."""
    from ..report.drawing import DEFAULT_FIGURES, FIGURE_FORMATS

    parser.add_argument("--figures", choices=list(FIGURE_FORMATS), default=DEFAULT_FIGURES,
                        help=f"figure files to write into OUTDIR/figures (default {DEFAULT_FIGURES}); the report shows"
                             " the figures inline unless 'none'")


def run_run(args: argparse.Namespace) -> int:
    """Run an analysis file into ``args.outdir``.

    The results (results.json, effect_sizes.csv, the card, the report
    without figures) are written first and the summary table printed; the
    figures follow, drawn in worker processes, and the report with them
    replaces the first one. Returns 0 when every outcome was pooled, 1 when
    any could not be (the report is written and marks them; their names go
    to stderr).
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import Progress

    from ..analysis import run_analysis
    from ..io.outputs import reserved_folder
    from ..report.drawing import prepare_workers
    from ..report.render import write_outputs
    from ..spec import load_spec

    console = Console(stderr=True)
    spec = load_spec(args.analysis)
    reserved = reserved_folder(args.outdir, spec.input_files, args.force)  # refused or held before any work
    with reserved:
        if args.figures != "none":
            prepare_workers()  # the figure workers' server imports matplotlib while the outcomes are pooled
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Pooling", total=len(spec.outcomes))

            def step(name: str) -> None:
                progress.update(task, advance=1, description=f"Pooling: {escape(name)}")

            analysis = run_analysis(spec, progress=step)
        drawing = Progress(console=console, transient=True)

        def results_written(_) -> None:
            _print_summary(spec, analysis)  # before the figures (stdout, while no progress bar is live)
            drawing.start()
            drawing.add_task("Drawing figures", total=None)

        try:
            written = write_outputs(analysis, args.outdir, force=args.force, figures=args.figures,
                                    on_results=results_written, workers=None)
        finally:
            drawing.stop()
    print(f"Report: {written['report']}\nEvidence card: {written['card_html']} and {written['card_md']}")
    failed = [o.spec.name for o in analysis.outcomes if o.error is not None]
    if failed:
        print(f"metapool: {len(failed)} of {len(analysis.outcomes)} outcomes could not be pooled (see the report): "
              + ", ".join(repr(name) for name in failed), file=sys.stderr)
    return 1 if failed else 0


def _print_summary(spec, analysis) -> None:
    """The table of pooled estimates on stdout (user text shown as text, never read as Rich markup)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ..formatting.numbers import fmt_percent
    from ..report.card import format_estimate, pooled_header

    table = Table(title=Text(spec.title))
    for col in ("Outcome", pooled_header(analysis.outcomes), "k", "N", "I²"):
        table.add_column(col)
    for o in analysis.outcomes:
        i2 = None if o.model is None else o.model.i2  # a median of medians has none
        cells = (o.spec.name, "not analysed: " + o.error if o.error else format_estimate(o), str(o.k),
                 "–" if o.n_patients is None else f"{o.n_patients:,}", "–" if i2 is None else fmt_percent(i2))
        table.add_row(*(Text(cell) for cell in cells))
    Console().print(table)


#: TOML's short escapes in basic strings; other control characters are written as \uXXXX.
_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string (quoted; quotes, backslashes and control characters escaped).

    Safe in a value and in a comment: the result holds no line break or other
    control character.
    """
    return '"' + "".join(_TOML_ESCAPES.get(c) or (f"\\u{ord(c):04X}" if ord(c) < 0x20 or ord(c) == 0x7F else c)
                         for c in text) + '"'


def _template(data: str, name: str, columns: list[str]) -> str:
    """The analysis file template for data file ``data`` (relative to the template), written as ``name``."""
    from ..models.methods import method_choices
    from ..spec import KINDS

    q = toml_string
    lower = {c.lower(): c for c in columns}
    study = next((lower[c] for c in ("study", "author", "authors", "trial") if c in lower), columns[0])
    n = next((lower[c] for c in ("n", "total", "patients", "ni") if c in lower), None)
    kinds = "\n".join(f"#   {k:<11} {v['text']}; keys: "
                      + " | ".join(", ".join(alt) for alt in v["columns"]) for k, v in KINDS.items())
    n_line = f"n = {q(n)}" if n else '# n = "n"'
    return f'''# metapool analysis file (TOML). Run it with: metapool run {q(name)} -o report
title = "My meta-analysis"
data = {q(data)}            # the study table, relative to this file
study = {q(study)}               # study labels
{n_line}                 # patients per study (total N on the evidence card)
# design = "design"          # study design (prospective, retrospective, RCT ...)
# risk_of_bias = "rob"       # risk-of-bias judgement per study (low / some concerns / high)
# risk_of_bias_domains = ["D1", "D2", "D3", "D4", "D5"]  # per-domain judgement columns (robvis plots)
# followup = "followup"      # median follow-up (months), shown separately from survival

[defaults]
method = "REML"              # {", ".join(method_choices())} (metapool list methods)
test = "z"                   # z, t or knha (Knapp-Hartung)
level = 95

# One [[outcome]] table per outcome. Kinds and their column keys:
{kinds}
# Optional keys: measure, method, test, level, subgroup = "COL", subgroup_tau2 = "separate" | "common",
# mods = ["COL", "COL:cat"], bias = true, sensitivity = true, unit = "months".
# Columns of {q(data)}: {", ".join(q(c) for c in columns)}

[[outcome]]
name = "Response"
kind = "proportion"
events = "EVENTS_COLUMN"
total = {q(n or "TOTAL_COLUMN")}
'''


def run_init(args: argparse.Namespace) -> int:
    """Write a template analysis file for ``args.data`` to ``args.output`` (never over the data file)."""
    from ..io.outputs import atomic_file, check_output_file
    from ..io.tables import read_table

    data = Path(args.data)
    table = read_table(data)
    out = check_output_file(args.output, inputs=[data])
    if out.exists() and not args.force:
        raise MetapoolError(f"{out} exists; use --force to overwrite it.")
    relative = Path(os.path.relpath(data.resolve(), out.parent.resolve())).as_posix()
    with atomic_file(out) as tmp:
        tmp.write_text(_template(relative, out.name, list(table)), encoding="utf-8")
    print(f"Wrote {out}: edit the outcome columns, then run `metapool run {out} -o report`.", file=sys.stderr)
    return 0

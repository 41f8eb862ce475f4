"""``metapool run`` (an analysis file to a report folder) and ``metapool init`` (a template)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..exceptions import MetapoolError
from ..io.settings import toml_string


def add_run_parsers(sub) -> None:
    run = sub.add_parser("run", help="run an analysis file: report, results, figures, evidence card",
                         description="Run an analysis file (TOML) and write the report into OUTDIR.")
    run.add_argument("analysis", help="analysis file (TOML); see `metapool init`")
    run.add_argument("-o", "--outdir", required=True,
                     help="output folder: new or empty, or a report metapool wrote (with --force)")
    add_output_arguments(run)
    init = sub.add_parser("init", help="write a commented template analysis file for a data file",
                          description="Write a commented template analysis file from a data file's columns.")
    init.add_argument("data", help="CSV/XLSX study table")
    init.add_argument("-o", "--output", default="analysis.toml", help="file to write (default analysis.toml)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file (never the data file)")


def add_output_arguments(parser) -> None:
    """The report options of ``metapool run`` and ``metapool demo``: ``--force``, ``--figures``, ``--docx``."""
    from ..report.drawing import DEFAULT_FIGURES, FIGURE_FORMATS

    parser.add_argument("--force", action="store_true", help="replace the report metapool wrote into OUTDIR before")
    parser.add_argument("--figures", choices=list(FIGURE_FORMATS), default=DEFAULT_FIGURES,
                        help=f"figure files to write into OUTDIR/figures (default {DEFAULT_FIGURES}); the report shows"
                             " the figures inline unless 'none'")
    parser.add_argument("--docx", action="store_true", help="also write report.docx, a Word manuscript draft")


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

    if args.figures != "none":  # first: its server imports matplotlib (1.5 s) while the outcomes are pooled
        prepare_workers(("metapool.analysis",))
    console = Console(stderr=True)
    spec = load_spec(args.analysis)
    reserved = reserved_folder(args.outdir, spec.input_files, args.force)  # refused or held before any work
    with reserved:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Pooling", total=len(spec.outcomes))

            def step(name: str) -> None:
                progress.update(task, advance=1, description=f"Pooling: {escape(name)}")

            analysis = run_analysis(spec, progress=step)
        drawing = Progress(console=console, transient=True)

        def results_written(_) -> None:
            _print_summary(spec, analysis)  # before the figures (stdout, while no progress bar is live)
            if args.figures != "none":
                drawing.start()
                drawing.add_task("Drawing figures", total=None)

        try:
            written = write_outputs(analysis, args.outdir, force=args.force, figures=args.figures,
                                    on_results=results_written, workers=None, docx=args.docx)
        finally:
            drawing.stop()
    print(f"Report: {written['report']}\nEvidence card: {written['card_html']} and {written['card_md']}")
    if "docx" in written:
        print(f"Word manuscript draft: {written['docx']}")
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
        cells = (o.spec.name, "not analysed: " + o.error if o.error else format_estimate(o), f"{o.k:,}",
                 "–" if o.n_patients is None else f"{o.n_patients:,}", "–" if i2 is None else fmt_percent(i2))
        table.add_row(*(Text(cell) for cell in cells))
    Console().print(table)


def toml_value(value) -> str:
    """A TOML value: ``true``/``false``, a number, a list of such values, or a basic string (:func:`toml_string`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return toml_string(str(value))


def shell_word(path: str) -> str:
    """``path`` as one word of a shell command (quoted when needed; a TOML string if it holds control characters)."""
    import shlex

    quoted = shlex.quote(path)
    return quoted if quoted.isprintable() else toml_string(path)


def _valid_cells(table, column: str, parse) -> bool:
    """Whether every cell of ``column`` is accepted by ``parse`` (a vocabulary's parser)."""
    try:
        for cell in table[column]:
            parse(cell)
    except MetapoolError:
        return False
    return True


#: The study-level keys an analysis file template fills: key -> (example column, what it holds).
STUDY_COLUMNS = {
    "study": ("study", "study labels (one column, or [\"author\", \"year\"] joined)"),
    "n": ("n", "patients per study (total N on the evidence card)"),
    "design": ("design", "study design (RCT, prospective cohort, ...: docs/vocabulary.md)"),
    "risk_of_bias": ("rob", "overall risk-of-bias judgement (low / some concerns / high)"),
    "followup": ("followup", "median follow-up (months), shown apart from survival"),
}


def _study_lines(table, found: dict) -> str:
    """The study-level keys of the template: filled where a column was recognised (``found``), else commented out.

    ``design`` and ``risk_of_bias`` are filled only when every cell is of
    their vocabulary, so that the template runs.
    """
    from ..evidence.designs import parse_design
    from ..evidence.risk_of_bias import parse_judgement

    q = toml_string
    checks = {"design": lambda c: parse_design(str(c)) if str(c).strip() else None, "risk_of_bias": parse_judgement}
    usable = {key: column for key, column in found.items()
              if column is not None and (key not in checks or _valid_cells(table, column, checks[key]))}
    out = []
    for key, (example, text) in STUDY_COLUMNS.items():
        line = f"{key} = {toml_value(usable[key])}" if key in usable else f"# {key} = {q(example)}"
        out.append(f"{line:<40} # {text}")
    out.append('# risk_of_bias_domains = ["D1", "D2"]   # per-domain judgement columns (robvis plots)')
    return "\n".join(out)


def _outcome_tables(detected, n: str | None) -> str:
    """The ``[[outcome]]`` tables of the template: the detected outcomes, or one with placeholders."""
    from ..spec import placeholder

    q = toml_string
    if not detected:
        total = q(n) if n else q(placeholder("total"))
        return (f'[[outcome]]\nname = "Response"\nkind = "proportion"          # see the kinds above\n'
                f'events = {q(placeholder("events"))}   # EDIT: the column of events\n'
                f'total = {total}\n')
    tables = []
    for d in detected:
        keys = "\n".join([*(f"{key} = {q(column)}" for key, column in d.columns),
                          *(f"{key} = {toml_value(value)}" for key, value in d.options)])
        tables.append(f"[[outcome]]\nname = {q(d.name)}\nkind = {q(d.kind):<25} # {d.why}\n{keys}\n")
    return "\n".join(tables)


def analysis_template(data: str, path: str, table, detected: tuple, found: dict | None = None,
                      title: str = "My meta-analysis", written_by: str = "`metapool init`", more: tuple = ()) -> str:
    """The analysis file template for data file ``data`` (relative to the template), written to ``path``.

    Study-level keys and outcomes are filled from the columns
    :mod:`metapool.cli.detect` recognises; when no outcome is, the template has
    one with placeholders (:func:`metapool.spec.placeholder`) that ``metapool run`` refuses
    until they are edited. ``detected`` are the outcomes
    (:func:`metapool.cli.detect.detect_outcomes`, or those a user mapped, with
    their options); ``found`` the study-level columns (default: those
    :func:`~metapool.cli.detect.detect_study_columns` recognises). The header
    gives the command that runs the file; ``more`` are further top-level keys
    as ``(key, value)`` pairs (``("synthetic", True)``), written after the
    study keys. The one writer of analysis files
    (``metapool init`` and the web app): every value goes through
    :func:`toml_value`, so no user text can add a key or a table.
    """
    from ..models.methods import method_choices
    from ..spec import KINDS
    from .detect import detect_study_columns

    q = toml_string
    columns = list(table)
    found = detect_study_columns(table) if found is None else found
    command = f"metapool run {shell_word(path)} -o report"
    if detected:
        head = (f"# Found {len(detected)} outcome{'s' if len(detected) > 1 else ''} in the columns of {q(data)}:"
                " check each [[outcome]] below (names, columns), delete those you do not want, then run:")
    else:
        head = (f"# No outcome was recognised in the columns of {q(data)}: replace each \"<... column>\""
                " placeholder below with a column name (metapool run refuses the file until then), then run:")
    kinds = "\n".join(f"#   {k:<11} {v['text']}; keys: "
                      + " | ".join(", ".join(alt) for alt in v["columns"]) for k, v in KINDS.items())
    return f'''# metapool analysis file (TOML), written by {written_by}.
{head}
#   {command}
title = {q(title)}
{f"data = {q(data)}":<40} # the study table, relative to this file
{_study_lines(table, found)}{"".join(f"{chr(10)}{key} = {toml_value(value)}" for key, value in more)}

[defaults]
method = "REML"              # {", ".join(method_choices())} (metapool list methods)
test = "z"                   # z, t or knha (Knapp-Hartung)
level = 95

# One [[outcome]] table per outcome. Kinds and their column keys:
{kinds}
# Optional keys (defaults shown): measure (from the columns), subgroup = "COL", subgroup_tau2 = "separate",
# mods = ["COL", "COL:cat"], bias = true, sensitivity = true, unit = "", ci_level = 95 (of given CIs),
# higher_is_better = true (false for harms: the card's wording); GRADE: mid, threshold, control_risk,
# indirectness (README: "The main job: an analysis file to a report").
# Columns of {q(data)}: {", ".join(q(c) for c in columns)}

{_outcome_tables(detected, found["n"])}'''


def run_init(args: argparse.Namespace) -> int:
    """Write a template analysis file for ``args.data`` to ``args.output`` (never over the data file)."""
    from ..io.outputs import atomic_file, check_output_file
    from ..io.tables import read_table
    from .detect import detect_outcomes

    data = Path(args.data)
    table = read_table(data)
    detected = detect_outcomes(table)
    out = check_output_file(args.output, inputs=[data])
    if out.exists() and not args.force:
        raise MetapoolError(f"{out} exists; use --force to overwrite it.")
    relative = Path(os.path.relpath(data.resolve(), out.parent.resolve())).as_posix()
    with atomic_file(out) as tmp:
        tmp.write_text(analysis_template(relative, args.output, table, detected), encoding="utf-8")
    command = f"metapool run {shell_word(args.output)} -o report"
    todo = (f"check the {len(detected)} outcome(s) it found" if detected
            else "replace its \"<... column>\" placeholders with column names")
    print(f"Wrote {out}: {todo}, then run `{command}`.", file=sys.stderr)
    return 0

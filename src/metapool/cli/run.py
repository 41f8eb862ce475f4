"""``metapool run`` (an analysis file to a report folder) and ``metapool init`` (a template)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..exceptions import MetapoolError


def add_run_parsers(sub) -> None:
    run = sub.add_parser("run", help="run an analysis file: report, results, figures, evidence card",
                         description="Run an analysis file (TOML) and write the report into OUTDIR.")
    run.add_argument("analysis", help="analysis file (TOML); see `metapool init`")
    run.add_argument("-o", "--outdir", required=True, help="output folder (created if needed)")
    run.add_argument("--force", action="store_true", help="overwrite an existing report in OUTDIR")
    init = sub.add_parser("init", help="write a commented template analysis file for a data file",
                          description="Write a commented template analysis file from a data file's columns.")
    init.add_argument("data", help="CSV/XLSX study table")
    init.add_argument("-o", "--output", default="analysis.toml", help="file to write (default analysis.toml)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")


def run_run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from ..analysis import run_analysis
    from ..report.card import format_estimate
    from ..report.render import write_outputs
    from ..spec import load_spec

    console = Console(stderr=True)
    spec = load_spec(args.analysis)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Pooling", total=len(spec.outcomes) + 1)

        def step(name: str) -> None:
            progress.update(task, advance=1, description=f"Pooling: {name}")

        analysis = run_analysis(spec, progress=step)
        progress.update(task, description="Writing report, figures and evidence card")
        written = write_outputs(analysis, args.outdir, force=args.force)
        progress.update(task, advance=1)
    table = Table(title=spec.title)
    for col in ("Outcome", "Pooled (95% CI)", "k", "N", "I²"):
        table.add_column(col)
    for o in analysis.outcomes:
        i2 = getattr(o.model, "i2", None)
        table.add_row(o.spec.name, "not analysed: " + o.error if o.error else format_estimate(o), str(o.k),
                      str(o.n_patients or "–"), "–" if i2 is None else f"{i2:.0f}%")
    Console().print(table)
    print(f"Report: {written['report']}\nEvidence card: {written['card_html']} and {written['card_md']}")
    return 0


def _template(path: Path, columns: list[str]) -> str:
    from ..spec import KINDS

    lower = {c.lower(): c for c in columns}
    study = next((lower[c] for c in ("study", "author", "authors", "trial") if c in lower), columns[0])
    n = next((lower[c] for c in ("n", "total", "patients", "ni") if c in lower), None)
    kinds = "\n".join(f"#   {k:<11} {v['text']}; keys: "
                      + " | ".join(", ".join(alt) for alt in v["columns"]) for k, v in KINDS.items())
    return f'''# metapool analysis file (TOML). Run it with: metapool run {path.name if path else "analysis.toml"} -o report
title = "My meta-analysis"
data = "{path.name}"            # the study table, relative to this file
study = "{study}"               # study labels
{f'n = "{n}"                 # patients per study (total N on the evidence card)' if n else '# n = "n"                 # patients per study (total N on the evidence card)'}
# design = "design"          # study design (prospective, retrospective, RCT ...)
# risk_of_bias = "rob"       # risk-of-bias judgement per study (low / some concerns / high)
# followup = "followup"      # median follow-up (months), shown separately from survival

[defaults]
method = "REML"              # tau^2 estimator: {", ".join(("REML", "DL", "PM", "ML", "GLMM"))} ...
test = "z"                   # z, t or knha (Knapp-Hartung)
level = 95

# One [[outcome]] table per outcome. Kinds and their column keys:
{kinds}
# Optional keys: measure, method, test, level, subgroup = "COL", subgroup_tau2 = "separate" | "common",
# mods = ["COL", "COL:cat"], bias = true, sensitivity = true, unit = "months".
# Columns of {path.name}: {", ".join(columns)}

[[outcome]]
name = "Response"
kind = "proportion"
events = "EVENTS_COLUMN"
total = "{n or 'TOTAL_COLUMN'}"
'''


def run_init(args: argparse.Namespace) -> int:
    from ..io.tables import read_table

    data = Path(args.data)
    table = read_table(data)
    out = Path(args.output)
    if out.exists() and not args.force:
        raise MetapoolError(f"{out} exists; use --force to overwrite it.")
    out.write_text(_template(data, list(table)), encoding="utf-8")
    print(f"Wrote {out}: edit the outcome columns, then run `metapool run {out} -o report`.", file=sys.stderr)
    return 0

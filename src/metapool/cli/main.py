"""``metapool`` command line: pool a study table, list vocabularies, run the demo.

Kept light on purpose: it imports no pandas or plotting code, so that a cold
``metapool pool --json`` starts fast.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

from .. import __version__
from ..exceptions import MetapoolError
from .options import (add_analysis_arguments, add_encoding_argument, column_roles, epilog, table_lines, vocabulary,
                      with_progress)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metapool",
        description="Meta-analysis of clinical studies, numerically identical to R's metafor.",
    )
    parser.add_argument("--version", action="version", version=f"metapool {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    pool = sub.add_parser(
        "pool",
        help="pool the studies of a CSV/XLSX file",
        description="Pool the studies of a CSV or XLSX file (one row per study).",
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pool.add_argument("file", help="CSV, TSV or XLSX file with a header row")
    pool.add_argument("--sheet", help="worksheet of an XLSX file (default: the first)")
    add_encoding_argument(pool)
    cols, opts = add_analysis_arguments(pool)
    cols.add_argument("--study", metavar="COL", help="study labels (default: a column named 'study' if any)")
    opts.add_argument("--json", action="store_true", help="print one JSON object (schema in README)")
    mods = pool.add_argument_group("meta-regression and subgroups")
    mods.add_argument("--mods", metavar="COL[,COL...]|FORMULA",
                      help="moderators: column names (COL:cat marks a categorical column) or a formula '~ x + C(g)'")
    mods.add_argument("--reference", metavar="COL=LEVEL", action="append", default=[],
                      help="reference level of a categorical moderator (repeatable)")
    mods.add_argument("--subgroup", metavar="COL", help="pool each level of COL and test for subgroup differences")
    mods.add_argument("--subgroup-tau2", choices=["separate", "common"], default="separate",
                      help="tau^2 per subgroup (separate, default) or one common tau^2")
    mods.add_argument("--permutations", type=int, metavar="N",
                      help="permutation test of the model (N random permutations; exact when fewer exist)")
    mods.add_argument("--seed", type=int, help="seed of the random permutations")
    extra = pool.add_argument_group("publication bias and sensitivity")
    extra.add_argument("--bias", action="store_true",
                       help="add Egger's test, Begg's test, trim-and-fill, LFK index and fail-safe N (metafor's defaults)")
    extra.add_argument("--sensitivity", action="store_true",
                       help="add leave-one-out analysis and influence diagnostics")

    from .audit import add_audit_parser
    from .batch import add_batch_parser
    from .review import add_review_parser
    from .run import add_output_arguments, add_run_parsers
    from .serve import add_serve_parser

    add_batch_parser(sub)
    add_run_parsers(sub)
    add_review_parser(sub)
    add_serve_parser(sub)
    add_audit_parser(sub)
    demo = sub.add_parser("demo", help="run the bundled demo analysis (synthetic AML review) into a report folder")
    demo.add_argument("-o", "--outdir", default="out/demo", help="output folder (default out/demo)")
    add_output_arguments(demo)
    lister = sub.add_parser("list", help="list measures, methods, tests or the checks of metapool audit")
    lister.add_argument("what", choices=["measures", "methods", "tests", "checks"])
    return parser


def run_pool(args: argparse.Namespace) -> int:
    from ..io.tables import read_table
    from ..models.methods import fit, get_method

    table = read_table(args.file, sheet=args.sheet, encoding=args.encoding)
    for note in table.notes:
        print(f"metapool: {note}", file=sys.stderr)
    roles = column_roles(args)
    study = args.study or next((c for c in table if c.lower() == "study"), None)
    get_method(args.method).check_moderators(bool(args.mods or args.subgroup or args.permutations))
    mods = None
    if args.mods:
        mods = args.mods if "~" in args.mods else [m.strip() for m in args.mods.split(",") if m.strip()]
    reference = dict(r.split("=", 1) for r in args.reference if "=" in r)
    fitted = fit(args.method, table, measure=args.measure, slab=study, test=args.test, level=args.level, mods=mods,
                 reference=reference, add=args.add, to=args.to, drop00=args.drop00, ci_level=args.ci_level, **roles)
    res, es = fitted.model, fitted.effects
    out, docs = res.to_dict(), [res.summary()]
    if args.permutations:
        from ..moderators.permutation import permutest

        perm = with_progress("permutations", lambda step: permutest(res, iter=args.permutations, seed=args.seed, progress=step))
        out["permutation"] = perm.to_dict()
        docs.append(perm.summary())
    if args.subgroup:
        from ..moderators.subgroups import subgroup_analysis

        fit_options = {"method": args.method, "test": args.test, "level": args.level}
        sub = subgroup_analysis(es, args.subgroup, table, tau2=args.subgroup_tau2, **fit_options)
        out |= sub.to_dict()
        docs.append(sub.summary())
    _bias_sensitivity(args, res, out, docs, es)
    if args.json:
        print(json.dumps(out, indent=2, allow_nan=False))
    else:
        print("\n".join(d.to_text() for d in docs), end="")
    return 0


def _bias_sensitivity(args: argparse.Namespace, res, out: dict, docs: list, es) -> None:
    """Add the --bias and --sensitivity sections (JSON keys ``bias``, ``sensitivity``).

    ``es`` are the model's study-level effect sizes; those of two-group binary
    data add Peters' test, as in ``metapool run``.
    """
    if args.bias:
        from ..bias import bias_report

        report = bias_report(res, table=es)
        out["bias"] = report.to_dict()
        docs.append(report.summary())
    if args.sensitivity:
        from ..influence.report import sensitivity_report

        report = sensitivity_report(res)
        out["sensitivity"] = report.to_dict()
        docs.append(report.summary())


def run_demo(args: argparse.Namespace) -> int:
    """Run the bundled demo analysis (synthetic AML review) into ``args.outdir``.

    The SYNTHETIC demo review (:func:`metapool.datasets.review_demo.build_review_demo`)
    is built in a temporary folder beside a copy of the analysis file and its
    data, the copy naming it (``review = "review"``), so the report shows the
    search and its PRISMA diagram; the folder is removed afterwards (every
    number of it is in results.json).
    """
    import shutil
    import tempfile
    from pathlib import Path

    from ..datasets import DATASETS
    from ..datasets.review_demo import build_review_demo
    from .run import run_run, shell_word

    ds = DATASETS["aml_hma_ven_synthetic"]
    print(f"Demo: {ds.description}\n{ds.source}\n", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="metapool-demo-") as tmp:
        print("Building the SYNTHETIC demo review (import, deduplication, screening)...", file=sys.stderr)
        build_review_demo(Path(tmp) / "review").engine.dispose()
        analysis = Path(tmp) / ds.analysis_path.name  # the analysis file beside its review, naming it
        analysis.write_text('review = "review"  # the SYNTHETIC demo review, built by metapool demo\n'
                            + ds.analysis_path.read_text(encoding="utf-8"), encoding="utf-8")
        shutil.copy(ds.path, Path(tmp) / ds.path.name)
        status = run_run(argparse.Namespace(analysis=str(analysis), outdir=args.outdir, force=args.force,
                                            figures=args.figures, docx=args.docx))
    workspace = shell_word(str(Path(args.outdir).parent))
    print(f"Open it in the web app: metapool serve {workspace}  (then Analyses, and the demo's report)",
          file=sys.stderr)
    return status


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    0: done; 1: done, but some requested outcome could not be pooled
    (``run``) or some reported number is flagged (``audit``); 2: an error,
    reported in one line; 130: interrupted (Ctrl-C), any previous output left
    as it was.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # every warning is part of the printed result
    try:
        if args.command == "pool":
            return run_pool(args)
        if args.command == "demo":
            return run_demo(args)
        if args.command == "run":
            from .run import run_run

            return run_run(args)
        if args.command == "init":
            from .run import run_init

            return run_init(args)
        if args.command == "review":
            from .review import run_review

            return run_review(args)
        if args.command == "serve":
            from .serve import run_serve

            return run_serve(args)
        if args.command == "batch":
            from .batch import run_batch

            return run_batch(args)
        if args.command == "audit":
            from .audit import run_audit

            return run_audit(args)
        print(table_lines(f"{args.what}:", vocabulary(args.what)))
        return 0
    except MetapoolError as exc:
        print(f"metapool: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. a read-only folder, a full disk, a folder where a file was expected
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"metapool: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("metapool: interrupted; the output folder holds the previous output, or this run's results"
              " without figures if they were written (its report says so)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

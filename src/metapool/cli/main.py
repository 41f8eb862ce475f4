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
from ..columns import COLUMN_FLAGS, DEFAULT_MEASURE
from ..effect_sizes import MEASURES
from ..exceptions import MetapoolError
from ..inference.tests import TESTS
from ..models.tau2 import ALIASES, ESTIMATORS

#: ``--method`` value of the generalised linear mixed model (see :func:`metapool.models.glmm.rma_glmm`).
GLMM = "GLMM"
GLMM_METHOD = {GLMM: "binomial- or Poisson-normal GLMM of one-group counts (PLO, IRLN), or of 2x2 tables"
                     " (OR; model UM.FS); ML, 7-point AGQ"}

#: ``--method`` values that pool 2x2 tables directly (see :mod:`metapool.models.mh_peto`).
TABLE_METHODS = {"MH": "Mantel-Haenszel common-effect model of 2x2 tables (OR, RR, RD)",
                 "PETO": "Peto's common-effect odds ratio of 2x2 tables"}


def _methods() -> dict:
    """Every ``--method`` value with its description: tau^2 estimators, GLMM, MH, PETO."""
    return {c: e.name for c, e in ESTIMATORS.items()} | GLMM_METHOD | TABLE_METHODS


def _table_lines(title: str, entries: dict) -> str:
    width = max(len(k) for k in entries)
    return title + "\n" + "\n".join(f"  {k:<{width}}  {v}" for k, v in entries.items())


def _epilog() -> str:
    return "\n\n".join(
        [
            _table_lines("measures:", {c: f"{m.name} [{m.family}]" for c, m in MEASURES.items()}),
            _table_lines("methods:", _methods()),
            _table_lines("tests:", TESTS),
        ]
    )


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
        epilog=_epilog(),
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

    from .batch import add_batch_parser
    from .run import add_run_parsers

    add_batch_parser(sub)
    add_run_parsers(sub)
    demo = sub.add_parser("demo", help="run the bundled demo analysis (synthetic AML review) into a report folder")
    demo.add_argument("-o", "--outdir", default="out/demo", help="output folder (default out/demo)")
    demo.add_argument("--force", action="store_true", help="replace the report metapool wrote into OUTDIR before")
    lister = sub.add_parser("list", help="list measures, methods or tests")
    lister.add_argument("what", choices=["measures", "methods", "tests"])
    return parser


def add_encoding_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--encoding`` option of the commands that read a CSV file (``pool``, ``batch``)."""
    parser.add_argument("--encoding", help="text encoding of a CSV file (default: detect UTF-8, else Windows-1252)")


def add_analysis_arguments(parser: argparse.ArgumentParser):
    """Column flags and analysis options shared by ``pool`` and ``batch``; returns both groups."""
    cols = parser.add_argument_group("columns (give the names of the file's columns)")
    for flag, (_, text) in COLUMN_FLAGS.items():
        cols.add_argument(f"--{flag}", metavar="COL", help=text)
    opts = parser.add_argument_group("analysis")
    opts.add_argument("--measure", type=str.upper, choices=list(MEASURES),
                      help="effect measure (default: PLO, OR, MD, LNR or GEN by the columns given)")
    opts.add_argument("--method", type=str.upper, default="REML",
                      choices=list(ESTIMATORS) + list(ALIASES) + [GLMM, *TABLE_METHODS],
                      help="tau^2 estimator (default REML), or GLMM (binomial/Poisson-normal model from counts, or"
                           " the UM.FS model of 2x2 tables),"
                           " or MH / PETO (Mantel-Haenszel, Peto: common-effect models of 2x2 tables)")
    opts.add_argument("--test", type=str.lower, default="z", choices=list(TESTS), help="inference (default z)")
    opts.add_argument("--level", type=float, default=95.0, help="confidence level in percent (default 95)")
    opts.add_argument("--ci-level", type=float, default=95.0, help="level of the CIs given with --ratio")
    opts.add_argument("--add", type=float, help="continuity correction (default: metafor's, 0.5 or 0)")
    opts.add_argument("--to", default="only0", choices=["only0", "all", "if0all", "none"],
                      help="studies that get the continuity correction (default only0)")
    opts.add_argument("--drop00", action="store_true", help="drop studies with no events (or only events) in all groups")
    return cols, opts


def _roles(args: argparse.Namespace) -> dict:
    roles: dict[str, str] = {}
    for flag, (role, _) in COLUMN_FLAGS.items():
        value = getattr(args, flag.replace("-", "_"))
        if value is None:
            continue
        if role in roles:
            raise MetapoolError(f"--{flag} and another flag both give {role}; use one of them.")
        roles[role] = value
    if not roles:
        raise MetapoolError("Name the data columns, e.g. --events COL --total COL (see metapool pool --help).")
    return roles


def _pool_glmm(args: argparse.Namespace, table, roles: dict, study):
    """``--method GLMM``: a model of its own (not a tau^2 estimator), fitted from the counts."""
    from ..models.glmm import rma_glmm

    if "ai" in roles:
        counts, measure = {"ai", "bi", "ci", "di", "n1i", "n2i"}, args.measure or "OR"
    else:
        counts, measure = {"xi", "ni", "mi", "ti"}, args.measure or ("IRLN" if "ti" in roles else "PLO")
    others = set(roles) - counts or getattr(args, "mods", None) or getattr(args, "subgroup", None)
    if others or not {"xi", "ai"} & set(roles):
        raise MetapoolError("--method GLMM takes counts only: --events with --total (proportions) or with"
                            " person-time (rates), or --events1 --total1 --events2 --total2 (odds ratios);"
                            " no moderators or subgroups.")
    return rma_glmm(measure, table, slab=study, test=args.test, level=args.level, **roles)


def _pool_tables(args: argparse.Namespace, table, roles: dict, study):
    """``--method MH`` or ``PETO``: common-effect models of 2x2 tables (metafor's rma.mh, rma.peto).

    metafor's defaults: 1/2 added to tables with a zero cell and double-zero
    tables dropped, for the study-level estimates behind Q only.
    """
    from ..models.mh_peto import MH_MEASURES, rma_mh, rma_peto

    others = set(roles) - {"ai", "n1i", "ci", "n2i"} or getattr(args, "mods", None) or getattr(args, "subgroup", None)
    if others or "ai" not in roles:
        raise MetapoolError(f"--method {args.method} takes two-group binary columns only (--events1 --total1"
                            " --events2 --total2); no moderators or subgroups.")
    if args.test != "z":
        raise MetapoolError(f"--method {args.method} is a common-effect model with the z test; drop --test.")
    opts = {"slab": study, "add": 0.5 if args.add is None else args.add, "to": args.to, "level": args.level}
    if args.method == "PETO":
        if args.measure not in (None, "OR", "PETO"):
            raise MetapoolError(f"Peto's method pools odds ratios, not {args.measure}.")
        return rma_peto(table, **opts, **roles)
    if args.measure not in (None, *MH_MEASURES):
        raise MetapoolError(f"--method MH pools OR, RR or RD, not {args.measure}.")
    return rma_mh(args.measure or "OR", table, **opts, **roles)


def run_pool(args: argparse.Namespace) -> int:
    from ..effect_sizes import escalc
    from ..io.tables import read_table
    from ..models.rma import rma

    table = read_table(args.file, sheet=args.sheet, encoding=args.encoding)
    for note in table.notes:
        print(f"metapool: {note}", file=sys.stderr)
    roles = _roles(args)
    measure = args.measure or next(DEFAULT_MEASURE[r] for r in DEFAULT_MEASURE if r in roles)
    study = args.study or next((c for c in table if c.lower() == "study"), None)
    if args.method in (GLMM, *TABLE_METHODS):
        res = (_pool_glmm if args.method == GLMM else _pool_tables)(args, table, roles, study)
        out, docs = res.to_dict(), [res.summary()]
        _bias_sensitivity(args, res, out, docs)
        text = json.dumps(out, indent=2, allow_nan=False) + "\n" if args.json else "\n".join(d.to_text() for d in docs)
        print(text, end="")
        return 0
    es = escalc(
        measure, table, slab=study, add=args.add, to=args.to, drop00=args.drop00,
        ci_level=args.ci_level, **roles,
    )
    fit = {"method": args.method, "test": args.test, "level": args.level}
    mods = None
    if args.mods:
        mods = args.mods if "~" in args.mods else [m.strip() for m in args.mods.split(",") if m.strip()]
    reference = dict(r.split("=", 1) for r in args.reference if "=" in r)
    res = rma(es, mods=mods, data=table, reference=reference, **fit)
    out, docs = res.to_dict(), [res.summary()]
    if args.permutations:
        from ..moderators.permutation import permutest

        perm = _with_progress("permutations", lambda step: permutest(res, iter=args.permutations, seed=args.seed, progress=step))
        out["permutation"] = perm.to_dict()
        docs.append(perm.summary())
    if args.subgroup:
        from ..moderators.subgroups import subgroup_analysis

        sub = subgroup_analysis(es, args.subgroup, table, tau2=args.subgroup_tau2, **fit)
        out |= sub.to_dict()
        docs.append(sub.summary())
    _bias_sensitivity(args, res, out, docs, es)
    if args.json:
        print(json.dumps(out, indent=2, allow_nan=False))
    else:
        print("\n".join(d.to_text() for d in docs), end="")
    return 0


def _bias_sensitivity(args: argparse.Namespace, res, out: dict, docs: list, es=None) -> None:
    """Add the --bias and --sensitivity sections (JSON keys ``bias``, ``sensitivity``).

    ``es`` (the effect sizes of a two-group binary model) adds Peters' test.
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


def _with_progress(unit: str, run):
    """Run ``run(step)`` with a progress bar on stderr (``step(done, total)``); hidden when not a terminal."""
    from tqdm import tqdm

    with tqdm(unit=unit, disable=not sys.stderr.isatty(), leave=False) as bar:
        def step(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        return run(step)


def run_demo(args: argparse.Namespace) -> int:
    """Run the bundled demo analysis (synthetic AML review) into ``args.outdir``."""
    from ..datasets import DATASETS
    from .run import run_run

    ds = DATASETS["aml_hma_ven_synthetic"]
    print(f"Demo: {ds.description}\n{ds.source}\n", file=sys.stderr)
    return run_run(argparse.Namespace(analysis=str(ds.analysis_path), outdir=args.outdir, force=args.force))


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    0: done; 1: done, but some requested outcome could not be pooled
    (``run``); 2: an error, reported in one line; 130: interrupted (Ctrl-C),
    any previous output left as it was.
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
        if args.command == "batch":
            from .batch import run_batch

            return run_batch(args)
        vocab = {"measures": {c: m.name for c, m in MEASURES.items()},
                 "methods": _methods(), "tests": TESTS}[args.what]
        print(_table_lines(f"{args.what}:", vocab))
        return 0
    except MetapoolError as exc:
        print(f"metapool: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. a read-only folder, a full disk, a folder where a file was expected
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"metapool: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("metapool: interrupted; any previous output was left as it was", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""Options shared by the commands that pool a table (``pool``, ``batch``), read from the registries.

The choices and help of ``--measure``, ``--method`` and ``--test``, the
vocabulary listed below each command's help and by ``metapool list``, and the
column flags come from :data:`metapool.effect_sizes.MEASURES`,
:data:`metapool.models.methods.METHODS`, :data:`metapool.inference.tests.TESTS`
and :data:`metapool.columns.COLUMN_FLAGS`. Kept light: no pandas, no plotting.
"""

from __future__ import annotations

import argparse
import sys

from ..columns import COLUMN_FLAGS
from ..effect_sizes import MEASURES
from ..exceptions import MetapoolError
from ..inference.tests import TESTS
from ..models.methods import METHODS, method_choices

__all__ = ["vocabulary", "table_lines", "epilog", "add_encoding_argument", "add_analysis_arguments", "column_roles"]


def vocabulary(what: str, batch: bool = False) -> dict[str, str]:
    """Codes and descriptions of ``"measures"``, ``"methods"`` (only those ``fit_many`` fits with ``batch``),
    ``"tests"`` or ``"checks"`` (those of ``metapool audit``)."""
    if what == "checks":
        from ..audit.checks import CHECKS

        return {key: check.title for key, check in CHECKS.items()}
    if what == "measures":
        return {c: f"{m.name} [{m.family}]" for c, m in MEASURES.items()}
    if what == "methods":
        return {c: m.description for c, m in METHODS.items() if m.batch or not batch}
    return dict(TESTS)


def table_lines(title: str, entries: dict) -> str:
    """``title`` and one indented ``code  text`` line per entry, codes aligned."""
    width = max(len(k) for k in entries)
    return title + "\n" + "\n".join(f"  {k:<{width}}  {v}" for k, v in entries.items())


def epilog(batch: bool = False) -> str:
    """The measures, methods and tests, listed below a command's help."""
    return "\n\n".join(table_lines(f"{what}:", vocabulary(what, batch)) for what in ("measures", "methods", "tests"))


def add_encoding_argument(parser: argparse.ArgumentParser, what: str = "a CSV file") -> None:
    """The ``--encoding`` option of the commands that read a text file (``pool``, ``batch``: a CSV file; ``audit``)."""
    parser.add_argument("--encoding", help=f"text encoding of {what} (default: detect UTF-8, else Windows-1252)")


def add_analysis_arguments(parser: argparse.ArgumentParser, batch: bool = False):
    """Column flags and analysis options shared by ``pool`` and ``batch``; returns both groups.

    With ``batch``, ``--method`` offers only the methods the batch engine fits.
    """
    cols = parser.add_argument_group("columns (give the names of the file's columns)")
    for flag, (_, text) in COLUMN_FLAGS.items():
        cols.add_argument(f"--{flag}", metavar="COL", help=text)
    opts = parser.add_argument_group("analysis")
    opts.add_argument("--measure", type=str.upper, choices=list(MEASURES),
                      help="effect measure (default: PLO, OR, MD, LNR or GEN by the columns given)")
    models = [m for m in METHODS.values() if m.estimator is None and (m.batch or not batch)]
    opts.add_argument("--method", type=str.upper, default="REML", choices=method_choices(batch),
                      help="tau^2 estimator (default REML; CE: common effect)"
                           + "".join(f", or {m.code} ({m.name})" for m in models) + "; see the methods below")
    opts.add_argument("--test", type=str.lower, default="z", choices=list(TESTS), help="inference (default z)")
    opts.add_argument("--level", type=float, default=95.0, help="confidence level in percent (default 95)")
    opts.add_argument("--ci-level", type=float, default=95.0, help="level of the CIs given with --ratio")
    opts.add_argument("--add", type=float, help="continuity correction (default: metafor's, 0.5 or 0)")
    opts.add_argument("--to", default="only0", choices=["only0", "all", "if0all", "none"],
                      help="studies that get the continuity correction (default only0)")
    opts.add_argument("--drop00", action=argparse.BooleanOptionalAction, default=None,
                      help="drop studies with no events (or only events) in all groups (default: no; yes for GLMM,"
                           " as metafor's rma.glmm)")
    return cols, opts


def column_roles(args: argparse.Namespace) -> dict[str, str]:
    """escalc role to column name, from the column flags given on the command line."""
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


def with_progress(unit: str, run):
    """Run ``run(step)`` with a progress bar on stderr (``step(done, total)``); hidden when not a terminal."""
    from tqdm import tqdm

    with tqdm(unit=unit, disable=not sys.stderr.isatty(), leave=False) as bar:
        def step(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        return run(step)

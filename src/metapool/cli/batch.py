"""``metapool batch``: one meta-analysis per key of a long table, written to Parquet or CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..exceptions import MetapoolError
from .main import DEFAULT_MEASURE, _epilog, _roles, add_analysis_arguments

__all__ = ["add_batch_parser", "run_batch", "read_long_table"]

#: Readers of the long table by file suffix.
INPUT_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".xlsx")


def add_batch_parser(sub) -> argparse.ArgumentParser:
    """Add the ``batch`` subcommand to the subparsers ``sub``."""
    batch = sub.add_parser(
        "batch",
        help="fit one meta-analysis per key of a long table",
        description=(
            "Fit one meta-analysis per value of --by in a long table (one row per study) and write"
            " one row of results per analysis. Analyses that cannot be fitted are kept, with a"
            " status and a message."
        ),
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    batch.add_argument("file", help="CSV, TSV, Parquet or XLSX file with a header row")
    batch.add_argument("--sheet", help="worksheet of an XLSX file (default: the first)")
    batch.add_argument("--by", metavar="COL", action="append", required=True,
                       help="key column of the analyses (repeat for several key columns)")
    batch.add_argument("-o", "--output", required=True, metavar="FILE",
                       help="results file: .parquet or .csv")
    batch.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_analysis_arguments(batch)
    return batch


def read_long_table(path: Path, keys: list, sheet: str | None = None):
    """Read a long table with pandas; key columns are read as text."""
    import pandas as pd

    suffix = path.suffix.lower()
    if not path.exists():
        raise MetapoolError(f"File not found: {path}")
    if suffix not in INPUT_SUFFIXES:
        raise MetapoolError(f"Cannot read {path.name}: use one of {', '.join(INPUT_SUFFIXES)}.")
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix == ".xlsx":
        return pd.read_excel(path, sheet_name=sheet or 0, dtype={k: str for k in keys})
    return pd.read_csv(path, sep=None if suffix == ".txt" else "\t" if suffix == ".tsv" else ",",
                       engine="python" if suffix == ".txt" else "c", dtype={k: str for k in keys})


def run_batch(args: argparse.Namespace) -> int:
    from ..batch import fit_many

    out = Path(args.output)
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise MetapoolError(f"Write the results to a .parquet or .csv file, not {out.name!r}.")
    roles = _roles(args)
    measure = args.measure or next(DEFAULT_MEASURE[r] for r in DEFAULT_MEASURE if r in roles)
    table = read_long_table(Path(args.file), args.by, args.sheet)
    n_analyses = len(table.groupby(args.by, dropna=False, observed=True)) if not args.no_progress else 0
    bar = None
    if n_analyses:
        from tqdm import tqdm

        bar = tqdm(total=n_analyses, unit="analyses", desc="metapool batch")
    try:
        res = fit_many(
            table, args.by, measure=measure, method=args.method, test=args.test, level=args.level,
            add=args.add, to=args.to, drop00=args.drop00, ci_level=args.ci_level,
            progress=None if bar is None else bar.update, **roles,
        )  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
    if out.suffix.lower() == ".parquet":
        try:
            res.to_parquet(out, index=False)
        except ImportError as exc:
            raise MetapoolError("Writing Parquet needs pyarrow (pip install 'metapool[dask]'); or write .csv.") from exc
    else:
        res.to_csv(out, index=False)
    failed = int((res["status"] != "ok").sum())
    print(f"{len(res)} analyses written to {out}" + (f"; {failed} not fitted (see status, message)" if failed else ""))
    return 0

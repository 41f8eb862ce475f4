"""``metapool batch``: one meta-analysis per key of a long table, written to Parquet or CSV."""

from __future__ import annotations

import argparse
import importlib.util
import io
import sys
from pathlib import Path

from ..columns import default_measure
from ..exceptions import MetapoolError
from .options import add_analysis_arguments, add_encoding_argument, column_roles, epilog

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
        epilog=epilog(batch=True),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    batch.add_argument("file", help="CSV, TSV, Parquet or XLSX file with a header row")
    batch.add_argument("--sheet", help="worksheet of an XLSX file (default: the first)")
    add_encoding_argument(batch)
    batch.add_argument("--by", metavar="COL", action="append", required=True,
                       help="key column of the analyses (repeat for several key columns)")
    batch.add_argument("-o", "--output", required=True, metavar="FILE",
                       help="results file: .parquet or .csv (its folder must exist; replaced only at the end)")
    batch.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_analysis_arguments(batch, batch=True)
    return batch


def read_long_table(path: Path, keys: list, sheet: str | None = None, encoding: str | None = None):
    """Read a long table with pandas; key columns are read as text.

    Keys are text everywhere: "NA", "None" and "" are keys of their own, not
    missing values (other columns keep pandas' missing-value markers). A text
    file's encoding is ``encoding``, else detected as by
    :func:`metapool.io.decoding.decode_text` (UTF-8, else Windows-1252, else
    Latin-1; a guess other than UTF-8 is said on stderr).
    """
    import pandas as pd

    suffix = path.suffix.lower()
    if not path.exists():
        raise MetapoolError(f"File not found: {path}")
    if suffix not in INPUT_SUFFIXES:
        raise MetapoolError(f"Cannot read {path.name}: use one of {', '.join(INPUT_SUFFIXES)}.")
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix == ".xlsx":
        def read(**options):
            return pd.read_excel(path, sheet_name=sheet or 0, **options)
    else:
        text = _text(path, encoding)
        sep, engine = {".txt": (None, "python"), ".tsv": ("\t", "c")}.get(suffix, (",", "c"))

        def read(**options):
            return pd.read_csv(io.StringIO(text), sep=sep, engine=engine, **options)
    text_keys = [k for k in keys if k in read(nrows=0).columns]
    table = read(usecols=lambda c: c not in text_keys)
    if not text_keys:
        return table
    return pd.concat([read(usecols=text_keys, dtype=str, keep_default_na=False), table], axis=1)


def _text(path: Path, encoding: str | None) -> str:
    """The text of a delimited file, decoded as :func:`metapool.io.decoding.decode_text` does (its note on stderr)."""
    from ..io.decoding import decode_text

    decoded = decode_text(path.read_bytes(), path.name, encoding)
    if decoded.note:
        print(f"metapool: {decoded.note}", file=sys.stderr)
    return decoded.text


def _check_output(args: argparse.Namespace) -> Path:
    """The results file, refused before any work when it cannot or must not be written."""
    from ..io.outputs import check_output_file

    out = Path(args.output)
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise MetapoolError(f"Write the results to a .parquet or .csv file, not {out.name!r}.")
    if out.suffix.lower() == ".parquet" and importlib.util.find_spec("pyarrow") is None:
        raise MetapoolError("Writing Parquet needs pyarrow (pip install 'metapool[dask]'); or write .csv.")
    return check_output_file(out, inputs=[args.file])


def _write(res, out: Path) -> None:
    """Write the results atomically; text cells of a CSV get the spreadsheet formula guard of the report's CSV."""
    from ..io.outputs import atomic_file
    from ..report.render import safe_cell

    with atomic_file(out) as tmp:
        if out.suffix.lower() == ".parquet":
            res.to_parquet(tmp, index=False)
        else:
            text = res.select_dtypes(include=["object", "string"]).columns
            res.assign(**{c: res[c].map(safe_cell) for c in text}).to_csv(tmp, index=False)


def run_batch(args: argparse.Namespace) -> int:
    from ..batch import fit_many

    out = _check_output(args)
    roles = column_roles(args)
    measure = args.measure or default_measure(roles)
    table = read_long_table(Path(args.file), args.by, args.sheet, args.encoding)
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
    _write(res, out)
    failed = int((res["status"] != "ok").sum())
    print(f"{len(res)} analyses written to {out}" + (f"; {failed} not fitted (see status, message)" if failed else ""))
    return 0

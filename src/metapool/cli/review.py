"""``metapool review``: create a review, import search exports, show its counts, list its records.

A thin adapter over :mod:`metapool.review` (``init_review``, ``import_files``,
``review_status``, ``record_table``); every command takes ``--db URL`` for a
review kept on PostgreSQL, and the commands that change the review take
``--who NAME`` (default: the operating-system user).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys


def add_review_parser(sub) -> None:
    review = sub.add_parser("review", help="the review before the pooling: search records and their database",
                            description="Create a review folder, import search exports, show counts, list records."
                                        " See docs/review.md.")
    commands = review.add_subparsers(dest="review_command", required=True)

    def command(name: str, help: str, who: bool = False) -> argparse.ArgumentParser:
        parser = commands.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".")
        parser.add_argument("dir", metavar="DIR", help="the review folder")
        parser.add_argument("--db", metavar="URL",
                            help="PostgreSQL database of the review (postgresql://USER@HOST/DATABASE;"
                                 " default: review.db in the folder)")
        if who:
            parser.add_argument("--who", metavar="NAME", help="who does this (default: the operating-system user)")
        return parser

    command("init", "create a review folder: a commented review.toml and an empty database", who=True)
    imp = command("import", "import search exports (RIS, MEDLINE/PubMed, BibTeX, CSV) from one database", who=True)
    imp.add_argument("files", nargs="+", metavar="FILE", help="export files of one search")
    imp.add_argument("--source", required=True, metavar="DATABASE",
                     help="the database searched, as named under [[databases]] in review.toml (e.g. \"MEDLINE (Ovid)\")")
    imp.add_argument("--searched", type=_date, metavar="YYYY-MM-DD",
                     help="date the search was run (default: its `searched` in review.toml)")
    status = command("status", "show records imported per source and database, and the review's counts")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    records = command("records", "write every imported record, its source, duplicate cluster and kept flag to CSV")
    records.add_argument("-o", "--output", required=True, metavar="CSV", help="CSV file to write")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD") from None


def run_review(args: argparse.Namespace) -> int:
    """Run one ``metapool review`` command; returns the exit status (errors raise MetapoolError)."""
    from ..review.store import init_review, open_review

    if args.review_command == "init":
        review = init_review(args.dir, db=args.db, who=args.who)
        print(f"Created the review {review.folder}: edit {review.config_path} (question, exclusion reasons,"
              f" databases searched); database {review.where}.")
        return 0
    review = open_review(args.dir, db=args.db)
    return {"import": _import, "status": _status, "records": _records}[args.review_command](review, args)


def _import(review, args: argparse.Namespace) -> int:
    from ..review.imports import import_files
    from .main import _with_progress

    result = _with_progress("records", lambda step: import_files(review, args.files, args.source, args.searched,
                                                                  args.who, progress=step))
    for s in result.sources:
        print(f"{s.file_name}: {s.records:,} records ({s.format}, {s.encoding}) as source {s.id}")
    print(f"Imported {result.records:,} records from {result.database} (searched {result.searched.isoformat()})"
          f" by {result.who}.")
    return 0


def _status(review, args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ..review.status import review_status

    status = review_status(review)
    if args.json:
        print(json.dumps(status.to_dict(), indent=2))
        return 0
    console = Console()
    console.print(Text(f"{status.title} ({status.where})"))  # user text is shown as text, never read as Rich markup
    if status.sources:
        table = Table()
        for col in ("Database", "File", "Format", "Searched", "Records", "Imported (UTC)"):
            table.add_column(col, overflow="fold")  # a narrow terminal wraps a value, never cuts it
        for s in status.sources:
            table.add_row(*(Text(c) for c in (s.database, s.file_name, s.format, s.searched.isoformat(),
                                              f"{s.records:,}", f"{s.who}, {s.at:%Y-%m-%d %H:%M}")))
        console.print(table)
    else:
        console.print("No records imported yet: metapool review import DIR FILE... --source DATABASE")
    for d in status.databases:
        console.print(Text(f"{d.database}: {d.records:,} records in {d.files} file{'s' * (d.files != 1)}"))
    console.print(Text(f"Records: {status.records:,}; duplicate clusters: {status.clusters:,};"
                       f" screening decisions: {status.decisions:,}; events: {status.events:,}."))
    return 0


def _records(review, args: argparse.Namespace) -> int:
    import csv

    from ..io.outputs import atomic_file, check_output_file
    from ..report.render import safe_cell
    from ..review.status import RECORD_COLUMNS, record_table

    target = check_output_file(args.output, review.local_files)
    n = 0
    with atomic_file(target) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=RECORD_COLUMNS)
        writer.writeheader()
        for row in record_table(review):
            row["kept"] = "true" if row["kept"] else "false"
            writer.writerow({k: safe_cell(v) for k, v in row.items()})
            n += 1
    print(f"Wrote {n:,} records to {target}.", file=sys.stderr)
    return 0


__all__ = ["add_review_parser", "run_review"]

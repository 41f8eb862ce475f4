"""``metapool review``: create a review, import search exports, show its counts, list its records, deduplicate.

A thin adapter over :mod:`metapool.review` (``init_review``, ``import_files``,
``review_status``, ``record_table``; deduplication: ``run_dedup``, ``dedup_queue``,
``active_clusters``, ``merge_records``, ``mark_not_duplicate``, ``undo_merge``); every command takes ``--db URL`` for a
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
    _add_dedup_commands(command)


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
    return {"import": _import, "status": _status, "records": _records, **_DEDUP_COMMANDS}[args.review_command](
        review, args)


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
    console.print(Text(f"Records: {status.records:,}; duplicate clusters: {status.clusters:,}; duplicates removed:"
                       f" {status.duplicates_removed:,}; pairs queued for a person: {status.queued:,};"
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


# --- deduplication: review dedup, merge, not-duplicate, undo-merge -------------------------------------------------

def _add_dedup_commands(command) -> None:
    dedup = command("dedup", "find duplicate records (exact and fuzzy passes), or list the queue or the clusters",
                    who=True)
    dedup.add_argument("--merge-abstracts", action="store_true",
                       help="allow a conference abstract to be merged with the full paper")
    shown = dedup.add_mutually_exclusive_group()
    shown.add_argument("--queue", action="store_true", help="list the pairs waiting for a person; change nothing")
    shown.add_argument("--clusters", action="store_true",
                       help="list the duplicate clusters with the evidence of every merge; change nothing")
    dedup.add_argument("--json", action="store_true", help="print JSON")
    for name, help in (("merge", "merge two records (e.g. a queued pair) into one duplicate cluster"),
                       ("not-duplicate", "record that two records (e.g. a queued pair) are not duplicates")):
        pair = command(name, help, who=True)
        pair.add_argument("records", nargs=2, type=int, metavar="RECORD",
                          help="record numbers (the `id` column of `review records`)")
    undo = command("undo-merge", "undo a duplicate cluster (a new event; nothing is deleted)", who=True)
    undo.add_argument("cluster", type=int, metavar="CLUSTER", help="cluster number (see `review dedup DIR --clusters`)")


def _dedup(review, args: argparse.Namespace) -> int:
    from ..formatting.text import one_line
    from ..review.duplicates import active_clusters, dedup_queue, run_dedup

    if args.queue:
        queue = dedup_queue(review)
        if args.json:
            print(json.dumps(queue, indent=2))
        else:
            print(f"{len(queue):,} pair{'s' * (len(queue) != 1)} waiting: decide each with `metapool review merge"
                  " DIR A B` or `metapool review not-duplicate DIR A B`.")
            for q in queue:
                a, b = q["records"]
                fields = ", ".join(f"{k} {v}" for k, v in q["fields"].items())
                note = f"; {q['note']}" if q.get("note") else ""
                print(f"\nrecords {a} and {b}: score {q['score']} ({fields}){note}")
                for r in q["shown"]:  # user text on one line: no line break or terminal control character
                    where = ", ".join(str(v) for v in (r["journal"], r["year"], r["volume"], r["pages"], r["doi"]) if v)
                    print(one_line(f"  {r['id']} ({r['source_file']}): {r['title']} — {'; '.join(r['authors'])}"
                                   f" ({where})"))
        return 0
    if args.clusters:
        clusters = active_clusters(review)
        if args.json:
            print(json.dumps([{"cluster": c.id, "kept": c.kept, "members": list(c.members), "method": c.method,
                               "links": list(c.links)} for c in clusters], indent=2))
        else:
            for c in clusters:
                print(f"cluster {c.id}: records {', '.join(map(str, c.members))}; kept {c.kept}; {c.method}")
                for link in c.links:
                    a, b = link["records"]
                    score = f", score {link['score']}" if link.get("score") is not None else ""
                    by = f" by {one_line(link['who'])}" if link.get("who") else ""
                    print(f"  {a} = {b}: {link['method']}{score}{by}")
        return 0
    run = run_dedup(review, who=args.who, merge_abstracts=args.merge_abstracts)
    if args.json:
        print(json.dumps({k: getattr(run, k) for k in ("event_id", "records", "kept", "duplicates_removed",
                                                       "clusters", "clusters_added", "clusters_replaced", "queued",
                                                       "pairs_scored", "who")}, indent=2))
        return 0
    print(f"Deduplicated {run.records:,} records: {run.duplicates_removed:,} duplicates removed in {run.clusters:,}"
          f" clusters ({run.clusters_added:,} new), {run.kept:,} records kept; {run.queued:,}"
          f" pair{'s' * (run.queued != 1)} queued for a person (`metapool review dedup DIR --queue`);"
          f" {run.pairs_scored:,} candidate pairs scored.")
    return 0


def _merge(review, args: argparse.Namespace) -> int:
    from ..review.duplicates import merge_records

    a, b = args.records
    cluster = merge_records(review, a, b, who=args.who)
    print(f"Merged records {a} and {b}: cluster {cluster}.")
    return 0


def _not_duplicate(review, args: argparse.Namespace) -> int:
    from ..review.duplicates import mark_not_duplicate

    a, b = args.records
    mark_not_duplicate(review, a, b, who=args.who)
    print(f"Records {a} and {b} are kept apart: not duplicates.")
    return 0


def _undo_merge(review, args: argparse.Namespace) -> int:
    from ..review.duplicates import undo_merge

    undo_merge(review, args.cluster, who=args.who)
    print(f"Undid cluster {args.cluster}: its records count on their own again and are kept apart in later runs"
          " (merge some again with `metapool review merge`).")
    return 0


_DEDUP_COMMANDS = {"dedup": _dedup, "merge": _merge, "not-duplicate": _not_duplicate, "undo-merge": _undo_merge}


__all__ = ["add_review_parser", "run_review"]

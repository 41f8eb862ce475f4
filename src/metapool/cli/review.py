"""``metapool review``: a review folder, its search exports, counts, records, deduplication and screening.

A thin adapter over :mod:`metapool.review` (``init_review``, ``import_files``,
``review_status``, ``record_table``; deduplication: ``run_dedup``, ``dedup_queue``,
``active_clusters``, ``merge_records``, ``mark_not_duplicate``, ``undo_merge``;
screening: see its section below); every command takes ``--db URL`` for a
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
    _add_screening_parsers(command)
    _add_prisma_parsers(command)


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
    commands = {"import": _import, "status": _status, "records": _records, **_DEDUP_COMMANDS, **SCREENING_COMMANDS,
                **PRISMA_COMMANDS}
    return commands[args.review_command](review, args)


def _import(review, args: argparse.Namespace) -> int:
    from ..review.imports import import_files
    from .options import with_progress

    result = with_progress("records", lambda step: import_files(review, args.files, args.source, args.searched,
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
    _print_stage_counts(console, status.screening)
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


# --- screening: screen, export, import-decisions, conflicts, agreement, simulate ------------------------------------

def _add_screening_parsers(command) -> None:
    def staged(name: str, help: str, who: bool = False, reviewer: bool = True) -> argparse.ArgumentParser:
        parser = command(name, help, who=who)
        parser.add_argument("--stage", required=True, choices=("ta", "ft"),
                            help="ta: title and abstract; ft: full text")
        if reviewer:
            parser.add_argument("--reviewer", required=True, metavar="NAME", help="the reviewer screening")
        return parser

    screen = staged("screen", "record one screening decision on a record", who=True)
    screen.add_argument("record", type=int, metavar="RECORD", help="the record's number in the review (column id)")
    screen.add_argument("decision", metavar="DECISION",
                        help="ta: include, exclude or maybe; ft: include, exclude (with --reason) or not_retrieved")
    screen.add_argument("--reason", metavar="CODE", help="exclusion reason code of review.toml (required at ft)")
    screen.add_argument("--note", metavar="TEXT", help="a note kept with the decision")
    screen.add_argument("--resolve", action="store_true",
                        help="settle a conflict between two reviewers (as lead); the decision is final")
    export = staged("export", "write a reviewer's queue (best first) and decisions to CSV, to screen in a spreadsheet")
    export.add_argument("-o", "--output", required=True, metavar="CSV", help="CSV file to write")
    imp = staged("import-decisions", "store the decisions of a CSV sheet (all rows or none)", who=True)
    imp.add_argument("file", metavar="CSV", help="a sheet written by `review export`, with decisions filled in")
    conflicts = staged("conflicts", "list the records two reviewers disagree on", reviewer=False)
    conflicts.add_argument("--json", action="store_true", help="print JSON")
    agreement = command("agreement", "show agreement per stage and reviewer pair (raw and Cohen's kappa)")
    agreement.add_argument("--json", action="store_true", help="print JSON")
    simulate = staged("simulate", "replay a screened stage in ranking order: recall curve, WSS@95, stopping point",
                      reviewer=False)
    simulate.add_argument("--stop-after", type=_positive, default=None, metavar="N",
                          help="stopping heuristic: stop after N consecutive irrelevant records (default 50)")
    simulate.add_argument("--retrain-every", type=_positive, default=1, metavar="N",
                          help="refit the ranking after every N records (default 1; larger is faster on big reviews)")
    simulate.add_argument("--json", action="store_true", help="print JSON (with the whole recall curve)")
    simulate.add_argument("--plot", metavar="PNG", help="also draw the recall curve to this PNG (or .svg)")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def _screen(review, args: argparse.Namespace) -> int:
    from ..review.screening import decide

    d = decide(review, args.record, args.stage, args.reviewer, args.decision, reason=args.reason, note=args.note,
               who=args.who, resolve=args.resolve)
    what = f"{d.decision}" + (f" ({d.reason})" if d.reason else "")
    if not d.changed:
        print(f"Record {d.record} at {d.stage}: {d.reviewer} had decided {what} already; nothing changed.")
    else:
        print(f"Record {d.record} at {d.stage}: {'resolved as' if d.resolution else d.reviewer + ':'} {what}"
              + (f" (replaces decision {d.supersedes})" if d.supersedes else "") + ".")
    return 0


def _export(review, args: argparse.Namespace) -> int:
    import csv

    from ..io.outputs import atomic_file, check_output_file
    from ..report.render import safe_cell
    from ..review.screening import SHEET_COLUMNS, reviewer_sheet

    target = check_output_file(args.output, review.local_files)
    rows = reviewer_sheet(review, args.stage, args.reviewer)
    with atomic_file(target) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=SHEET_COLUMNS)
        writer.writeheader()
        writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in rows)
    todo = sum(not r["decision"] for r in rows)
    print(f"Wrote {len(rows):,} records for {args.reviewer} at {args.stage} to {target}: {todo:,} to screen"
          " (most likely relevant first), then their decisions.", file=sys.stderr)
    return 0


def _import_decisions(review, args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..review.screening import import_decisions, read_decisions_csv

    stored = import_decisions(review, read_decisions_csv(args.file), args.stage, args.reviewer, who=args.who,
                              source=Path(args.file).name)
    print(f"Stored {len(stored):,} decisions of {args.reviewer} at {args.stage} (rows already current are unchanged).")
    return 0


def _conflicts(review, args: argparse.Namespace) -> int:
    from ..review.screening import conflicts

    found = conflicts(review, args.stage)
    if args.json:
        print(json.dumps([{"record": u.record, "votes": [{"reviewer": v.reviewer, "decision": v.decision,
                                                          "reason": v.reason} for v in u.votes]} for u in found],
                         indent=2))
        return 0
    for u in found:
        votes = "; ".join(f"{v.reviewer}: {v.decision}" + (f" ({v.reason})" if v.reason else "") for v in u.votes)
        print(f"record {u.record}: {votes}")
    print(f"{len(found):,} conflict{'s' * (len(found) != 1)} at {args.stage}"
          + (": settle each with `metapool review screen DIR --resolve ...`." if found else "."))
    return 0


def _agreement(review, args: argparse.Namespace) -> int:
    from ..review.screening import agreement

    found = agreement(review)
    if args.json:
        print(json.dumps([a.to_dict() for a in found], indent=2))
        return 0
    if not found:
        print("No record was screened by two reviewers yet.")
    for a in found:
        kappa = "not defined (one category only)" if a.kappa != a.kappa else f"{a.kappa:.2f}"
        print(f"{a.stage}: {a.reviewers[0]} and {a.reviewers[1]}: {a.units:,} records, agreed on {a.agreed:,}"
              f" ({a.raw:.1%}); Cohen's kappa {kappa}")
    return 0


def _simulate(review, args: argparse.Namespace) -> int:
    from ..review.screening import STAGES, simulate_review

    sim = simulate_review(review, args.stage, stop_after=args.stop_after, retrain_every=args.retrain_every)
    if args.plot:
        from pathlib import Path

        from ..io.outputs import check_output_file
        from ..plots._style import pyplot
        from ..plots.export import save_figure
        from ..plots.recall import recall_plot

        target = check_output_file(args.plot, review.local_files)
        fmt = target.suffix.lower().lstrip(".") or "png"
        ax = recall_plot(sim, title=f"Screening simulation: {STAGES[args.stage]} ({args.stage})")
        save_figure(ax, target, formats=(fmt,), dpi=200)
        pyplot().close(ax.figure)
        print(f"Wrote the recall curve to {Path(target).with_suffix('.' + fmt)}.", file=sys.stderr)
    if args.json:
        print(json.dumps(sim.to_dict(), indent=2))
        return 0
    stop = ("never fired" if sim.stopped_at is None else
            f"stops after {sim.stopped_at:,} records, recall {sim.recall_at_stop:.1%}")
    rows = [("Records", f"{sim.records:,}"), ("Relevant", f"{sim.relevant:,}"),
            ("Screened to reach 95% recall", f"{sim.n95:,} ({sim.n95 / sim.records:.1%})"),
            ("WSS@95", f"{sim.wss95:.1%}"), (f"Stop after {sim.stop_after} irrelevant in a row", stop)]
    for share in (0.1, 0.25, 0.5):
        k = max(1, round(share * sim.records))
        rows.append((f"Recall after {share:.0%} screened ({k:,})", f"{sim.found[k - 1] / sim.relevant:.1%}"))
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0


def _print_stage_counts(console, stages) -> None:
    from rich.text import Text

    from ..review.screening import STAGES

    for c in stages:
        if not c["eligible"]:
            continue
        decided = ", ".join(f"{d} {n:,}" for d, n in c["decisions"].items())
        reasons = "; ".join(f"{code} {n:,}" for code, n in c["reasons"].items())
        console.print(Text(f"Screening, {STAGES[c['stage']]} ({c['stage']}): {c['eligible']:,} records; final:"
                           f" {decided}; pending {c['pending']:,}; conflicts {c['conflicts']:,}"
                           + (f" (excluded for: {reasons})" if reasons else "") + "."))


SCREENING_COMMANDS = {"screen": _screen, "export": _export, "import-decisions": _import_decisions,
                      "conflicts": _conflicts, "agreement": _agreement, "simulate": _simulate}


# --- PRISMA 2020, the study table and links of reports to studies ---------------------------------------------------

def _add_prisma_parsers(command) -> None:
    prisma = command("prisma", "draw the PRISMA 2020 flow diagram of the review (its counts checked box by box)")
    prisma.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="the diagram: .svg, .png or .pdf (the format follows the extension)")
    prisma.add_argument("--title", metavar="TEXT", help="a title above the diagram")
    prisma.add_argument("--json", action="store_true", help="also print the counts of every box as JSON")
    studies = command("studies", "write the included studies as the extraction template (one row per study)")
    studies.add_argument("-o", "--output", required=True, metavar="CSV", help="CSV file to write")
    studies.add_argument("--outcomes", metavar="NAMES", default="",
                         help="comma-separated outcome names: one empty column each, to fill in (e.g. \"ORR,CR,OS\")")
    link = command("link", "record that several records are reports of one study (undo with --undo EVENT)", who=True)
    link.add_argument("records", nargs="*", type=int, metavar="RECORD", help="two or more records (column id)")
    link.add_argument("--undo", type=_positive, metavar="EVENT", help="undo the link recorded as this event")


#: Formats ``review prisma`` writes, by extension.
_FIGURE_FORMATS = ("svg", "png", "pdf")


def _prisma(review, args: argparse.Namespace) -> int:
    from ..exceptions import MetapoolError
    from ..io.outputs import atomic_file, check_output_file
    from ..plots._style import pyplot
    from ..plots.prisma import prisma_plot
    from ..review.prisma import prisma_counts

    target = check_output_file(args.output, review.local_files)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in _FIGURE_FORMATS:
        raise MetapoolError(f"{target.name}: the diagram is written as {', '.join(_FIGURE_FORMATS)};"
                            " name the file with one of those extensions.")
    counts = prisma_counts(review)
    ax = prisma_plot(counts, title=args.title)
    try:
        with atomic_file(target) as tmp:
            ax.figure.savefig(tmp, format=fmt, dpi=200, bbox_inches="tight", pad_inches=0.1,
                              metadata={"Date": None} if fmt == "svg" else None)
    finally:
        pyplot().close(ax.figure)
    if args.json:
        print(json.dumps(counts.to_dict(), indent=2))
    note = "" if counts.complete else (f" It is incomplete: {counts.pending_screening:,} records await a title/abstract"
                                       f" decision, {counts.pending_full_text:,} a full-text decision.")
    print(f"Wrote the PRISMA 2020 diagram to {target}: {counts.identified:,} records identified,"
          f" {counts.studies_included:,} studies included.{note}", file=sys.stderr)
    return 0


def _studies(review, args: argparse.Namespace) -> int:
    from ..io.outputs import check_output_file

    target = check_output_file(args.output, review.local_files)
    outcomes = args.outcomes.split(",")
    n = write_study_table(review, target, outcomes)
    named = [o.strip() for o in outcomes if o.strip()]
    print(f"Wrote {n:,} included studies to {target}"
          + (f", with empty columns {', '.join(named)} to fill in." if named else "."), file=sys.stderr)
    return 0


def write_study_table(review, target, outcomes=()) -> int:
    """Write the study table (:func:`metapool.review.prisma.study_table`) to the CSV ``target``, cells guarded.

    ``review studies`` and the web app's "create the study table" call it; returns the number of studies.
    The caller checks ``target`` (``check_output_file``): the file is written aside and moved into place.
    """
    import csv

    from ..io.outputs import atomic_file
    from ..report.render import safe_cell
    from ..review.prisma import study_table

    header, rows = study_table(review, outcomes)
    with atomic_file(target) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([safe_cell(c) for c in header])
        writer.writerows([safe_cell(c) for c in row] for row in rows)
    return len(rows)


def _link(review, args: argparse.Namespace) -> int:
    from ..exceptions import MetapoolError
    from ..review.prisma import link_reports, unlink_reports

    if args.undo is not None:
        if args.records:
            raise MetapoolError("give either records to link or --undo EVENT, not both.")
        event = unlink_reports(review, args.undo, who=args.who)
        print(f"Undid link {args.undo} (event {event}).")
        return 0
    event = link_reports(review, args.records, who=args.who)
    print(f"Linked records {', '.join(map(str, dict.fromkeys(args.records)))} as reports of one study (event {event};"
          f" undo with --undo {event}).")
    return 0


PRISMA_COMMANDS = {"prisma": _prisma, "studies": _studies, "link": _link}


__all__ = ["add_review_parser", "run_review", "write_study_table"]

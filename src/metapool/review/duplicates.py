"""Duplicate clusters in a review: running deduplication, the manual queue, merges by hand and their undoing.

The engine is :func:`metapool.review.dedup.deduplicate`; this module reads the
review's records, stores what the engine finds and what people decide, each
change in one transaction with its event (who, when):

- :func:`run_dedup` (event ``dedup``) runs the engine on every record, starting
  from the review's active clusters and keeping apart the pairs people
  separated. A cluster found again unchanged is left alone, so a second run
  adds nothing; a cluster that grew (new records were imported) replaces the
  clusters it contains, which are marked undone by the run (never deleted);
  it keeps the record they kept (the most complete of them), so that the
  unit screened stays the same.
  The run's manual queue is stored in its event.
- :func:`dedup_queue`: the queue of the latest run, less the pairs decided since.
- :func:`merge_records` (event ``merge``) joins two records' clusters; a
  person may merge what the rules would not (their call, recorded).
- :func:`mark_not_duplicate` (event ``not-duplicate``): two records are kept
  apart in every later run.
- :func:`undo_merge` (event ``unmerge``, pointing at the event that made the
  cluster): the cluster no longer counts, and its records are kept apart from
  each other in later runs (merge some again by hand).

An active cluster is one whose ``undone_by`` is empty; its ``kept_record`` is
what screening screens (one screening unit per active cluster, and one per
record in none).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from ..exceptions import MetapoolError
from .dedup import (AUTO_MERGE, AUTO_TITLE, MIN_TITLE, MIN_WORDS, QUEUE, Link, cluster_method, compare, deduplicate,
                    kept_record)
from .record import Record
from .store import DECISION_EVENTS, Review, default_who, kept, log_event, only_kinds, transaction

__all__ = ["DedupRun", "ClusterRow", "run_dedup", "dedup_queue", "active_clusters", "merge_records",
           "mark_not_duplicate", "undo_merge", "dedup_counts", "active_cluster_count"]


@dataclass(frozen=True)
class DedupRun:
    """What one ``review dedup`` stored: its event, the records it read, clusters added and replaced, the queue."""

    event_id: int
    records: int
    clusters: int
    clusters_added: int
    clusters_replaced: int
    duplicates_removed: int
    queued: int
    pairs_scored: int
    who: str

    @property
    def kept(self) -> int:
        return self.records - self.duplicates_removed


@dataclass(frozen=True)
class ClusterRow:
    """One active cluster: its number, the record kept, its members, the passes that joined it and their evidence."""

    id: int
    kept: int
    members: tuple[int, ...]
    method: str
    links: tuple[dict, ...]
    event_id: int


def _lock(conn) -> None:
    """Make changes to the clusters one at a time: SQLite's writers queue at BEGIN already; on PostgreSQL a
    second writer waits here for the first to commit, so that two runs never store the same cluster twice."""
    if conn.dialect.name == "postgresql":
        from .schema import clusters

        conn.exec_driver_sql(f"LOCK TABLE {clusters.name} IN SHARE ROW EXCLUSIVE MODE")


def _records(conn) -> dict[int, Record]:
    """Every record of the review, by number, as deduplication needs it (without its raw text, which it never reads)."""
    import sqlalchemy as sa

    from .schema import RECORD_FIELDS, records

    columns = [records.c.id, records.c.position, *(records.c[k] for k in RECORD_FIELDS)]
    lists = {"authors", "keywords"}
    return {r[0]: Record(position=r[1], raw="", **{k: tuple(v) if k in lists else v
                                                   for k, v in zip(RECORD_FIELDS, r[2:])})
            for r in conn.execute(sa.select(*columns).order_by(records.c.id))}


def _active(conn) -> list[ClusterRow]:
    import sqlalchemy as sa

    from .schema import cluster_members, clusters

    rows = conn.execute(sa.select(clusters).where(clusters.c.undone_by.is_(None)).order_by(clusters.c.id)).all()
    members: dict[int, list[int]] = {}
    query = (sa.select(cluster_members).join(clusters, clusters.c.id == cluster_members.c.cluster_id)
             .where(clusters.c.undone_by.is_(None)).order_by(cluster_members.c.record))
    for m in conn.execute(query):
        members.setdefault(m.cluster_id, []).append(m.record)
    return [ClusterRow(id=r.id, kept=r.kept_record, members=tuple(members.get(r.id, ())), method=r.method,
                       links=tuple(r.evidence.get("links", ())), event_id=r.event_id) for r in rows]


def _decided(conn) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """Pairs people decided (merged or not duplicates), and pairs to keep apart (not duplicates, undone clusters)."""
    import sqlalchemy as sa

    from .schema import cluster_members, clusters, events

    decided, apart = set(), set()
    for e in conn.execute(sa.select(events.c.kind, events.c.payload).where(events.c.kind.in_(("merge",
                                                                                               "not-duplicate")))):
        pair = tuple(sorted(e.payload["records"]))
        decided.add(pair)
        if e.kind == "not-duplicate":
            apart.add(pair)
    unmerged = (sa.select(cluster_members.c.cluster_id, cluster_members.c.record)
                .join(clusters, clusters.c.id == cluster_members.c.cluster_id)
                .join(events, events.c.id == clusters.c.undone_by).where(events.c.kind == "unmerge")
                .order_by(cluster_members.c.cluster_id, cluster_members.c.record))
    for _, rows in itertools.groupby(conn.execute(unmerged), key=lambda r: r.cluster_id):
        apart.update(itertools.combinations([r.record for r in rows], 2))
    return decided, apart


def _kept(records: dict[int, Record], members: Iterable[int], old: Iterable[ClusterRow]) -> int:
    """The record a new cluster keeps: of the records kept by the clusters it replaces, if any (so that the unit
    screened stays the same when a cluster grows), else of all its members — the most complete (``kept_record``)."""
    candidates = [c.kept for c in old] or list(members)
    return kept_record({i: records[i] for i in candidates})


@dataclass(frozen=True)
class _NewCluster:
    members: tuple[int, ...]
    kept: int
    links: list[dict]
    replaces: tuple[int, ...]  # active clusters it takes the place of


def _store_clusters(conn, new: list[_NewCluster], event: int) -> list[int]:
    """Insert the active clusters ``new`` (in few statements); those they replace are marked undone by ``event``."""
    from .schema import cluster_members, clusters

    if not new:
        return []
    rows = [{"kept_record": c.kept, "method": cluster_method(d["method"] for d in c.links),
             "evidence": {"links": c.links}, "event_id": event} for c in new]
    ids = list(conn.execute(clusters.insert().returning(clusters.c.id, sort_by_parameter_order=True), rows).scalars())
    conn.execute(cluster_members.insert(), [{"cluster_id": cid, "record": i} for cid, c in zip(ids, new)
                                            for i in c.members])
    old = sorted(i for c in new for i in c.replaces)
    for start in range(0, len(old), 500):
        conn.execute(clusters.update().where(clusters.c.id.in_(old[start:start + 500])).values(undone_by=event))
    return ids


def run_dedup(review: Review, who: str | None = None, merge_abstracts: bool = False) -> DedupRun:
    """Deduplicate the review's records and store the clusters found and the queue, in one transaction.

    Re-running gives the same clusters and adds none (see the module's notes);
    records imported since are merged into the clusters they belong to.
    """
    who = who or default_who()
    with transaction(review) as conn:
        _lock(conn)
        records = _records(conn)
        active = _active(conn)
        decided, apart = _decided(conn)
        result = deduplicate(records, merge_abstracts=merge_abstracts, groups=[c.members for c in active],
                             apart=apart)
        queue = [link.to_dict() for link in result.queue if tuple(sorted(link.records)) not in decided]
        by_members = {c.members: c for c in active}
        of_record = {i: c for c in active for i in c.members}
        found = [c for c in result.clusters if c.members not in by_members]
        replaced = sum(len({of_record[i].id for i in c.members if i in of_record}) for c in found)
        event = log_event(conn, "dedup", {
            "records": result.records, "merge_abstracts": merge_abstracts, "clusters_added": len(found),
            "clusters_replaced": replaced, "duplicates_removed": result.duplicates_removed,
            "pairs_scored": result.pairs_scored, "queue": queue,
            "thresholds": {"auto_merge": AUTO_MERGE, "auto_title": AUTO_TITLE, "queue": QUEUE,
                           "min_title": MIN_TITLE, "min_words": MIN_WORDS}}, who)
        new = []
        for c in found:
            old = {of_record[i].id: of_record[i] for i in c.members if i in of_record}.values()
            new.append(_NewCluster(members=c.members, kept=_kept(records, c.members, old) if old else c.kept,
                                   replaces=tuple(o.id for o in old),
                                   links=[d for o in old for d in o.links] + [link.to_dict() for link in c.links]))
        _store_clusters(conn, new, event)
    return DedupRun(event_id=event, records=result.records, clusters=len(result.clusters), clusters_added=len(found),
                    clusters_replaced=replaced, duplicates_removed=result.duplicates_removed, queued=len(queue),
                    pairs_scored=result.pairs_scored, who=who)


def _queue(conn) -> list[dict]:
    import sqlalchemy as sa

    from .schema import events

    latest = conn.execute(sa.select(events.c.payload).where(events.c.kind == "dedup")
                          .order_by(events.c.id.desc()).limit(1)).scalar_one_or_none()
    if latest is None:
        return []
    decided, apart = _decided(conn)
    done = decided | apart
    together = {i: c.id for c in _active(conn) for i in c.members}

    def open_pair(a: int, b: int) -> bool:
        return (min(a, b), max(a, b)) not in done and (together.get(a) is None or together.get(a) != together.get(b))

    return [q for q in latest["queue"] if open_pair(*q["records"])]


def dedup_queue(review: Review) -> list[dict]:
    """The pairs waiting for a person: the latest run's queue, less pairs merged, kept apart or clustered since.

    Each pair is a :meth:`metapool.review.dedup.Link.to_dict` (its two
    records, the pass, the score, the evidence per field) with ``"shown"``:
    what a person needs to decide, for each of the two records its ``id``,
    source file, title, authors (the first three), year, journal, volume,
    pages and DOI.
    """
    import sqlalchemy as sa

    from .schema import records, sources

    with transaction(review, read_only=True) as conn:
        queue = _queue(conn)
        ids = sorted({i for q in queue for i in q["records"]})
        shown = {}
        for start in range(0, len(ids), 500):
            query = (sa.select(records.c.id, sources.c.file_name, records.c.title, records.c.authors, records.c.year,
                               records.c.journal, records.c.volume, records.c.pages, records.c.doi)
                     .join(sources, sources.c.id == records.c.source_id)
                     .where(records.c.id.in_(ids[start:start + 500])))
            for r in conn.execute(query):
                shown[r.id] = {"id": r.id, "source_file": r.file_name, "title": r.title, "authors": r.authors[:3],
                               "year": r.year, "journal": r.journal, "volume": r.volume, "pages": r.pages, "doi": r.doi}
    return [{**q, "shown": [shown[i] for i in q["records"]]} for q in queue]


def active_clusters(review: Review) -> list[ClusterRow]:
    """The clusters that count (not undone), with their members and the evidence of every link."""
    with transaction(review, read_only=True) as conn:
        return _active(conn)


def dedup_counts(conn) -> tuple[int, int]:
    """Records removed as duplicates (members of active clusters other than the kept one) and the queue's size.

    Kept in this process until an event other than a screening decision (:func:`~.store.kept`).
    """
    return kept(conn, ("dedup_counts",), _dedup_counts, only_kinds(DECISION_EVENTS))


def _dedup_counts(conn) -> tuple[int, int]:
    import sqlalchemy as sa

    from .schema import cluster_members, clusters

    members = conn.execute(sa.select(sa.func.count()).select_from(cluster_members)
                           .join(clusters, clusters.c.id == cluster_members.c.cluster_id)
                           .where(clusters.c.undone_by.is_(None))).scalar_one()
    return members - active_cluster_count(conn), len(_queue(conn))


def active_cluster_count(conn) -> int:
    """The number of active (not undone) duplicate clusters."""
    import sqlalchemy as sa

    from .schema import clusters

    return conn.execute(sa.select(sa.func.count()).select_from(clusters)
                        .where(clusters.c.undone_by.is_(None))).scalar_one()


def _check_records(records: dict[int, Record], ids: Iterable[int]) -> None:
    for i in ids:
        if i not in records:
            raise MetapoolError(f"record {i} is not in this review (record numbers are the `id` column of"
                                " `metapool review records`).")


def _pair(conn, a: int, b: int) -> dict[int, Record]:
    records = _records(conn)
    _check_records(records, (a, b))
    if a == b:
        raise MetapoolError(f"records {a} and {b} are the same record; name two records.")
    return records


def merge_records(review: Review, a: int, b: int, who: str | None = None) -> int:
    """Merge records ``a`` and ``b`` (and the clusters they are in) by hand; returns the new cluster's number.

    The link records the fuzzy score and field evidence of the pair, as the
    engine would have computed them, with method ``"manual"`` and who decided.
    """
    who = who or default_who()
    with transaction(review) as conn:
        _lock(conn)
        records = _pair(conn, a, b)
        of_record = {i: c for c in _active(conn) for i in c.members}
        if a in of_record and of_record.get(b) is of_record[a]:
            raise MetapoolError(f"records {a} and {b} are in one cluster already (cluster {of_record[a].id}).")
        old = [of_record[i] for i in (a, b) if i in of_record]
        members = {a, b}.union(*(c.members for c in old))
        score, fields = compare(records[a], records[b])
        event = log_event(conn, "merge", {"records": sorted((a, b))}, who)
        link = {**Link(records=tuple(sorted((a, b))), method="manual", score=score, fields=fields).to_dict(),
                "who": who}
        new = _NewCluster(members=tuple(sorted(members)), kept=_kept(records, members, old),
                          links=[d for c in old for d in c.links] + [link], replaces=tuple(c.id for c in old))
        return _store_clusters(conn, [new], event)[0]


def mark_not_duplicate(review: Review, a: int, b: int, who: str | None = None) -> int:
    """Record that ``a`` and ``b`` are not duplicates (kept apart from now on); returns the event's number."""
    with transaction(review) as conn:
        _lock(conn)
        _pair(conn, a, b)
        of_record = {i: c for c in _active(conn) for i in c.members}
        if a in of_record and of_record.get(b) is of_record[a]:
            raise MetapoolError(f"records {a} and {b} are in cluster {of_record[a].id}; undo it first with"
                                f" `metapool review undo-merge DIR {of_record[a].id}`.")
        return log_event(conn, "not-duplicate", {"records": sorted((a, b))}, who or default_who())


def undo_merge(review: Review, cluster: int, who: str | None = None) -> int:
    """Undo active cluster ``cluster``: a new ``unmerge`` event sets its ``undone_by``; returns the event's number."""
    from .schema import clusters

    with transaction(review) as conn:
        _lock(conn)
        row = next((c for c in _active(conn) if c.id == cluster), None)
        if row is None:
            raise MetapoolError(f"cluster {cluster} is not an active duplicate cluster of this review (see"
                                " `metapool review dedup DIR --clusters`).")
        event = log_event(conn, "unmerge", {"cluster": cluster, "records": list(row.members)}, who or default_who(),
                          undoes=row.event_id)
        conn.execute(clusters.update().where(clusters.c.id == cluster).values(undone_by=event))
        return event

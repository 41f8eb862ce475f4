"""Screening: decisions by stage and reviewer, their outcome, conflicts, agreement and each reviewer's queue.

The unit screened is a **screening unit**: the kept record of each active
(not undone) duplicate cluster, or a record in no cluster. Decisions are
stored on that record (``decisions.record``); a decision on a duplicate that
is not kept is refused with the kept record named. Decisions stored on a record
that a later merge made a non-kept duplicate stay in the database but no
longer count.

Stages (:data:`STAGES`) and their decisions (:data:`DECISIONS`):

- ``ta`` (title and abstract): ``include``, ``exclude`` (a reason is optional)
  or ``maybe``; ``include`` and ``maybe`` move a record forward to full text;
- ``ft`` (full text): ``include``, ``exclude`` (an exclusion reason code of
  ``review.toml`` is required) or ``not_retrieved``. A record reaches ``ft``
  only when its ``ta`` outcome moves it forward.

The **outcome** of a unit at a stage follows ``reviewers_per_record``
(``review.toml``): with 1 the first reviewer's decision is final; with 2 it
is pending until two reviewers decided, final when they agree and a conflict
when they disagree. At ``ta`` reviewers agree when both move the record forward
(include or maybe: ``maybe`` counts as include for moving forward; the outcome
of include + maybe is ``maybe``) or both exclude; at ``ft`` when they give the
same decision and, for an exclusion, the same reason (PRISMA counts full-text
exclusions per reason). A conflict is settled by a **resolution**: a third
decision entered with ``resolve=True`` (``--resolve``; the reviewer acting as
lead), which is final. A reviewer who changes a decision enters a new one: the
earlier row is kept and points at its successor (``superseded_by``); entering
the same decision again changes nothing. Each decision is logged as an event
(``decision`` or ``resolve``) with who and when.

Agreement per stage and reviewer pair is the raw agreement and Cohen's kappa
over the units both decided, on the categories that define a conflict
(``ta``: forward or exclude; ``ft``: include, exclude, not retrieved).

References
----------
Cohen J. A coefficient of agreement for nominal scales. Educ Psychol Meas
1960;20:37-46.
Higgins JPT, Thomas J, et al. (eds). Cochrane Handbook for Systematic Reviews
of Interventions, version 6.4, 2023, chapter 4 (selecting studies: two
independent screeners, disagreements resolved by discussion or a third person).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..exceptions import DataValidationError, MetapoolError
from .fitting import kept_ranking, ranking_scores, record_texts
from .store import DECISION_EVENTS, Review, as_utc, default_who, kept, log_event, transaction, utc_now

__all__ = ["STAGES", "DECISIONS", "FORWARD", "Vote", "UnitOutcome", "StageOutcomes", "Decision", "Agreement",
           "decide", "unit_outcome", "stage_outcomes", "conflicts", "cohen_kappa", "agreement", "queue", "next_unit",
           "ReviewerProgress", "reviewer_progress",
           "SHEET_COLUMNS", "reviewer_sheet", "import_decisions", "read_decisions_csv", "simulate_review"]

#: Screening stages: code and name.
STAGES = {"ta": "title and abstract", "ft": "full text"}

#: The decisions allowed at each stage.
DECISIONS = {"ta": ("include", "exclude", "maybe"), "ft": ("include", "exclude", "not_retrieved")}

#: Decisions that move a record forward (from ``ta`` to ``ft``; ``ft`` include: into the review).
FORWARD = frozenset({"include", "maybe"})


@dataclass(frozen=True)
class Vote:
    """One current (not superseded) decision on a unit: who screened, what, why, and whether it resolves a conflict."""

    reviewer: str
    decision: str
    reason: str | None = None
    resolution: bool = False


@dataclass(frozen=True)
class UnitOutcome:
    """A unit at a stage: ``state`` is pending, conflict or final; ``decision`` and ``reason`` are the final ones."""

    record: int
    stage: str
    state: str
    decision: str | None
    reason: str | None
    votes: tuple[Vote, ...]


@dataclass(frozen=True)
class StageOutcomes:
    """Every unit eligible at a stage (``ta``: all units; ``ft``: those moved forward at ``ta``) and its outcome."""

    stage: str
    units: tuple[UnitOutcome, ...]

    def counts(self) -> dict:
        """Units eligible, pending, in conflict, decided, and final outcomes per decision (and per reason)."""
        final = [u for u in self.units if u.state == "final"]
        return {"stage": self.stage, "eligible": len(self.units),
                "pending": sum(u.state == "pending" for u in self.units),
                "conflicts": sum(u.state == "conflict" for u in self.units), "final": len(final),
                "decisions": {d: sum(u.decision == d for u in final) for d in DECISIONS[self.stage]},
                "reasons": dict(sorted(Counter(u.reason for u in final
                                               if u.decision == "exclude" and u.reason).items()))}


@dataclass(frozen=True)
class Decision:
    """A decision as stored (``changed`` False: the same decision was already current, nothing was written)."""

    id: int
    record: int
    stage: str
    reviewer: str
    decision: str
    reason: str | None
    note: str | None
    resolution: bool
    supersedes: int | None
    who: str
    at: dt.datetime
    changed: bool = True


@dataclass(frozen=True)
class Agreement:
    """Agreement of two reviewers at a stage over the ``units`` both decided: raw agreement and Cohen's kappa.

    ``table`` counts the units per pair of categories (``"forward / exclude"``: the first reviewer's, then the
    second's); ``kappa`` is NaN where it is not defined (see :func:`cohen_kappa`).
    """

    stage: str
    reviewers: tuple[str, str]
    units: int
    agreed: int
    raw: float
    kappa: float
    table: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"stage": self.stage, "reviewers": list(self.reviewers), "units": self.units, "agreed": self.agreed,
                "raw": self.raw, "kappa": None if self.kappa != self.kappa else self.kappa, "table": self.table}


# --- pure rules ----------------------------------------------------------------------------------------------------

def _category(stage: str, vote: Vote):
    """What two reviewers must share to agree (see the module docstring)."""
    if stage == "ta":
        return "forward" if vote.decision in FORWARD else "exclude"
    return (vote.decision, vote.reason) if vote.decision == "exclude" else vote.decision


def unit_outcome(record: int, stage: str, votes: Sequence[Vote], reviewers_per_record: int) -> UnitOutcome:
    """The outcome of one unit at ``stage`` from its current ``votes`` (in the order they were made)."""
    votes = tuple(votes)
    resolved = [v for v in votes if v.resolution]
    if resolved:
        return UnitOutcome(record, stage, "final", resolved[-1].decision, resolved[-1].reason, votes)
    screens = [v for v in votes if not v.resolution]
    if len(screens) < reviewers_per_record:
        return UnitOutcome(record, stage, "pending", None, None, votes)
    if len({_category(stage, v) for v in screens}) > 1:
        return UnitOutcome(record, stage, "conflict", None, None, votes)
    decisions = {v.decision for v in screens}
    decision = decisions.pop() if len(decisions) == 1 else "maybe"  # ta: include + maybe
    reasons = {v.reason for v in screens}
    return UnitOutcome(record, stage, "final", decision, reasons.pop() if len(reasons) == 1 else None, votes)


def cohen_kappa(a: Sequence, b: Sequence) -> float:
    """Cohen's kappa of two raters' labels of the same items: (p_o - p_e) / (1 - p_e).

    ``p_o`` is the share of items given the same label, ``p_e`` the agreement
    expected by chance, the sum over labels of the product of the two raters'
    shares (Cohen 1960). NaN when ``p_e`` is 1 (both raters gave one and the
    same label to every item) or there are no items.
    """
    n = len(a)
    if n == 0 or n != len(b):
        return float("nan")
    p_o = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    p_e = sum(ca[k] * cb[k] for k in ca) / n**2
    return float("nan") if p_e == 1 else (p_o - p_e) / (1 - p_e)


# --- reading the database ------------------------------------------------------------------------------------------

def _active_members():
    import sqlalchemy as sa

    from .schema import cluster_members, clusters

    return (sa.select(cluster_members.c.record, clusters.c.kept_record, clusters.c.id.label("cluster"))
            .join(clusters, clusters.c.id == cluster_members.c.cluster_id)
            .where(clusters.c.undone_by.is_(None)).subquery())


def _units(conn) -> list[int]:
    """The screening units' record ids, in import order."""
    import sqlalchemy as sa

    from .schema import records

    active = _active_members()
    query = (sa.select(records.c.id).outerjoin(active, active.c.record == records.c.id)
             .where(sa.or_(active.c.record.is_(None), active.c.kept_record == records.c.id)).order_by(records.c.id))
    return list(conn.execute(query).scalars())


def _current(stage: str, record: int | None = None):
    """The query of the current (not superseded) decisions at ``stage`` (of one ``record``), with their event's kind."""
    import sqlalchemy as sa

    from .schema import decisions, events

    query = (sa.select(decisions, events.c.kind).join(events, events.c.id == decisions.c.event_id)
             .where(decisions.c.stage == stage, decisions.c.superseded_by.is_(None), decisions.c.record.is_not(None)))
    return (query if record is None else query.where(decisions.c.record == record)).order_by(decisions.c.id)


def _vote(row) -> Vote:
    return Vote(row.reviewer, row.decision, row.reason, row.kind == "resolve")


def _votes(conn, stage: str, records: Iterable[int] | None = None) -> dict[int, list[Vote]]:
    """Current decisions at ``stage`` per record (of ``records`` only, when given), in the order they were made."""
    from .schema import decisions

    query = _current(stage)
    if records is not None:
        query = query.where(decisions.c.record.in_(sorted(records)))
    out: dict[int, list[Vote]] = {}
    for r in conn.execute(query):
        out.setdefault(r.record, []).append(_vote(r))
    return out


#: Kept outcomes are brought up to date record by record after decisions (:func:`_updated`); past this many
#: records decided since, they are read again.
_UPDATE_MAX = 500


def _outcomes(conn, review: Review, stage: str) -> dict[int, UnitOutcome]:
    """Outcome of every unit eligible at ``stage``, by record id (in import order).

    Kept in this process with the event log's version (:func:`~.store.kept`):
    decisions made since update their records only (:func:`_updated`), so
    that a long-running app does not read every decision again on every page.
    The result is the caller's own dict.
    """
    n = review.config.reviewers_per_record
    return dict(kept(conn, ("outcomes", stage, n), lambda c: _read_outcomes(c, review, stage),
                     lambda held, new: _updated(conn, review, stage, held, new)))


def _read_outcomes(conn, review: Review, stage: str) -> dict[int, UnitOutcome]:
    """:func:`_outcomes` read from the database, every unit and every decision."""
    units = _units(conn)
    if stage == "ft":
        ta = _outcomes(conn, review, "ta")
        units = [u for u in units if (o := ta.get(u)) is not None and o.state == "final" and o.decision in FORWARD]
    votes = _votes(conn, stage)
    n = review.config.reviewers_per_record
    return {u: unit_outcome(u, stage, votes.get(u, ()), n) for u in units}


def _updated(conn, review: Review, stage: str, held: dict, new) -> dict[int, UnitOutcome] | None:
    """The ``held`` outcomes brought up to date with the ``new`` events (None: read them all again).

    Only decisions may have come since: each changes the outcome of its own
    record only (:func:`unit_outcome`), so those records' votes are read again;
    at ``ft``, a title/abstract decision can also move its record to or from full text.
    """
    if any(e.kind not in DECISION_EVENTS for e in new):
        return None
    touched = {e.payload["record"] for e in new if e.payload["stage"] == stage}
    moved = {e.payload["record"] for e in new if e.payload["stage"] == "ta"} if stage == "ft" else set()
    if len(touched | moved) > _UPDATE_MAX:
        return None
    outcomes = dict(held)
    if moved:
        ta = _outcomes(conn, review, "ta")
        if not moved <= ta.keys():  # merged away since (PostgreSQL reads each statement's own snapshot)
            return None
        for record in moved:
            if ta[record].state == "final" and ta[record].decision in FORWARD:
                outcomes.setdefault(record, None)
            else:
                outcomes.pop(record, None)
    touched = (touched & outcomes.keys()) | {r for r, o in outcomes.items() if o is None}
    votes = _votes(conn, stage, touched) if touched else {}
    n = review.config.reviewers_per_record
    for record in touched:
        outcomes[record] = unit_outcome(record, stage, votes.get(record, ()), n)
    return dict(sorted(outcomes.items())) if outcomes.keys() - held.keys() else outcomes


def _check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise DataValidationError(f"stage {stage!r} is not a screening stage; use one of: {', '.join(STAGES)}.")


def stage_outcomes(review: Review, stage: str) -> StageOutcomes:
    """The outcome (pending, conflict, final decision and reason) of every unit eligible at ``stage``."""
    _check_stage(stage)
    with transaction(review, read_only=True) as conn:
        return StageOutcomes(stage, tuple(_outcomes(conn, review, stage).values()))


def stage_counts(conn, review: Review) -> tuple[dict, ...]:
    """:meth:`StageOutcomes.counts` of each stage, read on ``conn`` (for ``review status``)."""
    return tuple(StageOutcomes(s, tuple(_outcomes(conn, review, s).values())).counts() for s in STAGES)


def conflicts(review: Review, stage: str) -> tuple[UnitOutcome, ...]:
    """Units in conflict at ``stage`` (two reviewers disagree and no resolution yet)."""
    return tuple(u for u in stage_outcomes(review, stage).units if u.state == "conflict")


def agreement(review: Review) -> tuple[Agreement, ...]:
    """Raw agreement and Cohen's kappa per stage and reviewer pair, over the units both reviewers decided."""
    out = []
    with transaction(review, read_only=True) as conn:
        for stage in STAGES:
            labels: dict[str, dict[int, object]] = {}
            for unit in _outcomes(conn, review, stage).values():
                for v in unit.votes:
                    if not v.resolution:
                        labels.setdefault(v.reviewer, {})[unit.record] = _category(stage, v)
            names = sorted(labels)
            for i, a in enumerate(names):
                for b in names[i + 1:]:
                    both = sorted(set(labels[a]) & set(labels[b]))
                    if not both:
                        continue
                    la, lb = [labels[a][u] for u in both], [labels[b][u] for u in both]
                    agreed = sum(x == y for x, y in zip(la, lb))
                    table = Counter(f"{x} / {y}" for x, y in zip(map(_label, la), map(_label, lb)))
                    out.append(Agreement(stage, (a, b), len(both), agreed, agreed / len(both), cohen_kappa(la, lb),
                                         dict(sorted(table.items()))))
    return tuple(out)


def _label(category) -> str:
    return ":".join(category) if isinstance(category, tuple) else category


# --- deciding ------------------------------------------------------------------------------------------------------

def _check_unit(conn, record: int) -> None:
    """``record`` exists and is a screening unit; its row is locked until the transaction ends (PostgreSQL)."""
    import sqlalchemy as sa

    from .schema import records

    found = conn.execute(sa.select(records.c.id).where(records.c.id == record).with_for_update()).first()
    if found is None:
        last = conn.execute(sa.select(sa.func.max(records.c.id))).scalar_one()
        held = f"its records are 1 to {last}" if last else "it holds no records yet"
        raise DataValidationError(f"record {record} is not in the review ({held}).")
    active = _active_members()
    row = conn.execute(sa.select(active).where(active.c.record == record)).first()
    if row is not None and row.kept_record != record:
        raise DataValidationError(f"record {record} is a duplicate in cluster {row.cluster}, screened as its kept"
                                  f" record {row.kept_record}; decide on record {row.kept_record}.")


def _check_decision(review: Review, stage: str, decision: str, reason: str | None) -> None:
    _check_stage(stage)
    if decision not in DECISIONS[stage]:
        raise DataValidationError(f"decision {decision!r} is not one of {', '.join(DECISIONS[stage])} at stage {stage}"
                                  f" ({STAGES[stage]}).")
    codes = [r.code for r in review.config.exclusion_reasons]
    if reason is not None and decision != "exclude":
        raise DataValidationError(f"a reason is given with {decision!r}; reasons go with exclude only.")
    if reason is None and decision == "exclude" and stage == "ft":
        raise DataValidationError(f"exclude at full text needs a reason: one of {', '.join(codes) or 'none yet'}"
                                  f" ([[exclusion_reasons]] in {review.config_path.name}).")
    if reason is not None and reason not in codes:
        raise DataValidationError(f"reason {reason!r} is not an exclusion reason of {review.config_path.name}"
                                  f" (its codes: {', '.join(codes) or 'none yet'}).")


def _decide(conn, review: Review, record: int, stage: str, reviewer: str, decision: str, reason: str | None,
            note: str | None, who: str, resolve: bool) -> Decision:
    from .schema import decisions

    if not isinstance(reviewer, str) or not reviewer.strip():
        raise DataValidationError("a decision needs the reviewer's name.")
    reviewer = reviewer.strip()
    _check_decision(review, stage, decision, reason)
    _check_unit(conn, record)
    if stage == "ft":
        ta = unit_outcome(record, "ta", [_vote(r) for r in conn.execute(_current("ta", record))],
                          review.config.reviewers_per_record)
        if ta.state != "final" or ta.decision not in FORWARD:
            now = f"{ta.state}" if ta.state != "final" else f"{ta.decision} at ta"
            raise DataValidationError(f"record {record} is not forward to full text: its title/abstract outcome is"
                                      f" {now} (full text screens records included or maybe at ta).")
    current = conn.execute(_current(stage, record)).all()
    votes = [_vote(r) for r in current]
    outcome = unit_outcome(record, stage, votes, review.config.reviewers_per_record)
    if resolve:
        mine = [r for r in current if r.kind == "resolve"]
        if not mine and outcome.state != "conflict":
            raise DataValidationError(f"record {record} has no conflict at {stage} to resolve (it is {outcome.state}).")
    else:
        mine = [r for r in current if r.reviewer == reviewer and r.kind != "resolve"]
        others = sorted({v.reviewer for v in votes if not v.resolution} - {reviewer})
        if not mine and len(others) >= review.config.reviewers_per_record:
            raise DataValidationError(
                f"record {record} already has its {len(others)} decision{'s' * (len(others) > 1)} at {stage} (by"
                f" {', '.join(others)}; reviewers_per_record = {review.config.reviewers_per_record}); a conflict is"
                " settled with a resolution (--resolve).")
    old = mine[-1] if mine else None
    if old is not None and (old.decision, old.reason, old.note) == (decision, reason, note):
        return Decision(old.id, record, stage, old.reviewer, decision, reason, note, resolve, None, old.who,
                        as_utc(old.at), changed=False)
    payload = {"record": record, "stage": stage, "reviewer": reviewer, "decision": decision, "reason": reason,
               "supersedes": old.id if old is not None else None}
    # one of store.DECISION_EVENTS, which kept outcomes follow record by record (_updated)
    event = log_event(conn, "resolve" if resolve else "decision", payload, who)
    at = utc_now()
    new = conn.execute(decisions.insert().values(record=record, stage=stage, reviewer=reviewer, decision=decision,
                                                 reason=reason, note=note, event_id=event, who=who, at=at)
                       ).inserted_primary_key[0]
    if old is not None:
        conn.execute(decisions.update().where(decisions.c.id == old.id).values(superseded_by=new))
    return Decision(new, record, stage, reviewer, decision, reason, note, resolve, old.id if old is not None else None,
                    who, at)


def decide(review: Review, record: int, stage: str, reviewer: str, decision: str, reason: str | None = None,
           note: str | None = None, who: str | None = None, resolve: bool = False) -> Decision:
    """Record ``reviewer``'s ``decision`` on the screening unit ``record`` at ``stage``, in one transaction.

    Parameters
    ----------
    review
        The open review.
    record
        The record's number in the review (``records.id``; the ``id`` column of ``review records``).
    stage, decision
        ``ta``: include, exclude or maybe; ``ft``: include, exclude or not_retrieved.
    reason
        The code of an exclusion reason of ``review.toml``: optional with exclude at ``ta``, required at ``ft``;
        not allowed with other decisions.
    note
        Free text kept with the decision.
    who
        Who enters the decision (default: the operating-system user).
    resolve
        The decision settles a conflict (the reviewer acts as lead); it is final.

    Returns
    -------
    Decision
        The stored decision; ``changed`` is False when the same decision was current already.

    Raises
    ------
    MetapoolError
        An unknown record, a duplicate that is not kept, a bad stage, decision
        or reason, a full-text decision on a record not forward from ``ta``, a
        third reviewer, or a resolution without a conflict. Nothing is stored.
    """
    with transaction(review) as conn:
        return _decide(conn, review, record, stage, reviewer, decision, reason, note, who or default_who(), resolve)


# --- each reviewer's queue, in relevance order ---------------------------------------------------------------------

def _relevant(stage: str, unit: UnitOutcome) -> bool | None:
    """What the ranking learns from a unit: relevant, irrelevant, or None (no decision, or not retrieved only)."""
    votes = [v.decision for v in unit.votes if v.decision != "not_retrieved"]
    if unit.state == "final" and unit.decision != "not_retrieved":
        return unit.decision in FORWARD
    return any(d in FORWARD for d in votes) if votes else None


def _queue(conn, review: Review, stage: str, reviewer: str,
           background: bool = False) -> tuple[list[int], dict[int, UnitOutcome]]:
    """``reviewer``'s units left at ``stage`` in relevance order, and the outcomes.

    ``background``: see :func:`~.fitting.ranking_scores`.
    """
    from .ranking import by_relevance

    outcomes = _outcomes(conn, review, stage)
    todo = [u for u, o in outcomes.items() if o.state == "pending" and all(v.reviewer != reviewer for v in o.votes)]
    if not todo:
        return [], outcomes
    ranking = kept_ranking(conn, review)
    row = ranking.row
    labels = {row[u]: rel for u, o in outcomes.items() if (rel := _relevant(stage, o)) is not None}
    scores = ranking_scores(ranking, stage, labels, background)
    return by_relevance(todo, None if scores is None else {u: scores[row[u]] for u in todo}), outcomes


def queue(review: Review, stage: str, reviewer: str) -> list[int]:
    """The units ``reviewer`` has still to screen at ``stage``, most likely relevant first.

    The ranking (:mod:`metapool.review.ranking`) is refitted on every
    decision made at the stage so far; before one relevant and one irrelevant
    decision exist the order is the review's (import order). Units already
    decided by the reviewer, final or in conflict are not in the queue.
    """
    _check_stage(stage)
    with transaction(review, read_only=True) as conn:
        return _queue(conn, review, stage, reviewer)[0]


def next_unit(review: Review, stage: str, reviewer: str) -> int | None:
    """The record ``reviewer`` should screen next at ``stage`` (None: nothing left)."""
    found = queue(review, stage, reviewer)
    return found[0] if found else None


@dataclass(frozen=True)
class ReviewerProgress:
    """Where one reviewer stands at a stage, read from the database (so a reload or a restart resumes there).

    ``eligible`` units are at the stage, ``screened`` of them carry a current
    decision of the reviewer, ``queue`` holds the units left to them, most
    likely relevant first (:func:`queue`); ``mine`` maps each unit they
    decided to their current vote, and ``last`` is the unit of their latest
    decision (None before the first).
    """

    stage: str
    reviewer: str
    eligible: int
    screened: int
    queue: tuple[int, ...]
    mine: dict[int, Vote]
    last: int | None

    @property
    def next(self) -> int | None:
        """The unit to screen next (None: nothing left for this reviewer)."""
        return self.queue[0] if self.queue else None


def reviewer_progress(review: Review, stage: str, reviewer: str, background_fit: bool = False) -> ReviewerProgress:
    """``reviewer``'s progress at ``stage``: counts, queue in relevance order and latest decision (one read).

    With ``background_fit`` (a long-running app) the queue is ordered by the
    ranking's last fit while a fit on the decisions made since runs in the
    background, so that the call never waits for a fit; without it (the
    command line) the ranking is fitted on every decision first.
    """
    import sqlalchemy as sa

    from .schema import decisions

    _check_stage(stage)
    with transaction(review, read_only=True) as conn:
        todo, outcomes = _queue(conn, review, stage, reviewer, background_fit)
        latest_first = conn.execute(sa.select(decisions.c.record).where(
            decisions.c.stage == stage, decisions.c.reviewer == reviewer, decisions.c.superseded_by.is_(None))
            .order_by(decisions.c.id.desc())).scalars()
        mine = {u.record: v for u in outcomes.values() for v in u.votes if v.reviewer == reviewer and not v.resolution}
        last = next((r for r in latest_first if r in mine), None)  # a decision on a unit merged away does not count
    return ReviewerProgress(stage, reviewer, len(outcomes), len(mine), tuple(todo), mine, last)


#: Columns of a reviewer's sheet (``review export``); ``decision``, ``reason`` and ``note`` are read back.
SHEET_COLUMNS = ("id", "record_id", "title", "abstract", "keywords", "decision", "reason", "note")


def reviewer_sheet(review: Review, stage: str, reviewer: str) -> list[dict]:
    """``reviewer``'s sheet at ``stage``: the queue in relevance order (decision empty), then the units they decided.

    Each row holds :data:`SHEET_COLUMNS`; keywords are joined with ``"; "``.
    """
    import sqlalchemy as sa

    from .schema import decisions, records

    _check_stage(stage)
    with transaction(review, read_only=True) as conn:
        todo, outcomes = _queue(conn, review, stage, reviewer)
        mine = {r.record: r for r in conn.execute(sa.select(decisions).where(
            decisions.c.stage == stage, decisions.c.reviewer == reviewer, decisions.c.superseded_by.is_(None)))
            if r.record in outcomes}
        ids = todo + sorted(mine)
        wanted = set(ids)
        rows = {r.id: r for r in conn.execute(sa.select(records)) if r.id in wanted}
    out = []
    for i in ids:
        r, d = rows[i], mine.get(i)
        out.append({"id": i, "record_id": r.record_id, "title": r.title, "abstract": r.abstract,
                    "keywords": "; ".join(r.keywords), "decision": d.decision if d else "",
                    "reason": (d.reason or "") if d else "", "note": (d.note or "") if d else ""})
    return out


# --- decisions from a spreadsheet ----------------------------------------------------------------------------------

def read_decisions_csv(path: str | Path) -> list[tuple[int, dict]]:
    """The rows of a decisions CSV (a sheet of ``review export``), each with its line number in the file.

    Needs the columns ``id`` and ``decision``; ``reason`` and ``note`` are read when present.
    """
    from ..io.decoding import decode_text, read_bytes

    path = Path(path)
    text = decode_text(read_bytes(path, "Decisions file"), path.name).text
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in ("id", "decision") if c not in (reader.fieldnames or ())]
    if missing:
        raise DataValidationError(f"{path.name}: no column {', '.join(missing)} (its columns:"
                                  f" {', '.join(reader.fieldnames or ()) or 'none'}); a sheet of `review export`"
                                  " has them.")
    return [(reader.line_num, row) for row in reader]


def _unguard(text: str) -> str:
    """A cell as written before ``safe_cell`` guarded it (a ``'`` before a formula-like start)."""
    return text[1:] if text.startswith("'") and text[1:2] in ("=", "+", "-", "@") else text


def import_decisions(review: Review, rows: Iterable[tuple[int, Mapping]], stage: str, reviewer: str,
                     who: str | None = None, source: str = "decisions") -> tuple[Decision, ...]:
    """Store the decisions of a spreadsheet's ``rows`` (line number, row), all or none, in one transaction.

    Rows with an empty ``decision`` are skipped. An id that is not a number or
    not a screening unit, a bad decision or reason, a record that appears twice
    with different decisions, and every refusal of :func:`decide` are errors
    naming ``source`` and the row; then nothing is stored. Returns the
    decisions that changed something.
    """
    _check_stage(stage)
    seen: dict[int, tuple[int, tuple]] = {}
    wanted = []
    for line, row in rows:
        decision = (row.get("decision") or "").strip().lower()
        if not decision:
            continue
        where = f"{source}: row {line}"
        raw_id = (row.get("id") or "").strip()
        if not raw_id.isdigit():
            raise DataValidationError(f"{where}: id {raw_id!r} is not a record number of the review.")
        record = int(raw_id)
        reason = (row.get("reason") or "").strip() or None
        note = _unguard((row.get("note") or "").strip()) or None
        key = (decision, reason, note)
        if record in seen and seen[record][1] != key:
            raise DataValidationError(f"{where}: record {record} appears again with another decision (row"
                                      f" {seen[record][0]}: {'/'.join(filter(None, seen[record][1][:2]))}; here:"
                                      f" {'/'.join(filter(None, key[:2]))}); give one decision per record.")
        if record not in seen:
            seen[record] = (line, key)
            wanted.append((where, record, decision, reason, note))
    who = who or default_who()
    stored = []
    with transaction(review) as conn:
        for where, record, decision, reason, note in wanted:
            try:
                done = _decide(conn, review, record, stage, reviewer, decision, reason, note, who, resolve=False)
            except MetapoolError as exc:
                raise DataValidationError(f"{where}: {exc} Nothing was imported.") from None
            if done.changed:
                stored.append(done)
    return tuple(stored)


# --- simulation on a screened review -------------------------------------------------------------------------------

def simulate_review(review: Review, stage: str = "ta", stop_after: int | None = None, retrain_every: int = 1):
    """Replay a fully screened stage in ranking order (:func:`metapool.review.ranking.simulate`).

    Relevant are the units moved forward (``ta``: include or maybe; ``ft``:
    include); units only marked not retrieved are left out. Every eligible
    unit must be final: pending units and conflicts are an error that counts them.
    The result's ``order`` holds record ids.
    """
    from dataclasses import replace

    from .ranking import STOP_AFTER, simulate

    result = stage_outcomes(review, stage)
    open_units = Counter(u.state for u in result.units if u.state != "final")
    if open_units:
        raise MetapoolError(f"stage {stage} is not fully screened: {open_units['pending']} records pending and"
                            f" {open_units['conflict']} in conflict; simulate replays a finished stage.")
    units = [u for u in result.units if u.decision != "not_retrieved"]
    relevant = [u.decision in FORWARD for u in units]
    if not any(relevant):
        raise MetapoolError(f"stage {stage} has no record moved forward; recall is undefined, nothing to simulate.")
    with transaction(review, read_only=True) as conn:
        texts = record_texts(conn, [u.record for u in units])
    sim = simulate([texts[u.record] for u in units], relevant, STOP_AFTER if stop_after is None else stop_after,
                   retrain_every)
    return replace(sim, order=tuple(units[i].record for i in sim.order))

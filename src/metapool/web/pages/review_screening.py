"""Screening in the browser: one record at a time, conflicts for the lead, agreement between reviewers.

The reviewer is the signed-in user (:func:`.review.reviewer_of`). Each decision is one POST that
:func:`metapool.review.screening.decide` stores as an event in one transaction, so two reviewers
screening at once lose nothing, and the record shown next is read from the database
(:func:`~metapool.review.screening.reviewer_progress`: the reviewer's queue in relevance order), so a
reload, a closed browser or a restarted server resumes at the reviewer's next unscreened record
(the best one no other reviewer has on screen or just decided: :mod:`metapool.web.onscreen`).
Keyboard shortcuts (I, E, M, N, U) are in ``static/screening.js``; every action is also a button.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from ...exceptions import DataValidationError
from ..fields import whole_number
from ..highlight import highlight, keyword_pattern
from ..security import read_form, require_role
from ..templating import render
from .review import (int_field, open_folder, quote_path, review_command, review_context, reviewer_of, run,
                     text_field, who_of)

#: What each decision is called on its button, and its key (screening.js reads ``data-key``).
LABELS = {"include": ("Include", "I"), "exclude": ("Exclude", "E"), "maybe": ("Maybe", "M"),
          "not_retrieved": ("Not retrieved", "N")}


def _stage(value: str | None) -> str:
    from ...review.screening import STAGES

    stage = value or "ta"
    if stage not in STAGES:
        raise DataValidationError(f"Stage {stage!r} is not a screening stage ({', '.join(STAGES)}).")
    return stage


def _screen_url(rel: str, stage: str, record: int | None = None) -> str:
    return f"/review/screen?path={quote_path(rel)}&stage={stage}" + (f"&record={record}" if record is not None else "")


def _decision_context(review, stage: str) -> dict:
    from ...review.screening import DECISIONS, STAGES

    return {"stage": stage, "stages": STAGES, "decisions": [(d, *LABELS[d]) for d in DECISIONS[stage]],
            "reasons": review.config.exclusion_reasons}


async def screen(request: Request):
    from ...review.screening import reviewer_progress
    from ...review.status import read_record

    review, rel = open_folder(request, request.query_params.get("path"))
    stage = _stage(request.query_params.get("stage"))
    reviewer = reviewer_of(request)
    progress = await run(reviewer_progress, review, stage, reviewer, background_fit=True)
    asked = request.query_params.get("record")
    if asked is not None:
        if whole_number(asked) not in (*progress.mine, *progress.queue):
            raise DataValidationError(f"Record {asked!r} is not one you can screen at {stage} (not in your queue"
                                      " and not decided by you).")
        unit = whole_number(asked)
    else:
        unit = request.app.state.on_screen.pick(str(review.folder), stage, reviewer, progress.queue)
    record = await run(read_record, review, unit) if unit is not None else None
    pattern = keyword_pattern(review.config.keywords)
    shown = None if record is None else {
        **record, "title_html": highlight(record["title"] or "(no title)", pattern),
        "abstract_html": highlight(record["abstract"], pattern) if record["abstract"] else None,
        "keywords_html": highlight("; ".join(record["keywords"]), pattern)}
    mine = progress.mine.get(unit) if unit is not None else None
    example = str(unit) if unit is not None else "RECORD"
    return render(request, "review_screen.html", {
        **review_context(request, review, rel), **_decision_context(review, stage), "progress": progress,
        "record": shown, "unit": unit, "mine": mine, "done_pct": round(100 * progress.screened / progress.eligible)
        if progress.eligible else 100,
        "undo_url": _screen_url(rel, stage, progress.last) if progress.last is not None else None,
        "next_url": _screen_url(rel, stage),
        "reproduce": {"command": "\n".join([
            review_command(rel, "screen", example, "include", "--stage", stage, "--reviewer", reviewer),
            review_command(rel, "export", "--stage", stage, "--reviewer", reviewer, "-o", "my-queue.csv")])}})


def _reason(form) -> str | None:
    return text_field(form, "reason") or None


async def decide(request: Request):
    """One decision of the signed-in reviewer; then the next record (303)."""
    from ...review.screening import decide as store

    form = await read_form(request)
    review, rel = open_folder(request, text_field(form, "path"))
    stage = _stage(text_field(form, "stage"))
    decision = text_field(form, "decision")
    reason = _reason(form) if decision == "exclude" else None
    record = int_field(form, "record")
    await run(store, review, record, stage, reviewer_of(request), decision, reason=reason,
              note=text_field(form, "note") or None, who=who_of(request))
    request.app.state.on_screen.decided(str(review.folder), stage, reviewer_of(request), record)
    return RedirectResponse(_screen_url(rel, stage), 303)


async def conflicts(request: Request):
    from ...review.screening import conflicts as find
    from ...review.status import read_record

    review, rel = open_folder(request, request.query_params.get("path"))
    stage = _stage(request.query_params.get("stage"))
    found = await run(find, review, stage)
    shown = [{"unit": u, "record": await run(read_record, review, u.record)} for u in found[:50]]
    example = str(found[0].record) if found else "RECORD"
    return render(request, "review_conflicts.html", {
        **review_context(request, review, rel), **_decision_context(review, stage), "conflicts": shown,
        "total": len(found), "resolved": request.query_params.get("resolved"),
        "reproduce": {"command": "\n".join([
            review_command(rel, "conflicts", "--stage", stage),
            review_command(rel, "screen", example, "include", "--stage", stage, "--reviewer", reviewer_of(request),
                           "--resolve")])}})


async def resolve(request: Request):
    """The lead settles a conflict: a final decision (``review screen --resolve``)."""
    from ...review.screening import decide as store

    form = await read_form(request)
    require_role(request, "lead")
    review, rel = open_folder(request, text_field(form, "path"))
    stage = _stage(text_field(form, "stage"))
    record = int_field(form, "record")
    decision = text_field(form, "decision")
    await run(store, review, record, stage, reviewer_of(request), decision,
              reason=_reason(form) if decision == "exclude" else None, who=who_of(request), resolve=True)
    return RedirectResponse(f"/review/conflicts?path={quote_path(rel)}&stage={stage}&resolved={record}", 303)


async def agreement(request: Request):
    from ...review.screening import STAGES, agreement as measure

    review, rel = open_folder(request, request.query_params.get("path"))
    found = await run(measure, review)
    return render(request, "review_agreement.html", {
        **review_context(request, review, rel), "agreement": found, "stages": STAGES,
        "reproduce": {"command": review_command(rel, "agreement")}})


ROUTES = [
    Route("/review/screen", screen, name="review_screen"),
    Route("/review/decide", decide, methods=["POST"]),
    Route("/review/conflicts", conflicts, name="review_conflicts"),
    Route("/review/resolve", resolve, methods=["POST"]),
    Route("/review/agreement", agreement, name="review_agreement"),
]

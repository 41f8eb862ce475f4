"""The deduplication queue: run the passes, then decide pair by pair (merge / not a duplicate / skip), undo a merge.

The functions are those of ``metapool review dedup``, ``merge``, ``not-duplicate`` and ``undo-merge``
(:mod:`metapool.review.duplicates`); the page shows the two records of a queued pair side by side,
field by field, with the fields that differ marked in words and colour, and the engine's evidence.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from ..fields import whole_number
from ..security import read_form, require_role
from ..templating import render
from .review import (int_field, open_folder, quote_path, review_command, review_context, run, run_long, text_field,
                     who_of)

#: The fields shown side by side: (key of the queue's ``shown`` records, label, key of the engine's evidence).
FIELDS = (("title", "Title", "title"), ("authors", "Authors (first three)", "authors"), ("year", "Year", "year"),
          ("journal", "Journal", "journal"), ("volume", "Volume", "volume"), ("pages", "Pages", "pages"),
          ("doi", "DOI", None), ("source_file", "File", None), ("id", "Record", None))


def _cell(value) -> str:
    return "; ".join(value) if isinstance(value, list) else "" if value is None else str(value)


def pair_rows(pair: dict) -> list[dict]:
    """The rows of one queued pair: label, the two values, whether they differ, the engine's evidence."""
    a, b = pair["shown"]
    rows = []
    for key, label, evidence in FIELDS:
        left, right = _cell(a[key]), _cell(b[key])
        differs = key != "id" and left.casefold() != right.casefold()
        rows.append({"label": label, "a": left, "b": right, "differs": differs,
                     "evidence": pair["fields"].get(evidence) if evidence else None})
    return rows


async def dedup(request: Request):
    require_role(request, "lead")  # duplicates and the study table are the lead's (docs/web.md)
    from ...review.duplicates import active_clusters, dedup_queue

    review, rel = open_folder(request, request.query_params.get("path"))
    queue = await run(dedup_queue, review)
    skip = request.query_params.get("skip", "0")
    skip = whole_number(skip) % len(queue) if whole_number(skip) is not None and queue else 0
    pair = queue[skip] if queue else None
    clusters = [c for c in await run(active_clusters, review) if "manual" in c.method.split("+")]
    merged, ran = request.query_params.get("merged", ""), request.query_params.get("ran", "").split("-")
    a, b = pair["records"] if pair else ("A", "B")
    return render(request, "review_dedup.html", {
        **review_context(request, review, rel), "queue": queue, "pair": pair, "skip": skip,
        "rows": pair_rows(pair) if pair else [], "manual": clusters[-20:],
        "merged": merged if whole_number(merged) is not None else None,
        "ran": [whole_number(n) for n in ran] if len(ran) == 2 and None not in map(whole_number, ran) else None,
        "reproduce": {"command": "\n".join([review_command(rel, "dedup"), review_command(rel, "dedup", "--queue"),
                                            review_command(rel, "merge", str(a), str(b)),
                                            review_command(rel, "not-duplicate", str(a), str(b)),
                                            review_command(rel, "undo-merge", "CLUSTER")])}})


def _back(rel: str, **params) -> RedirectResponse:
    extra = "".join(f"&{k}={v}" for k, v in params.items() if v is not None)
    return RedirectResponse(f"/review/dedup?path={quote_path(rel)}{extra}", 303)


async def run_passes(request: Request):
    require_role(request, "lead")  # duplicates and the study table are the lead's (docs/web.md)
    from ...review.duplicates import run_dedup

    form = await read_form(request)
    review, rel = open_folder(request, text_field(form, "path"))
    result = await run_long(run_dedup, review, who=who_of(request), merge_abstracts=form.get("merge_abstracts") == "on")
    return _back(rel, ran=f"{result.duplicates_removed}-{result.queued}")


async def decide_pair(request: Request):
    require_role(request, "lead")  # duplicates and the study table are the lead's (docs/web.md)
    from ...review.duplicates import mark_not_duplicate, merge_records

    form = await read_form(request)
    review, rel = open_folder(request, text_field(form, "path"))
    a, b = int_field(form, "a"), int_field(form, "b")
    if text_field(form, "action") == "merge":
        cluster = await run(merge_records, review, a, b, who=who_of(request))
        return _back(rel, merged=cluster)
    await run(mark_not_duplicate, review, a, b, who=who_of(request))
    return _back(rel)


async def undo(request: Request):
    require_role(request, "lead")  # duplicates and the study table are the lead's (docs/web.md)
    from ...review.duplicates import undo_merge

    form = await read_form(request)
    review, rel = open_folder(request, text_field(form, "path"))
    await run(undo_merge, review, int_field(form, "cluster"), who=who_of(request))
    return _back(rel)


ROUTES = [
    Route("/review/dedup", dedup, name="review_dedup"),
    Route("/review/dedup/run", run_passes, methods=["POST"]),
    Route("/review/dedup/decide", decide_pair, methods=["POST"]),
    Route("/review/dedup/undo", undo, methods=["POST"]),
]

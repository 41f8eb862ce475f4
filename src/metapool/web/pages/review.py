"""Screen 3, the review: the reviews of the workspace, a new review, one review's overview, importing records.

Every page calls the functions ``metapool review`` calls (:mod:`metapool.review`), so the app and the
command line cannot disagree; each page's "reproduce" box gives the matching command. A review is
named in URLs by its folder relative to the workspace (``?path=reviews/my-review``); a path outside
the workspace, or a folder without ``review.toml``, is refused with a clear page.

The helpers here (:func:`open_folder`, :func:`reviewer_of`, :func:`run`, :func:`run_long`) are
shared by the other review screens (:mod:`.review_dedup`, :mod:`.review_screening`, :mod:`.review_results`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from functools import partial
from urllib.parse import quote, unquote

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from ...cli.run import shell_word
from ...exceptions import DataValidationError, MetapoolError
from ..fields import whole_number
from ..security import read_form
from ..templating import render
from ..uploads import RECORD_SUFFIXES, display_name, save_upload
from ..workspace import REVIEWS, UPLOADS

#: Longest reviewer name the "screen as" form accepts.
_NAME_MAX = 60

#: Local mode: the cookie that remembers the name this browser screens as, across server restarts
#: (a restart starts new sessions; the name is no credential: in local mode the one user is the lead).
REVIEWER_COOKIE = "metapool_reviewer"


#: Review calls that run at once, per event loop. They are mostly CPU under one interpreter lock: with
#: a thread each, a burst of requests shares the core and every one of them ends late; two at a time
#: serve a burst in turn (the first ones end first), and one waiting for the disk (a commit) does not
#: hold up the next.
REVIEW_CALLS = 2
_LIMITERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def run(function, *args, **kwargs):
    """Call a library function in a worker thread (the database blocks; the event loop must not),
    at most :data:`REVIEW_CALLS` at once."""
    loop = asyncio.get_running_loop()
    limiter = _LIMITERS.get(loop)
    if limiter is None:
        limiter = _LIMITERS[loop] = anyio.CapacityLimiter(REVIEW_CALLS)
    return await anyio.to_thread.run_sync(partial(function, *args, **kwargs), limiter=limiter)


async def run_long(function, *args, **kwargs):
    """:func:`run` for a call that may take seconds (an import, a deduplication, the study table): outside the
    limit of :data:`REVIEW_CALLS`, so that screening pages never wait for it."""
    return await run_in_threadpool(function, *args, **kwargs)


def _reviews_cache(request: Request) -> dict:
    state = request.app.state
    try:
        return state.open_reviews
    except AttributeError:
        state.open_reviews = {}
        return state.open_reviews


def open_folder(request: Request, path: str | None):
    """The review in workspace folder ``path`` and that path (as the workspace writes it).

    Open reviews are kept per folder while their ``review.toml`` is unchanged (one database engine
    per review, not one per request); an edited ``review.toml`` is read again.

    Raises
    ------
    MetapoolError
        No path, a path outside the workspace, or a folder that is not a review.
    """
    from ...review.config import CONFIG_NAME
    from ...review.store import open_review

    if not path:
        raise DataValidationError("No review named: open one from the list of reviews.")
    ws = request.app.state.workspace
    folder = ws.inside(path)
    config = folder / CONFIG_NAME
    if not folder.is_dir() or not config.is_file() or config.is_symlink():
        raise DataValidationError(f"{path!r} is not a review folder of this workspace (no {CONFIG_NAME}).")
    cache = _reviews_cache(request)
    stamp = config.stat().st_mtime_ns
    cached = cache.get(folder)
    if cached is None or cached[0] != stamp:
        if cached is not None:
            cached[1].engine.dispose()
        cache[folder] = (stamp, open_review(folder))
    return cache[folder][1], ws.relative(folder) or "."


def who_of(request: Request) -> str:
    """Who acts, for the review's event log: the signed-in user."""
    return request.session.get("user") or "unknown"


def _reviewer_name(text: str | None) -> str | None:
    """A reviewer name as "Screening as" accepts it (spaces collapsed), or None."""
    name = " ".join((text or "").split())
    return name if 0 < len(name) <= _NAME_MAX and name.isprintable() else None


def reviewer_of(request: Request) -> str:
    """The reviewer's name: the account's in team mode; in local mode the name chosen with "Screening as"
    (kept in a cookie, so that a restarted server resumes with it), else the user."""
    if not request.app.state.team:
        chosen = _reviewer_name(unquote(request.cookies.get(REVIEWER_COOKIE, "")))
        if chosen:
            return chosen
    return who_of(request)


def is_lead(request: Request) -> bool:
    return request.session.get("role") == "lead"


def text_field(form, name: str, default: str = "") -> str:
    value = form.get(name, default)
    return value.strip() if isinstance(value, str) else default


def int_field(form, name: str) -> int:
    """A whole-number form field; a missing or other value is a clear error naming the field."""
    value = text_field(form, name)
    number = whole_number(value)
    if number is None:
        raise DataValidationError(f"Field {name!r}: {value!r} is not a record or cluster number.")
    return number


def quote_path(text: str) -> str:
    """A workspace path as a URL query value (slashes kept readable)."""
    return quote(text, safe="/")


def review_command(rel: str, *words: str) -> str:
    """A ``metapool review`` command line on review folder ``rel``, its words quoted for a shell."""
    return " ".join(["metapool", "review", words[0], shell_word(rel), *(shell_word(w) for w in words[1:])])


def review_context(request: Request, review, rel: str) -> dict:
    """What every page of one review shows: its title, path, the reviewer and whether they lead."""
    return {"review_title": review.config.title, "path": rel, "reviewer": reviewer_of(request),
            "lead": is_lead(request), "local": not request.app.state.team}


# --- the list, a new review, one review's overview -----------------------------------------------------------------

async def reviews(request: Request):
    ws = request.app.state.workspace
    return render(request, "review_list.html", {"reviews": ws.reviews(), "reproduce": {
        "command": "metapool review init reviews/NAME\nmetapool review status reviews/NAME"}})


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _reasons(text: str):
    from ...review.config import ExclusionReason

    found = []
    for n, line in enumerate(_lines(text), 1):
        code, sep, words = line.partition(":")
        if not sep or not code.strip() or not words.strip():
            raise DataValidationError(f"Exclusion reasons, line {n}: write it as `code: text` (e.g."
                                      " `population: Population outside the question`), not {line!r}.")
        found.append(ExclusionReason(code.strip(), words.strip()))
    return tuple(found)


def _databases(text: str):
    from ...review.config import Database

    found = []
    for n, line in enumerate(_lines(text), 1):
        name, _, date = (p.strip() for p in line.partition("|"))
        try:
            searched = dt.date.fromisoformat(date) if date else None
        except ValueError:
            raise DataValidationError(f"Databases searched, line {n}: {date!r} is not a date written YYYY-MM-DD."
                                      ) from None
        found.append(Database(name=name, searched=searched))
    return tuple(found)


def _new_config(form) -> tuple[str, str]:
    """The folder name and ``review.toml`` text of the new-review form (checked by the review's own parser)."""
    from ...review.config import Question, config_text

    title = text_field(form, "title")
    if not title:
        raise DataValidationError("Title: give the review a title.")
    per = text_field(form, "reviewers_per_record", "2")
    if per not in ("1", "2"):
        raise DataValidationError(f"Reviewers per record: {per!r} is not 1 or 2.")
    question = Question(**{k: text_field(form, k) for k in ("population", "intervention", "comparator", "outcomes",
                                                             "study_designs")})
    keywords = tuple(k.strip() for k in text_field(form, "keywords").replace("\n", ",").split(",") if k.strip())
    text = config_text(title, int(per), question, keywords, _reasons(text_field(form, "exclusion_reasons")),
                       _databases(text_field(form, "databases")))
    return text_field(form, "folder") or title, text


_NEW_DEFAULTS = {"title": "", "folder": "", "reviewers_per_record": "2", "population": "", "intervention": "",
                 "comparator": "", "outcomes": "", "study_designs": "", "keywords": "",
                 "exclusion_reasons": "population: Population outside the question\n"
                                      "intervention: Intervention outside the question\n"
                                      "design: Study design not eligible",
                 "databases": ""}


def _new_page(request: Request, values: dict, error: str | None = None, status: int = 200):
    return render(request, "review_new.html", {"values": values, "error": error, "reproduce": {
        "command": "metapool review init reviews/NAME",
        "note": "The same review from the command line (then edit its review.toml):"}}, status)


async def new_review(request: Request):
    if request.method == "GET":
        return _new_page(request, dict(_NEW_DEFAULTS))
    from ...review.store import init_review

    form = await read_form(request)
    values = {k: text_field(form, k, v) for k, v in _NEW_DEFAULTS.items()}
    ws = request.app.state.workspace
    try:
        stem, text = _new_config(form)
        folder = ws.new_name(REVIEWS, stem)
        review = await run(init_review, folder, who=who_of(request), config_text=text)
    except MetapoolError as exc:
        return _new_page(request, values, str(exc), 400)
    review.engine.dispose()
    return RedirectResponse(f"/review/open?path={quote_path(ws.relative(folder))}", 303)


async def overview(request: Request):
    from ...review.screening import STAGES
    from ...review.status import review_status

    review, rel = open_folder(request, request.query_params.get("path"))
    status = await run(review_status, review)
    return render(request, "review_open.html", {
        **review_context(request, review, rel), "status": status, "stages": STAGES, "config": review.config,
        "reproduce": {"command": review_command(rel, "status")}})


async def screen_as(request: Request):
    """Local mode: the reviewer name this browser screens as (the CLI's ``--reviewer``)."""
    form = await read_form(request)
    _, rel = open_folder(request, text_field(form, "path"))
    if request.app.state.team:
        raise HTTPException(403, "On a team server you screen as your account.")
    name = _reviewer_name(text_field(form, "reviewer"))
    if name is None:
        raise DataValidationError(f"Screening as: give a name of 1 to {_NAME_MAX} printable characters.")
    back = text_field(form, "next")
    response = RedirectResponse(back if back.startswith("/review/") else f"/review/open?path={quote_path(rel)}", 303)
    response.set_cookie(REVIEWER_COOKIE, quote(name, safe=""), max_age=365 * 24 * 3600, path="/review", httponly=True,
                        samesite="strict")
    return response


# --- importing search exports --------------------------------------------------------------------------------------

def _import_page(request: Request, review, rel: str, result=None, error: str | None = None, status: int = 200):
    sources = [d.name for d in review.config.databases]
    return render(request, "review_import.html", {
        **review_context(request, review, rel), "sources": sources, "result": result, "error": error,
        "reproduce": {"command": _import_command(rel, result, sources)}}, status)


def _import_command(rel: str, result, sources: list[str]) -> str:
    if result is None:
        return review_command(rel, "import", "FILE", "--source", sources[0] if sources else "DATABASE")
    return review_command(rel, "import", *[s.file_name for s in result.sources], "--source", result.database,
                          "--searched", result.searched.isoformat())


async def import_records(request: Request):
    from ...review.imports import import_files

    if request.method == "GET":
        review, rel = open_folder(request, request.query_params.get("path"))
        return _import_page(request, review, rel)
    form = await read_form(request, max_files=10)
    review, rel = open_folder(request, text_field(form, "path"))
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    paths: list = []
    try:
        if not uploads:
            raise DataValidationError("Choose one or more export files (RIS, MEDLINE/PubMed, BibTeX or CSV).")
        searched = text_field(form, "searched")
        try:
            searched = dt.date.fromisoformat(searched) if searched else None
        except ValueError:
            raise DataValidationError(f"Date searched: {searched!r} is not a date written YYYY-MM-DD.") from None
        ws, cap = request.app.state.workspace, request.app.state.limits.file_bytes
        for f in uploads:
            paths.append(await save_upload(f, ws, UPLOADS, RECORD_SUFFIXES, stem="records", max_bytes=cap))
        names = [display_name(f) for f in uploads]
        result = await run_long(import_files, review, paths, text_field(form, "source"), searched, who_of(request),
                           names=names)
    except MetapoolError as exc:
        for path in paths:  # an import refused as a whole keeps none of its files
            path.unlink(missing_ok=True)
        return _import_page(request, review, rel, error=str(exc), status=400)
    return _import_page(request, review, rel, result=result)


ROUTES = [
    Route("/review", reviews, name="reviews"),
    Route("/review/new", new_review, methods=["GET", "POST"], name="review_new"),
    Route("/review/open", overview, name="review_open"),
    Route("/review/reviewer", screen_as, methods=["POST"], name="review_reviewer"),
    Route("/review/import", import_records, methods=["GET", "POST"], name="review_import"),
]

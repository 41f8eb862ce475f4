"""The relevance ranking as a long-running process keeps it: each review's TF-IDF vectors and its last fits.

:mod:`metapool.review.ranking` computes (vectors, a fit, an order); this module keeps
what it computed between calls on the same review, so that the web app ranks again
after each decision without reading every text again, and refits in the background
(:func:`ranking_scores`) so that a page never waits for a fit. The command line, a
new process per call, fits before it answers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from .store import Review

__all__ = ["Ranking", "kept_ranking", "ranking_scores", "record_texts"]


def record_texts(conn, ids: Sequence[int]) -> dict[int, str]:
    """Title, abstract and keywords of each record, as one text for the ranking."""
    import sqlalchemy as sa

    from .schema import records

    wanted = set(ids)  # read every record and keep those wanted: an IN list of 100,000 ids exceeds SQLite's limits
    rows = conn.execute(sa.select(records.c.id, records.c.title, records.c.abstract, records.c.keywords))
    return {r.id: " ".join([r.title or "", r.abstract or "", *r.keywords]) for r in rows if r.id in wanted}


@dataclass(eq=False)
class Ranking:
    """A review's TF-IDF vectors (every record imported so far) and, per stage, the last fit of its ranking.

    ``held`` (records, last id, the time the review was created) tells whether
    the vectors still cover the review (and not another one created again in
    its place); ``row`` maps a record id to its row. ``fits`` holds per stage
    the labels (by row) the model was fitted on and the scores of every row
    (None: nothing to learn from yet); ``wanted`` the latest labels a
    background fit is to use, per stage, and ``fitting`` the stages with a
    background fit queued or running.
    """

    held: tuple
    row: dict[int, int]
    vectors: object
    fits: dict = field(default_factory=dict)
    wanted: dict = field(default_factory=dict)
    fitting: set = field(default_factory=set)


#: The rankings of the reviews ranked last in this process, oldest first: where -> Ranking.
_RANKINGS: dict = {}

#: Stored values (non-zeros) of the vectors kept: about 12 bytes each, so some 100 MB. A web app serves
#: several reviews at once, from several threads; the review ranked last is always kept.
_VECTOR_BUDGET = 8_000_000
_RANKINGS_LOCK = threading.Lock()

#: One background fit at a time (:func:`ranking_scores`), in a thread of its own.
_FITTER: list = []

log = logging.getLogger("metapool.review")


def kept_ranking(conn, review: Review) -> Ranking:
    """The review's :class:`Ranking`: kept from the last call while the review holds the same records.

    Records are never changed once imported, so the vectors are computed once
    per import (a long-running web app ranks again after each decision without
    reading every text again). The reviews ranked most recently are kept, within :data:`_VECTOR_BUDGET`.
    """
    import sqlalchemy as sa

    from .ranking import features
    from .schema import events, records

    held = (*conn.execute(sa.select(sa.func.count(), sa.func.max(records.c.id))).one(),
            conn.execute(sa.select(events.c.at).order_by(events.c.id).limit(1)).scalar_one_or_none())
    with _RANKINGS_LOCK:
        found = _RANKINGS.get(review.where)
    if found is None or found.held != held:
        texts = record_texts(conn, conn.execute(sa.select(records.c.id)).scalars().all())
        ids = sorted(texts)
        found = Ranking(held, {i: row for row, i in enumerate(ids)}, features([texts[i] for i in ids]))
    with _RANKINGS_LOCK:
        _RANKINGS.pop(review.where, None)
        _RANKINGS[review.where] = found
        while len(_RANKINGS) > 1 and sum(r.vectors.nnz for r in _RANKINGS.values()) > _VECTOR_BUDGET:
            del _RANKINGS[next(iter(_RANKINGS))]
    return found


def ranking_scores(ranking: Ranking, stage: str, labels: dict[int, bool], background: bool):
    """Relevance score of every row of ``ranking`` learnt from ``labels`` (by row); None while there is nothing to
    learn from.

    A fit on the same labels is reused. Otherwise the model is fitted now,
    unless ``background`` and an earlier fit has scores: then they are
    returned and the new fit runs in a background thread, one at a time, for the
    next call (as ASReview LAB does: "ASReview trains only one model at the same
    time", asreview/asreview discussion #1559), so that a page never waits for a fit.
    A fit queued behind others uses the latest labels when its turn comes.
    """
    from concurrent.futures import ThreadPoolExecutor

    from .ranking import relevance_scores

    with _RANKINGS_LOCK:
        fit = ranking.fits.get(stage)
        if fit is not None and fit[0] == labels:
            return fit[1]
        if background and fit is not None and fit[1] is not None:
            ranking.wanted[stage] = dict(labels)
            if stage not in ranking.fitting:
                if not _FITTER:
                    _FITTER.append(ThreadPoolExecutor(1, thread_name_prefix="metapool-ranking"))
                _queue_fit(ranking, stage)
            return fit[1]
    scores = relevance_scores(ranking.vectors, labels)
    with _RANKINGS_LOCK:
        ranking.fits[stage] = (dict(labels), scores)
    return scores


def _refit(ranking: Ranking, stage: str) -> None:
    """A background fit of :func:`ranking_scores` on the labels wanted last; queued again when newer ones came
    meanwhile.

    An error goes to the log (the last fit stays in use).
    """
    from .ranking import relevance_scores

    with _RANKINGS_LOCK:
        labels = ranking.wanted.pop(stage)
    try:
        scores = relevance_scores(ranking.vectors, labels)
        with _RANKINGS_LOCK:
            ranking.fits[stage] = (labels, scores)
    except Exception:
        log.exception("the ranking of stage %s could not be fitted again", stage)
    finally:
        with _RANKINGS_LOCK:
            if stage in ranking.wanted:
                _queue_fit(ranking, stage)
            else:
                ranking.fitting.discard(stage)


def _queue_fit(ranking: Ranking, stage: str) -> None:
    """Queue :func:`_refit` (under the lock); once the interpreter shuts down nothing is queued any more."""
    try:
        _FITTER[0].submit(_refit, ranking, stage)
        ranking.fitting.add(stage)
    except RuntimeError:  # the executor is shut down: the last fit stays in use
        ranking.fitting.discard(stage)

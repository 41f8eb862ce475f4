"""Relevance ranking of unscreened records (as ASReview) and the simulation that measures it.

The ranking is active learning with certainty sampling: the text of each
record (title, abstract and keywords) becomes a TF-IDF vector, a logistic
regression is fitted to the records screened so far (relevant: a decision that
moves the record forward; irrelevant: an exclusion), and the unscreened records
are offered in order of their predicted probability of relevance, best first.
The model is refitted on every decision (the web app fits in the background
and orders by the last fit meanwhile: :func:`metapool.review.screening.reviewer_progress`).
It only orders records: nothing is ever excluded by it.

Before the first relevant and the first irrelevant decision there is nothing
to learn from; the records are then offered in a stable order, that of the
review (import order, i.e. ``records.id``), which is also the tie-break.

:func:`simulate` replays a fully labelled set of records in the order the
ranking would have offered them and reports the recall curve, the work saved
over sampling at 95% recall (WSS@95, Cohen et al. 2006) and where a stopping
heuristic would have stopped: the data-driven rule "stop after ``stop_after``
consecutive irrelevant records" (ASReview's documentation suggests it; the
SAFE procedure of Boetje and van de Schoot 2024 uses it with 50, next to
other criteria not computed here: a minimum share screened, a second model,
a quality check).

References
----------
van de Schoot R, de Bruin J, Schram R, et al. An open source machine learning
framework for efficient and transparent systematic reviews. Nat Mach Intell
2021;3:125-133 (ASReview: TF-IDF features, a linear classifier, certainty sampling).
Cohen AM, Hersh WR, Peterson K, Yen PY. Reducing workload in systematic review
preparation using automated citation classification. J Am Med Inform Assoc
2006;13:206-219 (work saved over sampling, WSS = (TN + FN) / N - (1 - recall)).
Boetje J, van de Schoot R. The SAFE procedure: a practical stopping heuristic
for active learning-based screening in systematic reviews and meta-analyses.
Syst Rev 2024;13. doi:10.1186/s13643-024-02502-7.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..exceptions import DataValidationError

__all__ = ["load", "features", "rank", "by_relevance", "relevance_scores", "Simulation", "simulate", "records_to_reach", "wss"]

#: Default of the stopping heuristic: stop after this many consecutive irrelevant records.
STOP_AFTER = 50


def load() -> None:
    """Import the vectoriser and the classifier now: scikit-learn takes seconds to import, which a
    long-running server (``metapool serve``) spends at start rather than on its first screening page."""
    import sklearn.feature_extraction.text  # noqa: F401
    import sklearn.linear_model  # noqa: F401


def features(texts: Sequence[str]):
    """TF-IDF vectors of the texts (sublinear term frequency, English stop words removed): a sparse matrix."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform([t or "" for t in texts])


def relevance_scores(vectors, labels: Mapping[int, bool]) -> np.ndarray | None:
    """Predicted probability of relevance of every row of ``vectors`` (:func:`features`), from the ``labels`` so far.

    ``labels`` maps a row to True (relevant) or False (irrelevant). The
    classifier is a logistic regression (liblinear, L2 penalty, C = 1) with classes weighted by their
    inverse frequency (relevant records are few). Returns None while the labels
    hold fewer than one relevant and one irrelevant record (nothing to learn from yet).
    """
    if not any(labels.values()) or all(labels.values()):
        return None
    from sklearn.linear_model import LogisticRegression

    known = sorted(labels)
    model = LogisticRegression(class_weight="balanced", solver="liblinear", random_state=0)
    model.fit(vectors[known], [bool(labels[i]) for i in known])
    return model.predict_proba(vectors)[:, list(model.classes_).index(True)]


def rank(texts: Sequence[str], labels: Mapping[int, bool], vectors=None,
         among: Sequence[int] | None = None) -> list[int]:
    """Positions ``among`` (default: the unlabelled texts), most likely relevant first.

    The stable order (by position) until the labels hold one relevant and
    one irrelevant text, and for ties. ``vectors`` are the texts'
    :func:`features`, when already computed (``texts`` then only counts them).
    """
    todo = sorted(i for i in range(len(texts)) if i not in labels) if among is None else sorted(among)
    if not todo or not any(labels.values()) or all(labels.values()):
        return todo
    return by_relevance(todo, relevance_scores(features(texts) if vectors is None else vectors, labels))


def by_relevance(items: Sequence[int], scores) -> list[int]:
    """``items`` with the highest ``scores[item]`` first; ties, and every item when ``scores`` is None, in the given order."""
    return list(items) if scores is None else sorted(items, key=lambda i: -scores[i])


def records_to_reach(found: Sequence[int], relevant: int, recall: float) -> int:
    """How many records were screened when ``found`` (relevant found after each record) first reached ``recall``."""
    need = math.ceil(recall * relevant - 1e-9)
    return next(n for n, hits in enumerate(found, 1) if hits >= need)


def wss(found: Sequence[int], recall: float = 0.95) -> float:
    """Work saved over sampling at ``recall``: (TN + FN) / N - (1 - recall), Cohen et al. (2006).

    ``found[n - 1]`` is the number of relevant records found after screening
    ``n`` of the ``N = len(found)`` records; screening stops at the first ``n``
    that reaches ``recall`` of them, and the ``N - n`` records left unscreened
    are the ones the ranking called irrelevant (TN + FN).
    """
    n = len(found)
    return (n - records_to_reach(found, found[-1], recall)) / n - (1 - recall)


@dataclass(frozen=True)
class Simulation:
    """A replay of labelled records in ranking order.

    ``order`` are the positions in screening order, ``found[n - 1]`` the
    relevant records found after ``n`` records, ``wss95`` the work saved over
    sampling at 95% recall, ``n95`` the records screened to reach it;
    ``stopped_at`` the records screened when ``stop_after`` consecutive
    irrelevant ones ended screening (None: the rule never fired) and
    ``recall_at_stop`` the recall then (1.0 when it never fired).
    """

    order: tuple[int, ...]
    found: tuple[int, ...]
    records: int
    relevant: int
    n95: int
    wss95: float
    stop_after: int
    stopped_at: int | None
    recall_at_stop: float

    def recall(self) -> tuple[float, ...]:
        """Recall after each record screened."""
        return tuple(f / self.relevant for f in self.found)

    def to_dict(self) -> dict:
        return {"records": self.records, "relevant": self.relevant, "n95": self.n95, "wss95": self.wss95,
                "stop_after": self.stop_after, "stopped_at": self.stopped_at, "recall_at_stop": self.recall_at_stop,
                "recall_curve": [{"screened": n, "found": f} for n, f in enumerate(self.found, 1)]}


def simulate(texts: Sequence[str], relevant: Sequence[bool], stop_after: int = STOP_AFTER,
             retrain_every: int = 1) -> Simulation:
    """Replay the screening of labelled ``texts`` as the ranking would have ordered them.

    Each step screens the best-ranked unscreened record (the stable order
    until one relevant and one irrelevant record were seen) and adds its
    label; the model is refitted after every ``retrain_every`` records.

    Raises
    ------
    DataValidationError
        No records, or no relevant record (recall is undefined).
    """
    n = len(texts)
    if n == 0 or len(relevant) != n:
        raise DataValidationError("simulate needs one label per text and at least one text.")
    total = int(sum(bool(r) for r in relevant))
    if total == 0:
        raise DataValidationError("simulate needs at least one relevant record (recall is undefined without).")
    labels: dict[int, bool] = {}
    order: list[int] = []
    queue: list[int] = []
    vectors = features(texts)
    while len(order) < n:
        if not queue or len(order) % retrain_every == 0:
            queue = rank(texts, labels, vectors)
        pick = queue.pop(0)
        labels[pick] = bool(relevant[pick])
        order.append(pick)
    found = tuple(np.cumsum([bool(relevant[i]) for i in order]).tolist())
    stopped_at, run = None, 0
    for k, i in enumerate(order, 1):
        run = 0 if relevant[i] else run + 1
        if run >= stop_after:
            stopped_at = k
            break
    n95 = records_to_reach(found, total, 0.95)
    return Simulation(order=tuple(order), found=found, records=n, relevant=total, n95=n95, wss95=wss(found, 0.95),
                      stop_after=stop_after, stopped_at=stopped_at,
                      recall_at_stop=1.0 if stopped_at is None else found[stopped_at - 1] / total)

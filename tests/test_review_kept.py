"""What a long-running process keeps between calls on a review (the web app's speed), and that it never goes stale.

Outcomes and duplicate counts are kept with the event log's version and brought up to date from
the events since (:func:`metapool.review.store.kept`); the ranking is refitted in the background
when asked to. Every test compares the kept answer with one read afresh.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

sa = pytest.importorskip("sqlalchemy")
pytest.importorskip("sklearn")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from metapool.exceptions import MetapoolError  # noqa: E402
from metapool.review import fitting, screening, store  # noqa: E402
from metapool.review.duplicates import dedup_counts, merge_records, undo_merge  # noqa: E402
from metapool.review.screening import decide, queue, reviewer_progress  # noqa: E402
from metapool.review.status import review_status  # noqa: E402
from metapool.review.store import events_after, log_version, open_review, transaction  # noqa: E402
from test_review_screening import IRRELEVANT, RELEVANT, make_review  # noqa: E402


def fresh(review, stage):
    """The outcomes read from the database, nothing kept."""
    with transaction(review, read_only=True) as conn:
        return screening._read_outcomes(conn, review, stage)


def kept(review, stage):
    with transaction(review, read_only=True) as conn:
        return screening._outcomes(conn, review, stage)


#: One step: (what, record, reviewer, decision).
STEP = st.tuples(st.sampled_from(["ta", "ta", "ta", "ft", "resolve", "merge", "unmerge"]), st.integers(1, 8),
                 st.sampled_from(["ana", "bob", "cy"]), st.sampled_from(["include", "exclude", "maybe"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=25))
def test_kept_outcomes_equal_fresh_ones_after_any_steps(tmp_path_factory, steps):
    review = make_review(tmp_path_factory.mktemp("kept") / "r", reviewers=2)
    clusters = []
    for what, record, reviewer, decision in steps:
        try:
            if what == "ta":
                decide(review, record, "ta", reviewer, decision)
            elif what == "ft":
                decide(review, record, "ft", reviewer, "exclude" if decision == "maybe" else decision,
                       reason="population" if decision != "include" else None)
            elif what == "resolve":
                decide(review, record, "ta", "lead", decision, resolve=True)
            elif what == "merge":
                clusters.append(merge_records(review, record, record % 8 + 1))
            elif clusters:
                undo_merge(review, clusters.pop())
        except MetapoolError:
            pass  # a refused step changes nothing
        for stage in ("ta", "ft"):
            got = kept(review, stage)
            assert got == fresh(review, stage)
            assert list(got) == sorted(got)  # import order
    review.engine.dispose()


def test_a_title_abstract_decision_moves_a_record_into_and_out_of_full_text(tmp_path):
    review = make_review(tmp_path / "r", reviewers=1)
    assert kept(review, "ft") == {}
    decide(review, 3, "ta", "ana", "include")
    decide(review, 1, "ta", "ana", "maybe")
    assert list(kept(review, "ft")) == [1, 3] == list(fresh(review, "ft"))
    decide(review, 3, "ft", "ana", "include")
    decide(review, 3, "ta", "ana", "exclude")  # changed its mind: record 3 leaves full text, its vote stays stored
    assert list(kept(review, "ft")) == [1]
    decide(review, 3, "ta", "ana", "include")  # back, with its full-text vote
    assert kept(review, "ft") == fresh(review, "ft") and kept(review, "ft")[3].decision == "include"


def test_many_decisions_at_once_are_read_again_in_full(tmp_path, monkeypatch):
    review = make_review(tmp_path / "r", reviewers=1)
    kept(review, "ta")
    monkeypatch.setattr(screening, "_UPDATE_MAX", 2)
    calls = []
    real = screening._read_outcomes
    monkeypatch.setattr(screening, "_read_outcomes", lambda *a: calls.append(a) or real(*a))

    def real_fresh(review):
        with transaction(review, read_only=True) as conn:
            return real(conn, review, "ta")
    for record in (1, 2, 3):
        decide(review, record, "ta", "ana", "exclude")
    got = kept(review, "ta")
    assert len(calls) == 1 and got == real_fresh(review)


def test_the_log_version_tells_a_review_made_again_in_the_same_place(tmp_path):
    folder = tmp_path / "r"
    first = make_review(folder, reviewers=1)
    decide(first, 1, "ta", "ana", "include")
    assert kept(first, "ta")[1].decision == "include"
    with transaction(first, read_only=True) as conn:
        old = log_version(conn)
    first.engine.dispose()
    for name in ("review.db", "review.db-wal", "review.db-shm"):
        (folder / name).unlink(missing_ok=True)
    (folder / "review.toml").unlink()
    again = make_review(folder, reviewers=1)  # as many events as before, the same ids
    decide(again, 1, "ta", "ana", "exclude")
    with transaction(again, read_only=True) as conn:
        now = log_version(conn)
        assert now.last == old.last and now != old
        assert events_after(conn, old, now) is None  # not the old log continued
    assert kept(again, "ta")[1].decision == "exclude"


def test_an_event_committed_late_below_the_last_id_is_noticed(tmp_path):
    """PostgreSQL hands out ids before commits: an id below the version's last may appear later; the count tells."""
    review = make_review(tmp_path / "r", reviewers=1)
    with transaction(review, read_only=True) as conn:
        now = log_version(conn)
        assert events_after(conn, now, now) == []
        assert now.events is None  # SQLite: ids come in commit order, no count needed
        counted = store.LogVersion(now.last, now.at, events=7)  # as PostgreSQL counts them
        assert events_after(conn, counted, counted) == []
        behind = store.LogVersion(now.last, now.at, events=6)  # one event below the last id was not seen yet
        assert events_after(conn, behind, counted) is None


def test_duplicate_counts_are_kept_over_decisions_and_read_again_after_a_merge(tmp_path, monkeypatch):
    from metapool.review import duplicates

    review = make_review(tmp_path / "r", reviewers=1)
    calls = []
    real = duplicates._dedup_counts
    monkeypatch.setattr(duplicates, "_dedup_counts", lambda conn: calls.append(1) or real(conn))
    assert review_status(review).duplicates_removed == 0
    decide(review, 1, "ta", "ana", "include")
    assert review_status(review).duplicates_removed == 0 and len(calls) == 1  # a decision: kept
    merge_records(review, 2, 3)
    assert review_status(review).duplicates_removed == 1 and len(calls) == 2
    with transaction(review, read_only=True) as conn:
        assert dedup_counts(conn) == real(conn)


def test_a_background_fit_orders_as_a_fresh_one_once_it_is_done(tmp_path):
    titles = [IRRELEVANT[0], RELEVANT, *IRRELEVANT[1:5], "relapsed acute myeloid leukemia venetoclax cohort",
              IRRELEVANT[5]]
    review = make_review(tmp_path / "r", reviewers=2, titles=titles)
    decide(review, 1, "ta", "ana", "exclude")
    decide(review, 3, "ta", "ana", "exclude")
    assert reviewer_progress(review, "ta", "ana", background_fit=True).queue == (2, 4, 5, 6, 7, 8)
    decide(review, 2, "ta", "ana", "include")  # first fit: made at once, as nothing was fitted before
    assert reviewer_progress(review, "ta", "ana", background_fit=True).next == 7
    decide(review, 7, "ta", "ana", "exclude")  # a new label: the last fit's order now, the new fit for later
    early = reviewer_progress(review, "ta", "ana", background_fit=True).queue
    assert sorted(early) == [4, 5, 6, 8]
    deadline = time.monotonic() + 30
    while reviewer_progress(review, "ta", "ana", background_fit=True).queue != tuple(queue(review, "ta", "ana")):
        assert time.monotonic() < deadline, "the background fit never caught up"
        time.sleep(0.05)


def test_the_fitter_uses_the_latest_labels_and_logs_its_errors(tmp_path, monkeypatch, caplog):
    review = make_review(tmp_path / "r", reviewers=1, titles=[RELEVANT, *IRRELEVANT[:5]])
    with transaction(review, read_only=True) as conn:
        ranking = fitting.kept_ranking(conn, review)
    seen = []
    monkeypatch.setattr("metapool.review.ranking.relevance_scores", lambda vectors, labels: seen.append(labels))
    ranking.wanted["ta"] = {0: True, 1: False}
    ranking.fitting.add("ta")
    fitting._refit(ranking, "ta")
    assert seen == [{0: True, 1: False}] and ranking.fits["ta"][0] == {0: True, 1: False}
    assert "ta" not in ranking.fitting

    def broken(vectors, labels):
        raise MemoryError("no room")
    monkeypatch.setattr("metapool.review.ranking.relevance_scores", broken)
    ranking.wanted["ta"] = {0: True, 1: False, 2: False}
    ranking.fitting.add("ta")
    fitting._refit(ranking, "ta")
    assert "could not be fitted again" in caplog.text and ranking.fits["ta"][0] == {0: True, 1: False}
    assert "ta" not in ranking.fitting


def test_kept_values_are_the_callers_own(tmp_path):
    review = make_review(tmp_path / "r", reviewers=1)
    got = kept(review, "ta")
    got.clear()
    assert len(kept(review, "ta")) == 8


def test_random_screening_by_two_reviewers_in_threads_matches_a_fresh_read(tmp_path):
    """The web app's use: pages and decisions of several reviewers from several threads (a third reviewer's vote
    on a record that got its two meanwhile is refused, and the record leaves the queue)."""
    from concurrent.futures import ThreadPoolExecutor

    review = make_review(tmp_path / "r", reviewers=2, titles=[RELEVANT, *IRRELEVANT, *IRRELEVANT])

    def screen(reviewer: str, seed: int) -> None:
        rng = random.Random(seed)
        own = open_review(Path(review.folder))
        while (found := reviewer_progress(own, "ta", reviewer, background_fit=True).next) is not None:
            try:
                decide(own, found, "ta", reviewer, rng.choice(["include", "exclude", "exclude"]))
            except MetapoolError as exc:
                assert "already has its 2 decisions" in str(exc)
        own.engine.dispose()

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(screen, ["ana", "bob", "cy"], [1, 2, 3]))
    assert kept(review, "ta") == fresh(review, "ta")
    assert all(u.state != "pending" for u in fresh(review, "ta").values())


def test_a_review_made_again_in_the_same_place_is_ranked_on_its_own_texts(tmp_path):
    folder = tmp_path / "r"
    titles = [RELEVANT, *IRRELEVANT[:6], "relapsed acute myeloid leukemia venetoclax cohort"]
    first = make_review(folder, reviewers=1, titles=titles)
    decide(first, 2, "ta", "ana", "exclude")
    decide(first, 1, "ta", "ana", "include")
    assert queue(first, "ta", "ana")[0] == 8
    first.engine.dispose()
    for name in ("review.db", "review.db-wal", "review.db-shm", "review.toml"):
        (folder / name).unlink(missing_ok=True)
    texts = [IRRELEVANT[0], titles[-1], RELEVANT, *IRRELEVANT[1:6]]  # as many records, the same ids, other texts
    again = make_review(folder, reviewers=1, titles=texts)
    decide(again, 1, "ta", "ana", "exclude")
    decide(again, 3, "ta", "ana", "include")
    assert queue(again, "ta", "ana")[0] == 2

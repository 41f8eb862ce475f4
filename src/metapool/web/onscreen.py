"""Which record each reviewer has on screen, so that reviewers sharing a review are shown different records.

Every reviewer of a review is offered the same queue, in relevance order
(:func:`metapool.review.screening.reviewer_progress`). Two reviewers opening their
next record at the same moment would then both get the best-ranked one; with more
reviewers than ``reviewers_per_record`` the last to decide would be refused (the
record has its votes), and with single screening two people would read the same
abstract for nothing. So the app remembers the record each reviewer was shown,
until they decide on it or :data:`HOLD_SECONDS` pass, and a record just decided for
:data:`DECIDED_SECONDS` (another reviewer's queue may have been read before that
decision), and offers another reviewer the best record no one else has on screen or
just decided (the best one all the same when no other is left). This narrows the race
between reviewers, it does not close it: a vote the record no longer needs is still
refused by :func:`metapool.review.screening.decide`, with its reason.

This only chooses which of the reviewer's own queue to show: the queue, the decisions
and their checks are the library's, and a restarted server starts with no one holding anything.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

#: How long a record shown stays held for its reviewer without a decision (a closed tab lets go after this).
HOLD_SECONDS = 600

#: How long a record just decided is not offered to other reviewers (longer than reading a queue takes).
DECIDED_SECONDS = 30


class OnScreen:
    """The record each reviewer was shown last, and the records decided last, per review and stage (thread-safe)."""

    def __init__(self, hold_seconds: float = HOLD_SECONDS, decided_seconds: float = DECIDED_SECONDS,
                 clock=time.monotonic) -> None:
        self._held: dict[tuple[str, str, str], tuple[int, float]] = {}
        self._decided: dict[tuple[str, str, int], float] = {}
        self._lock = threading.Lock()
        self.hold_seconds, self.decided_seconds = hold_seconds, decided_seconds
        self.clock = clock

    def pick(self, review: str, stage: str, reviewer: str, queue: Sequence[int]) -> int | None:
        """The first record of ``queue`` that no other reviewer of ``review`` has on screen or just decided (else the
        first), now held for ``reviewer``."""
        now = self.clock()
        with self._lock:
            self._forget(now)
            busy = {record for (where, at, who), (record, _) in self._held.items()
                    if (where, at) == (review, stage) and who != reviewer}
            busy |= {record for (where, at, record) in self._decided if (where, at) == (review, stage)}
            chosen = next((r for r in queue if r not in busy), queue[0] if queue else None)
            if chosen is None:
                self._held.pop((review, stage, reviewer), None)
            else:
                self._held[review, stage, reviewer] = (chosen, now)
        return chosen

    def decided(self, review: str, stage: str, reviewer: str, record: int) -> None:
        """``reviewer`` decided on ``record``: held by no one now, and not offered to others for a while."""
        with self._lock:
            if self._held.get((review, stage, reviewer), (None,))[0] == record:
                del self._held[review, stage, reviewer]
            self._decided[review, stage, record] = self.clock()

    def _forget(self, now: float) -> None:
        for key in [k for k, (_, since) in self._held.items() if now - since >= self.hold_seconds]:
            del self._held[key]
        for key in [k for k, since in self._decided.items() if now - since >= self.decided_seconds]:
            del self._decided[key]

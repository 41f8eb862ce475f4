"""Which record each reviewer has on screen, so that reviewers sharing a review are shown different records.

Every reviewer of a review is offered the same queue, in relevance order
(:func:`metapool.review.screening.reviewer_progress`). Two reviewers opening their
next record at the same moment would then both get the best-ranked one; with more
reviewers than ``reviewers_per_record`` the last to decide would be refused (the
record has its votes), and with single screening two people would read the same
abstract for nothing. So the app remembers the record each reviewer was shown,
until they decide on it or :data:`HOLD_SECONDS` pass, and offers another reviewer
the best record no one else has on screen (the best one all the same when no other is left).

This only chooses which of the reviewer's own queue to show: the queue, the decisions
and their checks are the library's, and a restarted server starts with no one holding anything.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

#: How long a record shown stays held for its reviewer without a decision (a closed tab lets go after this).
HOLD_SECONDS = 600


class OnScreen:
    """The record each reviewer was shown last, per review and stage, with when (thread-safe)."""

    def __init__(self, hold_seconds: float = HOLD_SECONDS, clock=time.monotonic) -> None:
        self._held: dict[tuple[str, str, str], tuple[int, float]] = {}
        self._lock = threading.Lock()
        self.hold_seconds = hold_seconds
        self.clock = clock

    def pick(self, review: str, stage: str, reviewer: str, queue: Sequence[int]) -> int | None:
        """The first record of ``queue`` no other reviewer of ``review`` has on screen (else the first), now held."""
        now = self.clock()
        with self._lock:
            others = {record for (where, at, who), (record, since) in self._held.items()
                      if where == review and at == stage and who != reviewer and now - since < self.hold_seconds}
            chosen = next((r for r in queue if r not in others), queue[0] if queue else None)
            if chosen is None:
                self._held.pop((review, stage, reviewer), None)
            else:
                self._held[review, stage, reviewer] = (chosen, now)
            for key in [k for k, (_, since) in self._held.items() if now - since >= self.hold_seconds]:
                del self._held[key]
        return chosen

    def release(self, review: str, stage: str, reviewer: str) -> None:
        """``reviewer`` decided: the record they had on screen is free for others."""
        with self._lock:
            self._held.pop((review, stage, reviewer), None)

"""Row-level checks of count and summary-statistic inputs.

Each check looks only at rows without missing values (those are excluded
later with a reason) and raises :class:`DataValidationError` naming the first
offending row, the study and the user's column name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..exceptions import DataValidationError
from ..io.parsing import describe_row


@dataclass(frozen=True)
class Inputs:
    """Numeric input columns of one escalc call.

    Attributes
    ----------
    values
        Role (metafor argument name, e.g. ``"xi"``) to float array.
    names
        Role to the name shown in messages (the user's column name).
    labels
        Study labels.
    ci_level
        Level of reported confidence intervals (ratio-with-CI input).
    """

    values: Mapping[str, np.ndarray]
    names: Mapping[str, str]
    labels: Sequence[str]
    ci_level: float = 0.95

    def has(self, role: str) -> bool:
        return role in self.values

    def __getitem__(self, role: str) -> np.ndarray:
        return self.values[role]

    def fail(self, row: int, role_or_text: str, problem: str) -> DataValidationError:
        column = self.names.get(role_or_text, role_or_text)
        return DataValidationError(
            f"{describe_row(row, self.labels)}, column {column!r}: {problem}"
        )

    def check(self, bad: np.ndarray, role: str, problem: str) -> None:
        """Raise for the first row where ``bad`` is true (NaN rows are ignored)."""
        bad = np.asarray(bad, dtype=bool) & ~np.isnan(self.values.get(role, np.zeros(len(bad))))
        if np.count_nonzero(bad):
            row = int(np.flatnonzero(bad)[0])
            raise self.fail(row, role, problem.format(value=_fmt(self.values.get(role), row)))

    def counts(self, *roles: str, positive: bool = False) -> None:
        """Check that the given roles hold whole numbers >= 0 (or > 0)."""
        for role in roles:
            x = self.values[role]  # (comparisons with NaN raise no warnings)
            self.check(x < 0, role, "count {value} is negative.")
            self.check(x != np.round(x), role, "count {value} is not a whole number.")
            if positive:
                self.check(x == 0, role, "sample size must be at least 1, got {value}.")

    def positive(self, *roles: str, what: str) -> None:
        for role in roles:
            self.check(self.values[role] <= 0, role, what + " must be > 0, got {value}.")

    def not_above(self, part: str, whole: str, what: str) -> None:
        bad = self.values[part] > self.values[whole]
        if np.count_nonzero(bad):
            row = int(np.flatnonzero(bad)[0])
            raise self.fail(
                row,
                part,
                f"{what} {_fmt(self.values[part], row)} exceed the total "
                f"{_fmt(self.values[whole], row)} in column {self.names[whole]!r}.",
            )

    def missing(self, roles: Sequence[str]) -> list[tuple[int, str]]:
        """Rows with a missing value in any of ``roles``, with the reason."""
        out: list[tuple[int, str]] = []
        seen: set[int] = set()
        for role in roles:
            nan = np.isnan(self.values[role])
            if not np.count_nonzero(nan):
                continue
            for row in np.flatnonzero(nan):
                if int(row) not in seen:
                    seen.add(int(row))
                    out.append((int(row), f"missing value in column {self.names[role]!r}"))
        return sorted(out)


def _fmt(arr, row: int) -> str:
    if arr is None:
        return "?"
    x = float(arr[row])
    if not np.isfinite(x):
        return repr(x)
    return str(int(x)) if x == int(x) and abs(x) < 1e15 else repr(x)

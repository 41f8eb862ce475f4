"""Study labels as a reader needs them: repeated labels found and told apart by row."""

from __future__ import annotations

from collections import defaultdict

__all__ = ["repeated_labels", "distinct_labels", "repeated_labels_text"]


def repeated_labels(labels, rows) -> dict:
    """Labels carried by more than one row: label to its rows (0-based), in order.

    Parameters
    ----------
    labels
        One label per study.
    rows
        The study's row in the input table, one per label.
    """
    where: dict = defaultdict(list)
    for label, row in zip(labels, rows):
        where[str(label)].append(int(row))
    return {label: tuple(found) for label, found in where.items() if len(found) > 1}


def distinct_labels(labels, rows) -> tuple[str, ...]:
    """The labels, each repeated one followed by its row (1-based): ``"Smith 2010 (row 3)"``."""
    repeated = repeated_labels(labels, rows)
    return tuple(f"{label} (row {int(row) + 1})" if str(label) in repeated else str(label)
                 for label, row in zip(labels, rows))


def repeated_labels_text(labels, rows) -> str | None:
    """A warning naming the repeated labels and their rows (1-based), or None when all differ."""
    repeated = repeated_labels(labels, rows)
    if not repeated:
        return None
    listed = "; ".join(f"{label} (rows {', '.join(str(r + 1) for r in found)})" for label, found in repeated.items())
    return f"study labels repeated: {listed}; each row is analysed as its own study"

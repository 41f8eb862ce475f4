"""The frozen table of study-level effect sizes returned by :func:`escalc`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..io.parsing import describe_study

__all__ = ["Exclusion", "EffectSizeTable"]


@dataclass(frozen=True)
class Exclusion:
    """A study row left out of an analysis, with the reason.

    ``row`` is the 0-based row of the input table (also in a table restricted
    by :meth:`EffectSizeTable.take`); :meth:`to_dict` reports it 1-based as
    users count rows.
    """

    row: int
    label: str
    reason: str

    def to_dict(self) -> dict:
        return {"row": self.row + 1, "study": self.label, "reason": self.reason}

    def __str__(self) -> str:
        return f"{describe_study(self.row, self.label)}: {self.reason}"


def _frozen(a) -> np.ndarray:
    a = np.array(a, dtype=float, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class EffectSizeTable:
    """Study-level effect sizes on the analysis scale.

    Attributes
    ----------
    measure
        Measure code (see :data:`metapool.effect_sizes.MEASURES`).
    yi, vi
        Effect sizes and sampling variances; NaN for excluded rows.
    slab
        Study labels.
    ni
        Total sample size of each study (NaN when unknown); used for the
        Freeman-Tukey back-transformation and for reporting N.
    corrected
        True for rows whose cells received the continuity correction.
    exclusions
        Rows that cannot enter an analysis, with reasons (rows of the input
        table, as :attr:`rows`).
    notes
        Data-level remarks (corrections applied, all-zero data, ...).
    cells
        The unadjusted canonical input cells (e.g. ``xi``, ``mi``).
    options
        Correction options used (``add``, ``to``, ``drop00``).
    rows
        The 0-based input-table row of each entry: ``0, 1, ..., n - 1`` for
        the table :func:`escalc` returns, the original rows in a table
        restricted by :meth:`take` (e.g. one subgroup), so that results fitted
        to it record the rows of the input table.
    """

    measure: str
    yi: np.ndarray
    vi: np.ndarray
    slab: tuple
    ni: np.ndarray
    corrected: np.ndarray
    exclusions: tuple = ()
    notes: tuple = ()
    cells: Mapping = field(default_factory=dict)
    options: Mapping = field(default_factory=dict)
    rows: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in ("yi", "vi", "ni"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        rows = np.arange(len(self.yi)) if self.rows is None else np.array(self.rows, dtype=int, copy=True)
        rows.flags.writeable = False
        object.__setattr__(self, "rows", rows)
        corrected = np.array(self.corrected, dtype=bool)
        corrected.flags.writeable = False
        object.__setattr__(self, "corrected", corrected)
        object.__setattr__(self, "cells", {k: _frozen(v) for k, v in self.cells.items()})

    def __len__(self) -> int:
        return len(self.yi)

    @property
    def included(self) -> np.ndarray:
        """Rows with a usable effect size (finite yi and vi)."""
        return np.isfinite(self.yi) & np.isfinite(self.vi)

    def excluded_positions(self) -> dict[int, Exclusion]:
        """The exclusions keyed by their position in this table, in the order of :attr:`exclusions`.

        An exclusion names its input-table row (:attr:`rows`), which is the
        position only in a table that was not restricted by :meth:`take`.
        """
        position = {int(r): i for i, r in enumerate(self.rows)}
        return {position[e.row]: e for e in self.exclusions}

    def take(self, rows) -> EffectSizeTable:
        """The table restricted to ``rows`` (positions or a boolean mask), e.g. one subgroup.

        The entries keep their input-table rows (:attr:`rows`, and the rows of
        their exclusions).
        """
        idx = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows, dtype=int)
        kept = {int(r) for r in self.rows[idx]}
        return EffectSizeTable(
            measure=self.measure,
            yi=self.yi[idx],
            vi=self.vi[idx],
            slab=tuple(self.slab[i] for i in idx),
            ni=self.ni[idx],
            corrected=self.corrected[idx],
            exclusions=tuple(e for e in self.exclusions if e.row in kept),
            notes=self.notes,
            cells={k: v[idx] for k, v in self.cells.items()},
            options=self.options,
            rows=self.rows[idx],
        )

    @property
    def sei(self) -> np.ndarray:
        return np.sqrt(self.vi)

    def to_frame(self):
        """The table as a pandas DataFrame (one row per study), indexed by the study's ``row`` of the input, 1-based.

        Rows are numbered as every text a user reads numbers them
        (``effect_sizes.csv``, the report, exclusion messages); the attribute
        :attr:`rows` holds the same rows as 0-based positions.
        """
        import pandas as pd

        reasons = {e.row: e.reason for e in self.exclusions}
        frame = pd.DataFrame({"study": list(self.slab)}, index=pd.Index(np.asarray(self.rows) + 1, name="row"))
        for name, values in self.cells.items():
            frame[name] = values
        frame["ni"] = self.ni
        frame["yi"] = self.yi
        frame["vi"] = self.vi
        frame["corrected"] = self.corrected
        frame["excluded"] = [reasons.get(int(r), "") for r in self.rows]
        frame.attrs["measure"] = self.measure
        return frame

    def __repr__(self) -> str:
        return (
            f"EffectSizeTable(measure={self.measure!r}, k={len(self)}, "
            f"included={int(self.included.sum())}, corrected={int(self.corrected.sum())})"
        )

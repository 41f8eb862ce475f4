"""Descriptive summary of study medians: "median OS 8 months (IQR 3-25)"."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._summary import Summarized
from ..exceptions import DataValidationError
from ._input import column, labels

__all__ = ["MedianSummary", "describe_medians"]


@dataclass(frozen=True)
class MedianSummary(Summarized):
    """Median, quartiles and range of the study medians (not a pooled estimate).

    Quartiles are R's default ``quantile`` (type 7, linear interpolation).
    ``studies`` lists the labels of the studies summarised; ``missing`` the
    labels of studies without a median.
    """

    k: int
    median: float
    q1: float
    q3: float
    minimum: float
    maximum: float
    studies: tuple = ()
    missing: tuple = ()

    def text(self, digits: int = 1, unit: str = "") -> str:
        """The usual phrase, e.g. ``"8.0 months (IQR 3.0-25.0; k = 12)"``."""
        u = f" {unit}" if unit else ""
        return (
            f"{self.median:.{digits}f}{u} (IQR {self.q1:.{digits}f}\u2013{self.q3:.{digits}f};"
            f" k = {self.k})"
        )

    def to_dict(self) -> dict:
        return {
            "k": self.k, "median": self.median, "q1": self.q1, "q3": self.q3,
            "min": self.minimum, "max": self.maximum, "missing": list(self.missing),
        }  # fmt: skip


def describe_medians(medians, data=None, *, slab=None) -> MedianSummary:
    """Summarise the medians reported by the studies.

    A descriptive statement ("median of the study medians, with IQR"), as
    clinical reviews report it; for an estimate with a confidence interval use
    :func:`pool_medians` (McGrath et al. 2019) or, for Kaplan-Meier medians
    with CIs, :func:`pool_median_survival`.

    Parameters
    ----------
    medians
        Study medians (values or a column name of ``data``); missing cells are
        skipped and listed in ``missing``.
    data
        Table holding the named columns.
    slab
        Study labels (values or column name).
    """
    m = column(data, medians, "medians")
    lab = labels(data, slab, m.shape[0])
    ok = np.isfinite(m)
    if not ok.any():
        raise DataValidationError("No study reports a median.")
    x = m[ok]
    q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    return MedianSummary(
        k=int(ok.sum()), median=float(med), q1=float(q1), q3=float(q3),
        minimum=float(x.min()), maximum=float(x.max()),
        studies=tuple(s for s, o in zip(lab, ok) if o),
        missing=tuple(s for s, o in zip(lab, ok) if not o),
    )  # fmt: skip

"""Check of wording: a descriptive spread given where a pooled estimate's CI is expected.

An interquartile range or a range describes how study values (or patients) spread; it is not the
uncertainty of a pooled estimate. "Pooled median OS 8.0 months (IQR 6.1-10.2)" reads as if the
interval were a CI. This is a wording issue, not an error in a number: the finding is a flag whose
reason starts with "Wording:", and its check has severity ``"wording"``
(:data:`metapool.audit.checks.CHECKS`), so that a caller can tell it from errors.
"""

from __future__ import annotations

from collections.abc import Iterator

from .context import Context, finding
from .model import Finding

__all__ = ["check_spread_as_inference"]

_SPREADS = {"iqr": "an interquartile range", "range": "a range"}


def check_spread_as_inference(ctx: Context) -> Iterator[Finding]:
    """A pooled estimate is given with its CI, not with an IQR or range."""
    for stat in ctx.statistics:
        if stat.interval not in _SPREADS or stat.value is None or not ctx.is_pooled(stat):
            continue
        yield finding(stat, "spread_as_inference", "flag",
                      f"Wording: this pooled estimate is given with {_SPREADS[stat.interval]}, which describes how "
                      f"the study values spread, not how precise the estimate is; give its 95% CI, or call the "
                      f"interval the {'IQR' if stat.interval == 'iqr' else 'range'} of the study values.",
                      "the pooled estimate with its 95% CI")

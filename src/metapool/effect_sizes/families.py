"""Data families: which input columns a measure needs and how they are checked.

A family turns the user's columns into canonical *cells* (e.g. events and
non-events for one group; the four cells of a 2x2 table), checks them row by
row and says which rows have zero cells (for continuity corrections).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._distributions import norm_ppf
from ..exceptions import DataValidationError
from .cells import Inputs


@dataclass(frozen=True)
class Prepared:
    """Canonical cells of a family, with the rows that miss a value."""

    cells: dict
    total: np.ndarray
    missing: list  # [(row, reason)]


@dataclass(frozen=True)
class Family:
    """Input roles and checks of one data family.

    ``alternatives`` lists the accepted sets of roles, first match wins.
    ``zero_rows``/``double_zero_rows`` are None for families without counts.
    ``corrected_cells`` names the cells that receive a continuity correction
    (None: every cell; for rates only the events, never the person-time).
    """

    code: str
    alternatives: tuple
    prepare: Callable
    zero_rows: Callable | None = None
    double_zero_rows: Callable | None = None
    corrected_cells: tuple | None = None

    def roles(self, given) -> tuple:
        for alt in self.alternatives:
            if all(r in given for r in alt):
                return alt
        wanted = " or ".join("(" + ", ".join(a) + ")" for a in self.alternatives)
        raise DataValidationError(
            f"This measure needs the columns {wanted}; got: {', '.join(sorted(given)) or 'none'}."
        )


def _prepare_single(inp: Inputs) -> Prepared:
    if inp.has("ni"):
        missing = inp.missing(["xi", "ni"])
        inp.counts("xi")
        inp.counts("ni", positive=True)
        inp.not_above("xi", "ni", "events")
        xi, ni = inp["xi"], inp["ni"]
        return Prepared({"xi": xi, "mi": ni - xi}, ni, missing)
    missing = inp.missing(["xi", "mi"])
    inp.counts("xi", "mi")
    total = inp["xi"] + inp["mi"]
    with np.errstate(invalid="ignore"):
        inp.check(total == 0, "mi", "events plus non-events is 0: the study has no participants.")
    return Prepared({"xi": inp["xi"], "mi": inp["mi"]}, total, missing)


def _prepare_binary(inp: Inputs) -> Prepared:
    if inp.has("n1i"):
        missing = inp.missing(["ai", "n1i", "ci", "n2i"])
        inp.counts("ai", "ci")
        inp.counts("n1i", "n2i", positive=True)
        inp.not_above("ai", "n1i", "events")
        inp.not_above("ci", "n2i", "events")
        cells = {
            "ai": inp["ai"],
            "bi": inp["n1i"] - inp["ai"],
            "ci": inp["ci"],
            "di": inp["n2i"] - inp["ci"],
        }
    else:
        missing = inp.missing(["ai", "bi", "ci", "di"])
        inp.counts("ai", "bi", "ci", "di")
        cells = {r: inp[r] for r in ("ai", "bi", "ci", "di")}
        with np.errstate(invalid="ignore"):
            inp.check(cells["ai"] + cells["bi"] == 0, "bi", "group 1 has no participants.")
            inp.check(cells["ci"] + cells["di"] == 0, "di", "group 2 has no participants.")
    total = cells["ai"] + cells["bi"] + cells["ci"] + cells["di"]
    return Prepared(cells, total, missing)


def _prepare_continuous(inp: Inputs) -> Prepared:
    roles = ["m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"]
    missing = inp.missing(roles)
    inp.counts("n1i", "n2i", positive=True)
    inp.positive("sd1i", "sd2i", what="standard deviation")
    cells = {r: inp[r] for r in roles}
    return Prepared(cells, inp["n1i"] + inp["n2i"], missing)


def _prepare_rate(inp: Inputs) -> Prepared:
    missing = inp.missing(["xi", "ti"])
    inp.counts("xi")
    inp.positive("ti", what="person-time")
    return Prepared({"xi": inp["xi"], "ti": inp["ti"]}, inp["ti"], missing)


def _prepare_mean(inp: Inputs) -> Prepared:
    roles = ["meani", "sdi", "ni"]
    missing = inp.missing(roles)
    inp.counts("ni", positive=True)
    inp.positive("sdi", what="standard deviation")
    return Prepared({r: inp[r] for r in roles}, inp["ni"], missing)


def _prepare_correlation(inp: Inputs) -> Prepared:
    missing = inp.missing(["ri", "ni"])
    inp.counts("ni", positive=True)
    with np.errstate(invalid="ignore"):
        inp.check(np.abs(inp["ri"]) > 1, "ri", "correlation {value} is outside [-1, 1].")
    return Prepared({"ri": inp["ri"], "ni": inp["ni"]}, inp["ni"], missing)


def _prepare_generic(inp: Inputs) -> Prepared:
    n = len(inp.labels)
    total = inp["ni"] if inp.has("ni") else np.full(n, np.nan)
    if inp.has("ni"):
        inp.counts("ni", positive=True)
    if inp.has("ratio"):
        return _prepare_estimate_ci(inp, total, "ratio")
    if inp.has("prop"):
        return _prepare_estimate_ci(inp, total, "prop")
    if inp.has("vi"):
        missing = inp.missing(["yi", "vi"])
        inp.positive("vi", what="sampling variance")
        return Prepared({"yi": inp["yi"], "vi": inp["vi"]}, total, missing)
    missing = inp.missing(["yi", "sei"])
    inp.positive("sei", what="standard error")
    return Prepared({"yi": inp["yi"], "vi": inp["sei"] ** 2}, total, missing)


def _logit(p):
    return np.log(p / (1.0 - p))


#: Estimates reported with a CI: role -> (scale transform, what the values are, valid-range check).
_ESTIMATE_CI = {
    "ratio": (np.log, "a ratio or its confidence limit", lambda x: x <= 0, "must be > 0"),
    "prop": (_logit, "a proportion or its confidence limit", lambda x: (x <= 0) | (x >= 1),
             "must be strictly between 0 and 1 (write 0.45 for 45%)"),
}


def _prepare_estimate_ci(inp: Inputs, total: np.ndarray, role: str) -> Prepared:
    """An estimate with its CI as the papers report it, on the analysis scale.

    Ratios (e.g. HR 0.80, 95% CI 0.60 to 1.10) go to the log scale,
    proportions (e.g. 1-year survival 45%, 95% CI 35% to 55%) to the logit
    scale: ``yi = g(estimate)``, ``sei = (g(upper) - g(lower)) / (2 z)``, with
    z the normal quantile of the CI's level (``ci_level``, default 0.95).
    """
    transform, what, invalid, rule = _ESTIMATE_CI[role]
    missing = inp.missing([role, "ci_lb", "ci_ub"])
    with np.errstate(invalid="ignore"):
        for r in (role, "ci_lb", "ci_ub"):
            inp.check(invalid(inp[r]), r, f"{{value}} is not valid as {what}: it {rule}.")
        inp.check(inp["ci_lb"] >= inp["ci_ub"], "ci_lb", "lower limit {value} is not below the upper limit.")
        inp.check(inp[role] < inp["ci_lb"], role, "estimate {value} is below its lower limit.")
        inp.check(inp[role] > inp["ci_ub"], role, "estimate {value} is above its upper limit.")
    z = norm_ppf(1.0 - (1.0 - inp.ci_level) / 2.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sei = (transform(inp["ci_ub"]) - transform(inp["ci_lb"])) / (2.0 * z)
        return Prepared({"yi": transform(inp[role]), "vi": sei**2}, total, missing)


FAMILY_TABLE: dict[str, Family] = {
    "single": Family(
        "single",
        (("xi", "ni"), ("xi", "mi")),
        _prepare_single,
        zero_rows=lambda c: (c["xi"] == 0) | (c["mi"] == 0),
        double_zero_rows=lambda c: (c["xi"] == 0) | (c["mi"] == 0),
    ),
    "binary": Family(
        "binary",
        (("ai", "n1i", "ci", "n2i"), ("ai", "bi", "ci", "di")),
        _prepare_binary,
        zero_rows=lambda c: (c["ai"] == 0) | (c["bi"] == 0) | (c["ci"] == 0) | (c["di"] == 0),
        double_zero_rows=lambda c: ((c["ai"] == 0) & (c["ci"] == 0)) | ((c["bi"] == 0) & (c["di"] == 0)),
    ),
    "continuous": Family(
        "continuous", (("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),), _prepare_continuous
    ),
    "rate": Family(
        "rate",
        (("xi", "ti"),),
        _prepare_rate,
        zero_rows=lambda c: c["xi"] == 0,
        double_zero_rows=lambda c: c["xi"] == 0,
        corrected_cells=("xi",),
    ),
    "mean": Family("mean", (("meani", "sdi", "ni"),), _prepare_mean),
    "correlation": Family("correlation", (("ri", "ni"),), _prepare_correlation),
    "generic": Family(
        "generic", (("yi", "vi"), ("yi", "sei"), ("ratio", "ci_lb", "ci_ub"), ("prop", "ci_lb", "ci_ub")),
        _prepare_generic
    ),
}

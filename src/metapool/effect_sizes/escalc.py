"""``escalc``: study-level effect sizes and sampling variances."""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_level, check_nonnegative
from ..exceptions import DataValidationError
from ..io.parsing import to_float_array, to_labels
from ..io.tables import get_column
from .cells import Inputs
from .families import FAMILY_TABLE
from .registry import get_measure
from .table import EffectSizeTable, Exclusion

__all__ = ["escalc", "ROLES", "CORRECTION_TARGETS"]

#: Every input role escalc understands (metafor's argument names, plus the
#: ratio-with-CI roles for generic log ratios).
ROLES = (
    "xi", "ni", "mi", "ti",
    "ai", "bi", "ci", "di", "n1i", "n2i",
    "m1i", "sd1i", "m2i", "sd2i",
    "meani", "sdi", "ri",
    "yi", "vi", "sei",
    "ratio", "ci_lb", "ci_ub", "prop",
)  # fmt: skip

#: Values of ``to``: which studies receive the continuity correction.
CORRECTION_TARGETS = {
    "only0": "studies with a zero cell (zero events or zero non-events)",
    "all": "all studies",
    "if0all": "all studies, if any study has a zero cell",
    "none": "no study",
}


def _column(data, value, role: str, n: int | None):
    """Resolve a role given as a column name or as values; return (values, shown name)."""
    if isinstance(value, str):
        if data is None:
            raise DataValidationError(f"'{role}' names column {value!r} but no data were given.")
        return get_column(data, value, role), value
    if np.isscalar(value) and n is not None:
        return np.full(n, value), role
    return value, role


def _zero_notes(measure: str, family: str, cells: dict, ok: np.ndarray) -> list[str]:
    """Flag data sets where every study has zero (or all) events."""
    if family not in ("single", "rate") or not ok.any():
        return []
    xi = cells["xi"][ok]
    mi = cells["mi"][ok] if family == "single" else np.ones_like(xi)
    what = "zero events" if np.all(xi == 0) else "only events (xi = ni)" if np.all(mi == 0) else None
    if what is None:
        return []
    if measure in ("PFT", "PAS", "IRFT", "IRS"):
        return [f"All studies report {what}; the {measure} estimate is defined without a correction."]
    instead = "PFT or PAS, or an exact binomial" if family == "single" else "IRFT or IRS, or an exact Poisson"
    return [
        f"All studies report {what}: the {measure} estimate is an artefact of the continuity"
        f" correction. Use measure {instead} interval."
    ]


def escalc(
    measure: str,
    data=None,
    *,
    xi=None, ni=None, mi=None, ti=None,
    ai=None, bi=None, ci=None, di=None, n1i=None, n2i=None,
    m1i=None, sd1i=None, m2i=None, sd2i=None,
    meani=None, sdi=None, ri=None,
    yi=None, vi=None, sei=None,
    ratio=None, ci_lb=None, ci_ub=None, prop=None, ci_level=95,
    slab=None,
    add: float | None = None,
    to: str = "only0",
    drop00: bool = False,
    nan_policy: str = "omit",
) -> EffectSizeTable:  # fmt: skip
    """Compute effect sizes ``yi`` and sampling variances ``vi`` for each study.

    Definitions, defaults and continuity corrections follow metafor's
    ``escalc`` (Viechtbauer 2010).

    Parameters
    ----------
    measure
        Measure code, e.g. ``"PLO"``; see :data:`metapool.effect_sizes.MEASURES`.
    data
        Optional table (pandas DataFrame, :class:`~metapool.io.StudyTable` or a
        mapping); input arguments given as strings name its columns.
    xi, ni, mi
        One group: events, total, non-events (give ``ni`` or ``mi``).
    ti
        One group: person-time over which the ``xi`` events occurred (rates
        IR, IRLN, IRS, IRFT); must be > 0.
    ai, bi, ci, di, n1i, n2i
        Two groups: events ``ai``/``ci`` with totals ``n1i``/``n2i``, or the four
        cells ``ai``, ``bi``, ``ci``, ``di`` of each 2x2 table.
    m1i, sd1i, m2i, sd2i
        Two groups: means and standard deviations (with ``n1i``, ``n2i``);
        both means must be > 0 for the ratio of means ROM.
    meani, sdi
        One group: mean and standard deviation, with the group size ``ni``
        (MN, MNLN; metafor calls the mean ``mi``, which here already names
        non-events). MNLN needs ``meani > 0``.
    ri
        Correlation coefficients in [-1, 1] with the number of pairs ``ni``
        (COR, ZCOR).
    yi, vi, sei
        Generic: estimates with variances or standard errors (``ni`` optional).
    ratio, ci_lb, ci_ub, ci_level
        Generic log ratios (measure ``"LNR"``): a ratio (e.g. a hazard ratio)
        with its confidence limits on the ratio scale and their level; converted
        to ``yi = log(ratio)``, ``sei = (log(ci_ub) - log(ci_lb)) / (2 z)``.
    prop
        Generic proportions (measure ``"PCI"``), e.g. 1-year survival reported
        as 0.45 (95% CI 0.35 to 0.55), with ``ci_lb``/``ci_ub``; converted to the
        logit scale as ratios are to the log scale.
    slab
        Study labels (column name or values). Labels are text; "NA" stays "NA".
    add, to, drop00
        Continuity correction as in metafor: ``add`` is added to every cell of
        the studies chosen by ``to`` (``"only0"``: studies with a zero cell,
        ``"all"``, ``"if0all"``, ``"none"``). The default ``add`` is 1/2 for
        measures undefined at zero cells (PR, PLN, PLO, OR, RR, RD, PETO, IR,
        IRLN) and 0 for PAS, PFT, IRS and IRFT; for rates only the events are
        corrected, never the person-time. ``drop00=True`` excludes studies
        with no events (or only events) in all groups.
    nan_policy
        ``"omit"`` (default) excludes rows with missing inputs and lists them
        in ``exclusions``; ``"raise"`` makes them an error.

    Returns
    -------
    EffectSizeTable

    Raises
    ------
    DataValidationError
        Impossible values (negative or non-integer counts, events above the
        total, SD <= 0, non-numeric cells), naming the row and the column.

    References
    ----------
    Viechtbauer W (2010). J Stat Softw 36(3):1-48.
    """
    m = get_measure(measure)
    to = check_choice("escalc", "to", to, CORRECTION_TARGETS)
    nan_policy = check_choice("escalc", "nan_policy", nan_policy, ("omit", "raise"))
    given = {
        role: value
        for role, value in zip(
            ROLES,
            (xi, ni, mi, ti, ai, bi, ci, di, n1i, n2i, m1i, sd1i, m2i, sd2i, meani, sdi, ri,
             yi, vi, sei, ratio, ci_lb, ci_ub, prop),
        )
        if value is not None
    }
    family = FAMILY_TABLE[m.family]
    roles = family.roles(given)
    for role, code, scale in (("ratio", "LNR", "log"), ("prop", "PCI", "logit")):
        if role in roles and m.code != code:
            raise DataValidationError(
                f"A {role} with its confidence limits is pooled on the {scale} scale: use measure {code!r},"
                f" not {m.code!r}."
            )
    used = set(roles) | ({"ni"} if m.family == "generic" else set())
    unused = sorted(set(given) - used)
    if unused:
        raise DataValidationError(
            f"Measure {m.code} uses the columns {', '.join(roles)}; also given: {', '.join(unused)}."
        )

    columns = {role: _column(data, given[role], role, None) for role in roles if role in given}
    if m.family == "generic" and "ni" in given:
        columns["ni"] = _column(data, given["ni"], "ni", None)
    lengths = {role: len(v) for role, (v, _) in columns.items()}
    n = next(iter(lengths.values()))
    if any(length != n for length in lengths.values()):
        raise DataValidationError(
            "Input columns differ in length: "
            + ", ".join(f"{r}={length}" for r, length in lengths.items())
        )
    if n == 0:
        raise DataValidationError("The data have no rows (k = 0).")
    labels = to_labels(_column(data, slab, "slab", n)[0] if slab is not None else None, n)
    values = {role: to_float_array(v, shown, labels) for role, (v, shown) in columns.items()}
    names = {role: shown for role, (_, shown) in columns.items()}
    inputs = Inputs(values, names, labels, ci_level=check_level("escalc", ci_level))

    prepared = family.prepare(inputs)
    if m.positive:
        inputs.positive(*m.positive, what=f"a mean ({m.code} takes its log)")
    if prepared.missing and nan_policy == "raise":
        row, reason = prepared.missing[0]
        raise inputs.fail(row, "", reason)
    excluded = {row: reason for row, reason in prepared.missing}
    valid = np.ones(n, dtype=bool)
    if excluded:
        valid[list(excluded)] = False

    cells = {k: np.array(v, dtype=float) for k, v in prepared.cells.items()}
    corrected = np.zeros(n, dtype=bool)
    amount = m.add_default if add is None else check_nonnegative("escalc", "add", add)
    notes: list[str] = []
    if family.zero_rows is not None:
        with np.errstate(invalid="ignore"):
            if drop00:
                dropped = family.double_zero_rows(cells) & valid
                for row in np.flatnonzero(dropped):
                    excluded[int(row)] = "no events (or only events) in every group; dropped (drop00)"
                valid &= ~dropped
            zero = family.zero_rows(cells) & valid
        if to == "all" or (to == "if0all" and zero.any()):
            corrected = valid.copy()
        elif to in ("only0", "if0all"):
            corrected = zero
        if amount == 0:
            corrected[:] = False
        for name in family.corrected_cells or cells:
            cells[name][corrected] += amount
        notes += _zero_notes(m.code, m.family, prepared.cells, valid)
        if corrected.any():
            notes.append(
                f"Continuity correction: {amount:g} added to"
                f" {'each cell' if family.corrected_cells is None else 'the events'} of {int(corrected.sum())}"
                f" stud{'y' if corrected.sum() == 1 else 'ies'} ({CORRECTION_TARGETS[to]}): "
                + ", ".join(labels[i] for i in np.flatnonzero(corrected))
            )

    with np.errstate(divide="ignore", invalid="ignore"):
        y, v = m.compute(cells)
    y = np.array(y, dtype=float)
    v = np.array(v, dtype=float)
    y[~valid] = np.nan
    v[~valid] = np.nan
    undefined = valid & ~(np.isfinite(y) & np.isfinite(v))
    if np.count_nonzero(undefined):
        for row in np.flatnonzero(undefined):
            excluded[int(row)] = f"{m.code} is not estimable for this study ({m.undefined})"
            y[row] = v[row] = np.nan

    return EffectSizeTable(
        measure=m.code,
        yi=y,
        vi=v,
        slab=labels,
        ni=prepared.total,
        corrected=corrected,
        exclusions=tuple(Exclusion(r, labels[r], excluded[r]) for r in sorted(excluded)),
        notes=tuple(notes),
        cells=prepared.cells,
        options={"add": amount, "to": to, "drop00": bool(drop00)},
    )

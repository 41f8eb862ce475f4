"""The GRADE assessment of one pooled outcome, from its model and what the analysis file declares.

:func:`assess` gathers the numbers each domain of :mod:`metapool.evidence.grade`
needs from a fitted model (study estimates and weights, I², the pooled CI and
prediction interval on the natural scale, the bias tests that ran) and returns
a :class:`~metapool.evidence.grade.Grade` with the absolute effects of
comparative binary outcomes (:mod:`metapool.evidence.absolute`). The cells it
needs from the study table (risk of bias, control-group counts, SDs) are read
by the caller, by row.

References
----------
Schünemann H et al., eds. (2013). GRADE Handbook, section 5.
Guyatt GH et al. (2011). GRADE guidelines 4-8. J Clin Epidemiol 64:407-415, 1277-1302.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..effect_sizes.registry import MEASURES
from . import grade as g
from .absolute import absolute_effect
from .level import Start

__all__ = ["OutcomeData", "assess", "natural_null", "options_of", "study_weights"]


@dataclass(frozen=True)
class OutcomeData:
    """What an outcome's assessment reads from the study table, one entry per study in the model's order.

    Attributes
    ----------
    rob
        Risk-of-bias cells (None: no risk-of-bias column).
    control_events, control_totals
        Group 2 (control) events and patients of binary outcomes (None otherwise).
    sd
        Each study's pooled SD of a continuous outcome (None otherwise), for
        the OIS of a mean difference with a MID.
    """

    rob: tuple | None = None
    control_events: np.ndarray | None = None
    control_totals: np.ndarray | None = None
    sd: np.ndarray | None = None


def study_weights(model) -> np.ndarray | None:
    """Each study's weight in the pooled model (percent; a GLMM's information shares), None without a model.

    Every pooled result carries ``weights`` (:class:`~metapool.models.protocol.PooledResult`).
    """
    weights = getattr(model, "weights", None)
    return None if weights is None else np.asarray(weights, dtype=float)


def _study_effects(model) -> tuple:
    """Study estimates and variances on the analysis scale (a GLMM's own study-level effect sizes)."""
    if model is None:
        return None, None
    source = model.effect_sizes() if hasattr(model, "effect_sizes") else model
    return getattr(source, "yi", None), getattr(source, "vi", None)


def natural_null(measure: str | None) -> tuple[bool, float]:
    """Whether a measure's natural scale is a ratio, and its null value there (1 for ratios, else 0)."""
    entry = MEASURES.get(measure or "")
    ratio = entry is not None and entry.back == "exp"
    return ratio, 1.0 if ratio else 0.0


_POWER = f"α = {g.OIS_ALPHA:g}, power {g.OIS_POWER:g}"


def _ois(measure: str | None, comparison: str, pooled, options: g.GradeOptions, absolute, data: OutcomeData):
    """The optimal information size of an outcome and the basis it was computed on (None where undefined)."""
    entry = MEASURES.get(measure or "")
    if comparison == "two-group" and absolute is not None:
        if not 0.0 < absolute.control_risk < 1.0:  # no relative reduction of a risk of 0 (or 1) to detect
            return None, None
        return g.ois_binary(absolute.control_risk), f"binary: RRR {g.OIS_RRR:.0%} at the control risk, {_POWER}"
    if comparison == "two-group" and measure == "SMD":
        d = options.mid or g.OIS_SMD
        return g.ois_continuous(d), f"continuous: standardised difference {d:g}, {_POWER}"
    if comparison == "two-group" and measure == "MD":
        sd = None if data.sd is None else np.asarray(data.sd, dtype=float)
        sd = float(np.median(sd[np.isfinite(sd)])) if sd is not None and np.isfinite(sd).any() else None
        if options.mid is not None and sd:
            return g.ois_continuous(options.mid / sd), f"continuous: MID {options.mid:g} / median SD {sd:g}, {_POWER}"
        return g.ois_continuous(), f"continuous: {g.OIS_SMD:g} SD, {_POWER}"
    if comparison == "single-group" and entry is not None and entry.natural == "proportion" and pooled is not None:
        basis = f"single-group proportion: CI of ±10 percentage points at α = {g.OIS_ALPHA:g}"
        return g.ois_proportion(pooled.estimate), basis
    return None, None


def assess(model, pooled, *, comparison: str, start: Start, k: int, n: int | None, bias=None,
           bias_requested: bool = True, bias_skipped: str | None = None, data: OutcomeData = OutcomeData(),
           options: g.GradeOptions = g.GradeOptions(), measure: str | None = None) -> g.Grade:
    """GRADE assessment of one outcome (rules: :mod:`metapool.evidence.grade`).

    Parameters
    ----------
    model
        The fitted model (None for pooled medians without variances).
    pooled
        Its natural-scale pooled value (estimate, CI, prediction interval, level).
    comparison, start
        What the outcome compares and its starting certainty (:mod:`metapool.evidence.level`).
    k, n
        Studies and patients analysed.
    bias, bias_requested, bias_skipped
        The bias analyses that ran, whether they were asked for, and why they did not run.
    data
        Cells read from the study table (:class:`OutcomeData`).
    options
        What the analysis file declares (:class:`~metapool.evidence.grade.GradeOptions`).
    measure
        The effect measure (default: the model's).
    """
    measure = measure or getattr(model, "measure", None)
    ratio, null = natural_null(measure)
    level = float(getattr(pooled, "level", 0.95))
    ci = None if pooled is None else (pooled.ci_lower, pooled.ci_upper)
    pi = None if pooled is None else (pooled.pi_lower, pooled.pi_upper)
    absolute = None
    if comparison == "two-group" and pooled is not None:
        absolute = absolute_effect(measure, (pooled.estimate, *ci), level, options.control_risk,
                                   data.control_events, data.control_totals)
    ois, ois_basis = _ois(measure, comparison, pooled, options, absolute, data)
    if comparison == "two-group":
        limits = g.thresholds(ratio, options.mid) if options.mid is not None else ()
        decision = (null, *limits)
    else:
        decision = () if options.threshold is None else (options.threshold,)
    yi, vi = _study_effects(model)
    i2 = getattr(model, "i2", None)
    entry = MEASURES.get(measure or "")
    imprecise = g.imprecision(comparison, ci, n, ratio=ratio, null=null, mid=options.mid,
                              threshold=options.threshold, ois=ois,
                              proportion=entry is not None and entry.natural == "proportion")
    if ois_basis:
        imprecise = g.Domain(imprecise.name, imprecise.judgement, imprecise.rule,
                             {**imprecise.numbers, "ois_basis": ois_basis})
    domains = (
        g.risk_of_bias(data.rob, study_weights(model)),
        g.inconsistency(None if i2 is None else float(i2), yi, vi, level, pi, decision),
        g.indirectness(options.indirectness, options.indirectness_reason),
        imprecise,
        g.publication_bias(k, bias, bias_requested, bias_skipped),
    )
    return g.Grade(start, domains, g.certainty(start, domains), absolute, comparison)


def options_of(spec) -> g.GradeOptions:
    """The :class:`~metapool.evidence.grade.GradeOptions` an outcome's part of the analysis file declares."""
    keys: Mapping = {k: getattr(spec, k, None) for k in ("mid", "threshold", "control_risk", "indirectness")}
    return g.GradeOptions(**keys, indirectness_reason=getattr(spec, "indirectness_reason", "") or "")

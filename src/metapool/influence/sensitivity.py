"""The sensitivity summary of an outcome: the pooled value under other reasonable modelling choices.

One row per choice, side by side with the primary analysis: the common-effect
model, every other tau² estimator of the method registry, the Knapp–Hartung
adjustment, the primary model without the studies at high risk of bias, and
the GLMM where the data are counts (Cochrane Handbook 10.14; Viechtbauer
2010). Each row is one call of :func:`metapool.models.methods.fit`, so that
a row can be checked by fitting it again; a row that cannot be fitted keeps
the reason instead of numbers.

References
----------
Higgins JPT, Thomas J, et al. (eds) (2023). Cochrane Handbook for Systematic
Reviews of Interventions, version 6.4, section 10.14 (sensitivity analyses).
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3):1-48.
Knapp G, Hartung J (2003). Improved tests for a random effects meta-regression
with a single covariate. Stat Med 22:2693-2710.
Stijnen T, Hamza TH, Özdemir P (2010). Random effects meta-analysis of event
outcome in the framework of the generalized linear mixed model. Stat Med
29:3046-3067.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..evidence.risk_of_bias import parse_judgement
from ..exceptions import MetapoolError
from ..glmm.model import GLMM_MEASURES
from ..models.methods import METHODS, fit, get_method
from ..models.results import json_numbers
from ..models.tau2 import ESTIMATORS

__all__ = ["SensitivityRow", "SensitivitySummary", "sensitivity_summary", "method_label", "KNHA_FALLBACK"]

#: The tau² estimator of the Knapp–Hartung row when the primary method is not a random-effects rma model.
KNHA_FALLBACK = "REML"


@dataclass(frozen=True)
class SensitivityRow:
    """One modelling choice and its pooled value (or why there is none).

    Attributes
    ----------
    code
        Stable key: ``"primary"``, a method code (``"CE"``, ``"DL"``, ...,
        ``"GLMM"``), ``"knha"`` or ``"without_high_rob"``.
    label
        What was changed, in words ("Paule-Mandel τ²").
    method, test
        The arguments of :func:`~metapool.models.methods.fit` that give the row.
    k
        Studies pooled (None without a fit).
    estimate, ci_lower, ci_upper
        Pooled value and CI on the analysis scale (log, logit, ...).
    natural
        The same on the natural scale (odds ratio, proportion, ...): the
        model's :meth:`back` (a :class:`~metapool.models.results.Prediction`);
        None when the analysis scale is natural.
    tau2, i2
        Between-study variance and I² (percent).
    reason
        Why the row has no numbers (None when fitted).
    """

    code: str
    label: str
    method: str
    test: str
    k: int | None = None
    estimate: float = math.nan
    ci_lower: float = math.nan
    ci_upper: float = math.nan
    natural: object = None
    tau2: float = math.nan
    i2: float = math.nan
    reason: str | None = None

    def to_dict(self) -> dict:
        d = {"code": self.code, "label": self.label, "method": self.method, "test": self.test, "k": self.k,
             **json_numbers(self, ("estimate", "ci_lower", "ci_upper", "tau2", "i2"))}
        if self.natural is not None:
            d["natural"] = json_numbers(self.natural, ("estimate", "ci_lower", "ci_upper"))
        if self.reason is not None:
            d["reason"] = self.reason
        return d


@dataclass(frozen=True)
class SensitivitySummary:
    """The rows of an outcome's sensitivity summary, the primary analysis first; ``level`` as a fraction."""

    measure: str | None
    level: float
    rows: tuple

    def to_dict(self) -> dict:
        return {"measure": self.measure, "level": self.level, "rows": [r.to_dict() for r in self.rows]}


def _row(code: str, label: str, method: str, test: str, model) -> SensitivityRow:
    """A fitted row: the model's pooled value on both scales, tau² and I²."""
    return SensitivityRow(code, label, method, test, int(model.k), float(model.estimate), float(model.ci_lower),
                          float(model.ci_upper), model.back(), float(model.tau2), float(model.i2))


def _subset(data, slab, keep: np.ndarray):
    """The columns of ``data`` and the labels ``slab`` restricted to the rows ``keep`` (0-based)."""
    columns = {name: [data[name][i] for i in keep] for name in data.keys()}
    return columns, None if slab is None or isinstance(slab, str) else [slab[i] for i in keep]


def method_label(code: str, measure: str | None = None) -> str:
    """A method in words: "Common effect (inverse variance)", "Random effects, Paule-Mandel τ²", "Mantel-Haenszel".

    A GLMM is named by its model for ``measure`` ("Random effects, binomial-normal GLMM").
    """
    m = METHODS[code]
    if m.kind == "glmm":
        if measure not in GLMM_MEASURES:
            return f"Random effects, {m.name}"
        model = GLMM_MEASURES[measure][2]
        name = "logistic GLMM with fixed study effects (UM.FS)" if model == "UM.FS" else f"{model} GLMM"
        return f"Random effects, {name.replace('poisson', 'Poisson')}"
    if m.estimator is None:
        return m.name
    return "Common effect (inverse variance)" if m.kind == "common" else f"Random effects, {m.name} τ²"


def sensitivity_summary(model, data, *, method: str, measure: str | None, test: str = "z", level: float = 95,
                        slab=None, rob: Sequence | None = None, ci_level: float = 95,
                        **roles) -> SensitivitySummary:
    """Refit an outcome under each alternative modelling choice.

    Parameters
    ----------
    model
        The primary fit (``fit(method, data, ...).model``): its row is taken
        from it, not fitted again.
    data
        The study table (a mapping of column name to cells).
    method, measure, test, level, slab, ci_level, **roles
        The arguments the primary model was fitted with
        (:func:`metapool.models.methods.fit`).
    rob
        Each table row's overall risk-of-bias cell (None: no such column,
        and no row leaving out high-risk studies).

    Returns
    -------
    SensitivitySummary
        Rows: primary analysis, common effect, each other random-effects
        tau² estimator of :data:`~metapool.models.tau2.ESTIMATORS`,
        Knapp–Hartung (on the primary tau² estimator; for a common-effect,
        GLMM, MH or Peto primary on :data:`KNHA_FALLBACK`), without high risk of bias (with ``rob``),
        GLMM. A row that is the primary analysis itself is left out.
    """
    primary = get_method(method)
    options = {"measure": measure, "slab": slab, "level": level, "ci_level": ci_level, **roles}

    def attempt(code: str, label: str, m: str, t: str, data=data, slab=slab) -> SensitivityRow:
        try:
            fitted = fit(m, data, test=t, **(options | {"slab": slab}))
        except MetapoolError as exc:
            return SensitivityRow(code, label, m, t, reason=str(exc))
        return _row(code, label, m, t, fitted.model)

    rows = [_row("primary", f"Primary analysis: {method_label(primary.code, model.measure)}", primary.code, test,
                 model)]
    for code, e in ESTIMATORS.items():
        if code == primary.code:
            continue
        if primary.estimator is None or (test == "knha" and not e.random):  # Knapp–Hartung is for random effects
            rows.append(attempt(code, method_label(code) + (" (z test)" if test != "z" else ""), code, "z"))
        else:
            rows.append(attempt(code, method_label(code), code, test))
    knha_method = primary.code if primary.kind == "random" else KNHA_FALLBACK
    label = f"Knapp–Hartung adjustment ({method_label(knha_method)})"
    if test == "knha":
        rows.append(SensitivityRow("knha", label, knha_method, "knha", reason="the primary analysis uses it"))
    else:
        rows.append(attempt("knha", label, knha_method, "knha"))
    if rob is not None:
        rows.append(_without_high_rob(model, data, slab, rob, primary.code, test, attempt))
    if primary.code != "GLMM":
        rows.append(_glmm_row(measure or model.measure, roles, test, attempt))
    return SensitivitySummary(model.measure, model.level, tuple(rows))


def _without_high_rob(model, data, slab, rob: Sequence, method: str, test: str, attempt) -> SensitivityRow:
    """The primary model refitted to the studies not judged at high risk of bias."""
    code, label = "without_high_rob", "Leaving out studies at high risk of bias"
    try:
        judged = [parse_judgement(cell) for cell in rob]
    except MetapoolError as exc:
        return SensitivityRow(code, label, method, test, reason=str(exc))
    analysed = np.asarray(model.rows, dtype=int)
    high = [int(r) for r in analysed if judged[r] == "high"]
    if not high:
        return SensitivityRow(code, label, method, test, reason="no analysed study is at high risk of bias")
    keep = np.array([i for i in range(len(judged)) if judged[i] != "high"], dtype=int)
    if len(np.setdiff1d(analysed, high)) < 2:
        return SensitivityRow(code, label, method, test,
                              reason=f"{len(high)} of {len(analysed)} studies are at high risk of bias;"
                                     " fewer than 2 would remain")
    columns, labels = _subset(data, slab, keep)
    return attempt(code, f"{label} ({len(high)} left out)", method, test, data=columns, slab=labels)


def _glmm_row(measure: str | None, roles: dict, test: str, attempt) -> SensitivityRow:
    """The GLMM (binomial- or Poisson-normal, or UM.FS for 2x2 tables) where the data are counts."""
    glmm = METHODS["GLMM"]
    label = method_label("GLMM", measure)
    test = test if test in glmm.tests else glmm.tests[0]
    if measure not in glmm.measures:
        return SensitivityRow("GLMM", label, "GLMM", test,
                              reason=f"not applicable: the GLMM pools counts ({', '.join(glmm.measures)}),"
                                     f" not {measure or 'effect sizes given as yi and vi'}")
    return attempt("GLMM", label, "GLMM", test)

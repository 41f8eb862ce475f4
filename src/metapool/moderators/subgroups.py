"""Subgroup analyses: pooled results per subgroup and the test for subgroup differences.

Two variants, both common in practice:

* ``tau2="separate"`` (the usual clinical default, as R's meta): each subgroup
  is pooled on its own, with its own tau2; the test for subgroup differences
  is Cochran's Q across the subgroup estimates, weighted by their inverse
  squared standard errors (Borenstein et al. 2009, ch. 19).
* ``tau2="common"`` (as metafor): a mixed-effects model with the subgroup as a
  categorical moderator and one tau2; the subgroup estimates are its
  coefficients without intercept and the test is its omnibus QM test.

Subgroups with a single study are shown (tau2 = 0 as in metafor), never dropped.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from .._summary import Rendered
from .._validation import check_choice, check_level
from ..effect_sizes.table import EffectSizeTable, Exclusion
from ..exceptions import DataValidationError, OptionError
from ..io.parsing import MISSING_MARKERS
from ..io.tables import get_column
from ..models.results import Prediction, _num

__all__ = ["SubgroupResult", "Subgroup", "subgroup_analysis", "TAU2_MODES"]

TAU2_MODES = {
    "separate": "tau2 estimated within each subgroup (as R's meta)",
    "common": "one tau2 shared by all subgroups (mixed-effects model, as metafor)",
}


@dataclass(frozen=True)
class Subgroup:
    """The pooled result of one subgroup.

    ``level`` is the subgroup's name (the value of the grouping column);
    ``natural`` its pooled value on the natural scale (None when the scale is
    natural), also given by :meth:`back` as every pooled result does.
    """

    level: str
    k: int
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    tau2: float
    i2: float
    natural: Prediction | None = None

    def back(self, level=None) -> Prediction | None:
        """The pooled value on the natural scale (a back-transformed :class:`~metapool.models.results.Prediction`).

        None when the scale is natural. Only at the level the subgroups were
        fitted at (``level`` None or that level): refit for another.
        """
        if self.natural is not None and level is not None and check_level("back", level) != self.natural.level:
            raise OptionError(f"Subgroup {self.level!r} was pooled at level {self.natural.level * 100:g}%;"
                              " run subgroup_analysis with the level wanted.")
        return self.natural

    def to_dict(self) -> dict:
        d = {
            "level": self.level,
            "k": self.k,
            "estimate": _num(self.estimate),
            "se": _num(self.se),
            "ci_lower": _num(self.ci_lower),
            "ci_upper": _num(self.ci_upper),
            "tau2": _num(self.tau2),
            "i2": _num(self.i2),
        }
        if self.natural is not None:
            n = self.natural
            d["back"] = {"estimate": _num(n.estimate), "ci_lower": _num(n.ci_lower), "ci_upper": _num(n.ci_upper)}
        return d


@dataclass(frozen=True)
class SubgroupResult(Rendered):
    """Subgroup estimates and the test for subgroup differences.

    Attributes
    ----------
    column, tau2_mode
        The grouping and how tau2 was estimated (see :data:`TAU2_MODES`).
    subgroups
        One :class:`Subgroup` per level (sorted levels).
    qm, qm_df, qm_pvalue
        Test for subgroup differences, named as the test of moderators of
        :class:`~metapool.models.results.RMAResult` (``to_dict``: ``qm``...):
        for ``"common"`` with t/knha inference ``qm`` is the F statistic with
        ``(qm_df, qm_ddf)`` degrees of freedom. ``q``, ``df``, ``ddf`` and
        ``pvalue`` are deprecated names of these.
    qm_ddf
        Denominator degrees of freedom of that F test, else None.
    fits
        The per-subgroup models (``"separate"``) or the mixed-effects model
        (``"common"``).
    exclusions
        Rows without a subgroup label (and rows the models excluded).
    """

    column: str
    tau2_mode: str
    subgroups: tuple
    qm: float
    qm_df: int
    qm_ddf: float | None
    qm_pvalue: float
    fits: tuple
    exclusions: tuple = ()

    def _deprecated(self, old: str, new: str):
        warnings.warn(f"SubgroupResult.{old} is deprecated and will be removed in 0.2; use .{new}.",
                      DeprecationWarning, stacklevel=3)
        return getattr(self, new)

    q = property(lambda self: self._deprecated("q", "qm"), doc="Deprecated name of :attr:`qm`.")
    df = property(lambda self: self._deprecated("df", "qm_df"), doc="Deprecated name of :attr:`qm_df`.")
    ddf = property(lambda self: self._deprecated("ddf", "qm_ddf"), doc="Deprecated name of :attr:`qm_ddf`.")
    pvalue = property(lambda self: self._deprecated("pvalue", "qm_pvalue"), doc="Deprecated name of :attr:`qm_pvalue`.")

    def to_dict(self) -> dict:
        """The JSON of the subgroups; ``subgroup_test`` keeps its keys ``q, df, ddf, pvalue``."""
        test = {"q": _num(self.qm), "df": self.qm_df, "ddf": _num(self.qm_ddf), "pvalue": _num(self.qm_pvalue)}
        return {"subgroups": [s.to_dict() for s in self.subgroups], "subgroup_test": test,
                "subgroup_tau2": self.tau2_mode}


def _labels(groups, data, n: int) -> tuple[np.ndarray, str]:
    if isinstance(groups, str):
        values, name = get_column(data, groups, "subgroups"), groups
    else:
        values, name = groups, "subgroup"
    values = list(values.tolist() if hasattr(values, "tolist") else values)
    if len(values) != n:
        raise DataValidationError(f"The subgroup column has {len(values)} entries but the data have {n} rows.")
    out = []
    for v in values:
        text = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip()
        out.append("" if text.lower() in MISSING_MARKERS else text)
    return np.array(out, dtype=object), name


def subgroup_analysis(
    es: EffectSizeTable,
    groups,
    data=None,
    *,
    tau2: str = "separate",
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    control=None,
) -> SubgroupResult:
    """Pool each subgroup and test for subgroup differences.

    Parameters
    ----------
    es
        Effect sizes from :func:`metapool.escalc`.
    groups
        Subgroup column name in ``data``, or the labels (one per row of ``es``).
    data
        The study table when ``groups`` is a column name.
    tau2
        ``"separate"`` (default) or ``"common"`` (see module docstring).
    method, test, level, control
        As for :func:`metapool.rma`.

    Raises
    ------
    DataValidationError
        Fewer than two subgroups with data.

    References
    ----------
    Borenstein M, Hedges LV, Higgins JPT, Rothstein HR (2009). Introduction to
    Meta-Analysis, ch. 19. Viechtbauer W (2010). J Stat Softw 36(3):1-48.
    """
    from ..models.rma import rma

    mode = check_choice("subgroup_analysis", "tau2", tau2, TAU2_MODES)
    labels, name = _labels(groups, data, len(es))
    usable = es.included & (labels != "")
    levels = sorted(set(labels[usable]))
    if len(levels) < 2:
        raise DataValidationError(
            f"Subgroup column {name!r} has {len(levels)} level(s) among the studies analysed; a subgroup"
            " analysis needs at least two."
        )
    unlabelled = tuple(Exclusion(int(es.rows[r]), es.slab[r], f"no value in subgroup column {name!r}")
                       for r in np.flatnonzero(es.included & (labels == "")))
    listed = {e.row for e in es.exclusions}  # rows without an effect size, by their reason if escalc gave one
    no_effect = tuple(Exclusion(int(es.rows[r]), es.slab[r], "effect size or variance missing")
                      for r in np.flatnonzero(~es.included) if int(es.rows[r]) not in listed)
    missing = tuple(sorted(es.exclusions + no_effect + unlabelled, key=lambda e: e.row))
    opts = {"method": method, "test": test, "level": level, "control": control}
    if mode == "separate":
        fits = tuple(rma(es.take(usable & (labels == lev)), **opts) for lev in levels)
        subgroups = tuple(
            Subgroup(lev, f.k, f.estimate, f.se, f.ci_lower, f.ci_upper, f.tau2, f.i2, f.back())
            for lev, f in zip(levels, fits)
        )
        between = rma(yi=[f.estimate for f in fits], sei=[f.se for f in fits], method="CE")
        return SubgroupResult(name, mode, subgroups, between.q, int(between.q_df), None, between.q_pvalue,
                              fits, missing)
    sub = es.take(usable)
    g = {"group": labels[usable]}
    cell_means = rma(sub, mods=["group:cat"], data=g, intercept=False, **opts)
    contrast = rma(sub, mods=["group:cat"], data=g, **opts).moderators
    c = cell_means.coefficients
    subgroups = []
    for i, lev in enumerate(levels):
        members = labels[usable] == lev
        pooled = Prediction(float(c.estimate[i]), float(c.ci_lower[i]), float(c.ci_upper[i]), math.nan, math.nan,
                            cell_means.level)
        t = cell_means.back_transform  # a Freeman-Tukey inverse: the harmonic mean of the subgroup's sizes
        back = None if t is None else pooled.back_transformed(t, np.asarray(sub.ni)[members])
        subgroups.append(Subgroup(lev, int(members.sum()), float(c.estimate[i]), float(c.se[i]),
                                  float(c.ci_lower[i]), float(c.ci_upper[i]), cell_means.tau2, cell_means.i2, back))
    return SubgroupResult(name, mode, tuple(subgroups), contrast.statistic, contrast.df, contrast.ddf,
                          contrast.pvalue, (cell_means,), missing)

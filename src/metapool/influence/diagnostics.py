"""Outlier and influence diagnostics, and the data of the Baujat plot.

Both rest on the leave-one-out refits of the model (one batch of k fits).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

import numpy as np

from .._distributions import chi2_sf
from .._summary import Rendered, Summarized
from ..exceptions import MetapoolError
from ..models.mh_peto import NOT_FOR_TABLES, MHResult
from ..models.results import RMAResult, _freeze, _num
from ._refit import refit_subsets, require_intercept_only, require_k
from .leave_one_out import leave_one_out_masks

__all__ = ["InfluenceDiagnostics", "BaujatData", "influence", "baujat", "influential_flags", "deletion_diagnostics"]

_FIELDS = ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat", "weight", "dfbetas")

#: hat values this close to 1 are set to 1, as metafor does.
_HAT_ONE = 1.0 - 10.0 * np.finfo(float).eps


@dataclass(frozen=True)
class InfluenceDiagnostics(Rendered):
    """Case diagnostics per study, equal to metafor's ``influence()``.

    Attributes
    ----------
    rstudent
        Externally standardised (deleted) residuals.
    dffits, cook_d, cov_r, dfbetas
        Change in the fitted value, Cook's distance, covariance ratio and
        standardised change of the estimate when the study is left out.
    tau2_del, qe_del
        tau2 and the Q statistic without the study.
    hat, weight
        Leverages and weights (percent) in the full model.
    influential
        metafor's flag: ``|DFFITS| > 3 sqrt(p/(k-p))``, or
        ``P(chi2_p <= Cook's D) > 0.5``, or ``hat > 3p/k``, or ``|DFBETAS| > 1``.
    """

    slab: tuple
    rstudent: np.ndarray
    dffits: np.ndarray
    cook_d: np.ndarray
    cov_r: np.ndarray
    tau2_del: np.ndarray
    qe_del: np.ndarray
    hat: np.ndarray
    weight: np.ndarray
    dfbetas: np.ndarray
    influential: np.ndarray

    def __post_init__(self) -> None:
        _freeze(self)

    def to_records(self) -> list[dict]:
        return [
            {"study": s} | {f: _num(getattr(self, f)[i]) for f in _FIELDS} | {"influential": bool(self.influential[i])}
            for i, s in enumerate(self.slab)
        ]

    def to_dict(self) -> dict:
        return {"rows": self.to_records()}

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.to_records()).set_index("study")


@dataclass(frozen=True)
class BaujatData(Summarized):
    """Coordinates of the Baujat plot (equal to metafor's ``baujat``).

    ``x``: each study's contribution to Q, ``(y_i - mu)^2 / (v_i + tau2)``;
    ``y``: its influence on the pooled estimate,
    ``(mu_(-i) - mu)^2 / Var(mu_(-i))`` (Baujat et al. 2002).
    """

    slab: tuple
    x: np.ndarray
    y: np.ndarray

    def __post_init__(self) -> None:
        _freeze(self)

    def to_records(self) -> list[dict]:
        return [{"study": s, "x": _num(self.x[i]), "y": _num(self.y[i])} for i, s in enumerate(self.slab)]

    def to_dict(self) -> dict:
        return {"rows": self.to_records()}


def influential_flags(dffits, cook_d, hat, dfbetas, k: int) -> np.ndarray:
    """metafor's rule for one coefficient (p = 1): any of ``|DFFITS| > 3 sqrt(1/(k-1))``,
    ``P(chi2_1 <= D) > 0.5``, ``hat > 3/k``, ``|DFBETAS| > 1`` (NaN never flags)."""
    with np.errstate(invalid="ignore"):
        return (
            (np.abs(dffits) > 3.0 * np.sqrt(1.0 / (k - 1)))
            | (chi2_sf(cook_d, 1.0) < 0.5)
            | (hat > 3.0 / k)
            | (np.abs(dfbetas) > 1.0)
        )


def _loo(res: RMAResult):
    bf = refit_subsets(res, leave_one_out_masks(res.k))
    ok = bf.converged

    def col(a):
        return np.where(ok, a, np.nan)

    return bf, col(bf.coef.estimate[:, 0]), col(bf.vb[:, 0, 0]), col(bf.tau2)


@singledispatch
def influence(res) -> InfluenceDiagnostics:
    """Outlier and influence diagnostics of each study (Viechtbauer & Cheung 2010).

    Equal to metafor's ``influence()`` for models without moderators; the k
    leave-one-out refits run as one batch. GLMM fits (which metafor's
    ``influence`` refuses) get the same columns by case-deletion refits, see
    :mod:`metapool.influence.glmm`.

    References
    ----------
    Viechtbauer W, Cheung MWL (2010). Outlier and influence diagnostics for
    meta-analysis. Res Synth Methods 1:112-125.
    """
    raise MetapoolError(f"influence is not available for {type(res).__name__} results.")


@influence.register
def _(res: MHResult) -> InfluenceDiagnostics:
    raise MetapoolError(f"Influence diagnostics (Viechtbauer & Cheung 2010) refit inverse-variance models;"
                        f" {NOT_FOR_TABLES}. The leave-one-out analysis shows each table's influence.")


@influence.register
def _(res: RMAResult) -> InfluenceDiagnostics:
    require_intercept_only(res, "Influence diagnostics")
    require_k(res, 2, "Influence diagnostics")
    bf, beta_del, vb_del, tau2_del = _loo(res)
    yi, vi = res.yi, res.vi
    s2w_del = np.where(bf.converged, bf.s2w, np.nan)
    w = 1.0 / (vi + res.tau2)
    hat = w / w.sum()
    hat = np.where(hat > _HAT_ONE, 1.0, hat)
    with np.errstate(invalid="ignore", divide="ignore"):
        vb_all = 1.0 / np.sum(1.0 / (vi[None, :] + tau2_del[:, None]), axis=1)
    return deletion_diagnostics(res, float(res.vb[0, 0]), yi, vi, hat, np.asarray(res.weights, dtype=float),
                                beta_del, vb_del, tau2_del, np.where(bf.converged, bf.het.q, np.nan), vb_all,
                                s2w_del)


def deletion_diagnostics(res, vb, yi, vi, hat, weight, mu_del, vb_del, tau2_del, qe_del, vb_all,
                         s2w_del=1.0) -> InfluenceDiagnostics:
    """metafor's case diagnostics (``influence.rma.uni``, p = 1) from a fit and its case-deletion refits.

    ``res`` gives ``slab``, ``estimate`` (mu) and ``k``; ``vb`` is Var(mu);
    ``yi``, ``vi`` the studies' estimates and sampling variances; ``hat`` and
    ``weight`` the leverages and weights; ``mu_del``, ``vb_del``,
    ``tau2_del``, ``qe_del`` the refits without each study; ``vb_all`` the
    variance of mu from all studies with tau2 set to ``tau2_del``;
    ``s2w_del`` metafor's residual scale of the refits (1 but for
    Knapp-Hartung-type models)::

        rstudent = (y_i - mu(-i)) / sqrt(s2w v_i + vb(-i) + s2w tau2(-i))
        dffits = (mu - mu(-i)) / sqrt(s2w hat_i (tau2(-i) + v_i))
        dfbetas = (mu - mu(-i)) / sqrt(s2w vb_all),  cook_d = (mu - mu(-i))^2 / vb,  cov_r = vb(-i) / vb
    """
    diff = res.estimate - mu_del
    with np.errstate(invalid="ignore", divide="ignore"):
        dffits = diff / np.sqrt(s2w_del * hat * (tau2_del + vi))
        dfbetas = diff / np.sqrt(s2w_del * vb_all)
        cook = diff**2 / vb
        resid = yi - mu_del
        resid = np.where(np.abs(resid) < 100 * np.finfo(float).eps, 0.0, resid)
        rstudent = resid / np.sqrt(vi * s2w_del + vb_del + tau2_del * s2w_del)
    return InfluenceDiagnostics(
        slab=res.slab,
        rstudent=rstudent,
        dffits=dffits,
        cook_d=cook,
        cov_r=vb_del / vb,
        tau2_del=tau2_del,
        qe_del=qe_del,
        hat=hat,
        weight=weight,
        dfbetas=dfbetas,
        influential=influential_flags(dffits, cook, hat, dfbetas, res.k),
    )


@singledispatch
def baujat(res) -> BaujatData:
    """Data of the Baujat plot (Baujat et al. 2002), equal to metafor's ``baujat``.

    GLMM fits: see :mod:`metapool.influence.glmm` (an extension).

    References
    ----------
    Baujat B, Mahe C, Pignon JP, Hill C (2002). A graphical method for
    exploring heterogeneity in meta-analyses. Stat Med 21:2641-2652.
    """
    raise MetapoolError(f"baujat is not available for {type(res).__name__} results.")


@baujat.register
def _(res: RMAResult) -> BaujatData:
    require_intercept_only(res, "The Baujat plot")
    require_k(res, 2, "The Baujat plot")
    _, beta_del, vb_del, _ = _loo(res)
    x = (res.yi - res.estimate) ** 2 / (res.tau2 + res.vi)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = (beta_del - res.estimate) ** 2 / vb_del
    return BaujatData(res.slab, x, y)

"""The studies of a fitted model as the plot adapters read them.

:func:`study_values` dispatches on the result type. An
:class:`~metapool.RMAResult` carries its studies' effect sizes, variances and
weights. A GLMM fit (:class:`~metapool.GLMMResult`) pools the counts
directly; its studies are shown by their study-level effect sizes
(:meth:`GLMMResult.effect_sizes <metapool.glmm.result.GLMMResult.effect_sizes>`:
escalc's PLO, IRLN or OR with metafor's correction for zero cells, the same
values its bias analyses use) and weighted by the fit's
:attr:`~metapool.glmm.result.GLMMResult.weights` (each study's share of the
GLMM's information for the pooled value, the weights of ``influence(glmm)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

import numpy as np

from ..glmm.result import GLMMResult

__all__ = ["StudyValues", "study_values"]


@dataclass(frozen=True)
class StudyValues:
    """The studies of a model on the analysis scale.

    Attributes
    ----------
    yi, vi, ni
        Effect sizes, sampling variances and sample sizes, in the model's order.
    weights
        Weights in percent (NaN: not defined for the model; ``note`` says why).
    effect_sizes
        The :class:`~metapool.EffectSizeTable` of exactly these studies (its
        cells give a forest plot's data columns), or None when not known.
    note
        Remark for the plot's footer (empty: none).
    """

    yi: np.ndarray
    vi: np.ndarray
    ni: np.ndarray
    weights: np.ndarray
    effect_sizes: object = None
    note: str = ""


@singledispatch
def study_values(result) -> StudyValues:
    """The studies of ``result`` (a model carrying ``yi``, ``vi``, ``ni`` and ``weights``)."""
    return StudyValues(np.asarray(result.yi, dtype=float), np.asarray(result.vi, dtype=float),
                       np.asarray(result.ni, dtype=float), np.asarray(result.weights, dtype=float))


@study_values.register
def _(result: GLMMResult) -> StudyValues:
    """The study-level effect sizes with the fit's weights; ``note`` says what they are, or why there are none."""
    es = result.effect_sizes()
    note = ("Weights: each study's share of the GLMM's information for the pooled value."
            if np.isfinite(result.weights).all() else
            "No weights: separated data have no GLMM fit, only an exact interval for the pooled value.")
    return StudyValues(np.asarray(es.yi), np.asarray(es.vi), np.asarray(es.ni), np.asarray(result.weights), es, note)

"""Back-transformations from the analysis scale to the natural scale.

Each transform takes an array on the analysis scale and, where needed, the
study sample sizes (``ni``), and returns the natural-scale values, following
metafor's ``transf.*`` functions (Viechtbauer 2010). Squares are
``np.square``, so a scalar and an array give the same bits (a numpy scalar's
``x ** 2`` calls ``pow``, which may round differently).

References
----------
Freeman MF, Tukey JW (1950). Ann Math Stat 21:607-611.
Miller JJ (1978). The inverse of the Freeman-Tukey double arcsine
transformation. Am Stat 32:138.
Schwarzer G, Chemaitelly H, Abu-Raddad LJ, Ruecker G (2019). Res Synth Methods
10:476-483.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = ["Transform", "TRANSFORMS", "pft", "ipft", "ipft_hm", "harmonic_mean", "iirft", "iirft_hm"]


def pft(p, n):
    """Freeman-Tukey double arcsine of a proportion ``p`` with sample size ``n``."""
    p = np.asarray(p, dtype=float)
    n = np.asarray(n, dtype=float)
    x = p * n
    return 0.5 * (np.arcsin(np.sqrt(x / (n + 1.0))) + np.arcsin(np.sqrt((x + 1.0) / (n + 1.0))))


def ipft(t, n):
    """Miller's (1978) inverse of the double arcsine for sample size ``n``.

    Values beyond the transform of 0 or 1 are clipped to 0 or 1, as metafor's
    ``transf.ipft`` does.
    """
    t = np.asarray(t, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sin(2.0 * t)
        inner = 1.0 - np.square(s + (s - 1.0 / s) / n)
        out = 0.5 * (1.0 - np.sign(np.cos(2.0 * t)) * np.sqrt(inner))
    out = np.where(t > pft(1.0, n), 1.0, out)
    out = np.where(t < pft(0.0, n), 0.0, out)
    return out


def harmonic_mean(ni):
    """Harmonic mean of the finite sample sizes ``ni`` along the last axis.

    ``ni`` is ``[K]`` for one analysis (a float is returned) or ``[..., K]``
    for a batch (NaN marks padding; one mean per analysis).
    """
    ni = np.asarray(ni, dtype=float)
    finite = np.isfinite(ni)
    with np.errstate(divide="ignore", invalid="ignore"):
        hm = 1.0 / (np.where(finite, 1.0 / ni, 0.0).sum(axis=-1) / finite.sum(axis=-1))
    return float(hm) if hm.ndim == 0 else hm


def ipft_hm(t, ni):
    """Inverse double arcsine using the harmonic mean of the study sizes ``ni`` (Miller 1978).

    ``ni`` is ``[K]``, or ``[..., K]`` with one analysis per value of ``t``.
    """
    return ipft(t, harmonic_mean(ni))


def iirft(t, ti):
    """Inverse of the Freeman-Tukey transformed rate for person-time ``ti``.

    The transform is ``t = (sqrt(r) + sqrt(r + 1/ti)) / 2``; its inverse
    ``r = (1/ti - 8 t^2 + 16 ti t^4) / (16 t^2 ti)``, set to 0 below the
    transform of a zero rate and where it is <= machine epsilon, as metafor's
    ``transf.iirft`` does.
    """
    t = np.asarray(t, dtype=float)
    ti = np.asarray(ti, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (1.0 / ti - 8.0 * np.square(t) + 16.0 * ti * t**4) / (16.0 * np.square(t) * ti)
    out = np.where(t < 0.5 * np.sqrt(1.0 / ti), 0.0, out)
    return np.where(out <= np.finfo(float).eps, 0.0, out)


def iirft_hm(t, ti):
    """Inverse Freeman-Tukey rate using the harmonic mean of the person-times ``ti`` (``[K]`` or ``[..., K]``)."""
    return iirft(t, harmonic_mean(ti))


def _isquare(x):
    x = np.asarray(x, dtype=float)
    return np.where(x < 0, 0.0, x * x)


def _iarcsin(x):
    x = np.asarray(x, dtype=float)
    return np.where(x < 0, 0.0, np.where(x > np.pi / 2, 1.0, np.square(np.sin(x))))


@dataclass(frozen=True)
class Transform:
    """A back-transformation: code, description and function ``f(x, ni)``."""

    code: str
    description: str
    func: Callable
    needs_ni: bool = False

    def __call__(self, x, ni=None):
        if self.needs_ni:
            return self.func(x, ni)
        return self.func(x)


TRANSFORMS: dict[str, Transform] = {
    t.code: t
    for t in (
        Transform("identity", "none (analysis scale is the natural scale)", lambda x: np.asarray(x, float)),
        Transform("exp", "exponential (log ratio to ratio)", np.exp),
        Transform("ilogit", "inverse logit (log odds to proportion)", special.expit),
        Transform("iarcsin", "inverse arcsine (sin(x)^2, clipped to [0, 1])", _iarcsin),
        Transform(
            "ipft_hm",
            "inverse Freeman-Tukey double arcsine with the harmonic mean of the study sizes (Miller 1978)",
            ipft_hm,
            needs_ni=True,
        ),
        Transform("square", "square (square-root rate to rate; negative values to 0)", _isquare),
        Transform(
            "iirft_hm",
            "inverse Freeman-Tukey rate with the harmonic mean of the person-times",
            iirft_hm,
            needs_ni=True,
        ),
        Transform("tanh", "hyperbolic tangent (Fisher z to correlation)", np.tanh),
    )
}

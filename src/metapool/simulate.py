"""Simulation studies of meta-analytic methods: draw, fit with :func:`~metapool.batch.fit_many`, summarise.

A scenario fixes the true parameters (data family, number of studies ``k``,
study sizes, true mean effect ``mu`` and between-study variance ``tau2`` on the
analysis scale); :func:`simulate` draws ``n_meta`` meta-analyses from it, fits
each with every chosen estimator and test, and reports bias, RMSE, CI coverage
and width of the pooled estimate, and bias and RMSE of tau2 -- the simulation
study of, e.g., IntHout et al. (2014) or Viechtbauer (2005), in a few lines.

References
----------
IntHout J, Ioannidis JPA, Borm GF (2014). The Hartung-Knapp-Sidik-Jonkman method
for random effects meta-analysis is straightforward and considerably outperforms
the standard DerSimonian-Laird method. BMC Med Res Methodol 14:25.
Viechtbauer W (2005). Bias and efficiency of meta-analytic variance estimators
in the random-effects model. J Educ Behav Stat 30:261-293.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_choice
from .exceptions import OptionError

__all__ = ["Scenario", "SimulationResult", "FAMILIES", "draw", "simulate"]

#: Data families that can be drawn, with the measure they are analysed with and their column roles.
FAMILIES = {
    "proportion": ("PLO", {"xi": "xi", "ni": "ni"}),
    "binary": ("OR", {"ai": "ai", "n1i": "n1i", "ci": "ci", "n2i": "n2i"}),
    "continuous": ("MD", {"m1i": "m1i", "sd1i": "sd1i", "n1i": "n1i", "m2i": "m2i", "sd2i": "sd2i", "n2i": "n2i"}),
}


@dataclass(frozen=True)
class Scenario:
    """True parameters of simulated meta-analyses.

    Attributes
    ----------
    family
        ``"proportion"`` (events ``xi`` of ``ni``; true logit ``theta_i``),
        ``"binary"`` (two arms; true log odds ratio ``theta_i`` against a control
        risk ``baseline``) or ``"continuous"`` (two arms; true mean difference
        ``theta_i``, SD ``sigma`` in both arms).
    k
        Studies per meta-analysis.
    tau2
        Between-study variance of ``theta_i ~ N(mu, tau2)`` (analysis scale).
    mu
        True mean effect (logit, log odds ratio or mean difference).
    n_min, n_max
        Study (arm) sizes are drawn uniformly from ``n_min..n_max``.
    baseline
        Control-arm risk of the binary family.
    sigma
        Within-arm standard deviation of the continuous family.
    """

    family: str = "continuous"
    k: int = 10
    tau2: float = 0.1
    mu: float = 0.0
    n_min: int = 20
    n_max: int = 200
    baseline: float = 0.2
    sigma: float = 1.0

    def __post_init__(self) -> None:
        check_choice("Scenario", "family", self.family, FAMILIES)
        if not (isinstance(self.k, (int, np.integer)) and self.k >= 1):
            raise OptionError(f"The 'k' parameter of Scenario must be an integer >= 1. Got {self.k!r}.")
        if not (self.tau2 >= 0 and 2 <= self.n_min <= self.n_max and 0 < self.baseline < 1 and self.sigma > 0):
            raise OptionError("Scenario needs tau2 >= 0, 2 <= n_min <= n_max, 0 < baseline < 1 and sigma > 0.")

    @property
    def measure(self) -> str:
        return FAMILIES[self.family][0]


def draw(scenario: Scenario, n_meta: int, rng: np.random.Generator):
    """Draw ``n_meta`` meta-analyses as one long table (key column ``"rep"``)."""
    import pandas as pd

    s = scenario
    shape = (n_meta, s.k)
    theta = s.mu + np.sqrt(s.tau2) * rng.standard_normal(shape)
    n1 = rng.integers(s.n_min, s.n_max + 1, shape)
    cols: dict = {"rep": np.repeat(np.arange(n_meta), s.k), "theta": theta}
    if s.family == "proportion":
        cols |= {"xi": rng.binomial(n1, 1.0 / (1.0 + np.exp(-theta))), "ni": n1}
    elif s.family == "binary":
        n2 = rng.integers(s.n_min, s.n_max + 1, shape)
        logit0 = np.log(s.baseline / (1.0 - s.baseline))
        cols |= {
            "ai": rng.binomial(n1, 1.0 / (1.0 + np.exp(-(logit0 + theta)))), "n1i": n1,
            "ci": rng.binomial(n2, s.baseline), "n2i": n2,
        }  # fmt: skip
    else:
        n2 = rng.integers(s.n_min, s.n_max + 1, shape)

        def sample_sd(n):
            return s.sigma * np.sqrt(rng.chisquare(n - 1) / (n - 1))

        cols |= {
            "m1i": theta + s.sigma * rng.standard_normal(shape) / np.sqrt(n1), "sd1i": sample_sd(n1), "n1i": n1,
            "m2i": s.sigma * rng.standard_normal(shape) / np.sqrt(n2), "sd2i": sample_sd(n2), "n2i": n2,
        }  # fmt: skip
    return pd.DataFrame({name: np.ravel(v) for name, v in cols.items()})


@dataclass(frozen=True)
class SimulationResult:
    """Performance of each method and test over the simulated meta-analyses.

    ``summary`` has one row per (method, test): ``n_fits`` (fitted analyses),
    ``n_failed``, ``bias``, ``rmse`` of the pooled estimate, ``coverage`` and
    ``ci_width`` of its CI, ``tau2_bias`` and ``tau2_rmse``. ``fits`` holds
    every fit (``fit_many`` columns plus ``method_test``).
    """

    scenario: Scenario
    n_meta: int
    level: float
    seed: int | None
    summary: object
    fits: object

    def coverage(self, method: str, test: str) -> float:
        """Empirical coverage of the CI of ``method`` with ``test``."""
        row = self.summary[(self.summary["method"] == method) & (self.summary["test"] == test)]
        return float(row["coverage"].iloc[0])


def simulate(
    scenario: Scenario,
    *,
    n_meta: int = 1000,
    methods=("DL", "REML"),
    tests=("z", "knha"),
    level: float = 95,
    seed: int | None = None,
) -> SimulationResult:
    """Draw meta-analyses from ``scenario``, fit them with each method and test, and summarise.

    Parameters
    ----------
    scenario
        True parameters (see :class:`Scenario`).
    n_meta
        Number of simulated meta-analyses.
    methods, tests
        tau2 estimators and tests to compare (codes as in :func:`metapool.rma`).
    level
        Confidence level of the CIs.
    seed
        Seed of :func:`numpy.random.default_rng`, for reproducible draws.

    Returns
    -------
    SimulationResult
        Coverage is the share of fitted analyses whose CI contains ``mu``; bias
        and RMSE are of the estimate (and of tau2) around the true values.
    """
    import pandas as pd

    from .batch import fit_many

    data = draw(scenario, n_meta, np.random.default_rng(seed))
    measure, roles = FAMILIES[scenario.family]
    fits, rows = [], []
    for method in methods:
        for test in tests:
            res = fit_many(data, "rep", measure=measure, method=method, test=test, level=level, **roles)
            ok = res[res["status"] == "ok"]
            err = ok["estimate"] - scenario.mu
            rows.append({
                "method": res["method"].iloc[0], "test": test, "n_fits": len(ok), "n_failed": len(res) - len(ok),
                "bias": err.mean(), "rmse": np.sqrt((err**2).mean()),
                "coverage": ((ok["ci_lower"] <= scenario.mu) & (scenario.mu <= ok["ci_upper"])).mean(),
                "ci_width": (ok["ci_upper"] - ok["ci_lower"]).mean(),
                "tau2_bias": (ok["tau2"] - scenario.tau2).mean(),
                "tau2_rmse": np.sqrt(((ok["tau2"] - scenario.tau2) ** 2).mean()),
            })  # fmt: skip
            fits.append(res)
    return SimulationResult(
        scenario=scenario,
        n_meta=n_meta,
        level=float(fits[0]["level"].iloc[0]) / 100.0,
        seed=seed,
        summary=pd.DataFrame(rows),
        fits=pd.concat(fits, ignore_index=True),
    )

"""Generate the SYNTHETIC demo data set ``aml_hma_ven_synthetic.csv``.

The data are invented. They are shaped like a systematic review of
hypomethylating agent (HMA) + venetoclax in relapsed/refractory AML: 32
single-arm cohorts (each n >= 20, total N = 2289) reporting response (CR,
CR/CRi, ORR), MRD negativity (a subset), median overall survival with its 95%
CI, 1-year OS, grade >= 3 febrile neutropenia and infections, with covariates
(prior HMA exposure, HMA agent, design, year, risk of bias). The logit-scale
intercept of each proportion is calibrated so that a REML random-effects
model on logit proportions pools near ORR 50%, CR/CRi 43%, CR 26% and MRD
negativity 42%, with high heterogeneity. No row describes a real study.

Run ``python -m metapool.datasets.make_aml_demo`` to rewrite the CSV; the
seed is fixed, so the output is byte-for-byte reproducible (a test checks it).
"""

from __future__ import annotations

import csv
import io
import sys
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit

__all__ = ["SEED", "TOTAL_N", "TARGETS", "generate", "to_csv", "main"]

SEED = 20251126
K = 32
TOTAL_N = 2289
MIN_N = 20
#: Pooled (REML, logit) proportions the generator is calibrated to.
TARGETS = {"orr": 0.50, "cr_cri": 0.43, "cr": 0.26, "mrd_neg": 0.42}

_SURNAMES = (
    "Almeida", "Bergstrom", "Castellanos-Ruiz", "Dubois", "Eriksen", "Fujimoto", "Garcia",
    "Hoffmann", "Ivanova", "Jansen", "Kowalczyk", "Lindqvist", "Moreau", "Nakamura",
    "Okonkwo", "Petrosyan", "Quintero", "Rossi", "Schneider", "Tanaka", "Uribe",
    "Van der Berg-Hollander", "Wojcik", "Xu", "Yilmaz", "Zhang", "Abernathy", "Brennan",
    "Choudhury", "Delacroix", "Esposito", "Friedman",
)  # fmt: skip

COLUMNS = (
    "study", "year", "design", "hma", "prior_hma_fraction", "risk_of_bias", "n",
    "orr_events", "cr_cri_events", "cr_events", "mrd_tested", "mrd_negative",
    "os_median_months", "os_median_lower", "os_median_upper", "os_1y_alive",
    "followup_median_months", "fn_g3_events", "infection_g3_events",
)  # fmt: skip


def _sample_sizes(rng: np.random.Generator) -> np.ndarray:
    """K sizes >= MIN_N, right-skewed, summing to TOTAL_N exactly."""
    raw = rng.lognormal(mean=np.log(55.0), sigma=0.6, size=K)
    n = np.maximum(MIN_N, np.round(raw * TOTAL_N / raw.sum())).astype(int)
    order = np.argsort(-n)
    i = 0
    while n.sum() != TOTAL_N:
        j = order[i % K]
        step = 1 if n.sum() < TOTAL_N else -1
        if n[j] + step >= MIN_N:
            n[j] += step
        i += 1
    return n


def _pooled(events: np.ndarray, n: np.ndarray) -> float:
    """REML random-effects pooled proportion on the logit scale (back-transformed)."""
    from ..effect_sizes import escalc
    from ..models.rma import rma

    with warnings.catch_warnings():  # the root search visits all-zero and all-event tables
        warnings.simplefilter("ignore")
        return float(rma(escalc("PLO", xi=events, ni=n), method="REML").back().estimate)


def _calibrated(target: float, lin: np.ndarray, n: np.ndarray, cap: np.ndarray | None = None) -> np.ndarray:
    """Event counts round(n * expit(a + lin)), capped, with ``a`` solved so the pool hits ``target``."""

    def counts(a: float) -> np.ndarray:
        x = np.round(n * expit(a + lin)).astype(int)
        return x if cap is None else np.minimum(x, cap)

    a = brentq(lambda a: _pooled(counts(a), n) - target, -6.0, 6.0, xtol=1e-6)
    return counts(a)


def generate(seed: int = SEED) -> list[dict]:
    """The synthetic study table as a list of row dictionaries (missing = None)."""
    rng = np.random.default_rng(seed)
    n = _sample_sizes(rng)
    year = np.sort(rng.choice(np.arange(2018, 2026), size=K, p=[0.04, 0.1, 0.12, 0.14, 0.16, 0.16, 0.16, 0.12]))
    year[0], year[-1] = 2018, 2025
    names = rng.permutation(_SURNAMES)
    prospective = rng.random(K) < 0.25
    hma = np.where(rng.random(K) < 0.7, "azacitidine", "decitabine")
    prior_hma = np.round(rng.beta(2.0, 2.5, size=K), 2)
    rob = np.where(prospective, rng.choice(["low", "moderate"], K, p=[0.6, 0.4]),
                   rng.choice(["moderate", "high"], K, p=[0.55, 0.45]))  # fmt: skip

    # study-level response propensity: lower after prior HMA, plus heterogeneity
    u = -1.1 * (prior_hma - prior_hma.mean()) + rng.normal(0.0, 0.55, K)
    orr = _calibrated(TARGETS["orr"], u, n)
    cr_cri = _calibrated(TARGETS["cr_cri"], u + rng.normal(0.0, 0.15, K), n, cap=orr)
    cr = _calibrated(TARGETS["cr"], u + rng.normal(0.0, 0.25, K), n, cap=cr_cri)

    # MRD negativity among CR/CRi patients tested, reported by a subset
    reports_mrd = rng.random(K) < 0.5
    tested = np.round(cr_cri * rng.uniform(0.6, 1.0, K)).astype(int)
    reports_mrd &= tested >= 8
    mrd = np.zeros(K, dtype=int)
    mrd[reports_mrd] = _calibrated(
        TARGETS["mrd_neg"], 0.6 * u[reports_mrd] + rng.normal(0.0, 0.9, reports_mrd.sum()), tested[reports_mrd]
    )

    # overall survival: median (months) with a Wald-type 95% CI on the log scale
    log_med = np.log(7.6) + 0.5 * u + rng.normal(0.0, 0.2, K)
    se_log = 1.25 / np.sqrt(0.7 * n)
    med = np.round(np.exp(log_med), 1)
    lo = np.round(np.exp(log_med - 1.96 * se_log), 1)
    hi = np.round(np.exp(log_med + 1.96 * se_log), 1)
    reports_os = rng.random(K) < 0.85
    upper_not_reached = reports_os & (med > 10.5) & (n < 70)
    alive_1y = np.round(n * expit(np.log(0.36 / 0.64) + 0.8 * u + rng.normal(0.0, 0.2, K))).astype(int)
    reports_1y = rng.random(K) < 0.7
    followup = np.round(np.exp(np.log(12.0) + rng.normal(0.0, 0.35, K)), 1)
    reports_fu = rng.random(K) < 0.6

    # grade >= 3 febrile neutropenia and infections, reported by most studies
    fn = np.round(n * expit(np.log(0.30 / 0.70) + rng.normal(0.0, 0.45, K))).astype(int)
    inf = np.round(n * expit(np.log(0.38 / 0.62) + rng.normal(0.0, 0.40, K))).astype(int)
    reports_ae = rng.random(K) < 0.8

    def opt(flag, value):
        return value if flag else None

    rows = []
    for i in range(K):
        rows.append({
            "study": f"{names[i]} {year[i]}",
            "year": int(year[i]),
            "design": "prospective single-arm" if prospective[i] else "retrospective single-arm",
            "hma": str(hma[i]),
            "prior_hma_fraction": float(prior_hma[i]),
            "risk_of_bias": str(rob[i]),
            "n": int(n[i]),
            "orr_events": int(orr[i]),
            "cr_cri_events": int(cr_cri[i]),
            "cr_events": int(cr[i]),
            "mrd_tested": opt(reports_mrd[i], int(tested[i])),
            "mrd_negative": opt(reports_mrd[i], int(mrd[i])),
            "os_median_months": opt(reports_os[i], float(med[i])),
            "os_median_lower": opt(reports_os[i], float(lo[i])),
            "os_median_upper": opt(reports_os[i] and not upper_not_reached[i], float(hi[i])),
            "os_1y_alive": opt(reports_1y[i], int(alive_1y[i])),
            "followup_median_months": opt(reports_fu[i], float(followup[i])),
            "fn_g3_events": opt(reports_ae[i], int(fn[i])),
            "infection_g3_events": opt(reports_ae[i], int(inf[i])),
        })  # fmt: skip
    return rows


def to_csv(rows: list[dict]) -> str:
    """CSV text with empty cells for values a study did not report."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buf.getvalue()


def main(path: str | Path | None = None) -> Path:
    """Write the CSV (default: the bundled file) and return its path."""
    out = Path(path) if path else Path(__file__).parent / "data" / "aml_hma_ven_synthetic.csv"
    out.write_text(to_csv(generate()), encoding="utf-8")
    return out


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))

"""Throughput of many meta-analyses: ``fit_many`` vs a loop of metafor ``rma()`` calls.

Data: ``G`` meta-analyses of ``K = 20`` single-arm studies each (numpy seed
20261126): ``ni ~ U{20..200}``, true logit of each analysis ``N(-1, 0.5^2)``,
study logits around it ``N(0, 0.4^2)``, ``xi ~ Bin(ni, p)``, pooled as logit
proportions (PLO).

Part 1 (``G = 10,000``, DL and REML), on the same data:

* metafor: ``escalc("PLO")`` once on the long table (not timed), ``split`` by
  analysis, then ``for (d in fits) rma(d$yi, d$vi, method = m)`` in one Rscript
  process (``--r-fits N`` times only the first N analyses; fits/s is the rate);
* metapool ``fit_many``: the whole pipeline from the long count table
  (``escalc`` + packing + fits + result table);
* metapool kernel: ``fit_batch`` on the same ``yi``/``vi``, already padded
  (``G x K`` arrays), in chunks of ``DEFAULT_MAX_CELLS`` cells.

Ratios are metapool fits/s over metafor fits/s. Goals: DL >= 5000x, REML >= 300x.

Part 2 (``G = 1,000,000``, REML, metapool alone): ``fit_many`` end to end and the
kernel alone, with fits/s, total time and the peak resident memory the fitting
added (``resource.getrusage``). Goal: under 15 s.

Times are wall-clock, best of ``--repeat`` runs for metapool (one run for
metafor and for part 2). The machine is shared: see README.md for the spread.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from _common import SEED, print_table, r_available, r_path, run_r
from metapool.batch import DEFAULT_MAX_CELLS, fit_many
from metapool.models.fit import fit_batch
from metapool.models.kernels import Batch
from metapool.models.rootfind import Control
from metapool.models.tau2 import get_estimator

K = 20
GOALS = {"DL": 5000.0, "REML": 300.0}

R_LOOP = """
suppressMessages(library(metafor))
d <- read.csv({path})
es <- escalc("PLO", xi = xi, ni = ni, data = d)
fits <- split(es[, c("yi", "vi")], es$key)[seq_len({n})]
for (m in c("DL", "REML")) {{
  est <- numeric(length(fits))
  t0 <- proc.time()[["elapsed"]]
  for (i in seq_along(fits)) est[i] <- rma(fits[[i]]$yi, fits[[i]]$vi, method = m)$tau2
  t1 <- proc.time()[["elapsed"]]
  report(paste0(m, "_seconds"), t1 - t0)
  for (i in seq_len(min(200, length(fits)))) report(paste0(m, "_tau2_", i), est[i])
}}
"""


def long_table(n_analyses: int, seed: int = SEED) -> pd.DataFrame:
    """The benchmark's long table: ``key``, ``xi``, ``ni`` (``K`` rows per analysis)."""
    rng = np.random.default_rng(seed)
    shape = (n_analyses, K)
    ni = rng.integers(20, 201, shape)
    logit = rng.normal(-1.0, 0.5, (n_analyses, 1)) + rng.normal(0.0, 0.4, shape)
    xi = rng.binomial(ni, 1.0 / (1.0 + np.exp(-logit)))
    return pd.DataFrame({"key": np.repeat(np.arange(n_analyses), K), "xi": xi.ravel(), "ni": ni.ravel()})


def padded(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``yi``, ``vi`` as ``G x K`` arrays (metafor's PLO with the 0.5 correction for zero cells)."""
    xi = table["xi"].to_numpy(float).reshape(-1, K)
    mi = table["ni"].to_numpy(float).reshape(-1, K) - xi
    zero = (xi == 0) | (mi == 0)
    xi, mi = xi + 0.5 * zero, mi + 0.5 * zero
    return np.log(xi / mi), 1.0 / xi + 1.0 / mi


def kernel(yi: np.ndarray, vi: np.ndarray, method: str) -> np.ndarray:
    """Fit every row of ``yi``/``vi`` with fit_batch in chunks; return tau2."""
    est, control = get_estimator(method), Control()
    rows = max(DEFAULT_MAX_CELLS // K, 1)
    out = np.empty(len(yi))
    for a in range(0, len(yi), rows):
        out[a : a + rows] = fit_batch(Batch.from_arrays(yi[a : a + rows], vi[a : a + rows]), est, "z", 0.95,
                                      control).tau2  # fmt: skip
    return out


def best_of(repeat: int, fn) -> tuple[float, object]:
    """Best wall time of ``repeat`` runs, and the value of the last."""
    best, value = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def part1(n: int, r_fits: int, repeat: int) -> None:
    table = long_table(n)
    yi, vi = padded(table)
    r = {}
    if r_available():
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "long.csv"
            table.to_csv(path, index=False)
            r = run_r(R_LOOP.format(path=r_path(path), n=min(r_fits, n)))
    rows = []
    for method in ("DL", "REML"):
        t_many, res = best_of(repeat, lambda: fit_many(table, "key", measure="PLO", method=method, xi="xi", ni="ni"))
        t_kernel, tau2 = best_of(repeat, lambda: kernel(yi, vi, method))
        assert np.allclose(res["tau2"].to_numpy(), tau2, rtol=1e-10, atol=1e-12)
        r_rate = min(r_fits, n) / r[f"{method}_seconds"] if r else None
        many_rate, kernel_rate = n / t_many, n / t_kernel
        diff = None
        if r:
            m = min(200, r_fits, n)
            theirs = np.array([r[f"{method}_tau2_{i + 1}"] for i in range(m)])
            diff = f"{np.max(np.abs(theirs - tau2[:m])):.1e}"
        rows.append([method, f"{r_rate:,.0f}" if r_rate else None, f"{many_rate:,.0f}", f"{kernel_rate:,.0f}",
                     f"{many_rate / r_rate:,.0f}x" if r_rate else None,
                     f"{kernel_rate / r_rate:,.0f}x" if r_rate else None, f"{GOALS[method]:,.0f}x", diff])
    print(f"Part 1: {n:,} meta-analyses, k = {K}, PLO (fits/s; metafor timed on {min(r_fits, n):,} of them)\n")
    print_table(["method", "metafor", "fit_many", "kernel", "fit_many ratio", "kernel ratio", "goal",
                 "max |tau2 diff|"], rows)  # fmt: skip
    print()


def part2(n: int) -> None:
    table = long_table(n)
    yi, vi = padded(table)
    rows = []
    for label, fn in (
        ("fit_many (escalc + pack + fit)", lambda: fit_many(table, "key", measure="PLO", method="REML", xi="xi", ni="ni")),
        ("kernel (fit_batch on padded yi, vi)", lambda: kernel(yi, vi, "REML")),
    ):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rows.append([label, f"{n / seconds:,.0f}", f"{seconds:.1f}", f"{cpu:.1f}",
                     f"{max(peak - before, 0) / 1024:,.0f}", f"{peak / 1024:,.0f}", "< 15 s"])
    print(f"Part 2: {n:,} meta-analyses, k = {K}, REML, metapool alone\n")
    print_table(["run", "fits/s", "seconds", "CPU seconds", "peak RSS added (MB)", "process peak RSS (MB)",
                 "goal"], rows)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="analyses of part 1 (default 10,000)")
    parser.add_argument("--r-fits", type=int, default=10_000, help="analyses metafor fits (default all of part 1)")
    parser.add_argument("--big", type=int, default=1_000_000, help="analyses of part 2 (0 skips it)")
    parser.add_argument("--repeat", type=int, default=3, help="metapool runs of part 1 (best is shown)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    part1(args.n, args.r_fits, args.repeat)
    if args.big:
        part2(args.big)


if __name__ == "__main__":
    main()

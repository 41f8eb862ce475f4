"""GOSH (all subsets of the studies): metapool vs metafor's ``gosh``.

metapool fits every subset as one row of a padded batch (chunks of
:data:`metapool.influence.gosh.CHUNK`); metafor's ``gosh`` calls ``rma.uni``
once per subset. Both run on the same data (``make_data``, first k studies),
REML and DL:

* k = 12 (4,095 subsets) on both sides: wall time, subsets per second, and the
  largest difference of the per-subset estimates and tau2 (metafor at
  ``control = list(threshold = 1e-12)`` so that its REML is exact too; metapool solves to the
  exact optimum with ``Control(algorithm="newton")`` to match);
* k = 20 (1,048,575 subsets): metapool timed; metafor's time extrapolated
  from its k = 12 rate (a direct run takes hours; metafor itself only samples
  10^6 subsets at k = 20).

Goal: exhaustive k = 20 in under 10 s with metapool (REML).

GLMM (binomial-normal, 7-point AGQ; metafor's ``gosh`` has none): the
bench_glmm.py data set (k = 32), all 4,095 subsets of its first 12 studies and
the default 10,000 random subsets of all 32: wall time and fits per second.
Aim: the k = 32 default under about 30 s on two cores. The GLMM of its 2x2
tables (OR, UM.FS): all 1,023 subsets of the first ``K_TABLES`` = 10 studies.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

import metapool as mp
from _common import make_data, print_table, r_available, r_path, run_r, write_csv
from bench_glmm import make_counts
from metapool.influence import gosh

K_SMALL, K_LARGE = 12, 20
K_TABLES = 10
METHODS = ("REML", "DL")
GOAL = 10.0
#: Exact optima, to compare with metafor at threshold 1e-12.
EXACT = mp.Control(algorithm="newton")

R_CODE = """
suppressMessages(library(metafor))
d <- read.csv({path})
for (m in c({methods})) {{
  res <- rma(d$yi, d$vi, method = m, control = list(threshold = 1e-12))
  t0 <- proc.time()[["elapsed"]]
  g <- gosh(res, progbar = FALSE)
  report(paste0("sec_", m), proc.time()[["elapsed"]] - t0)
  write.csv(g$res, file.path({outdir}, paste0("gosh_", m, ".csv")), row.names = FALSE)
}}
"""


def timed(res, **options):
    t0 = time.perf_counter()
    g = gosh(res, **options)
    return time.perf_counter() - t0, g


def main() -> None:
    yi, vi = make_data(K_LARGE)
    n_small, n_large = 2**K_SMALL - 1, 2**K_LARGE - 1
    print(f"GOSH, all subsets (metapool {mp.__version__})\n")
    have_r = r_available()
    rows, checks = [], []
    with tempfile.TemporaryDirectory() as tmp:
        if have_r:
            path = write_csv(tmp, yi[:K_SMALL], vi[:K_SMALL])
            methods = ", ".join(f'"{m}"' for m in METHODS)
            r = run_r(R_CODE.format(path=r_path(path), methods=methods, outdir=r_path(Path(tmp))))
        for m in METHODS:
            ours_small, g = timed(mp.rma(yi=yi[:K_SMALL], vi=vi[:K_SMALL], method=m, control=EXACT))
            ours_large, _ = timed(mp.rma(yi=yi, vi=vi, method=m, control=EXACT))
            theirs = r.get(f"sec_{m}") if have_r else None
            rows.append([f"{m} k = {K_SMALL} ({n_small:,} subsets)", f"{ours_small:.3f}",
                         None if theirs is None else f"{theirs:.2f}",
                         None if theirs is None else f"{theirs / ours_small:.0f}x"])
            extrapolated = None if theirs is None else theirs / n_small * n_large
            rows.append([f"{m} k = {K_LARGE} ({n_large:,} subsets)", f"{ours_large:.2f}",
                         None if extrapolated is None else f"~{extrapolated:,.0f} (extrapolated)",
                         None if extrapolated is None else f"~{extrapolated / ours_large:.0f}x"])
            if m == "REML":
                verdict = "met" if ours_large < GOAL else "NOT met"
                goal_line = f"Goal: exhaustive k = {K_LARGE} REML in < {GOAL:.0f} s: {verdict} ({ours_large:.1f} s)"
            if have_r:
                ref = np.genfromtxt(Path(tmp) / f"gosh_{m}.csv", delimiter=",", names=True)
                checks.append([m, f"{np.nanmax(np.abs(g.estimate - ref['estimate'])):.1e}",
                               f"{np.nanmax(np.abs(g.tau2 - ref['tau2'])):.1e}",
                               str(int(np.isnan(g.estimate).sum())), str(int(np.isnan(ref["estimate"]).sum()))])
    print_table(["analysis", "metapool s", "metafor s", "metafor/metapool"], rows)
    if checks:
        print()
        print_table([f"k = {K_SMALL}", "max |diff| estimate", "max |diff| tau2", "failed fits metapool",
                     "failed fits metafor"], checks)
    print(f"\n{goal_line}")
    glmm()


def glmm() -> None:
    """GOSH of GLMMs (binomial-normal; UM.FS of 2x2 tables): metapool only (metafor's gosh takes no rma.glmm fits)."""
    import warnings

    counts = make_counts()  # the one-group columns of bench_glmm.py's data set
    xi, ni = counts["xi"], counts["ni"]
    rows = []
    for k in (K_SMALL, len(xi)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = mp.rma_glmm("PLO", xi=xi[:k], ni=ni[:k])
        seconds, g = timed(res, seed=1)
        kind = "all" if g.exhaustive else "random"
        rows.append([f"GLMM k = {k} ({g.n:,} {kind} subsets)", f"{seconds:.1f}", f"{g.n / seconds:,.0f}",
                     str(int(np.isnan(g.estimate).sum()))])
    tables = {c: counts[c][:K_TABLES] for c in ("ai", "n1i", "ci", "n2i")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = mp.rma_glmm("OR", **tables)
    seconds, g = timed(res)
    rows.append([f"GLMM OR (UM.FS) k = {K_TABLES} ({g.n:,} all subsets)", f"{seconds:.1f}",
                 f"{g.n / seconds:,.0f}", str(int(np.isnan(g.estimate).sum()))])
    print("\nGOSH of a GLMM (metafor has none)\n")
    print_table(["analysis", "metapool s", "fits/s", "failed fits"], rows)


if __name__ == "__main__":
    main()

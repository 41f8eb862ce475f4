"""In-process time of one GLMM (k = 32): metapool vs metafor's rma.glmm.

The data set: 32 studies with sizes log-uniform in 20..500 and true logits
drawn from N(-1.5, 0.4); the 2x2 tables add a second group per study (sizes
log-uniform in 20..500, log odds ratios drawn from N(-0.5, 0.2) around the
first group's logit). The calls timed are

* ``mp.rma_glmm("PLO", xi=xi, ni=ni)`` /
  ``rma.glmm(measure = "PLO", xi = xi, ni = ni)`` (ML, 7 quadrature points;
  lme4's ``glmer`` does the fitting, metafor adds the two GLMs of the
  heterogeneity tests);
* the Poisson-normal model on the same events with ``ni`` as person-time
  (``measure = "IRLN"``);
* the GLMM of the 2x2 tables with fixed study effects,
  ``mp.rma_glmm("OR", ai=, n1i=, ci=, n2i=)`` /
  ``rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i)``
  (metafor's default ``model = "UM.FS"``: 34 parameters for lme4).

Both report milliseconds per fit as the best of ``REPEAT`` loops after a
warm-up. The goal is metafor / metapool >= 10 for PLO with estimates equal
within 1e-4 (the largest absolute difference of estimate and tau2 is shown).
"""

from __future__ import annotations

import tempfile
import timeit
from pathlib import Path

import numpy as np

import metapool as mp
from _common import R_HEADER, R_PER_FIT, K, SEED, print_table, r_available, r_path, ratio, run_r

REPEAT = 5
R_NUMBER = 5
GOAL = 10.0

#: (label, metapool call, metafor call) on the columns ``xi``, ``ni``, ``ai``, ``n1i``, ``ci``, ``n2i``.
FITS = [
    ("PLO   binomial-normal",
     lambda d: mp.rma_glmm("PLO", xi=d["xi"], ni=d["ni"]),
     'rma.glmm(measure = "PLO", xi = xi, ni = ni)'),
    ("IRLN  Poisson-normal",
     lambda d: mp.rma_glmm("IRLN", xi=d["xi"], ti=d["ni"]),
     'rma.glmm(measure = "IRLN", xi = xi, ti = ni)'),
    ("OR    UM.FS (2x2 tables)",
     lambda d: mp.rma_glmm("OR", ai=d["ai"], n1i=d["n1i"], ci=d["ci"], n2i=d["n2i"]),
     'rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i)'),
]  # fmt: skip

COLUMNS = ("xi", "ni", "ai", "n1i", "ci", "n2i")
R_TIMING = R_HEADER + "".join(f"{c} <- d${c}\n" for c in COLUMNS) + R_PER_FIT


def make_counts(k: int = K, seed: int = SEED) -> dict[str, np.ndarray]:
    """Columns of ``k`` studies: one group (``xi``, ``ni``; logits ~ N(-1.5, 0.4)) and 2x2 tables.

    The tables take ``xi``/``ni`` as group 2 (``ci``/``n2i``) and add group 1
    with log odds ratios ~ N(-0.5, 0.2); the first draws are those of the
    one-group data set.
    """
    rng = np.random.default_rng(seed)
    ni = np.round(np.exp(rng.uniform(np.log(20), np.log(500), k)))
    logit = rng.normal(-1.5, np.sqrt(0.4), k)
    xi = rng.binomial(ni.astype(int), 1 / (1 + np.exp(-logit))).astype(float)
    n1i = np.round(np.exp(rng.uniform(np.log(20), np.log(500), k)))
    ai = rng.binomial(n1i.astype(int), 1 / (1 + np.exp(-(logit + rng.normal(-0.5, np.sqrt(0.2), k)))))
    return {"xi": xi, "ni": ni, "ai": ai.astype(float), "n1i": n1i, "ci": xi, "n2i": ni}


def time_metapool(call, data) -> float:
    """Best per-call time in milliseconds of ``call(data)``."""
    timer = timeit.Timer(lambda: call(data))
    number = max(1, round(0.2 / (timer.timeit(3) / 3)))
    return 1e3 * min(timer.repeat(REPEAT, number)) / number


def time_metafor(path: Path) -> dict[str, float]:
    """metafor's per-fit milliseconds (``ms<i>``) and results (``tau2<i>``, ``est<i>``)."""
    code = R_TIMING.format(path=r_path(path), repeat=REPEAT, number=R_NUMBER)
    for i, (_, _, call) in enumerate(FITS):
        code += f"report('ms{i}', 1e3 * per_fit(function() {call}))\n"
        code += f"f <- {call}\nreport('tau2{i}', f$tau2)\nreport('est{i}', f$beta[1])\n"
    return run_r(code)


def main() -> None:
    data = make_counts()
    print(f"GLMM, k = {len(data['xi'])}, in-process (metapool {mp.__version__}; 7-point adaptive quadrature)\n")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "counts.csv"
        rows = zip(*(data[c] for c in COLUMNS))
        path.write_text(",".join(COLUMNS) + "\n" + "".join(",".join(f"{int(v)}" for v in row) + "\n" for row in rows))
        r = time_metafor(path) if r_available(("metafor", "lme4")) else {}

    times, results, ours_ms = [], [], []
    for i, (label, call, _) in enumerate(FITS):
        ours, theirs = time_metapool(call, data), r.get(f"ms{i}")
        ours_ms.append(ours)
        times.append([label, f"{ours:.2f}", None if theirs is None else f"{theirs:.2f}", ratio(theirs, ours)])
        fit = call(data)
        tau2, est = r.get(f"tau2{i}"), r.get(f"est{i}")
        diff = None if tau2 is None else max(abs(fit.tau2 - tau2), abs(fit.estimate - est))
        results.append([label, f"{fit.tau2:.8f}", None if tau2 is None else f"{tau2:.8f}",
                        f"{fit.estimate:.8f}", None if est is None else f"{est:.8f}",
                        None if diff is None else f"{diff:.1e}"])
    print_table(["fit", "metapool ms/fit", "metafor ms/fit", "metafor/metapool"], times)
    print()
    print_table(["fit", "metapool tau2", "metafor tau2", "metapool estimate", "metafor estimate",
                 "max abs diff"], results)
    if r:
        achieved = r["ms0"] / ours_ms[0]
        verdict = "met" if achieved >= GOAL else "NOT met"
        print(f"\nGoal: metafor/metapool >= {GOAL:.0f}x for PLO: {verdict} ({achieved:.1f}x)")
        print(f"OR (UM.FS, 2x2 tables): metafor/metapool = {r['ms2'] / ours_ms[2]:.1f}x")


if __name__ == "__main__":
    main()

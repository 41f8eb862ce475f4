"""In-process time of one random-effects fit (k = 32): metapool vs metafor.

metapool is timed with :mod:`timeit`, metafor in one Rscript process with
``proc.time`` loops after a warm-up fit. Both report microseconds per fit as
the best of ``REPEAT`` short loops (about ``LOOP_SECONDS`` for metapool,
``R_NUMBER`` fits for metafor), so that the best loop misses the load of other
processes on a shared machine. The calls timed are

* ``mp.rma(yi=yi, vi=vi, method="REML")`` / ``rma(yi, vi, method = "REML")``,
* the same with ``method="DL"``,
* ``mp.rma(mp.escalc("GEN", yi=yi, vi=vi))`` /
  ``rma(yi, vi, data = escalc(measure = "GEN", yi = yi, vi = vi))``,
* REML again, with metafor at ``control = list(threshold = 1e-12)``.

The goal is metafor / metapool >= 10 for REML (metafor with its defaults).

Both sides' tau2 and pooled estimate are printed with their largest relative
difference. metafor's REML stops once a Fisher scoring step changes tau2 by
less than ``threshold = 1e-5``, while metapool solves to ``tol = 1e-12``; the
last row shows that metafor at ``threshold = 1e-12`` gives metapool's result.
"""

from __future__ import annotations

import tempfile
import timeit

import metapool as mp
from _common import R_HEADER, R_PER_FIT, make_data, print_table, r_available, r_path, ratio, run_r, write_csv

REPEAT = 25
LOOP_SECONDS = 0.05
R_NUMBER = 10
GOAL = 10.0

#: (label, metapool call, metafor call) on the arrays/vectors ``yi`` and ``vi``.
FITS = [
    ("REML  rma(yi, vi)",
     lambda yi, vi: mp.rma(yi=yi, vi=vi, method="REML"),
     'rma(yi, vi, method = "REML")'),
    ("DL    rma(yi, vi)",
     lambda yi, vi: mp.rma(yi=yi, vi=vi, method="DL"),
     'rma(yi, vi, method = "DL")'),
    ("REML  rma(escalc(GEN))",
     lambda yi, vi: mp.rma(mp.escalc("GEN", yi=yi, vi=vi), method="REML"),
     'rma(yi, vi, data = escalc(measure = "GEN", yi = yi, vi = vi), method = "REML")'),
    ("REML  metafor threshold=1e-12",
     lambda yi, vi: mp.rma(yi=yi, vi=vi, method="REML"),
     'rma(yi, vi, method = "REML", control = list(threshold = 1e-12))'),
]  # fmt: skip

R_TIMING = R_HEADER + "yi <- d$yi\nvi <- d$vi\n" + R_PER_FIT


def time_metapool(call, yi, vi) -> float:
    """Best per-call time in microseconds of ``call(yi, vi)``."""
    timer = timeit.Timer(lambda: call(yi, vi))
    number = max(1, round(LOOP_SECONDS / (timer.timeit(10) / 10)))
    return 1e6 * min(timer.repeat(REPEAT, number)) / number


def time_metafor(path) -> dict[str, float]:
    """metafor's per-fit microseconds (``us<i>``) and results (``tau2<i>``, ``est<i>``)."""
    code = R_TIMING.format(path=r_path(path), repeat=REPEAT, number=R_NUMBER)
    for i, (_, _, call) in enumerate(FITS):
        code += f"report('us{i}', 1e6 * per_fit(function() {call}))\n"
        code += f"f <- {call}\nreport('tau2{i}', f$tau2)\nreport('est{i}', f$beta[1])\n"
    return run_r(code)


def fmt(value: float | None, spec: str) -> str | None:
    """``value`` formatted with ``spec``, or None when metafor gave no value."""
    return None if value is None else format(value, spec)


def rel_diff(a: float, b: float) -> float:
    """Relative difference of ``a`` and ``b`` (0 when equal)."""
    return 0.0 if a == b else abs(a - b) / max(abs(a), abs(b))


def main() -> None:
    yi, vi = make_data()
    print(f"Single fit, k = {len(yi)}, in-process (metapool {mp.__version__})\n")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_csv(tmp, yi, vi)
        r = time_metafor(path) if r_available() else {}

    ours_us, times, results = [], [], []
    for i, (label, call, _) in enumerate(FITS):
        ours, theirs = time_metapool(call, yi, vi), r.get(f"us{i}")
        ours_us.append(ours)
        times.append([label, f"{ours:.1f}", fmt(theirs, ".1f"), ratio(theirs, ours)])
        fit = call(yi, vi)
        tau2, est = r.get(f"tau2{i}"), r.get(f"est{i}")
        rel = None if tau2 is None else max(rel_diff(fit.tau2, tau2), rel_diff(fit.estimate, est))
        results.append([label, f"{fit.tau2:.12g}", fmt(tau2, ".12g"),
                        f"{fit.estimate:.12g}", fmt(est, ".12g"), fmt(rel, ".1e")])
    print_table(["fit", "metapool us/fit", "metafor us/fit", "metafor/metapool"], times)
    print()
    print_table(["fit", "metapool tau2", "metafor tau2", "metapool estimate", "metafor estimate",
                 "max rel diff"], results)
    if r:
        achieved = r["us0"] / ours_us[0]
        verdict = "met" if achieved >= GOAL else "NOT met"
        print(f"\nGoal: metafor/metapool >= {GOAL:.0f}x for REML: {verdict} ({achieved:.1f}x)")


if __name__ == "__main__":
    main()

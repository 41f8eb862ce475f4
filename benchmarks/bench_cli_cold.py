"""Cold-process wall time of pooling a CSV file: ``metapool pool`` vs Rscript.

Both commands start a fresh process, read the same k = 32 CSV file, fit a
REML random-effects model and print JSON:

* ``.venv/bin/metapool pool FILE --yi yi --vi vi --json``
* ``Rscript -e 'suppressMessages(library(metafor)); d <- read.csv(FILE);
  r <- rma(yi, vi, data = d); cat(jsonlite::toJSON(...))'``

Each command runs once as a warm-up (to fill the OS file caches), then
``RUNS`` times, alternating between the two so that a change of machine load
hits both alike; the median wall time is reported. The goal is that metapool
takes at most half of Rscript's time. Both JSON outputs' tau2 and estimate are
printed to show that the two commands give the same fit.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time

from _common import METAPOOL_EXE, RSCRIPT, make_data, print_table, r_available, r_path, ratio, write_csv

RUNS = 10
GOAL = 0.5

R_CODE = (
    "suppressMessages(library(metafor)); d <- read.csv({path}); r <- rma(yi, vi, data = d); "
    "cat(jsonlite::toJSON(list(estimate = r$beta[1], tau2 = r$tau2), auto_unbox = TRUE, digits = NA))"
)


def wall_time(cmd: list[str]) -> tuple[float, str]:
    """Wall time in seconds of running ``cmd`` to completion, and its stdout."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed, proc.stdout


def main() -> int:
    if not METAPOOL_EXE.exists():
        print(f"{METAPOOL_EXE} not found: run `make install` first", file=sys.stderr)
        return 1
    yi, vi = make_data()
    print(f"Cold CLI process, k = {len(yi)}, REML, median of {RUNS} runs after one warm-up\n")
    with_r = r_available(("metafor", "jsonlite"))
    with tempfile.TemporaryDirectory() as tmp:
        path = write_csv(tmp, yi, vi)
        commands = {"metapool": [str(METAPOOL_EXE), "pool", str(path), "--yi", "yi", "--vi", "vi", "--json"]}
        if with_r:
            commands["metafor"] = [RSCRIPT, "-e", R_CODE.format(path=r_path(path))]
        times = {name: [] for name in commands}
        outputs = {name: json.loads(wall_time(cmd)[1]) for name, cmd in commands.items()}
        for _ in range(RUNS):
            for name, cmd in commands.items():
                times[name].append(wall_time(cmd)[0])

    median = {name: statistics.median(t) for name, t in times.items()}
    rows = [
        [cmd, f"{1e3 * median[name]:.0f}", f"{1e3 * min(times[name]):.0f}",
         f"{outputs[name]['tau2']:.12g}", f"{outputs[name]['estimate']:.12g}"]
        for name, cmd in (("metapool", "metapool pool --json"), ("metafor", "Rscript -e rma(...)"))
        if name in median
    ]  # fmt: skip
    print_table(["command", "median ms", "min ms", "tau2", "estimate"], rows)
    if with_r:
        share = median["metapool"] / median["metafor"]
        verdict = "met" if share <= GOAL else "NOT met"
        print(f"\nRscript/metapool: {ratio(median['metafor'], median['metapool'])}")
        print(f"Goal: metapool at most {GOAL:.0%} of Rscript's time: {verdict} ({share:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

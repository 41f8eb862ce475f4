"""A whole ``metapool run`` on a large study table: wall time and peak memory (metapool only).

For k = 1,000, 5,000, 20,000 and 100,000 studies (counts out of patients, seed
``SEED``) one analysis file asks for everything: logit proportions pooled by
REML, a subgroup analysis, a meta-regression, the bias analyses and the
sensitivity analyses. Each size runs once as a fresh process
(``.venv/bin/metapool run a.toml -o out``), started by a small Python wrapper
whose only child it is, so that the wrapper's ``getrusage(RUSAGE_CHILDREN)``
gives that run's peak resident memory. Goal: 100,000
studies well under a minute (the run skips the analyses and figures whose cost
grows faster than k, and says so in the report; see ``metapool.analysis`` and
``metapool.report.figures.FIGURE_LIMITS``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import METAPOOL_EXE, SEED, print_table

SIZES = (1_000, 5_000, 20_000, 100_000)
GOAL_SECONDS = 60.0

#: Runs argv[1:] and prints its exit status and peak RSS (kB on Linux) as JSON.
WRAPPER = ("import json, resource, subprocess, sys; code = subprocess.run(sys.argv[1:], capture_output=True).returncode;"
           " print(json.dumps([code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))")

ANALYSIS = """title = "Large input"
data = "studies.csv"
study = "study"
[[outcome]]
name = "Response"
kind = "proportion"
events = "events"
total = "n"
subgroup = "group"
mods = ["x"]
bias = true
sensitivity = true
"""


def write_study(folder: Path, k: int) -> Path:
    """Write ``studies.csv`` (k studies) and ``a.toml`` into ``folder``; return the analysis file."""
    rng = np.random.default_rng(SEED)
    n = rng.integers(20, 300, k)
    events = rng.binomial(n, 1 / (1 + np.exp(-rng.normal(-1, 0.5, k))))
    group = rng.choice(["a", "b", "c"], k)
    x = rng.uniform(0, 1, k)
    rows = "\n".join(f"S{i + 1},{events[i]},{n[i]},{group[i]},{x[i]:.3f}" for i in range(k))
    (folder / "studies.csv").write_text("study,events,n,group,x\n" + rows + "\n", encoding="utf-8")
    path = folder / "a.toml"
    path.write_text(ANALYSIS, encoding="utf-8")
    return path


def run_once(analysis: Path) -> tuple[float, float, dict]:
    """Wall seconds and peak child RSS (MB) of one ``metapool run``, and its outcome's skipped analyses."""
    out = analysis.parent / "out"
    command = [sys.executable, "-c", WRAPPER, str(METAPOOL_EXE), "run", str(analysis), "-o", str(out)]
    start = time.perf_counter()
    code, peak = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    elapsed = time.perf_counter() - start
    if code:
        raise RuntimeError(f"metapool run failed with status {code}")
    skipped = json.loads((out / "results.json").read_text(encoding="utf-8"))["outcomes"][0]["skipped"]
    return elapsed, peak / 1024, skipped


def main() -> int:
    if not METAPOOL_EXE.exists():
        print(f"{METAPOOL_EXE} not found: run `make install` first", file=sys.stderr)
        return 1
    print("metapool run: REML + subgroups + meta-regression + bias + sensitivity, one process per size\n")
    rows = []
    for k in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            elapsed, peak_mb, skipped = run_once(write_study(Path(tmp), k))
        rows.append([f"{k:,}", f"{elapsed:.1f}", f"{peak_mb:.0f}", ", ".join(skipped) or "-"])
    print_table(["studies", "wall s", "peak RSS MB", "skipped"], rows)
    verdict = "met" if float(rows[-1][1]) < GOAL_SECONDS else "NOT met"
    print(f"\nGoal: {SIZES[-1]:,} studies in under {GOAL_SECONDS:.0f} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

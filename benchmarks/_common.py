"""Shared helpers of the benchmark scripts: data set, Rscript runs, tables.

Each benchmark writes one reproducible data set as CSV to a temporary folder,
times metapool on it and metafor on the very same values, and prints a small
table. The CSV holds round-trip (17 significant digit) floats, so R's
``read.csv`` gets bit-identical doubles.

R reports values back with ``report(name, value)`` (defined by
:func:`run_r`), which prints ``@name value`` lines that :func:`run_r` parses.

The environment variable ``RSCRIPT`` names the R front end (default
``Rscript``); point it at a missing path to see the metapool-only output.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
METAPOOL_EXE = REPO_ROOT / ".venv" / "bin" / "metapool"
RSCRIPT = os.environ.get("RSCRIPT", "Rscript")

#: Seed and size of the benchmark data set.
SEED = 20261126
K = 32

_R_PRELUDE = 'report <- function(name, value) cat("@", name, " ", sprintf("%.17g", value), "\\n", sep = "")\n'


def make_data(k: int = K, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Effect sizes ``yi`` and sampling variances ``vi`` of ``k`` studies (tau2 = 0.05)."""
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.2, k)
    yi = rng.normal(0.3, np.sqrt(0.05 + vi))
    return yi, vi


def write_csv(directory: str | Path, yi: np.ndarray, vi: np.ndarray) -> Path:
    """Write ``yi,vi`` to ``directory/data.csv`` with round-trip precision."""
    path = Path(directory) / "data.csv"
    rows = [f"{float(y)!r},{float(v)!r}" for y, v in zip(yi, vi)]
    path.write_text("yi,vi\n" + "\n".join(rows) + "\n")
    return path


def r_path(path: Path) -> str:
    """``path`` as an R string literal."""
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def r_available(packages: tuple[str, ...] = ("metafor",)) -> bool:
    """Whether Rscript runs and has ``packages``; prints a note when it does not."""
    names = ", ".join(f'"{p}"' for p in packages)
    code = f"quit(status = !all(sapply(c({names}), requireNamespace, quietly = TRUE)))"
    try:
        ok = subprocess.run([RSCRIPT, "-e", code], capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    if not ok:
        print("metafor not available: showing metapool only\n")
    return ok


def run_r(code: str) -> dict[str, float]:
    """Run ``code`` in one Rscript process; return its ``report(name, value)`` values."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench.R"
        script.write_text(_R_PRELUDE + code)
        proc = subprocess.run([RSCRIPT, str(script)], capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"Rscript failed ({proc.returncode}):\n{proc.stderr}")
    values = {}
    for line in proc.stdout.splitlines():
        if line.startswith("@"):
            name, value = line[1:].split()
            values[name] = float(value)
    return values


def ratio(slow: float | None, fast: float | None) -> str:
    """``slow / fast`` as ``"12.3x"``, or ``"-"`` when a time is missing."""
    return "-" if slow is None or fast is None else f"{slow / fast:.1f}x"


def print_table(headers: list[str], rows: list[list]) -> None:
    """Print ``rows`` under ``headers``: first column left-aligned, the rest right-aligned."""
    cells = [headers] + [["-" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        line = "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
        print(line.rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


#: R code loading metafor and the benchmark's CSV (a ``str.format`` template: ``{path}``).
R_HEADER = "suppressMessages(library(metafor))\nd <- read.csv({path})\n"

#: R function timing ``fit()``: best of ``{repeat}`` loops of ``{number}`` calls, seconds per call.
R_PER_FIT = """per_fit <- function(fit) {{
  fit()
  best <- Inf
  for (r in seq_len({repeat})) {{
    t0 <- proc.time()[["elapsed"]]
    for (i in seq_len({number})) fit()
    best <- min(best, proc.time()[["elapsed"]] - t0)
  }}
  best / {number}
}}
"""

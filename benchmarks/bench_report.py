"""A whole report: ``metapool run`` on the bundled demo vs Rscript drawing a comparable figure set with metafor.

Both sides start a fresh process on the same data (the demo's study table,
``metapool.datasets`` ``aml_hma_ven_synthetic``):

* ``python -m metapool.cli.main run aml_hma_ven_synthetic.toml -o DIR --force``
  with ``--figures svg`` (the default: the report inlines SVG), ``both`` (SVG and PNG, as R
  draws them here) and ``none``:
  eight outcomes pooled with their follow-up analyses, the report, results,
  card and 41 figures. The time until ``results.json`` appears in ``DIR``
  is measured too (the results are written before the figures).
* One Rscript: for each of the six proportion outcomes ``escalc("PLO")``,
  ``rma(method = "REML")``, ``trimfill``, ``leave1out`` and ``influence``,
  then forest, funnel with the trim-and-fill studies (contour-enhanced),
  Baujat, leave-one-out forest and influence plots, each as PNG (150 dpi)
  and SVG: 60 files.

Each command runs once as a warm-up, then ``--runs`` times (default 3),
alternating, and the median wall time is reported. Goals (issue 13):
``metapool run`` at most R's time and under 5 s; results.json within about
1 s of the analysis (the run's first second or two is importing numpy,
scipy and matplotlib).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import RSCRIPT, print_table, r_available, r_path, ratio

GOAL_SECONDS = 5.0

#: The demo's proportion outcomes drawn by the R side: (file name, events column, total column).
R_OUTCOMES = [("orr", "orr_events", "n"), ("cr_cri", "cr_cri_events", "n"), ("cr", "cr_events", "n"),
              ("mrd", "mrd_negative", "mrd_tested"), ("fn", "fn_g3_events", "n"),
              ("infection", "infection_g3_events", "n")]

R_CODE = """suppressMessages(library(metafor))
d <- read.csv({data})
out <- {out}
outcomes <- list({outcomes})
draw <- function(dev, name, width, height, plot) {{
  file <- file.path(out, paste0(name, ".", dev))
  if (dev == "png") png(file, width = width, height = height, units = "in", res = 150)
  else svg(file, width = width, height = height)
  plot()
  invisible(dev.off())
}}
for (o in outcomes) {{
  dat <- escalc(measure = "PLO", xi = d[[o[2]]], ni = d[[o[3]]], slab = d$study)
  dat <- dat[!is.na(dat$yi), ]
  res <- rma(yi, vi, data = dat, method = "REML")
  tf <- trimfill(res)
  l1o <- leave1out(res)
  inf <- influence(res)
  h <- 2 + 0.2 * res$k
  for (dev in c("svg", "png")) {{
    draw(dev, paste0(o[1], "_forest"), 9, h, function() forest(res, transf = transf.ilogit, header = TRUE))
    draw(dev, paste0(o[1], "_funnel"), 6, 5, function() funnel(tf, level = c(90, 95, 99),
         shade = c("white", "gray55", "gray75"), refline = 0, legend = TRUE))
    draw(dev, paste0(o[1], "_baujat"), 6, 5, function() baujat(res))
    draw(dev, paste0(o[1], "_leave_one_out"), 9, h, function() forest(l1o$estimate, sei = l1o$se,
         slab = l1o$slab, transf = transf.ilogit, header = TRUE))
    draw(dev, paste0(o[1], "_influence"), 8, 8, function() plot(inf))
  }}
}}
cat("files", length(list.files(out)), "\\n")
"""


def _version(path: Path | None):
    """Which file ``path`` is (inode and change time), None when it does not exist."""
    try:
        st = path.stat()
    except (OSError, AttributeError):
        return None
    return st.st_ino, st.st_mtime_ns


def timed(cmd: list[str], watch: Path | None = None) -> tuple[float, float | None, str]:
    """Wall time of ``cmd``, the time until a new ``watch`` file appears (polled every 5 ms), and its stdout."""
    before = _version(watch)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = None
    while proc.poll() is None:
        if watch is not None and seen is None and _version(watch) not in (None, before):
            seen = time.perf_counter() - start
        time.sleep(0.005)
    elapsed = time.perf_counter() - start
    stdout, stderr = proc.communicate()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}):\n{stderr}")
    return elapsed, seen, stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per command (default 3)")
    args = parser.parse_args()
    from metapool.datasets import DATASETS

    ds = DATASETS["aml_hma_ven_synthetic"]
    with_r = r_available()
    print(f"Whole report on the demo ({ds.analysis_path.name}), median of {args.runs} runs after one warm-up\n")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        commands = {}
        for figures in ("svg", "both", "none"):
            out = tmp / f"metapool_{figures}"
            commands[f"metapool run --figures {figures}"] = (
                [sys.executable, "-m", "metapool.cli.main", "run", str(ds.analysis_path), "-o", str(out), "--force",
                 "--figures", figures], out / "results.json")
        if with_r:
            rdir = tmp / "metafor"
            rdir.mkdir()
            outcomes = ", ".join(f'c("{a}", "{b}", "{c}")' for a, b, c in R_OUTCOMES)
            script = tmp / "figures.R"
            script.write_text(R_CODE.format(data=r_path(ds.analysis_path.with_suffix(".csv")), out=r_path(rdir),
                                            outcomes=outcomes))
            commands["Rscript metafor figures"] = ([RSCRIPT, str(script)], None)
        times = {name: [] for name in commands}
        firsts = {name: [] for name in commands}
        for cmd, watch in commands.values():  # warm-up (file caches, the font cache)
            timed(cmd, watch)
        for _ in range(args.runs):
            for name, (cmd, watch) in commands.items():
                wall, first, _ = timed(cmd, watch)
                times[name].append(wall)
                if first is not None:
                    firsts[name].append(first)
        counts = {name: len(list((watch.parent / "figures").glob("*"))) if watch is not None and
                  (watch.parent / "figures").exists() else None for name, (_, watch) in commands.items()}
        if with_r:
            counts["Rscript metafor figures"] = len(list(rdir.iterdir()))
        sizes = {name: (watch.parent / "report.html").stat().st_size / 1e6 for name, (_, watch) in commands.items()
                 if watch is not None}

    median = {name: statistics.median(t) for name, t in times.items()}
    rows = [[name, f"{median[name]:.2f}", f"{min(times[name]):.2f}",
             f"{statistics.median(firsts[name]):.2f}" if firsts[name] else None, counts[name],
             f"{sizes[name]:.2f}" if name in sizes else None] for name in commands]
    print_table(["command", "median s", "min s", "results.json s", "figure files", "report.html MB"], rows)
    default, both = median["metapool run --figures svg"], median["metapool run --figures both"]
    if with_r:
        r = median["Rscript metafor figures"]
        print(f"\nRscript / metapool run (default, SVG): {ratio(r, default)}; with PNG too (both): {ratio(r, both)}")
        print(f"Goal: metapool run at most R's time: {'met' if default <= r else 'NOT met'}"
              f" ({'met' if both <= r else 'not met'} with --figures both)")
    print(f"Goal: metapool run under {GOAL_SECONDS:g} s: {'met' if default < GOAL_SECONDS else 'NOT met'}"
          f" ({default:.2f} s; --figures both {both:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

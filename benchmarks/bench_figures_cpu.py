"""CPU seconds to draw the demo report's figures, per figure kind, in one process (SVG only, and SVG + PNG).

``metapool run`` draws its figures in worker processes, so its wall time on
a busy machine says little; the CPU time of drawing them in one process
depends much less on the load (``time.process_time``). The quiet-machine
wall time of ``metapool run`` is about the run without figures
(``--figures none``) plus this CPU time divided by the processors.

Each measurement is a fresh process drawing every figure once, in the
report's order, as a worker process does (caches of text metrics fill as it
goes); ``--runs`` of them (default 3), the smallest total is kept.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import defaultdict

from _common import print_table

FORMATS = {"SVG": ("svg",), "SVG+PNG": ("svg", "png")}


def figure_tasks():
    """``(kind, draw)`` of every figure of the demo report (:func:`metapool.report.drawing._groups`)."""
    from metapool.analysis import run_analysis
    from metapool.datasets import DATASETS
    from metapool.report.drawing import _groups
    from metapool.spec import load_spec

    analysis = run_analysis(load_spec(DATASETS["aml_hma_ven_synthetic"].analysis_path))
    return [(kind, draw) for _, _, _, plans in _groups(analysis, "SYNTHETIC data") for kind, _, draw in plans]


def child(formats: tuple) -> None:
    """Draw every figure once into ``formats``; print the CPU seconds per figure as JSON ``[[kind, s], ...]``."""
    import matplotlib

    matplotlib.use("Agg")
    import metapool.plots  # noqa: F401  (imported by the workers' forkserver before they draw)
    from metapool.report.figures import render_plan

    out = []
    for kind, draw in figure_tasks():
        start = time.process_time()
        render_plan(draw, formats, "bench")
        out.append([kind, time.process_time() - start])
    print(json.dumps(out))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per format set (default 3)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(tuple(args.child.split(",")))
        return 0
    best = {}
    for name, formats in FORMATS.items():
        runs = [json.loads(subprocess.run([sys.executable, __file__, "--child", ",".join(formats)], check=True,
                                          capture_output=True, text=True).stdout) for _ in range(args.runs)]
        best[name] = min(runs, key=lambda r: sum(s for _, s in r))
    rows = defaultdict(lambda: [0] + [0.0] * len(FORMATS))
    for j, name in enumerate(FORMATS):
        for kind, s in best[name]:
            rows[kind][1 + j] += s
            rows[kind][0] += 1 if j == 0 else 0
    totals = [sum(s for _, s in best[name]) for name in FORMATS]
    print(f"CPU seconds drawing the demo's {len(best['SVG'])} figures in one fresh process (best of {args.runs})\n")
    print_table(["kind", "figures", *(f"{n} s" for n in FORMATS)],
                [[k, n, *(f"{s:.3f}" for s in ss)] for k, (n, *ss) in rows.items()]
                + [["total", len(best["SVG"]), *(f"{t:.3f}" for t in totals)]])
    return 0


if __name__ == "__main__":
    sys.exit(main())

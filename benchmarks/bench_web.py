"""Bounded load test of the web app's screening: simulated reviewers posting decisions to ``metapool serve``.

Starts ``metapool serve`` on 127.0.0.1 (a subprocess, a free port) over a temporary workspace with
``--reviews`` copies of the SYNTHETIC demo search (its three exports imported and deduplicated,
about 235 records to screen each, two reviewers per record), then runs ``--reviewers`` simulated
reviewers in threads: each opens the printed link (its own session), names itself with
"Screening as" and loads its first screening page (the warm-up: the first page of a review computes
the TF-IDF vectors of its records; its time is printed apart). When every reviewer has its first
page, the measured ``--seconds`` start, and each reviewer repeats: post a decision on the record
shown (``POST /review/decide``, answered by a redirect), one time in ten (drawn) load the
review's overview, wait ``--think`` seconds (reading the next abstract: between 0.5 and 1.5 times it, drawn
with a fixed seed per reviewer, and once at the start, so that the reviewers do not act in step;
0 makes it a stress test in which 20 reviewers queue behind each other on the server's CPU), and
load its next screening page (``GET /review/screen``: the queue in relevance order).
Reviewers are spread over the reviews two by two, so that no record gets a third reviewer.

Prints requests per second, p50 and p99 latency of the decision posts and of the page loads,
and checks that every decision the server accepted is in the review databases (counted after the
server stopped). Not a timed test: run it by hand, ``--seconds 15`` for a short run.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

DECISIONS = ("include", "exclude", "exclude", "maybe", "exclude")


def build_workspace(root: Path, reviews: int) -> list[str]:
    """``reviews`` review folders in ``root/reviews`` with the demo search imported and deduplicated."""
    from metapool.datasets.review_demo import DEMO_FOLDER
    from metapool.review.duplicates import run_dedup
    from metapool.review.imports import import_files
    from metapool.review.store import init_review, open_review

    config = (DEMO_FOLDER / "review.toml").read_text(encoding="utf-8")
    paths = []
    for i in range(reviews):
        folder = root / "reviews" / f"load-{i + 1}"
        init_review(folder, config_text=config, who="bench").engine.dispose()
        review = open_review(folder)
        for name, database in (("embase.ris", "Embase (Ovid)"), ("medline.nbib", "MEDLINE (PubMed)"),
                               ("scopus.ris", "Scopus")):
            import_files(review, [DEMO_FOLDER / name], database, who="bench")
        run_dedup(review, who="bench")
        review.engine.dispose()
        paths.append(f"reviews/{folder.name}")
    return paths


def start_server(root: Path) -> tuple[subprocess.Popen, str]:
    """``metapool serve ROOT --port 0`` and the link it prints."""
    proc = subprocess.Popen([sys.executable, "-m", "metapool.cli.main", "serve", str(root), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    found = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=(\S+)", line)
    if not found:
        proc.kill()
        raise SystemExit(f"metapool serve printed no link: {line!r}")
    base = found.group(1)
    import httpx2 as httpx

    for _ in range(200):
        try:
            httpx.get(base + "/static/app.css", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    return proc, found.group(0)


class Reviewer(threading.Thread):
    """One simulated reviewer: its own session, screening one review until the deadline."""

    def __init__(self, link: str, path: str, name: str, ready: threading.Barrier, started: list[float],
                 seconds: float, think: float, seed: int, lockstep: bool = False):
        super().__init__(daemon=True)
        self.link, self.path, self.name, self.think = link, path, name, think
        self.ready, self.started, self.seconds = ready, started, seconds
        self.random = random.Random(seed)
        self.lockstep = lockstep
        self.posts: list[float] = []
        self.pages: list[float] = []
        self.first: float | None = None
        self.accepted = 0
        self.errors: list[str] = []

    def run(self) -> None:
        import httpx2 as httpx

        with httpx.Client(base_url=self.link.split("/?")[0], follow_redirects=False, timeout=60) as c:
            c.get(self.link)
            page = c.get("/review/open", params={"path": self.path}).text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            c.post("/review/reviewer", data={"csrf_token": token, "path": self.path, "reviewer": self.name})
            t0 = time.perf_counter()  # warm-up: the first ranking of a review computes its texts' vectors
            page = c.get("/review/screen", params={"path": self.path, "stage": "ta"})
            self.first = time.perf_counter() - t0
            self.ready.wait(timeout=600)  # every reviewer has its first page: the measured part starts
            deadline = self.started[0] + self.seconds
            if not self.lockstep:
                time.sleep(self.random.uniform(0, self.think))  # reviewers do not act in step
            n = 0
            while time.monotonic() < deadline:
                if n:
                    t0 = time.perf_counter()
                    page = c.get("/review/screen", params={"path": self.path, "stage": "ta"})
                    self.pages.append(time.perf_counter() - t0)
                found = re.search(r'name="record" value="(\d+)"', page.text)
                if page.status_code != 200 or not found:
                    if page.status_code != 200:
                        self.errors.append(f"GET screen {page.status_code}")
                    break  # nothing left to screen
                t0 = time.perf_counter()
                r = c.post("/review/decide", data={"csrf_token": token, "path": self.path, "stage": "ta",
                                                   "record": found.group(1), "decision": DECISIONS[n % len(DECISIONS)]})
                self.posts.append(time.perf_counter() - t0)
                if r.status_code == 303:
                    self.accepted += 1
                else:
                    self.errors.append(f"POST decide {r.status_code}")
                n += 1
                if (n % 10 == 0) if self.lockstep else (self.random.random() < 0.1):  # now and then, the overview
                    t0 = time.perf_counter()
                    c.get("/review/open", params={"path": self.path})
                    self.pages.append(time.perf_counter() - t0)
                time.sleep(self.think if self.lockstep else self.think * self.random.uniform(0.5, 1.5))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def stored_decisions(root: Path, path: str, reviewer: str) -> int:
    import sqlalchemy as sa

    from metapool.review.schema import decisions
    from metapool.review.store import open_review, transaction

    review = open_review(root / path)
    with transaction(review, read_only=True) as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(decisions)
                         .where(decisions.c.reviewer == reviewer)).scalar_one()
    review.engine.dispose()
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long the reviewers post (default 60)")
    parser.add_argument("--reviewers", type=int, default=20, help="simulated reviewers (default 20)")
    parser.add_argument("--reviews", type=int, default=10, help="reviews they share, two reviewers each (default 10)")
    parser.add_argument("--lockstep", action="store_true",
                        help="the first design: every reviewer waits exactly --think and visits the overview every"
                             " 10th decision, all starting together (bursts of simultaneous requests)")
    parser.add_argument("--think", type=float, default=1.0,
                        help="seconds each reviewer waits between decisions (default 1; 0: a stress test)")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="metapool-bench-web-"))
    try:
        t0 = time.perf_counter()
        paths = build_workspace(root, args.reviews)
        print(f"workspace: {args.reviews} reviews built in {time.perf_counter() - t0:.1f} s")
        proc, link = start_server(root)
        try:
            started: list[float] = []
            ready = threading.Barrier(args.reviewers, action=lambda: started.append(time.monotonic()))
            team = [Reviewer(link, paths[(i // 2) % len(paths)], f"Reviewer {i + 1}", ready, started, args.seconds,
                             args.think, seed=i, lockstep=args.lockstep) for i in range(args.reviewers)]
            for r in team:
                r.start()
            for r in team:
                r.join()
            elapsed = time.monotonic() - started[0] if started else float("nan")
        finally:
            proc.terminate()
            proc.wait(20)
        posts = [t for r in team for t in r.posts]
        pages = [t for r in team for t in r.pages]
        accepted = sum(r.accepted for r in team)
        stored = sum(stored_decisions(root, r.path, r.name) for r in team)
        errors = [e for r in team for e in r.errors]
        first = [r.first for r in team if r.first is not None]
        print(f"{args.reviewers} reviewers, think time {args.think:g} s, {elapsed:.1f} s:"
              f" {len(posts) + len(pages):,} requests"
              f" ({(len(posts) + len(pages)) / elapsed:.1f}/s; each decision is a POST and a page load)")
        print(f"decision posts: {len(posts):,}, p50 {1000 * percentile(posts, .5):.0f} ms,"
              f" p99 {1000 * percentile(posts, .99):.0f} ms")
        print(f"page loads:     {len(pages):,}, p50 {1000 * percentile(pages, .5):.0f} ms,"
              f" p99 {1000 * percentile(pages, .99):.0f} ms")
        print(f"first screening page of each reviewer (warm-up, not above): p50 {1000 * percentile(first, .5):.0f} ms,"
              f" max {1000 * max(first, default=float('nan')):.0f} ms")
        print(f"load average of the machine (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(f"decisions accepted {accepted:,}, stored {stored:,}: "
              + ("every decision stored" if stored == accepted else "MISMATCH"))
        if errors:
            print(f"errors: {len(errors)} ({', '.join(sorted(set(errors)))})")
        return 0 if stored == accepted and not errors else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())

"""Analysis runs in the background: ``metapool run`` in a worker thread, one numbered folder per run.

A run started in the browser goes on when the browser is closed: the request only queues it and
answers at once (the event loop never waits for a run). One worker thread runs the queued runs in
turn (matplotlib's figure state is not thread-safe, and a laptop has few cores). It is a daemon
thread: stopping the server (Ctrl-C) stops a run in flight at once, as Ctrl-C stops ``metapool run``. A run calls the
functions ``metapool run`` calls (:func:`metapool.spec.load_spec`,
:func:`metapool.analysis.run_analysis` with its progress callback,
:func:`metapool.report.render.write_outputs`), into ``runs/<analysis>/<n>/`` of the workspace: a new
folder ``n`` for every run, so editing and running again keeps every earlier run.

Beside each run folder, ``<n>.json`` keeps what the results page shows besides results.json: the
analysis file as it was run, the command, each outcome's plain-language tables
(:func:`metapool.report.plain.outcome_tables`) and its figures' files with their alternative text.
It is written last; a run whose server stopped before the end has no ``results.json`` in place (or no
``<n>.json``) and is not listed as a run (:meth:`metapool.web.workspace.Workspace.runs_of`).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..cli.run import shell_word
from ..exceptions import MetapoolError
from .fields import whole_number
from .workspace import RUNS, Workspace

log = logging.getLogger("metapool.web")

__all__ = ["Job", "Jobs", "run_command", "read_sidecar", "next_run_folder"]


def run_command(analysis: str, out: str) -> str:
    """The command that makes the same run from a shell (paths relative to the workspace)."""
    return f"metapool run {shell_word(analysis)} -o {shell_word(out)}"


def next_run_folder(ws: Workspace, analysis: Path) -> Path:
    """``runs/<analysis slug>/<n>``: one past the highest run number used so far (finished or not)."""
    folder = ws.inside(RUNS, ws.slug(analysis.stem))
    used = [whole_number(p.name) for p in folder.iterdir()] if folder.is_dir() else []
    used += [whole_number(p.stem) for p in folder.glob("*.json")] if folder.is_dir() else []
    used = [n for n in used if n is not None]
    return folder / str(max(used, default=0) + 1)


def read_sidecar(run: Path) -> dict | None:
    """The ``<n>.json`` the app wrote beside run folder ``run`` (None for a run made elsewhere, e.g. by the CLI)."""
    path = run.parent / f"{run.name}.json"
    if path.is_symlink() or not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass
class Job:
    """One run's progress, as its progress bar shows it (in memory: a restarted server has none)."""

    id: str
    analysis: str  # relative to the workspace
    state: str = "queued"  # queued, pooling, drawing, done, failed
    done: int = 0
    total: int = 0
    step: str = ""  # the outcome being pooled
    run: str = ""  # the run folder, relative to the workspace, once chosen
    error: str = ""
    failed_outcomes: list = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")


#: Finished runs whose progress is kept (the oldest are forgotten first; their run folders stay listed).
FINISHED_KEPT = 200


class Jobs:
    """The app's run queue (one worker thread) and the progress of the runs started since the server began.

    Every queued or running job is kept; of the finished ones, the last :data:`FINISHED_KEPT`.
    """

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue()
        self._worker: threading.Thread | None = None

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def start(self, analysis: Path) -> Job:
        """Queue a run of analysis file ``analysis`` (inside the workspace); returns at once."""
        job = Job(uuid.uuid4().hex, self.ws.relative(analysis))
        with self._lock:
            finished = [k for k, j in self._jobs.items() if j.finished]
            for k in finished[:max(0, len(finished) - FINISHED_KEPT + 1)]:
                del self._jobs[k]
            self._jobs[job.id] = job
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="metapool-run", daemon=True)
                self._worker.start()
        self._queue.put((job, analysis))
        return job

    def _work(self) -> None:
        while True:
            self._run(*self._queue.get())

    def _run(self, job: Job, analysis: Path) -> None:
        try:
            run_job(self.ws, analysis, job)
            job.state = "done"
        except MetapoolError as exc:
            job.error, job.state = str(exc), "failed"
        except Exception:  # the log keeps the traceback; the page says what to do
            log.exception("run of %s failed", job.analysis)
            job.error, job.state = ("The run stopped on an unexpected error (the server's log has the details);"
                                    " no run folder was added."), "failed"


def run_job(ws: Workspace, analysis: Path, job: Job) -> Path:
    """Run ``analysis`` as ``metapool run`` does into the next run folder; ``job`` follows the progress."""
    from ..analysis import run_analysis
    from ..io.outputs import reserved_folder
    from ..report.render import write_outputs
    from ..spec import load_spec

    spec = load_spec(analysis)
    out = next_run_folder(ws, analysis)
    job.run, job.total, job.state = ws.relative(out), len(spec.outcomes), "pooling"
    with reserved_folder(out, spec.input_files):
        def step(name: str) -> None:
            job.done, job.step = job.done + 1, name

        result = run_analysis(spec, progress=step)
        job.state = "drawing"
        write_outputs(result, out, figures="svg", workers=1)
    job.failed_outcomes = [o.spec.name for o in result.outcomes if o.error is not None]
    _write_sidecar(ws, out, analysis, spec.text, result)
    return out


def _write_sidecar(ws: Workspace, out: Path, analysis: Path, text: str, result) -> None:
    """``<n>.json`` beside the run folder: the analysis file as run, the command, tables and figures per outcome."""
    from ..io.outputs import atomic_file
    from ..report.figures import figure_stem, outcome_plans
    from ..report.plain import influence_note, outcome_tables

    outcomes = []
    for i, o in enumerate(result.outcomes, 1):
        plans = outcome_plans(o, result.table) if o.error is None else []
        figures = [{"kind": kind, "caption": caption, "file": f"figures/{figure_stem(i, o.spec.name)}_{kind}.svg"}
                   for kind, caption, _ in plans]
        outcomes.append({
            "name": o.spec.name,
            "error": o.error or "",
            "tables": [asdict(t) for t in outcome_tables(o)],
            "influence": influence_note(o) if o.influence is not None else "",
            "figures": [f for f in figures if (out / f["file"]).is_file()],
        })
    sidecar = {"analysis": ws.relative(analysis), "analysis_text": text,
               "command": run_command(ws.relative(analysis), ws.relative(out)), "outcomes": outcomes}
    with atomic_file(out.parent / f"{out.name}.json") as tmp:
        tmp.write_text(json.dumps(sidecar, indent=1, allow_nan=False), encoding="utf-8")

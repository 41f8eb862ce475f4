"""Drawing a report's figures: which files, in this process or in worker processes, results in plan order.

Each figure of a report is a plan of :mod:`metapool.report.figures`
(``(kind, caption, draw)``);
:func:`~metapool.report.figures.render_plan` draws one and renders it once
into its formats (the SVG always: the report shows it inline).
:func:`draw_report_figures` starts drawing every figure of an analysis and
returns at once: with several processors, worker processes draw them side
by side (from a ``forkserver`` that has imported matplotlib once, or
``spawn`` where there is none), the slowest first. :meth:`FigureJob.save`
waits for them and writes the files in plan order. The bytes do not depend on where a figure was drawn (SVG
element ids are salted with the file name), so a report is the same drawn
in parallel or not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..exceptions import MetapoolError
from .figures import figure_stem, outcome_plans, render_plan, risk_of_bias_plans, saved_figure

__all__ = ["FIGURE_FORMATS", "DEFAULT_FIGURES", "draw_report_figures", "prepare_workers", "FigureJob"]

#: ``metapool run --figures``: the files written into ``figures/`` per figure (the report shows
#: every figure inline as SVG whatever is chosen, except with ``none``).
FIGURE_FORMATS = {
    "svg": ("svg",),
    "png": ("png",),
    "both": ("svg", "png"),
    "none": (),
}

#: Default of ``metapool run --figures``: SVG only. The report inlines SVG, and a PNG costs about twice
#: an SVG's drawing time (Agg renders every glyph); ``--figures both`` or ``png`` writes PNGs for pasting,
#: and ``--docx`` adds them (a Word document embeds PNG).
DEFAULT_FIGURES = "svg"

#: Fewest figures worth starting worker processes for (starting them costs about a second of CPU).
MIN_PARALLEL = 6

#: Figure kinds that take longest (one row per study): drawn first, so that the workers end together.
_SLOW_KINDS = ("subgroups", "leave_one_out", "forest")


def _groups(analysis, note: str) -> list:
    """``(group, name, stem, plans)`` of an analysis: 0 for the risk-of-bias plots, then each outcome (1-based)."""
    groups = [(0, "", "risk_of_bias", risk_of_bias_plans(analysis, note))]
    for i, o in enumerate(analysis.outcomes, 1):
        if o.error is None:
            groups.append((i, o.spec.name, figure_stem(i, o.spec.name), outcome_plans(o, analysis.table, note)))
    return groups


#: State of a worker process: the analysis, its figure note and the plans built from them.
_WORKER: dict = {}


def _start_worker(analysis, note: str) -> None:
    import signal

    import matplotlib

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle (it stops the workers)
    matplotlib.use("Agg")
    _WORKER.update(analysis=analysis, note=note, plans=None)


def _draw_in_worker(group: int, kind: str, formats: tuple, salt: str) -> dict | None:
    if _WORKER["plans"] is None:
        _WORKER["plans"] = {g: {k: draw for k, _, draw in plans} for g, _, _, plans in
                            _groups(_WORKER["analysis"], _WORKER["note"])}
    return render_plan(_WORKER["plans"][group][kind], formats, salt)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


#: Modules the forkserver imports once for all workers: matplotlib with the backends that draw, the plots, and
#: the modules of the analysis' result classes (a worker unpickling the analysis would import them: 0.1 s each).
_PRELOAD = ("matplotlib.pyplot", "matplotlib.backends.backend_agg", "matplotlib.backends.backend_svg",
            "metapool.analysis_report", "metapool.bias", "metapool.influence", "metapool.moderators",
            "metapool.moderators.subgroups", "metapool.influence.sensitivity", "metapool.plots",
            "metapool.plots.risk_of_bias")


def _context(modules: tuple = ()):
    """The ``forkserver`` context, its server importing :data:`_PRELOAD` and ``modules`` once; ``spawn`` without one."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([*_PRELOAD, *modules, __name__])
    return context


def prepare_workers(modules: tuple = ()) -> None:
    """Start the ``forkserver`` of the figure workers now (it imports matplotlib while the caller computes).

    ``metapool run`` calls it before the analysis, so that the workers can
    start at once when the figures are drawn; ``modules`` are imported by
    the server too (those of the analysis' classes: each worker unpickles
    the analysis). Without a forkserver (Windows) it does nothing.
    """
    from multiprocessing import forkserver

    if _cpus() > 1 and _context(modules).get_start_method() == "forkserver":
        forkserver.ensure_running()


def _executor(workers: int, analysis, note: str):
    """A pool of ``workers`` processes holding the analysis (imported here, as the CLI imports this module)."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=_context(), initializer=_start_worker, initargs=(analysis, note))


@dataclass
class FigureJob:
    """The figures of a report being drawn (:func:`draw_report_figures`); :meth:`save` waits for them."""

    tasks: list  # (group, name, stem, kind, caption, draw), in plan order
    formats: tuple  # the files written per figure (FIGURE_FORMATS)
    futures: list | None = None  # one per task when worker processes draw
    executor: object = field(default=None, repr=False)  # the concurrent.futures.ProcessPoolExecutor

    def _images(self, i: int) -> dict | None:
        from concurrent.futures.process import BrokenProcessPool

        _, _, stem, kind, _, draw = self.tasks[i]
        try:  # drawn here or in a worker: the same one-line error
            if self.futures is None:
                return render_plan(draw, self.formats, f"{stem}_{kind}")
            return self.futures[i].result()
        except BrokenProcessPool:
            raise MetapoolError(f"the process drawing figure {stem}_{kind} stopped unexpectedly (out of memory?);"
                                " run again with --figures none for a report without figures.") from None
        except Exception as exc:
            raise MetapoolError(f"figure {stem}_{kind} could not be drawn: {type(exc).__name__}: {exc}") from exc

    def save(self, folder: Path | None) -> tuple[dict, tuple]:
        """Wait for the figures and write their files into ``folder`` (when given).

        Returns each outcome's figures by name and the risk-of-bias figures
        (:class:`~metapool.report.figures.Figure`, in plan order; ``files``
        are the written paths).

        Raises
        ------
        MetapoolError
            A figure could not be drawn (naming it and the error), or a worker
            process stopped.
        """
        by_outcome, rob = {}, []
        try:
            for i, (group, name, stem, kind, caption, _) in enumerate(self.tasks):
                images = self._images(i)
                if images is not None:
                    fig = saved_figure(kind, caption, images, folder, f"{stem}_{kind}", self.formats)
                    (rob if group == 0 else by_outcome.setdefault(name, [])).append(fig)
        finally:
            self.close()
        return {name: tuple(figs) for name, figs in by_outcome.items()}, tuple(rob)

    def close(self) -> None:
        """Stop the worker processes (figures not yet drawn are cancelled)."""
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None


def draw_report_figures(analysis, note: str = "", figures: str = DEFAULT_FIGURES,
                        workers: int | None = None) -> FigureJob:
    """Start drawing every figure of an analysis' report; returns at once.

    Parameters
    ----------
    analysis
        The :class:`~metapool.analysis.Analysis`.
    note
        Appended to every figure title (e.g. "SYNTHETIC data").
    figures
        Key of :data:`FIGURE_FORMATS`: the files to write (``"none"``: no figure is drawn).
    workers
        Worker processes; by default one per processor (at most one per
        figure), none below :data:`MIN_PARALLEL` figures or on one
        processor; 0 or 1 draws in this process, when the job is saved.

    Returns
    -------
    FigureJob
    """
    from .._validation import check_choice

    formats = FIGURE_FORMATS[check_choice("draw_report_figures", "figures", figures, FIGURE_FORMATS)]
    if not formats:
        return FigureJob([], formats)
    tasks = [(group, name, stem, kind, caption, draw) for group, name, stem, plans in _groups(analysis, note)
             for kind, caption, draw in plans]
    if workers is None:
        workers = _cpus() if len(tasks) >= MIN_PARALLEL else 1
    workers = min(workers, len(tasks))
    if workers <= 1:
        return FigureJob(tasks, formats)
    executor = _executor(workers, analysis, note)
    order = sorted(range(len(tasks)), key=lambda i: tasks[i][3] not in _SLOW_KINDS)
    futures: list = [None] * len(tasks)
    try:
        for i in order:
            group, _, stem, kind, _, _ = tasks[i]
            futures[i] = executor.submit(_draw_in_worker, group, kind, formats, f"{stem}_{kind}")
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    return FigureJob(tasks, formats, futures, executor)

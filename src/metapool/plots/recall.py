"""Recall curve of a screening simulation: relevant records found against records screened.

Drawn from a :class:`metapool.review.ranking.Simulation`: the curve of the
ranking, the diagonal of screening in random order (the expected recall of
sampling), the point where 95% recall was reached (its work saved over
sampling, WSS@95) and, when it fired, the stop of the consecutive-irrelevant
heuristic.

References
----------
Cohen AM, Hersh WR, Peterson K, Yen PY (2006). Reducing workload in systematic
review preparation using automated citation classification. J Am Med Inform
Assoc 13:206-219.
"""

from __future__ import annotations

from ._style import LAYOUTS, pyplot

__all__ = ["recall_plot"]


def recall_plot(sim, ax=None, title: str | None = None):
    """Draw the recall curve of ``sim`` (a :class:`~metapool.review.ranking.Simulation`) on ``ax``; returns the axes."""
    from matplotlib.ticker import MaxNLocator

    plt = pyplot()
    style = LAYOUTS["revman"]
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.0))
    n, total = sim.records, sim.relevant
    xs = list(range(0, n + 1))
    ax.plot(xs, [0, *sim.found], color=style.study_color, lw=1.6, label="Relevance ranking")
    ax.plot([0, n], [0, total], color="#7f7f7f", lw=1.0, ls="--", label="Random order (expected)")
    ax.axvline(sim.n95, color=style.pi_color, lw=0.9, ls=":")
    ax.annotate(f"95% recall after {sim.n95:,} of {n:,}\nWSS@95 = {sim.wss95:.1%}",
                xy=(sim.n95, sim.found[sim.n95 - 1]), xytext=(6, -34), textcoords="offset points",
                fontsize=style.fontsize, color=style.pi_color)
    if sim.stopped_at is not None:
        ax.plot([sim.stopped_at], [sim.found[sim.stopped_at - 1]], marker="o", ms=5, color="black", ls="none",
                label=f"Stop after {sim.stop_after} irrelevant in a row ({sim.stopped_at:,} screened,"
                      f" recall {sim.recall_at_stop:.0%})")
    ax.set_xlim(0, n)
    ax.set_ylim(0, total * 1.04)
    ax.set_xlabel("Records screened", fontsize=style.fontsize + 1)
    ax.set_ylabel("Relevant records found", fontsize=style.fontsize + 1)
    ax.tick_params(labelsize=style.fontsize)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="lower right", fontsize=style.fontsize, frameon=False)
    if title:
        ax.set_title(title, fontsize=style.fontsize + 2, loc="left")
    return ax

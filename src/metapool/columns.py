"""Column keys of study tables and the escalc roles they fill.

The command line's column flags (``--events``), the analysis file's outcome
keys (``events = "orr_events"``) and the batch engine read this one table.
"""

from __future__ import annotations

#: Column key (the CLI flag without its leading dashes; the analysis file writes "-" as "_": ci_lower) -> (escalc role,
#: description).
COLUMN_FLAGS = {
    "events": ("xi", "events (one group)"),
    "total": ("ni", "total patients (one group)"),
    "time": ("ti", "person-time of the events (one group; rates)"),
    "mean": ("meani", "mean (one group)"),
    "sd": ("sdi", "standard deviation (one group)"),
    "n": ("ni", "size of the group (one-group means, correlations; the patients behind a median)"),
    "r": ("ri", "correlation coefficient (with --n)"),
    "events1": ("ai", "events in group 1"),
    "total1": ("n1i", "patients in group 1"),
    "events2": ("ci", "events in group 2"),
    "total2": ("n2i", "patients in group 2"),
    "nonevents1": ("bi", "non-events in group 1 (instead of the total: metafor's bi)"),
    "nonevents2": ("di", "non-events in group 2 (instead of the total: metafor's di)"),
    "mean1": ("m1i", "mean in group 1"),
    "sd1": ("sd1i", "standard deviation in group 1"),
    "n1": ("n1i", "size of group 1"),
    "mean2": ("m2i", "mean in group 2"),
    "sd2": ("sd2i", "standard deviation in group 2"),
    "n2": ("n2i", "size of group 2"),
    "yi": ("yi", "precomputed effect sizes"),
    "vi": ("vi", "sampling variances of yi"),
    "sei": ("sei", "standard errors of yi"),
    "ratio": ("ratio", "ratio estimate (e.g. hazard ratio), pooled on the log scale"),
    "prop": ("prop", "proportion reported with its CI (e.g. 1-year survival 0.45), pooled on the logit scale"),
    "ci-lower": ("ci_lb", "lower confidence limit of --ratio or --prop"),
    "ci-upper": ("ci_ub", "upper confidence limit of --ratio or --prop"),
}

#: Measure used when --measure is not given, by the first role present.
DEFAULT_MEASURE = {
    "ti": "IRLN", "xi": "PLO", "ai": "OR", "m1i": "MD", "meani": "MN", "ri": "ZCOR", "ratio": "LNR", "prop": "PCI", "yi": "GEN",
}


def default_measure(roles) -> str | None:
    """The measure of the first role in :data:`DEFAULT_MEASURE` among ``roles`` (None if none is).

    The one rule behind every default measure: the command line's ``pool``
    and ``batch``, the analysis file and :func:`metapool.models.methods.fit`.
    """
    return next((DEFAULT_MEASURE[role] for role in DEFAULT_MEASURE if role in roles), None)

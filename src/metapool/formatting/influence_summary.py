"""Summaries of the sensitivity analyses (:mod:`metapool.influence`): influence, Baujat, GOSH, refit series."""

from __future__ import annotations

import numpy as np

from .._summary import document
from ..influence.diagnostics import _FIELDS, BaujatData, InfluenceDiagnostics
from ..influence.gosh import GoshResult
from ..influence.series import SubsetSeries
from ..models.methods import get_method
from .blocks import Document, KeyValues, Paragraph, Table
from .numbers import fmt, fmt_level, fmt_p, fmt_pct
from .sections import remarks


@document.register
def _(res: InfluenceDiagnostics) -> Document:
    header = ("", "rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight", "dfbs", "inf")
    rows = tuple(
        (str(s),) + tuple(fmt(getattr(res, f)[i]) for f in _FIELDS) + ("*" if res.influential[i] else "",)
        for i, s in enumerate(res.slab)
    )
    n = int(res.influential.sum())
    return Document("Influence diagnostics", (
        Table("", header, rows),
        Paragraph(f"{n} of {len(res.slab)} studies flagged as influential (*)."),
    ))


@document.register
def _(res: BaujatData) -> Document:
    rows = tuple((str(s), fmt(res.x[i]), fmt(res.y[i])) for i, s in enumerate(res.slab))
    return Document("Baujat plot data", (Table("", ("", "contribution to Q", "influence on estimate"), rows),))


@document.register
def _(res: GoshResult) -> Document:
    est = np.nanquantile(res.estimate, [0.0, 0.5, 1.0])
    i2 = np.nanquantile(res.i2, [0.0, 0.5, 1.0])
    kind = "all" if res.exhaustive else "randomly sampled"
    return Document(f"GOSH analysis ({res.n} {kind} subsets of k = {len(res.slab)} studies)", (
        KeyValues("", (
            ("estimate (min, median, max)", ", ".join(fmt(v) for v in est)),
            ("I^2 % (min, median, max)", ", ".join(fmt(v, 2) for v in i2)),
            ("failed fits", str(int(np.isnan(res.estimate).sum()))),
        )),
        *remarks(notes=res.notes),
    ))


@document.register
def _(res: SubsetSeries) -> Document:
    loo = res.kind == "leave-one-out"
    stat = "zval" if np.all(np.isinf(res.ddf)) else "tval"
    rows = tuple(
        (
            str(res.slab[i]), fmt(res.estimate[i]), fmt(res.se[i]), fmt(res.statistic[i]),
            fmt_p(float(res.pvalue[i])), fmt(res.ci_lower[i]), fmt(res.ci_upper[i]),
            fmt(res.q[i]), fmt_p(float(res.q_pvalue[i])), fmt(res.tau2[i]), fmt_pct(float(res.i2[i])),
        )
        for i in range(len(res.slab))
    )
    header = ("omitted" if loo else "added", "estimate", "se", stat, "pval", "ci.lb", "ci.ub", "Q", "Qp", "tau2", "I2")
    model = f"tau^2 estimator {res.method}" if res.random else f"common-effect model: {get_method(res.method).name}"
    blocks = (Table("", header, rows, f"{fmt_level(res.level)} CIs; {model}."),)
    if not np.all(np.isfinite(res.estimate)):
        blocks += (Paragraph("NA: the refit did not converge."),)
    title = "Leave-one-out analysis" if loo else "Cumulative meta-analysis"
    return Document(f"{title} (k = {len(res.slab)})", blocks)

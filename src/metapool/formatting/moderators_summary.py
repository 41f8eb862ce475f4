"""Summaries of the moderator analyses (:mod:`metapool.moderators`): subgroups and permutation tests."""

from __future__ import annotations

from .._summary import document
from ..moderators.permutation import PermutationTest
from ..moderators.subgroups import TAU2_MODES, SubgroupResult
from .blocks import Document, KeyValues, Paragraph, Table
from .numbers import fmt, fmt_p, fmt_pct
from .sections import bracket, estimate_ci


@document.register
def _(res: PermutationTest) -> Document:
    kind = "exact" if res.exact else f"approximate (seed {res.seed})"
    return Document(f"Permutation test: {res.iterations} permutations, {kind}", (
        KeyValues("", (("Omnibus test p-value", fmt_p(res.qm_pvalue)),)),
        Table("", ("coefficient", "permutation p"), tuple((n, fmt_p(p)) for n, p in zip(res.names, res.pvalues))),
    ))


@document.register
def _(res: SubgroupResult) -> Document:
    natural = res.subgroups[0].natural is not None
    rows = tuple(
        (s.level, str(s.k), fmt(s.estimate), bracket(s.ci_lower, s.ci_upper), fmt(s.tau2), fmt_pct(s.i2))
        + ((estimate_ci(s.natural.estimate, s.natural.ci_lower, s.natural.ci_upper),) if s.natural else ())
        for s in res.subgroups
    )
    header = ("subgroup", "k", "estimate", "CI", "tau^2", "I^2") + (("natural scale",) if natural else ())
    stat = f"Q(df = {res.qm_df})" if res.qm_ddf is None else f"F(df1 = {res.qm_df}, df2 = {res.qm_ddf:g})"
    return Document(f"Subgroups by {res.column} ({TAU2_MODES[res.tau2_mode]})", (
        Table("", header, rows),
        Paragraph(f"Test for subgroup differences: {stat} = {fmt(res.qm)}, p-val = {fmt_p(res.qm_pvalue)}"),
    ))

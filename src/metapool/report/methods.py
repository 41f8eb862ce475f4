"""The methods paragraph of a report, generated from the registries (ready to paste)."""

from __future__ import annotations

from .. import __version__
from .._validation import check_level
from ..effect_sizes import MEASURES
from ..formatting.numbers import fmt_level
from ..inference.tests import TESTS
from ..models.methods import METHODS, get_method

__all__ = ["methods_text", "REFERENCES"]

#: Citations used by the methods text, keyed by short label.
REFERENCES = {
    "metafor": "Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw 36(3):1-48.",
    "I2": "Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis. Stat Med 21:1539-1558.",
    "QP": "Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity in meta-analysis. Stat Med 26:37-52.",
    "PI": "Riley RD, Higgins JPT, Deeks JJ (2011). Interpretation of random effects meta-analyses. BMJ 342:d549.",
    "KH": "Knapp G, Hartung J (2003). Improved tests for a random effects meta-regression with a single covariate. Stat Med 22:2693-2710.",
    "REML": "Viechtbauer W (2005). Bias and efficiency of meta-analytic variance estimators in the random-effects model. J Educ Behav Stat 30:261-293.",
    "DL": "DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Control Clin Trials 7:177-188.",
    "PM": "Paule RC, Mandel J (1982). Consensus values and weighting factors. J Res Natl Bur Stand 87:377-385.",
    "GLMM": "Stijnen T, Hamza TH, Ozdemir P (2010). Random effects meta-analysis of event outcome in the framework of the generalized linear mixed model. Stat Med 29:3046-3067.",
    "MH": "Mantel N, Haenszel W (1959). Statistical aspects of the analysis of data from retrospective studies of disease. J Natl Cancer Inst 22:719-748.",
    "PETO": "Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). Beta blockade during and after myocardial infarction: an overview of the randomized trials. Prog Cardiovasc Dis 27:335-371.",
    "MM": "McGrath S, Zhao X, Qin ZZ, Steele R, Benedetti A (2019). One-sample aggregate data meta-analysis of medians. Stat Med 38:969-984.",
    "MS": "McGrath S, Kimmelman J, Ozturk O, Steele R, Benedetti A (2025). Meta-analysis of median survival times with inverse-variance weighting. arXiv e-prints.",
    "Egger": "Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in meta-analysis detected by a simple, graphical test. BMJ 315:629-634.",
    "Begg": "Begg CB, Mazumdar M (1994). Operating characteristics of a rank correlation test for publication bias. Biometrics 50:1088-1101.",
    "TF": "Duval S, Tweedie R (2000). Trim and fill. Biometrics 56:455-463.",
    "LFK": "Furuya-Kanamori L, Barendregt JJ, Doi SAR (2018). A new improved graphical and quantitative method for detecting bias in meta-analysis. Int J Evid Based Healthc 16:195-203.",
    "Influence": "Viechtbauer W, Cheung MWL (2010). Outlier and influence diagnostics for meta-analysis. Res Synth Methods 1:112-125.",
    "CP": "Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated in the case of the binomial. Biometrika 26:404-413.",
    "GRADE": "Guyatt GH et al. (2008). GRADE: an emerging consensus on rating quality of evidence and strength of recommendations. BMJ 336:924-926.",
}


#: What a GLMM pools, by measure, for the methods text.
_GLMM_POOLED = {"PLO": "proportions (binomial-normal model)", "IRLN": "incidence rates (Poisson-normal model)",
                "OR": "odds ratios (logistic model with fixed study intercepts, UM.FS)"}


def _levels(specs) -> str:
    """The level of the confidence and prediction intervals, per outcome where they differ."""
    by_level: dict[str, list[str]] = {}
    for s in specs:
        by_level.setdefault(fmt_level(check_level("level", s.level)), []).append(s.name)
    if len(by_level) == 1:
        return f"all intervals are {next(iter(by_level))} intervals"
    return "intervals are " + "; ".join(f"{level} for {', '.join(names)}" for level, names in by_level.items())


def methods_text(analysis) -> tuple[str, tuple]:
    """The methods paragraph and the references it cites (in order of citation)."""
    cited: list[str] = []

    def cite(key: str) -> str:
        if key not in cited:
            cited.append(key)
        return f"[{cited.index(key) + 1}]"

    specs = [o.spec for o in analysis.outcomes if o.error is None]
    parts = []
    measures = sorted({s.measure for s in specs if s.measure})
    if measures:
        names = ", ".join(f"{MEASURES[m].name} ({m})" for m in measures)
        parts.append(f"Study-level effect sizes were computed as {names}.")
    for method in sorted({get_method(s.method).code for s in specs}):  # the models used, aliases resolved
        entry, used = METHODS[method], [s for s in specs if get_method(s.method).code == method]
        if entry.kind == "random":
            ref = cite("REML") if method in ("REML", "ML") else cite(method) if method in ("DL", "PM") else cite("metafor")
            parts.append(f"Estimates were pooled with random-effects models; the between-study variance (tau²) was estimated by the {entry.name} method ({method}) {ref}.")
        elif entry.kind == "common":
            parts.append("Estimates were pooled with a common-effect (inverse-variance) model.")
        elif entry.kind in ("mh", "peto"):
            names = ", ".join(dict.fromkeys(MEASURES[s.measure].name for s in used))
            how = "the Mantel-Haenszel method" if entry.kind == "mh" else "Peto's one-step method"
            parts.append(f"{'; '.join(s.name for s in used)}: pooled from 2x2 tables as {names} with a common-effect"
                         f" model by {how} {cite(method)}.")
        else:
            pooled = ", ".join(_GLMM_POOLED[m] for m in _GLMM_POOLED if any(s.measure == m for s in used))
            parts.append(f"{pooled[:1].upper()}{pooled[1:]} were pooled with generalised linear mixed models"
                         f" {cite('GLMM')} (maximum likelihood; profile-likelihood confidence interval for tau²); their"
                         " leave-one-out and influence diagnostics refit the model without"
                         " each study, and their small-study analyses and forest, funnel and Doi plots use the"
                         " study-level logits, log rates or log odds ratios (1/2 added to zero cells), with forest-plot"
                         " weights from each study's share of the model's information.")
    tests = sorted({s.test for s in specs})
    for test in tests:
        extra = f" {cite('KH')}" if test == "knha" else ""
        parts.append(f"Confidence intervals and tests: {TESTS[test]}{extra}.")
    parts.append(
        f"Heterogeneity was quantified by Cochran's Q, I² {cite('I2')} with Q-profile confidence intervals "
        f"for tau² {cite('QP')}, and prediction intervals {cite('PI')}"
        + (f"; {_levels(specs)}." if specs else ".")
    )
    if any(s.kind == "median" for s in specs):
        parts.append(
            f"Median survival times were pooled by inverse-variance weighting of the study medians, with standard "
            f"errors from their reported confidence intervals {cite('MS')}; medians without intervals by the "
            f"(weighted) median of medians {cite('MM')}."
        )
    if any(o.bias is not None for o in analysis.outcomes):
        parts.append(
            f"Small-study effects were assessed with Egger's regression test {cite('Egger')}, Begg's rank correlation "
            f"{cite('Begg')}, trim-and-fill {cite('TF')} and the LFK index {cite('LFK')}, where at least three studies were available."
        )
    if any(o.influence is not None for o in analysis.outcomes):
        parts.append(f"Sensitivity was examined by leave-one-out analyses and influence diagnostics {cite('Influence')}.")
    parts.append(f"Study confidence intervals for proportions in forest plots are exact (Clopper–Pearson) {cite('CP')}.")
    parts.append(
        f"Certainty suggestions follow GRADE domains {cite('GRADE')} and are for the review team to confirm. "
        f"Analyses used metapool {__version__} (Python), whose estimates are checked against R's metafor {cite('metafor')}."
    )
    return " ".join(parts), tuple(REFERENCES[k] for k in cited)

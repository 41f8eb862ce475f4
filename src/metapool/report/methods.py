"""The methods paragraph of a report, generated from what ran (ready to paste).

The paragraph is a list of :class:`Claim` objects, each tied to the results
it describes by paths into ``results.json`` (:meth:`Analysis.to_dict
<metapool.analysis.Analysis.to_dict>`): a sentence is written only for an
analysis that ran, per outcome, and names the outcomes it is about when
they differ. The names of methods, measures and tests come from their
registries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .._validation import check_level
from ..bias.registry import BIAS_TESTS
from ..effect_sizes import MEASURES
from ..formatting.numbers import fmt_level
from ..inference.tests import TESTS
from ..influence.sensitivity import method_label
from ..models.methods import get_method

__all__ = ["Claim", "methods_claims", "methods_text", "REFERENCES"]

#: Citations used by the methods text, keyed by short label.
REFERENCES = {
    "metafor": "Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw 36(3):1-48.",
    "I2": "Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis. Stat Med 21:1539-1558.",
    "PI": "Riley RD, Higgins JPT, Deeks JJ (2011). Interpretation of random effects meta-analyses. BMJ 342:d549.",
    "KH": "Knapp G, Hartung J (2003). Improved tests for a random effects meta-regression with a single covariate. Stat Med 22:2693-2710.",
    "REML": "Viechtbauer W (2005). Bias and efficiency of meta-analytic variance estimators in the random-effects model. J Educ Behav Stat 30:261-293.",
    "DL": "DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Control Clin Trials 7:177-188.",
    "PM": "Paule RC, Mandel J (1982). Consensus values and weighting factors. J Res Natl Bur Stand 87:377-385.",
    "HE": "Hedges LV, Olkin I (1985). Statistical Methods for Meta-Analysis. Academic Press.",
    "HS": "Hunter JE, Schmidt FL (2004). Methods of Meta-Analysis, 2nd ed. Sage.",
    "SJ": "Sidik K, Jonkman JN (2005). Simple heterogeneity variance estimation for meta-analysis. JRSS C 54:367-384.",
    "EB": "Morris CN (1983). Parametric empirical Bayes inference: theory and applications. JASA 78:47-55.",
    "GLMM": "Stijnen T, Hamza TH, Ozdemir P (2010). Random effects meta-analysis of event outcome in the framework of the generalized linear mixed model. Stat Med 29:3046-3067.",
    "MH": "Mantel N, Haenszel W (1959). Statistical aspects of the analysis of data from retrospective studies of disease. J Natl Cancer Inst 22:719-748.",
    "RBG": "Robins J, Breslow N, Greenland S (1986). Estimators of the Mantel-Haenszel variance consistent in both sparse data and large-strata limiting models. Biometrics 42:311-323.",
    "GR": "Greenland S, Robins JM (1985). Estimation of a common effect parameter from sparse follow-up data. Biometrics 41:55-68.",
    "PETO": "Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). Beta blockade during and after myocardial infarction: an overview of the randomized trials. Prog Cardiovasc Dis 27:335-371.",
    "MM": "McGrath S, Zhao X, Qin ZZ, Steele R, Benedetti A (2019). One-sample aggregate data meta-analysis of medians. Stat Med 38:969-984.",
    "MS": "McGrath S, Kimmelman J, Ozturk O, Steele R, Benedetti A (2025). Meta-analysis of median survival times with inverse-variance weighting. arXiv e-prints.",
    "Egger": "Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in meta-analysis detected by a simple, graphical test. BMJ 315:629-634.",
    "Begg": "Begg CB, Mazumdar M (1994). Operating characteristics of a rank correlation test for publication bias. Biometrics 50:1088-1101.",
    "TF": "Duval S, Tweedie R (2000). Trim and fill. Biometrics 56:455-463.",
    "LFK": "Furuya-Kanamori L, Barendregt JJ, Doi SAR (2018). A new improved graphical and quantitative method for detecting bias in meta-analysis. Int J Evid Based Healthc 16:195-203.",
    "FSN": "Rosenthal R (1979). The file drawer problem and tolerance for null results. Psychol Bull 86:638-641.",
    "Peters": "Peters JL, Sutton AJ, Jones DR, Abrams KR, Rushton L (2006). Comparison of two methods to detect publication bias in meta-analysis. JAMA 295:676-680.",
    "Influence": "Viechtbauer W, Cheung MWL (2010). Outlier and influence diagnostics for meta-analysis. Res Synth Methods 1:112-125.",
    "Baujat": "Baujat B, Mahe C, Pignon JP, Hill C (2002). A graphical method for exploring heterogeneity in meta-analyses. Stat Med 21:2641-2652.",
    "CP": "Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated in the case of the binomial. Biometrika 26:404-413.",
    "Wilson": "Wilson EB (1927). Probable inference, the law of succession, and statistical inference. JASA 22:209-212.",
    "robvis": "McGuinness LA, Higgins JPT (2021). Risk-of-bias VISualization (robvis). Res Synth Methods 12:55-61.",
    "GRADE": "Guyatt GH et al. (2008). GRADE: an emerging consensus on rating quality of evidence and strength of recommendations. BMJ 336:924-926.",
}

#: How each bias analysis of :data:`~metapool.bias.registry.BIAS_TESTS` is named in the text, with its citation.
_BIAS_TEXT = {
    "egger": ("Egger's regression test", "Egger"),
    "begg": ("Begg and Mazumdar's rank correlation test", "Begg"),
    "trimfill": ("trim-and-fill (estimator L0)", "TF"),
    "lfk": ("the LFK index with the Doi plot", "LFK"),
    "fsn": ("Rosenthal's fail-safe N", "FSN"),
    "peters": ("Peters' regression test", "Peters"),
}

#: What a GLMM pools, by measure.
_GLMM_POOLED = {"PLO": "proportions (binomial-normal model)", "IRLN": "incidence rates (Poisson-normal model)",
                "OR": "odds ratios (logistic model with fixed study intercepts, UM.FS)"}

_CITE = re.compile(r"\[@(\w+)\]")


@dataclass(frozen=True)
class Claim:
    """One sentence of the methods text and the results it describes.

    Attributes
    ----------
    text
        The sentence; ``[@KEY]`` marks a citation of :data:`REFERENCES`
        (numbered in order of first citation by :func:`methods_text`).
    evidence
        Paths into ``results.json`` (keys and list indices joined by dots,
        e.g. ``"outcomes.0.bias.egger"``) of the results the sentence
        describes; each is present whenever the sentence is written.
    """

    text: str
    evidence: tuple


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _grouped(items: list, outcomes: list, sentence, prefix: str = "for ") -> Claim | None:
    """One claim from per-outcome ``(name, phrase, evidence)`` items, the outcomes grouped by phrase.

    ``outcomes`` are the names of all analysed outcomes; ``sentence(body)``
    wraps the joined phrases. A phrase shared by every outcome is written
    without naming them; otherwise the largest group of a claim about every
    outcome is "the other outcomes", and a phrase about most outcomes names
    the exceptions.
    """
    if not items:
        return None
    groups: dict[str, tuple[list, list]] = {}
    for name, phrase, evidence in items:
        names, paths = groups.setdefault(phrase, ([], []))
        names.append(name)
        paths.extend(evidence)
    evidence = tuple(p for _, paths in groups.values() for p in paths)
    every = len(items) == len(outcomes)
    if len(groups) == 1:
        phrase, (names, _) = next(iter(groups.items()))
        if every:
            return Claim(sentence(phrase), evidence)
        others = [o for o in outcomes if o not in names]
        who = f"every outcome except {_names(others)}" if len(others) < len(names) else _names(names)
        return Claim(sentence(f"{phrase} {prefix}{who}"), evidence)
    order = sorted(groups, key=lambda ph: len(groups[ph][0]), reverse=True)
    largest = order[0] if every and len(groups[order[0]][0]) > 1 else None
    parts = [f"{ph} {prefix}{_names(groups[ph][0])}" for ph in groups if ph != largest]
    if largest is not None:
        parts.append(f"{largest} {prefix}the other outcomes")
    return Claim(sentence("; ".join(parts)), evidence)


def _model_phrase(o, at: str) -> tuple[str, tuple]:
    """How the outcome was pooled, with the results that show it."""
    entry, model = get_method(o.spec.method), o.model
    evidence = (f"{at}.model.method",)
    if o.model is None:  # medians without CIs
        return ("the (weighted) median of the study medians [@MM]", (f"{at}.medians",))
    measure = MEASURES.get(model.measure)
    if entry.kind == "mh":
        tests = (", with the Cochran-Mantel-Haenszel test and the Breslow-Day test with Tarone's correction"
                 if model.measure == "OR" else "")
        variance = "Robins, Breslow and Greenland [@RBG]" if model.measure == "OR" else "Greenland and Robins [@GR]"
        return (f"a common-effect Mantel-Haenszel model of the 2x2 tables [@MH] (variance of {variance}){tests};"
                " Cochran's Q and I² [@I2] from the study-level estimates", evidence)
    if entry.kind == "peto":
        return ("Peto's one-step common-effect odds ratio of the 2x2 tables [@PETO], with Cochran's Q of the"
                " observed minus expected events and I² [@I2]", evidence)
    if entry.kind == "glmm":
        pooled = _GLMM_POOLED.get(model.measure, measure.name if measure else model.measure)
        return (f"a generalised linear mixed model of the {pooled} [@GLMM] (maximum likelihood), whose forest, funnel"
                " and Doi plots show the study-level estimates (1/2 added to the cells of studies with a zero cell),"
                " weighted in the forest plot by each study's share of the model's information", evidence)
    of = (" of the study medians (standard errors from their reported confidence intervals [@MS])"
          if o.spec.kind == "median" else "")
    if entry.kind == "random":
        ref = entry.code if entry.code in REFERENCES else "REML" if entry.code in ("REML", "ML") else "metafor"
        return (f"a random-effects model{of}, tau² estimated by the {entry.name} method ({entry.code})"
                f" [@{ref}]", evidence + (f"{at}.model.tau2",))
    return f"a common-effect (inverse-variance) model{of}", evidence


def _heterogeneity_phrase(o, at: str) -> tuple[str, tuple] | None:
    """Q, I², tau² and the prediction interval where the model shows them (none for MH/Peto: see the model)."""
    entry, model = get_method(o.spec.method), o.model
    if model is None or entry.kind in ("mh", "peto"):
        return None
    d = model.to_dict()
    parts, evidence = ["Cochran's Q and I² [@I2]"], [f"{at}.model.q", f"{at}.model.i2"]
    if entry.kind in ("random", "glmm"):
        parts.append("tau²")
        evidence.append(f"{at}.model.tau2")
        if d.get("heterogeneity_ci") is not None:
            parts[-1] += f" with its {d['heterogeneity_ci']['method']} confidence interval"
            evidence.append(f"{at}.model.heterogeneity_ci")
        if d.get("pi_lower") is not None:
            parts.append("a prediction interval [@PI]")
            evidence.append(f"{at}.model.pi_lower")
    return _names(parts), tuple(evidence)


def _correction_phrase(o, at: str) -> tuple[str, tuple] | None:
    corrected = getattr(o.model, "corrected", ())
    if not corrected or o.effects is None:
        return None
    add = o.effects.options.get("add", 0.5)
    amount = "1/2" if add == 0.5 else f"{add:g}"
    n = len(corrected)
    what = f"{amount} was added to every cell of the {n} {'study' if n == 1 else 'studies'} with a zero cell"
    if get_method(o.spec.method).kind in ("mh", "peto"):
        what += " for their study-level estimates only (the pooled estimate uses the uncorrected tables)"
    return what, (f"{at}.model.corrected",)


def _study_ci_phrase(name: str) -> str:
    if name.startswith("Clopper"):
        return "exact (Clopper-Pearson) [@CP]"
    if name.startswith("Wilson"):
        return "Wilson score intervals [@Wilson]"
    if name.startswith("as reported"):
        return "those the studies report"
    return "Wald intervals" + name[len("Wald"):] if name.startswith("Wald") else name


def _bias_phrase(o, at: str) -> tuple[str, tuple] | None:
    report = o.bias
    ran = [code for code in BIAS_TESTS if report is not None and code in report.results]
    if not ran:
        return None
    kind = get_method(o.spec.method).kind
    names = _names([f"{_BIAS_TEXT[c][0]} [@{_BIAS_TEXT[c][1]}]" for c in ran])
    if kind in ("mh", "peto"):
        names += " (on the study-level estimates, as metafor's regtest and ranktest on these fits)"
    elif kind == "glmm":
        names += " (on the study-level estimates under a random-effects model, ML)"
    return names, tuple(f"{at}.bias.{c}" for c in ran)


def _sensitivity_phrase(o, at: str) -> tuple[str, tuple] | None:
    parts, evidence = [], []
    if o.leave_one_out is not None:
        refit = {"mh": "refitting the Mantel-Haenszel model", "peto": "refitting Peto's model",
                 "glmm": "refitting the GLMM"}.get(get_method(o.spec.method).kind, "refitting the model")
        parts.append(f"leave-one-out analyses ({refit} without each study)")
        evidence.append(f"{at}.leave_one_out")
    if o.influence is not None:
        parts.append("influence diagnostics with the Baujat plot [@Baujat]")
        evidence.append(f"{at}.influence")
    if parts:  # Viechtbauer & Cheung cited after the leave-one-out and influence phrases
        parts[-1] += " [@Influence]"
    summary = o.sensitivity_summary
    if summary is not None and (fitted := [r.code for r in summary.rows[1:] if r.reason is None]):
        knha = next((r for r in summary.rows if r.code == "knha"), None)  # on REML unless the primary is random effects
        on = "" if knha is None or knha.method == get_method(o.spec.method).code else \
            f" (refitted as {method_label(knha.method)[:1].lower()}{method_label(knha.method)[1:]})"
        choices = {"CE": "a common-effect model", "knha": f"the Knapp–Hartung adjustment [@KH]{on}",
                   "without_high_rob": "leaving out the studies at high risk of bias", "GLMM": "the GLMM [@GLMM]"}
        others = [c for c in fitted if c not in choices]
        named = [choices[c] for c in fitted if c in choices and c != "CE"]
        estimators = [f"the other τ² estimators ({', '.join(others)})"] if others else []
        parts.append("refitting the outcome with " + _names([choices["CE"]] * ("CE" in fitted) + estimators + named))
        evidence.append(f"{at}.sensitivity_summary")
    if not parts:
        return None
    return _names(parts), tuple(evidence)


def _levels(analysed, names) -> Claim:
    """The level of the confidence and prediction intervals, per outcome where they differ."""
    items = [(o.spec.name, f"{fmt_level(check_level('level', o.spec.level))}", (f"{at}.model.level",))
             for at, o in analysed if o.model is not None]
    return _grouped(items, names, lambda body: f"Intervals are {body} intervals.")


def methods_claims(analysis, study_cis: dict | None = None, software: dict | None = None) -> tuple:
    """The claims of the methods text of ``analysis``, in reading order.

    Parameters
    ----------
    analysis
        An :class:`~metapool.analysis.Analysis`.
    study_cis
        Outcome index to how its forest plot's study CIs were computed
        (:attr:`ForestTable.study_ci <metapool.plots.forest_data.ForestTable.study_ci>`);
        default: :func:`~metapool.report.figures.forest_study_cis`.
    software
        Package to version, as in ``results.json`` (default: the analysis' own).

    Returns
    -------
    tuple of Claim
    """
    from .figures import forest_study_cis

    indices = [i for i, o in enumerate(analysis.outcomes) if o.error is None]
    analysed = [(f"outcomes.{i}", analysis.outcomes[i]) for i in indices]
    names = [o.spec.name for _, o in analysed]
    study_cis = forest_study_cis(analysis) if study_cis is None else study_cis
    claims: list[Claim | None] = []

    measures = [(o.spec.name, f"{MEASURES[o.model.measure].name} ({o.model.measure})", (f"{at}.model.measure",))
                for at, o in analysed if o.model is not None and o.spec.kind != "median"]
    claims.append(_grouped(measures, names, lambda body: f"Study-level effect sizes were computed as {body}."))
    claims.append(_grouped([(o.spec.name, *_model_phrase(o, at)) for at, o in analysed], names,
                           lambda body: f"Estimates were pooled with {body}."))
    tests = [(o.spec.name, TESTS[o.model.test] + (" [@KH]" if o.model.test == "knha" else ""),
              (f"{at}.model.test",)) for at, o in analysed if o.model is not None]
    claims.append(_grouped(tests, names, lambda body: f"Confidence intervals and tests: {body}."))
    het = [(o.spec.name, *p) for at, o in analysed if (p := _heterogeneity_phrase(o, at)) is not None]
    claims.append(_grouped(het, names, lambda body: f"Heterogeneity was quantified by {body}."))
    claims.append(_levels(analysed, names))
    corrections = [(o.spec.name, *p) for at, o in analysed if (p := _correction_phrase(o, at)) is not None]
    claims.append(_grouped(corrections, names, lambda body: f"Continuity correction: {body}.", prefix="in "))
    cis = [(o.spec.name, _study_ci_phrase(study_cis[i]), (f"{at}.model",))
           for i, (at, o) in zip(indices, analysed) if study_cis.get(i)]
    claims.append(_grouped(cis, names, lambda body: f"Study confidence intervals in the forest plots are {body}."))
    subgroups = [(o.spec.name, f"by {o.subgroups.column} ({'separate' if o.subgroups.tau2_mode == 'separate' else 'a common'}"
                  " tau² per subgroup) with a test for subgroup differences", (f"{at}.subgroups",))
                 for at, o in analysed if o.subgroups is not None]
    claims.append(_grouped(subgroups, names, lambda body: f"Subgroup analyses were run {body}."))
    regression = [(o.spec.name, "on " + _names(list(o.spec.mods)) + " (mixed-effects meta-regression with the"
                   " outcome's estimator and test)", (f"{at}.regression",))
                  for at, o in analysed if o.regression is not None]
    claims.append(_grouped(regression, names, lambda body: f"Meta-regression was run {body}."))
    bias = [(o.spec.name, *p) for at, o in analysed if (p := _bias_phrase(o, at)) is not None]
    claims.append(_grouped(bias, names, lambda body: f"Small-study effects and publication bias were assessed with {body}."))
    sensitivity = [(o.spec.name, *p) for at, o in analysed if (p := _sensitivity_phrase(o, at)) is not None]
    claims.append(_grouped(sensitivity, names, lambda body: f"Sensitivity was examined by {body}."))
    if analysis.risk_of_bias is not None:
        rob = analysis.risk_of_bias
        overall = " and overall" if rob.overall is not None else ""
        claims.append(Claim(f"Each study's risk of bias in {len(rob.domains)} domains{overall} is shown as traffic-light"
                            " and summary plots [@robvis].", ("risk_of_bias_domains",)))
    graded = [at for at, o in analysed if o.grade is not None]
    if graded:
        claims.append(Claim("Certainty of the evidence was rated with GRADE [@GRADE]: from the study designs, lowered"
                            " for risk of bias, inconsistency, indirectness (as declared), imprecision and publication"
                            " bias by the rules given with the summary of findings; the ratings are for the review"
                            " team to confirm.", tuple(f"{at}.grade" for at in graded)))
    software = analysis.software if software is None else software
    others = "; ".join(f"{name} {version}" for name, version in software.items() if name != "metapool")
    claims.append(Claim(f"Analyses used metapool {software['metapool']} ({others}), whose estimates are checked"
                        " against R's metafor [@metafor].", ("metapool_version", "software")))
    return tuple(c for c in claims if c is not None)


def methods_text(analysis, claims: tuple | None = None) -> tuple[str, tuple]:
    """The methods paragraph and the references it cites (numbered in order of first citation).

    ``claims`` default to :func:`methods_claims` of ``analysis``.
    """
    cited: list[str] = []

    def number(match) -> str:
        key = match.group(1)
        if key not in cited:
            cited.append(key)
        return f"[{cited.index(key) + 1}]"

    claims = methods_claims(analysis) if claims is None else claims
    text = " ".join(_CITE.sub(number, c.text) for c in claims)
    return text, tuple(REFERENCES[k] for k in cited)

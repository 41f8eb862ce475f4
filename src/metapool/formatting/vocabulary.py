"""Documentation tables generated from the registries (docs/vocabulary.md)."""

from __future__ import annotations

from ..effect_sizes import CORRECTION_TARGETS, FAMILIES, MEASURES, TRANSFORMS
from ..inference.tests import TESTS
from ..models.mh_peto import MH_MEASURES
from ..models.methods import ALIASES, DATA, METHODS, MODEL_KINDS


def vocabulary_markdown() -> str:
    """Markdown tables of measures, methods and tests."""
    lines = [
        "# Vocabulary",
        "",
        "Generated from metapool's registries by `python -m metapool.formatting.vocabulary`;",
        "the test suite checks that this file is current.",
        "",
        "## Effect measures",
        "",
        "| code | measure | data | analysis scale | back-transformation | default `add` | definition |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in MEASURES.values():
        lines.append(
            f"| {m.code} | {m.name} | {m.family} | {m.scale} | {TRANSFORMS[m.back].description} |"
            f" {m.add_default:g} | {m.reference} |"
        )
    lines += ["", "Data families:", ""]
    lines += [f"- **{code}**: {text}" for code, text in FAMILIES.items()]
    lines += [
        "",
        "### Zero cells and continuity corrections",
        "",
        "As in metafor, `add` (the default in the table above) is added to every cell of the studies",
        "chosen by `to`. A study has a zero cell when, for one group, it has no events *or* no",
        "non-events (xi = 0 or xi = ni), and for two groups when any of the four 2x2 cells is 0; so",
        "PR, PLN and PLO correct both zero-event and all-event studies, and RD is corrected too.",
        "PAS and PFT are defined at 0 and 1 and get no correction by default. For rates, a study",
        "with zero events gets `add` on its events only (IR, IRLN; IRS and IRFT need none), never",
        "on its person-time. `drop00=True` drops",
        "studies with no events (or only events) in every group. Every corrected study is listed in",
        "the result (`corrected`); when *all* studies have zero (or all) events, a PR/PLN/PLO estimate",
        "is only an artefact of the correction and the result carries a warning saying so.",
        "",
        "| `to` | studies corrected |",
        "|---|---|",
    ]
    lines += [f"| {code} | {text} |" for code, text in CORRECTION_TARGETS.items()]
    lines += [
        "",
        "## Methods (`method`)",
        "",
        "| code | method | model | data | measures | tests | moderators, subgroups | `metapool batch` | reference |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for m in METHODS.values():
        lines.append(f"| {m.code} | {m.name} | {MODEL_KINDS[m.kind]} | {DATA[m.data][0]} |"
                     f" {', '.join(m.measures) if m.measures else 'any'} | {', '.join(m.tests)} |"
                     f" {'yes' if m.moderators else 'no'} | {'yes' if m.batch else 'no'} | {m.reference} |")
    iterative = [m.code for m in METHODS.values() if m.estimator is not None and m.estimator.iterative]
    lines += ["", "Aliases: " + ", ".join(f"{a} = {c}" for a, c in ALIASES.items()) + ". Iterative tau² estimators: "
              + ", ".join(iterative) + ".", ""]
    lines += [
        "## Models of 2x2 tables (`method` MH, PETO)",
        "",
        "Common-effect models pooled from the uncorrected tables, as metafor's `rma.mh` and `rma.peto`.",
        "For MH, Q, I² and H² come from the study-level estimates (1/2 added to tables with a zero cell,",
        "tables without events or with only events in both groups left out); Peto's Q comes from the",
        "tables' O - E and V, with the degrees of freedom counted from the same study-level estimates.",
        "",
        "| method | measure | pooled quantity and variance |",
        "|---|---|---|",
    ]
    lines += [f"| MH | {code} | {text} |" for code, text in MH_MEASURES.items()]
    lines += ["| PETO | PETO | log odds ratio, sum(O - E) / sum(V) (Yusuf et al. 1985) |", ""]
    lines += ["## Tests (`test`)", "", "| code | description |", "|---|---|"]
    lines += [f"| {code} | {text} |" for code, text in TESTS.items()]
    return "\n".join(lines + _bias_lines() + _design_lines() + _rob_lines()) + "\n"


def _bias_lines() -> list[str]:
    from ..bias import BIAS_TESTS, DEFAULT_BIAS_TESTS, PREDICTORS
    from ..bias.failsafe import FSN_TYPES
    from ..bias.lfk import LFK_BANDS
    from ..bias.regression import REGRESSION_MODELS
    from ..bias.trimfill import TRIMFILL_ESTIMATORS
    from ..influence.report import SENSITIVITY_ANALYSES

    lines = ["", "## Publication bias (`metapool.bias`; `pool --bias`)", "",
             "| code | analysis | in `--bias` | defined from k | reference |", "|---|---|---|---|---|"]
    lines += [f"| {t.code} | {t.name} | {'yes' if t.code in DEFAULT_BIAS_TESTS else 'no (needs ' + ', '.join(t.needs) + ')'}"
              f" | {t.min_k} | {t.reference} |" for t in BIAS_TESTS.values()]
    lines += ["", "Regression test models (`regtest(model=)`): "
              + "; ".join(f"`{c}` {text}" for c, text in REGRESSION_MODELS.items()) + ".", "",
              "Predictors (`regtest(predictor=)`): "
              + "; ".join(f"`{c}` {d[0]}{' (limit estimate)' if d[2] else ''}" for c, d in PREDICTORS.items()) + ".",
              "", "Trim-and-fill estimators: " + "; ".join(f"`{c}` {t}" for c, t in TRIMFILL_ESTIMATORS.items()) + ".",
              "", "Fail-safe N types: " + "; ".join(f"`{c}` {t}" for c, t in FSN_TYPES.items()) + ".", "",
              "LFK index bands (upper bound of |LFK|: interpretation): "
              + "; ".join(f"{b:g}: {t}" for b, t in LFK_BANDS) + ".",
              "", "## Sensitivity (`metapool.influence`; `pool --sensitivity`)", "",
              "`pool --sensitivity` runs: " + ", ".join(f"{title} (`{c}`)" for c, (title, _) in SENSITIVITY_ANALYSES.items())
              + "; the API also has `cumulative`, `baujat` and `gosh`."]
    return lines


def _design_lines() -> list[str]:
    from ..evidence import DESIGNS

    lines = ["", "## Study designs (`design` column, `design_default`)", "",
             "A design cell is matched as a whole after folding case, hyphens, British/American spelling and",
             "words that say nothing about the design (study, trial, phase 2, double-blind, ...); negations such",
             "as non-randomised, not randomised, quasi- or pseudo-randomised are the non-randomised design, and",
             "any other text is an error listing this table. OCEBM: the level of one such study in the Oxford",
             "2011 table for treatment benefits (a systematic review of randomised trials is level 1); GRADE: the",
             "starting certainty (Balshem et al. 2011). Rules of an outcome's level: `metapool.evidence.level`.",
             "", "| code | design | randomised | concurrent control | OCEBM | GRADE start | accepted spellings |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {d.code} | {d.name} | {'yes' if d.randomised else 'no'} | {'yes' if d.concurrent_control else 'no'}"
              f" | {d.ocebm_level} | {d.grade_start} | {', '.join(d.spellings)} |" for d in DESIGNS.values()]
    return lines


def _rob_lines() -> list[str]:
    from ..evidence.risk_of_bias import JUDGEMENTS, SPELLINGS

    lines = ["", "## Risk-of-bias judgements (`risk_of_bias_domains` columns)", "",
             "Each cell of a domain column (and of the overall `risk_of_bias` column when domains are given) is",
             "matched after folding case and spaces; an empty cell is no information, and any other text is an",
             "error naming row, study, column and value. Drawn as robvis traffic-light and summary plots",
             "(McGuinness & Higgins 2021).", "", "| judgement | accepted spellings |", "|---|---|"]
    lines += [f"| {j} | {', '.join(f'`{s}`' for s, k in SPELLINGS.items() if k == j)} |" for j in JUDGEMENTS]
    return lines


if __name__ == "__main__":
    print(vocabulary_markdown(), end="")

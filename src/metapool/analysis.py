"""Run a whole analysis file: every outcome with its model and follow-up analyses.

:func:`run_analysis` turns an :class:`~metapool.spec.AnalysisSpec` into an
:class:`Analysis` bundle of frozen results; the report, the evidence card and
the command line are renderers of that bundle. Every number they show comes
from here.
"""

from __future__ import annotations

import datetime as _dt
import math
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from . import __version__
from .evidence import DESIGNS, EvidenceLevel, comparison_of, evidence_level, grade_start, row_designs
from .evidence.assess import OutcomeData, assess, options_of
from .evidence.grade import Grade
from .evidence.level import NOT_STATED
from .exceptions import MetapoolError
from .formatting.labels import repeated_labels_text
from .io.parsing import MISSING_MARKERS, to_float_array, to_labels
from .io.tables import StudyTable, get_column, read_table
from .spec import AnalysisSpec, OutcomeSpec

__all__ = ["OutcomeResult", "Analysis", "run_analysis", "run_outcome", "study_labels", "software_versions"]

#: Follow-up analyses need at least this many studies to be run at all.
MIN_K_BIAS = 3
MIN_K_SENSITIVITY = 2


@dataclass(frozen=True)
class OutcomeResult:
    """Everything computed for one outcome.

    Attributes
    ----------
    spec
        The outcome's part of the analysis file.
    model
        The pooled model (an RMAResult, GLMM, MH/Peto or median-survival
        result); None when the outcome could not be analysed (``error``).
    effects
        Study-level effect sizes (None for medians pooled without variances).
    medians
        For ``kind = "median"`` without CIs: the pooled median of medians.
    subgroups, regression, bias, leave_one_out, influence
        Follow-up analyses, None when not asked for or not defined (then
        ``skipped`` says why).
    sensitivity_summary
        The pooled value under other modelling choices, one row each
        (:func:`~metapool.influence.sensitivity.sensitivity_summary`), with
        ``sensitivity = true``; None otherwise (or ``skipped`` says why).
    k, n_patients
        Studies and patients (sum of the analysed studies' n) in the model.
    rows
        Sorted 0-based indices of the study-table rows that entered the
        model (1-based as ``"rows"`` in :meth:`to_dict`); labels may repeat,
        rows do not.
    designs
        Design code (:data:`~metapool.evidence.designs.DESIGNS`, or
        ``"not stated"``) to the number of analysed studies with it.
    repeated_labels
        A warning naming the labels that analysed studies share, with their
        rows (None when every label differs); also among ``warnings``.
    grade
        The GRADE assessment (:class:`~metapool.evidence.grade.Grade`: five
        domains, start, certainty, absolute effects), None when not analysed.
    skipped
        Analysis name to the reason it was not run.
    error
        Why the outcome could not be analysed at all.
    """

    spec: OutcomeSpec
    model: object = None
    effects: object = None
    medians: object = None
    subgroups: object = None
    regression: object = None
    bias: object = None
    leave_one_out: object = None
    influence: object = None
    sensitivity_summary: object = None
    k: int = 0
    n_patients: int | None = None
    rows: tuple = ()
    designs: dict = field(default_factory=dict)
    risk_of_bias: dict = field(default_factory=dict)
    repeated_labels: str | None = None
    grade: object = None
    skipped: dict = field(default_factory=dict)
    warnings: tuple = ()
    error: str | None = None

    @property
    def evidence(self) -> EvidenceLevel:
        """OCEBM 2011 evidence level of this outcome (:func:`~metapool.evidence.level.evidence_level`)."""
        return evidence_level(self.designs, comparison_of(self.spec.kind, self.spec.measure, self.spec.method))

    @property
    def pooled(self):
        """The model's natural-scale pooled value (:func:`pooled_value`)."""
        return pooled_value(self.model)

    @property
    def exclusions(self) -> tuple:
        """The table rows left out of the model, each once with its reason, by row.

        Rows the effect sizes could not be computed for, then rows the model
        left out (a row in both keeps the model's reason).
        """
        found = {e.row: e for e in (*(self.effects.exclusions if self.effects is not None else ()),
                                    *getattr(self.model, "exclusions", ()))}
        return tuple(found[row] for row in sorted(found))

    def to_dict(self) -> dict:
        d = {
            "name": self.spec.name,
            "kind": self.spec.kind,
            "k": self.k,
            "n_patients": self.n_patients,
            "rows": [r + 1 for r in self.rows],
            "designs": self.designs,
            "evidence_level": self.evidence.to_dict(),
            "risk_of_bias": self.risk_of_bias,
            "error": self.error,
            "skipped": self.skipped,
            "warnings": list(self.warnings),
        }
        for name in ("model", "medians", "subgroups", "regression", "bias", "leave_one_out", "influence",
                     "sensitivity_summary", "grade"):
            value = getattr(self, name)
            if value is not None:
                d[name] = value.to_dict()
        return d


def pooled_value(model):
    """A model's natural-scale pooled value (back-transformed when possible); None without a model."""
    if model is None:
        return None
    value = model.back()
    return value if value is not None else model.predict()


@dataclass(frozen=True)
class Analysis:
    """The results of a whole analysis file, with provenance.

    ``software`` holds the versions of metapool, Python, NumPy and SciPy
    (:func:`software_versions`); ``risk_of_bias`` each study's per-domain
    judgements (a :class:`~metapool.evidence.risk_of_bias.RiskOfBiasTable`,
    None without ``risk_of_bias_domains``). ``designs`` holds each table row's :class:`~metapool.evidence.designs.Design`
    (None where not stated). ``review`` is the :class:`~metapool.review.summary.ReviewSummary` of the review
    the analysis file names (None without ``review``).
    """

    spec: AnalysisSpec
    outcomes: tuple
    n_studies: int
    input_sha256: str
    version: str = __version__
    created: str = ""
    table: StudyTable | None = field(default=None, repr=False, compare=False)
    designs: tuple = field(default=(), repr=False, compare=False)
    software: dict = field(default_factory=lambda: software_versions())
    risk_of_bias: object = None
    review: object = None

    def to_dict(self) -> dict:
        return {
            "title": self.spec.title,
            "metapool_version": self.version,
            "software": self.software,
            "created": self.created,
            "input_sha256": self.input_sha256,
            "n_studies": self.n_studies,
            "spec": self.spec.to_dict(),
            "outcomes": [o.to_dict() for o in self.outcomes],
            "risk_of_bias_domains": None if self.risk_of_bias is None else self.risk_of_bias.to_dict(),
            "review": None if self.review is None else self.review.to_dict(),
        }


def software_versions() -> dict:
    """Versions of metapool, Python and the numerical libraries the analysis ran with."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"metapool": __version__, "Python": platform.python_version()}
    for name, package in (("NumPy", "numpy"), ("SciPy", "scipy")):
        try:
            out[name] = version(package)
        except PackageNotFoundError:  # a build without package metadata
            out[name] = "unknown"
    return out


def _present(cells) -> np.ndarray:
    return np.array([not (c is None or (isinstance(c, float) and math.isnan(c)) or
                          (isinstance(c, str) and c.strip().lower() in MISSING_MARKERS)) for c in cells])


def _study_counts(table: StudyTable, column: str | None, rows: np.ndarray) -> dict:
    if column is None:
        return {}
    cells = np.asarray(list(get_column(table, column, "study-level information")), dtype=object)[rows]
    return dict(Counter(str(c).strip() for c in cells if _present([c])[0]))


def _cell_text(cell) -> str:
    """A label part as written ("2010", not "2010.0" from a workbook); blank when missing."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    text = str(cell).strip()
    return "" if text.lower() in MISSING_MARKERS else text


def study_labels(spec: AnalysisSpec, table: StudyTable) -> tuple[str, ...] | None:
    """Each row's study label: the ``study`` column, or its columns' cells joined by spaces ("Smith 2010").

    None without a ``study`` key (the models then number the studies); a
    blank label becomes "Study <row>" (:func:`~metapool.io.parsing.to_labels`).
    """
    if spec.study is None:
        return None
    names = spec.study if isinstance(spec.study, tuple) else (spec.study,)
    columns = [list(get_column(table, name, "study labels")) for name in names]
    if len(columns) == 1:
        return to_labels(columns[0], table.n_rows)
    return to_labels([" ".join(t for t in map(_cell_text, cells) if t) for cells in zip(*columns)], table.n_rows)


def _row_designs(spec: AnalysisSpec, table: StudyTable) -> tuple:
    """Each row's design (None: not stated); an unrecognised design is an error naming row, study and column."""
    cells = list(get_column(table, spec.design, "study designs")) if spec.design else None
    default = DESIGNS[spec.design_default] if spec.design_default else None
    return row_designs(cells, table.n_rows, spec.design, default, study_labels(spec, table))


def _risk_of_bias(spec: AnalysisSpec, table: StudyTable):
    """Each row's per-domain risk-of-bias judgements (None without ``risk_of_bias_domains``).

    An unrecognised judgement is an error naming row, study, column and value.
    """
    from .evidence.risk_of_bias import risk_of_bias_table
    from .formatting.labels import distinct_labels

    if not spec.risk_of_bias_domains:
        return None
    labels = distinct_labels(study_labels(spec, table) or to_labels(None, table.n_rows), range(table.n_rows))
    domains = {d: list(get_column(table, d, "risk-of-bias judgements")) for d in spec.risk_of_bias_domains}
    overall = list(get_column(table, spec.risk_of_bias, "risk-of-bias judgements")) if spec.risk_of_bias else None
    return risk_of_bias_table(labels, domains, overall, spec.risk_of_bias or "")


def _design_counts(designs: tuple, rows: np.ndarray) -> dict:
    return dict(Counter(NOT_STATED if designs[r] is None else designs[r].code for r in rows))


def _study_sizes(model, k: int):
    """Each analysed study's number of patients where the model holds it, else None.

    Not for rates (their sizes are person-time); for a GLMM of 2x2 tables both
    groups together.
    """
    from .effect_sizes.registry import MEASURES

    if model is None or (model.measure in MEASURES and MEASURES[model.measure].family == "rate"):
        return None
    sizes = np.asarray(model.ni, dtype=float)
    return sizes if len(sizes) == k else None


def _patients(spec: AnalysisSpec, out: OutcomeSpec, table: StudyTable, rows: np.ndarray, ni) -> int | None:
    """Sum of the analysed studies' n: the outcome's own denominators, else the table's n column."""
    if ni is not None and np.all(np.isfinite(ni)):
        return int(np.sum(ni))
    column = out.columns.get("n") or out.columns.get("total") or spec.n
    if column is None:
        return None
    n = to_float_array(get_column(table, column, "sample sizes"), column)[rows]
    return int(np.nansum(n)) if np.isfinite(n).any() else None


def _fit_model(out: OutcomeSpec, table: StudyTable, study: str | None):
    """Effect sizes and the pooled model of one outcome (:func:`metapool.models.methods.fit`, medians aside)."""
    from .models.methods import fit

    if out.kind == "median":
        from .medians import pool_median_survival, pool_medians

        cols = out.columns
        if "lower" in cols and "upper" in cols:
            model = pool_median_survival(cols["median"], cols["lower"], cols["upper"], table, slab=study,
                                         ci_level=out.ci_level, ni=cols.get("n"), method=out.method,
                                         test=out.test, level=out.level)
            return None, model, None
        return None, None, pool_medians(cols["median"], table, n=cols.get("n"), slab=study, level=out.level)
    fitted = fit(out.method, table, measure=out.measure, slab=study, test=out.test, level=out.level,
                 ci_level=out.ci_level, **out.roles)
    return fitted.effects, fitted.model, None


def run_outcome(spec: AnalysisSpec, out: OutcomeSpec, table: StudyTable, designs: tuple | None = None) -> OutcomeResult:
    """Pool one outcome and run its follow-up analyses (each only where defined).

    ``designs`` are the rows' designs when already read (else read here; an
    unrecognised design raises :class:`~metapool.exceptions.DataValidationError`).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            es, model, medians = _fit_model(out, table, study_labels(spec, table))
        except MetapoolError as exc:
            return OutcomeResult(out, error=str(exc))
        result = model if model is not None else medians
        k = int(result.k)
        rows = _analysed_rows(result, table)
        repeated = repeated_labels_text(result.slab, rows)
        skipped: dict[str, str] = {}
        extra: dict[str, object] = {}
        if model is not None:  # which follow-up analyses apply: the method registry's flags (_follow_up)
            extra, skipped = _follow_up(spec, out, es, model, table, k)
        elif out.subgroup or out.mods or out.bias or out.sensitivity:
            skipped["follow-up"] = "available for pooled models, not for the median of medians"
    designs = _design_counts(_row_designs(spec, table) if designs is None else designs, rows)
    n_patients = _patients(spec, out, table, rows, _study_sizes(model, k))
    grade = _grade(spec, out, table, rows, model, k, n_patients, designs, extra.get("bias"), skipped)
    return OutcomeResult(
        spec=out,
        model=model,
        effects=es,
        medians=medians,
        k=k,
        n_patients=n_patients,
        rows=tuple(int(r) for r in rows),
        designs=designs,
        grade=grade,
        risk_of_bias=_study_counts(table, spec.risk_of_bias, rows),
        repeated_labels=repeated,
        skipped=skipped,
        warnings=tuple(dict.fromkeys([*spec.notes, *table.notes, *(str(w.message) for w in caught),
                                      *([repeated] if repeated else [])])),
        **extra,
    )


def _outcome_data(spec: AnalysisSpec, out: OutcomeSpec, table: StudyTable, rows: np.ndarray) -> OutcomeData:
    """The cells of the analysed rows that the GRADE assessment reads: risk of bias, control arm, SDs."""
    def numbers(key: str):
        column = out.columns.get(key)
        return None if column is None else to_float_array(get_column(table, column), column)[rows]

    rob = None
    if spec.risk_of_bias is not None:
        cells = list(get_column(table, spec.risk_of_bias, "study-level information"))
        rob = tuple(cells[r] for r in rows)
    sd = None
    if all(key in out.columns for key in ("sd1", "sd2", "n1", "n2")):
        sd1, sd2, n1, n2 = (numbers(key) for key in ("sd1", "sd2", "n1", "n2"))
        sd = np.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (n1 + n2 - 2))
    total2 = numbers("total2") if "total2" in out.columns else (
        None if "nonevents2" not in out.columns else numbers("events2") + numbers("nonevents2"))
    return OutcomeData(rob, numbers("events2"), total2, sd)


def _grade(spec, out, table, rows, model, k, n_patients, designs, bias, skipped) -> Grade | None:
    """The outcome's GRADE assessment (:func:`metapool.evidence.assess.assess`); None without a pooled value."""
    pooled = pooled_value(model)
    if pooled is None:  # nothing estimated (e.g. a median of medians): nothing to rate
        return None
    if model is not None:
        rows = np.asarray(model.rows, dtype=int)  # the model's study order, for its weights
    comparison = comparison_of(out.kind, out.measure, out.method)
    return assess(model, pooled, comparison=comparison, start=grade_start(designs, comparison), k=k, n=n_patients,
                  bias=bias, bias_requested=out.bias, bias_skipped=skipped.get("bias"),
                  data=_outcome_data(spec, out, table, rows), options=options_of(out), measure=out.measure)


def _analysed_rows(result, table: StudyTable) -> np.ndarray:
    """Sorted 0-based indices of the table rows that entered the outcome's model."""
    from .models.rows import model_rows

    return np.sort(model_rows(result, table.n_rows))


def _follow_up(spec: AnalysisSpec, out: OutcomeSpec, es, model, table: StudyTable, k: int) -> tuple[dict, dict]:
    """Subgroups, meta-regression, bias and sensitivity analyses of an rma model.

    A GLMM fit gets the bias analyses (on its study-level logits) and the
    sensitivity analyses (by refitting the GLMM); a Mantel-Haenszel or Peto
    fit those metafor runs on ``rma.mh``/``rma.peto`` (regression and rank
    tests on its study-level estimates, leave-one-out by refitting it; the
    others are skipped with the reason). Subgroups and meta-regression are
    for methods with moderators only (rma models).
    """
    from .models.methods import get_method
    from .models.rma import rma

    from .report.figures import skipped_figures

    done: dict[str, object] = {}
    skipped: dict[str, str] = skipped_figures(k)
    fit = {"method": out.method, "test": out.test, "level": out.level}

    def attempt(name: str, minimum: int, run) -> None:
        if k < minimum:
            skipped[name] = f"needs at least {minimum} studies (k = {k})"
            return
        try:
            done[name] = run()
        except MetapoolError as exc:
            skipped[name] = str(exc)

    method = get_method(out.method)
    for name, wanted in (("subgroups", out.subgroup), ("regression", out.mods)):
        if wanted and not method.moderators:
            skipped[name] = (f"available for inverse-variance models (rma) only, not for {method.name} ({method.code});"
                             " fit the outcome with a tau² estimator (e.g. method = \"REML\") for it")
    if out.subgroup and method.moderators:
        from .moderators.subgroups import subgroup_analysis

        attempt("subgroups", 2, lambda: subgroup_analysis(es, out.subgroup, table, tau2=out.subgroup_tau2, **fit))
    if out.mods and method.moderators:
        mods = out.mods[0] if len(out.mods) == 1 and "~" in out.mods[0] else list(out.mods)
        attempt("regression", 3, lambda: rma(es, mods=mods, data=table, **fit))
    if out.bias:
        from .bias import bias_report

        attempt("bias", MIN_K_BIAS, lambda: bias_report(model, table=es))
    if out.sensitivity:
        from .influence.report import SENSITIVITY_ANALYSES  # per-study refits, skipped above refit_limit()

        for name, (_, run) in SENSITIVITY_ANALYSES.items():
            attempt(name, MIN_K_SENSITIVITY + 1, lambda run=run: run(model))
        if out.kind == "median":
            skipped["sensitivity_summary"] = "not available for medians (the other methods pool effect-size columns)"
        else:
            attempt("sensitivity_summary", MIN_K_SENSITIVITY + 1, lambda: _sensitivity_summary(spec, out, model, table))
    return done, skipped


def _sensitivity_summary(spec: AnalysisSpec, out: OutcomeSpec, model, table: StudyTable):
    """The outcome refitted under other modelling choices (:func:`~metapool.influence.sensitivity.sensitivity_summary`).

    The ``risk_of_bias`` column's cells give the row without the studies at high risk of bias.
    """
    from .influence.sensitivity import sensitivity_summary

    rob = list(get_column(table, spec.risk_of_bias, "risk-of-bias judgements")) if spec.risk_of_bias else None
    return sensitivity_summary(model, table, method=out.method, measure=out.measure, test=out.test, level=out.level,
                               slab=study_labels(spec, table), rob=rob, ci_level=out.ci_level, **out.roles)


def run_analysis(spec: AnalysisSpec, progress=None) -> Analysis:
    """Run every outcome of an analysis file.

    Parameters
    ----------
    spec
        The analysis (see :func:`metapool.spec.load_spec`).
    progress
        Optional ``progress(step_name)`` callback, called before each outcome.
    """
    table = read_table(spec.data_path, sheet=spec.sheet, encoding=spec.encoding)
    spec.check_columns(table)
    designs = _row_designs(spec, table)  # an unrecognised design stops the run before any outcome
    risk_of_bias = _risk_of_bias(spec, table)  # so does an unrecognised risk-of-bias judgement
    review = None
    if spec.review is not None:  # its counts do not add up, or it cannot be read: stop before any outcome
        from .review.summary import review_summary

        review = review_summary(spec.review_path)
    outcomes = []
    for out in spec.outcomes:
        if progress is not None:
            progress(out.name)
        outcomes.append(run_outcome(spec, out, table, designs))
    return Analysis(
        spec=spec,
        outcomes=tuple(outcomes),
        n_studies=table.n_rows,
        input_sha256=table.sha256,  # of the bytes analysed, not of the file read again
        created=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        table=table,
        designs=designs,
        risk_of_bias=risk_of_bias,
        review=review,
    )

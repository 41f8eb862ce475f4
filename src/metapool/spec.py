"""The analysis file: a declarative, serialisable description of a whole review.

An analysis file (TOML) names the data file, the study label column and a list
of outcomes; each outcome says which columns hold its data, how to pool them
and which follow-up analyses to run. Studies contribute to the outcomes they
report: empty cells exclude a study from that outcome only.

Example::

    title = "HMA + venetoclax in R/R AML"
    data = "studies.csv"            # relative to the analysis file
    # encoding = "cp1252"           # the data file's text encoding (default: detected)
    study = "study"                 # or several columns joined: ["author", "year"] -> "Smith 2010"
    n = "n"                         # patients per study (for N), optional
    design = "design"               # study design column, optional (vocabulary: metapool.evidence.designs)
    # design_default = "RCT"        # the design of studies whose design cell is empty (or of all, without a column)
    risk_of_bias = "risk_of_bias"   # optional: each study's overall risk-of-bias judgement
    # risk_of_bias_domains = ["D1 randomisation", "D2 deviations", "D3 missing data", "D4 measurement",
    #                         "D5 selection"]  # columns of per-domain judgements: robvis traffic-light and summary
    #                                          # plots in the report (low / some concerns / high / no information)
    # intervention = "HMA + venetoclax"   # the arms' names, for the card's statements (group 1 / group 2)
    # comparator = "intensive chemotherapy"
    # synthetic = true              # the data are made up: the report and card say so
    # review = "../review"          # the review folder that found the studies (metapool review): the report
                                    # gains its search methods, PRISMA diagram and counts (read-only)

    [defaults]
    method = "REML"
    test = "z"

    [[outcome]]
    name = "Overall response"
    kind = "proportion"
    events = "orr_events"
    total = "n"
    subgroup = "hma"
    mods = ["prior_hma_fraction"]
    bias = true
    sensitivity = true
    # higher_is_better = false      # more events are worse (adverse events): the card's wording
    # threshold = 0.3               # GRADE: a single-group decision threshold (natural scale)
    # mid = 1.25                    # GRADE: two-group MID (a ratio > 1, or a difference > 0)
    # control_risk = 0.12           # GRADE: assumed control risk for absolute effects (default: median)
    # indirectness = "serious"      # GRADE: the team's judgement (default: not assessed)
    # indirectness_reason = "older population than the question's"
    # favours = ["Magnesium", "Control"]  # forest plot: "Favours ..." left and right of the null line
    # arms = ["Magnesium", "Control"]     # forest plot: group 1's and group 2's names over their columns

Keys are written with underscores (``ci_lower``, ``subgroup_tau2``, ``risk_of_bias``);
the same key written with dashes (``ci-lower``, as the command line's
``--ci-lower``) is read as the same key. Errors name the key and its line in
the file. A file that still holds the placeholders of ``metapool init``'s
template (``"<events column>"``) is refused with the lines to edit.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .columns import COLUMN_FLAGS, default_measure
from .effect_sizes import MEASURES
from .evidence.grade import JUDGEMENTS
from .exceptions import DataValidationError, OptionError
from .inference.tests import TESTS
from .io.decoding import decode_text, read_bytes, text_encoding
from .io.settings import parse_toml
from .io.tables import EXCEL_SUFFIXES
from .models.methods import get_method, method_choices
from .models.design import parse_formula

__all__ = ["KINDS", "OutcomeSpec", "AnalysisSpec", "load_spec", "parse_spec"]

#: Outcome kinds: the column keys each needs (alternatives). The default measure follows from the
#: columns (:func:`metapool.columns.default_measure`; PLO, IRLN, OR, MD, PCI, GEN, LNR); medians have none.
KINDS: dict[str, dict] = {
    "proportion": {"columns": (("events", "total"),),
                   "text": "events out of patients in one group (response, remission, adverse events)"},
    "survival": {"columns": (("events", "total"), ("prop", "ci_lower", "ci_upper")),
                 "text": "landmark survival pooled as a proportion: alive at 1 year out of patients at risk,"
                         " or the reported survival estimate with its CI"},
    "rate": {"columns": (("events", "time"),), "text": "events per person-time"},
    "binary": {"columns": (("events1", "total1", "events2", "total2"),
                           ("events1", "nonevents1", "events2", "nonevents2")),
               "text": "events out of patients (or events and non-events) in two groups"},
    "continuous": {"columns": (("mean1", "sd1", "n1", "mean2", "sd2", "n2"),), "text": "means and SDs in two groups"},
    "generic": {"columns": (("yi", "vi"), ("yi", "sei"), ("ratio", "ci_lower", "ci_upper")),
                "text": "precomputed effects with variances or SEs, or ratios (e.g. hazard ratios) with CIs"},
    "median": {"columns": (("median",),),
               "text": "study medians (e.g. median overall survival), optionally with their CI (lower, upper)"},
}

#: Column keys an outcome of a kind may add to those of :data:`KINDS` (a median's CI and patients).
OPTIONAL_COLUMNS: dict[str, tuple] = {"median": ("lower", "upper", "n")}

_TOP_KEYS = {"title", "data", "sheet", "encoding", "study", "n", "design", "design_default", "risk_of_bias",
             "risk_of_bias_domains",
             "followup", "population", "synthetic", "intervention", "comparator", "defaults", "outcome", "review"}
_OPTION_KEYS = {"measure", "method", "test", "level"}
#: Top-level keys that name study-level columns of the data file (used by every outcome).
STUDY_KEYS = ("study", "n", "design", "risk_of_bias", "risk_of_bias_domains", "followup")
#: Outcome keys that name columns of the data file, spelled as in the file (``ci_lower``), to their escalc role.
COLUMN_ROLES = {flag.replace("-", "_"): role for flag, (role, _) in COLUMN_FLAGS.items()}
_COLUMN_KEYS = set(COLUMN_ROLES) | {"median", "lower", "upper"}
#: Measures in the data's own units (a mean difference in mmHg, a mean in months): the only ones an outcome's
#: ``unit`` is written after (with medians). Standardised measures (SMD), ratios, proportions and correlations
#: have no unit.
UNIT_MEASURES = frozenset({"MD", "MN", "MNLN", "GEN"})
#: A column the template of ``metapool init`` could not fill: ``"<events column>"`` (refused until edited).
PLACEHOLDER = re.compile(r"<[^<>]* column>")
_OUTCOME_KEYS = ({"name", "kind", "subgroup", "subgroup_tau2", "mods", "bias", "sensitivity", "unit",
                  "ci_level", "higher_is_better", "mid", "threshold", "control_risk", "indirectness",
                  "indirectness_reason", "favours", "arms"} | _OPTION_KEYS | _COLUMN_KEYS)


def placeholder(what: str) -> str:
    """The template's placeholder for a column it could not recognise (``"<events column>"``; :data:`PLACEHOLDER`)."""
    return f"<{what} column>"


@dataclass(frozen=True)
class OutcomeSpec:
    """One outcome of the analysis file (see the module docstring).

    ``columns`` maps the outcome's column keys, spelled as documented
    (``ci_lower``), to the data's columns. ``unit`` is written after
    estimates in the data's own units only (:data:`UNIT_MEASURES`, medians).
    ``higher_is_better`` says whether more events are the good direction; it
    words the card's single-group statements ("achieves ... in" or "occurs
    in", :func:`metapool.report.certainty.statement`) and changes no number.
    """

    name: str
    kind: str
    columns: dict
    measure: str | None
    method: str = "REML"
    test: str = "z"
    level: float = 95.0
    subgroup: str | None = None
    subgroup_tau2: str = "separate"
    mods: tuple = ()
    bias: bool = True
    sensitivity: bool = True
    unit: str = ""
    ci_level: float = 95.0
    higher_is_better: bool = True
    mid: float | None = None
    threshold: float | None = None
    control_risk: float | None = None
    indirectness: str | None = None
    indirectness_reason: str = ""
    favours: tuple = ()  # forest plot: (left, right) of the null line, e.g. ("Magnesium", "Control")
    arms: tuple = ()  # forest plot: names of group 1 and group 2 over their data columns

    @property
    def roles(self) -> dict:
        """escalc roles to column names (for the kinds pooled with escalc)."""
        return {COLUMN_ROLES[k]: v for k, v in self.columns.items() if k in COLUMN_ROLES}


@dataclass(frozen=True)
class AnalysisSpec:
    """A whole analysis: data, study-level columns and outcomes.

    ``encoding`` is the data file's text encoding when the analysis file gives
    one (else it is detected); ``notes`` tell the user how the analysis file
    itself was read (an encoding other than UTF-8). ``study`` is one column
    or a tuple of columns whose cells are joined into the label ("Smith
    2010"). ``design_default`` is the design code (a key of
    :data:`metapool.evidence.designs.DESIGNS`) of studies whose design is not
    in the data; ``synthetic`` says that the data are made up (declared,
    never inferred from a name). ``risk_of_bias`` names the column of each
    study's overall risk-of-bias judgement; ``risk_of_bias_domains`` the
    columns of its judgement per domain (RoB 2, ROBINS-I, ...; the column
    names are the domains' names), judgements of the vocabulary
    :data:`metapool.evidence.risk_of_bias.JUDGEMENTS` (low, some concerns,
    high, no information; an empty cell is no information), drawn as robvis
    traffic-light and summary plots.
    ``intervention`` and ``comparator`` name the arms (group 1 and group 2)
    in the card's statements, and over the data columns of the forest plots
    of outcomes without their own ``arms``.
    """

    title: str
    data: str
    study: str | tuple | None
    outcomes: tuple
    sheet: str | None = None
    encoding: str | None = None
    n: str | None = None
    design: str | None = None
    design_default: str | None = None
    risk_of_bias: str | None = None
    risk_of_bias_domains: tuple = ()
    followup: str | None = None
    population: str = ""
    intervention: str = ""
    comparator: str = ""
    synthetic: bool = False
    review: str | None = None
    source: str = ""
    base_dir: str = "."
    text: str = field(default="", repr=False)
    notes: tuple = ()

    @property
    def data_path(self) -> Path:
        return (Path(self.base_dir) / self.data).resolve()

    @property
    def review_path(self) -> Path | None:
        """The review folder named by ``review`` (relative to the analysis file), or None."""
        return None if self.review is None else (Path(self.base_dir) / self.review).resolve()

    @property
    def input_files(self) -> tuple[Path, ...]:
        """The files the analysis reads: data file, analysis file and its review's files (never written over)."""
        review = () if self.review_path is None else tuple(
            self.review_path / name for name in ("review.toml", "review.db", "review.db-wal", "review.db-shm"))
        return self.data_path, (Path(self.base_dir) / self.source).resolve(), *review

    def check_columns(self, columns) -> None:
        """Refuse study-level keys (``study``, ``n``, ``design``, ...) naming columns not in ``columns``.

        They serve every outcome, so a missing one is an error of the file
        (naming its key and line), not an outcome that could not be pooled.
        """
        columns = list(columns)
        for key in STUDY_KEYS:
            value = getattr(self, key)
            for name in value if isinstance(value, tuple) else (value,):
                if name is not None and name not in columns:
                    raise _Checker(self.source, self.text).fail(
                        key, f"column {name!r} is not in {Path(self.data).name}; its columns: "
                             + ", ".join(repr(str(c)) for c in columns) + ".")

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("text")
        d.pop("base_dir")
        return d


def _line_of(text: str, key: str, outcome: int | None = None) -> int | None:
    """Line (1-based) of ``key = `` in the file, within the n-th ``[[outcome]]`` when given."""
    lines = text.splitlines()
    start, end = 0, len(lines)
    if outcome is not None:
        heads = [i for i, line in enumerate(lines) if line.strip() == "[[outcome]]"]
        if outcome < len(heads):
            start = heads[outcome]
            end = heads[outcome + 1] if outcome + 1 < len(heads) else len(lines)
    spelled = re.sub(r"\\-|_", "[-_]", re.escape(key))  # either spelling of the key (ci_lower, ci-lower)
    pattern = re.compile(rf"^\s*{spelled}\s*=")
    for i in range(start, end):
        if pattern.match(lines[i]):
            return i + 1
    return start + 1 if outcome is not None else None


def _kind_of(value: object) -> str:
    """How a TOML value is written, for messages ("a number", "a list", ...)."""
    kinds = ((bool, "true/false"), (str, "a text"), (int, "a number"), (float, "a number"), (list, "a list"),
             (dict, "a table"))
    return next((text for kind, text in kinds if isinstance(value, kind)), "a date or time")


class _Checker:
    """Checks the values of an analysis file; every error names the file, line, outcome and key."""

    def __init__(self, source: str, text: str):
        self.source, self.text = source, text

    def fail(self, key: str, problem: str, outcome: int | None = None, name: str = "") -> DataValidationError:
        line = _line_of(self.text, key, outcome)
        where = f"{self.source}" + (f", line {line}" if line else "")
        what = f"outcome {outcome + 1}" + (f" ({name!r})" if name else "") + ", " if outcome is not None else ""
        return DataValidationError(f"{where}: {what}key {key!r}: {problem}")

    def choice(self, value, choices, key, outcome=None, name=""):
        for c in choices:
            if isinstance(value, str) and value.lower() == c.lower():
                return c
        raise self.fail(key, f"{value!r} is not one of {', '.join(choices)}.", outcome, name)

    def text_value(self, value, key, outcome=None, name=""):
        if not isinstance(value, str) or not value.strip():
            got = "empty" if isinstance(value, str) else _kind_of(value)
            raise self.fail(key, f"must be a non-empty text in quotes (a column name or a label), not {got}.",
                            outcome, name)
        return value.strip()

    def label(self, value, key, outcome=None, name=""):
        """Free text that may be empty (a unit, a population)."""
        if not isinstance(value, str):
            raise self.fail(key, f"must be a text in quotes, not {_kind_of(value)}.", outcome, name)
        return value.strip()

    def flag(self, value, key, outcome=None, name=""):
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {_kind_of(value)}.", outcome, name)
        return value

    def number(self, value, key, outcome=None, name="", *, low=None, high=None, what="a number"):
        """A number strictly between ``low`` and ``high`` (each optional), as a float."""
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
        if not number or (low is not None and value <= low) or (high is not None and value >= high):
            raise self.fail(key, f"{value!r} is not {what}.", outcome, name)
        return float(value)

    def level(self, value, key, outcome=None, name=""):
        """A confidence level in percent (95) or as a fraction (0.95), as a float."""
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or not (0 < value < 1 or 1 < value < 100):
            raise self.fail(key, f"{value!r} is not a confidence level (e.g. 95).", outcome, name)
        return float(value)


def _options(chk: _Checker, raw: dict, outcome: int | None = None, name: str = "") -> dict:
    """The pooling options (measure, method, test, level) given in ``raw``, checked."""
    checks = {
        "measure": lambda v: chk.choice(v, list(MEASURES), "measure", outcome, name),
        "method": lambda v: chk.choice(v, method_choices(), "method", outcome, name),
        "test": lambda v: chk.choice(v, list(TESTS), "test", outcome, name),
        "level": lambda v: chk.level(v, "level", outcome, name),
    }
    return {key: check(raw[key]) for key, check in checks.items() if key in raw}


def _check_method(chk: _Checker, method: str, roles: set, measure: str | None, test: str, outcome: int,
                  name: str) -> None:
    """Refuse data, a measure or a test the outcome's method does not take (:data:`metapool.models.methods.METHODS`).

    Medians (no roles, no measure) are pooled from effect sizes of their own,
    so only methods that pool any effect sizes take them. Moderators and
    subgroups of a method without them are not errors: they are skipped with
    the reason in the report.
    """
    entry = get_method(method)
    for key, check in (("method", lambda: entry.check_data(roles)),
                       ("measure", lambda: measure is None or entry.check_measure(measure)),
                       ("test", lambda: entry.check_test(test))):
        try:
            check()
        except OptionError as exc:
            raise chk.fail(key, f"{exc}", outcome, name) from None


def _spelled_one_way(chk: _Checker, table: dict, outcome: int | None = None, name: str = "") -> dict:
    """``table`` with its keys spelled as documented: a dash is read as an underscore (``ci-lower`` is ``ci_lower``)."""
    out: dict = {}
    for key, value in table.items():
        canonical = key.replace("-", "_")
        if canonical in out:
            raise chk.fail(canonical, f"given twice (as {canonical!r} and with dashes); keep one.", outcome, name)
        out[canonical] = value
    return out


def _placeholders(chk: _Checker, raw: dict) -> None:
    """Refuse a file that still holds the placeholders of ``metapool init``'s template, naming each line to edit."""
    found = []
    outcomes = raw.get("outcome")
    tables = [(None, raw)] + [(i, o) for i, o in enumerate(outcomes if isinstance(outcomes, list) else [])
                              if isinstance(o, dict)]
    for i, table in tables:
        for key, value in table.items():
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str) and PLACEHOLDER.fullmatch(text.strip()):
                    line = _line_of(chk.text, key, i)
                    found.append(f"line {line}: {key} = {text!r}" if line else f"{key} = {text!r}")
    if found:
        raise DataValidationError(
            f"{chk.source}: the template's placeholders are still in it ({'; '.join(found)}): replace each with"
            " the name of a column of the data file (listed in the file's comments), then run it again.")


def _outcome(chk: _Checker, i: int, raw: dict, defaults: dict) -> OutcomeSpec:
    name = raw.get("name", f"Outcome {i + 1}")
    raw = _spelled_one_way(chk, raw, i, name if isinstance(name, str) else "")
    unknown = sorted(set(raw) - _OUTCOME_KEYS)
    if unknown:
        raise chk.fail(unknown[0], f"unknown key; allowed: {', '.join(sorted(_OUTCOME_KEYS))}.", i, name)
    if "kind" not in raw:
        raise chk.fail("kind", f"missing; one of {', '.join(KINDS)}.", i, name)
    kind = chk.choice(raw["kind"], list(KINDS), "kind", i, name)
    keys = {k: chk.text_value(v, k, i, name) for k, v in raw.items() if k in _COLUMN_KEYS}
    alternatives = KINDS[kind]["columns"]
    chosen = next((alt for alt in alternatives if all(c in keys for c in alt)), None)
    if chosen is None:
        wanted = " or ".join("(" + ", ".join(a) + ")" for a in alternatives)
        raise chk.fail("kind", f"a {kind!r} outcome needs the column keys {wanted}.", i, name)
    extra = OPTIONAL_COLUMNS.get(kind, ())
    columns = {c: keys[c] for c in (*chosen, *(e for e in extra if e in keys))}
    opts = {**defaults, **_options(chk, raw, i, name)}
    roles = {COLUMN_ROLES[c] for c in columns if c in COLUMN_ROLES}
    measure = opts.get("measure") or default_measure(roles)
    _check_method(chk, opts.get("method", "REML"), roles, measure, opts.get("test", "z"), i, name)
    mods = raw.get("mods", [])
    if isinstance(mods, str):
        mods = [mods] if "~" in mods else [m.strip() for m in mods.split(",") if m.strip()]
    if not isinstance(mods, list) or not all(isinstance(m, str) for m in mods):
        raise chk.fail("mods", "must be a list of column names or a formula text.", i, name)
    if any("~" in m for m in mods):
        if len(mods) > 1:
            raise chk.fail("mods", "a formula ('~ ...') must be the only entry of the list.", i, name)
        try:
            parse_formula(mods[0])
        except DataValidationError as exc:
            raise chk.fail("mods", str(exc), i, name) from None
    return OutcomeSpec(
        name=chk.text_value(name, "name", i, name),
        kind=kind,
        columns=columns,
        measure=measure,
        method=opts.get("method", "REML"),
        test=opts.get("test", "z"),
        level=opts.get("level", 95.0),
        subgroup=chk.text_value(raw["subgroup"], "subgroup", i, name) if "subgroup" in raw else None,
        subgroup_tau2=chk.choice(raw.get("subgroup_tau2", "separate"), ["separate", "common"], "subgroup_tau2", i, name),
        mods=tuple(mods),
        bias=chk.flag(raw.get("bias", True), "bias", i, name),
        sensitivity=chk.flag(raw.get("sensitivity", True), "sensitivity", i, name),
        unit=_unit(chk, raw, kind, measure, i, name),
        ci_level=chk.level(raw.get("ci_level", 95), "ci_level", i, name),
        higher_is_better=chk.flag(raw.get("higher_is_better", True), "higher_is_better", i, name),
        **_grade_keys(chk, raw, i, name, measure),
        **{key: _pair_key(chk, raw[key], key, i, name) for key in ("favours", "arms") if key in raw},
    )


def _unit(chk: _Checker, raw: dict, kind: str, measure: str | None, i: int, name: str) -> str:
    """The outcome's ``unit`` ("months" for medians by default); refused for a measure without units."""
    unit = chk.label(raw.get("unit", "months" if kind == "median" else ""), "unit", i, name)
    if unit and kind != "median" and measure not in UNIT_MEASURES:
        what = MEASURES[measure].name if measure in MEASURES else measure
        raise chk.fail("unit", f"{measure} ({what}) has no unit; a unit applies to medians and to"
                               f" {', '.join(sorted(UNIT_MEASURES))} (the data's own units). Remove it.", i, name)
    return unit


def _pair_key(chk: _Checker, value, key: str, i: int, name: str) -> tuple:
    """A key of two labels (``favours``, ``arms``): exactly two non-empty texts."""
    if not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, str) and v.strip() for v in value):
        raise chk.fail(key, f"must be a list of two non-empty texts, such as [\"Magnesium\", \"Control\"]; got {value!r}.",
                       i, name)
    return tuple(v.strip() for v in value)


def _grade_keys(chk: _Checker, raw: dict, i: int, name: str, measure: str | None) -> dict:
    """The outcome's GRADE keys (``mid``, ``threshold``, ``control_risk``, ``indirectness``...), checked."""
    out: dict = {}
    if "mid" in raw:
        ratio = measure in MEASURES and MEASURES[measure].back == "exp"
        out["mid"] = chk.number(raw["mid"], "mid", i, name, low=1.0 if ratio else 0.0,
                                what="a ratio above 1 (e.g. 1.25)" if ratio else "a positive difference")
    if "threshold" in raw:
        out["threshold"] = chk.number(raw["threshold"], "threshold", i, name)
    if "control_risk" in raw:
        out["control_risk"] = chk.number(raw["control_risk"], "control_risk", i, name, low=0.0, high=1.0,
                                         what="a risk between 0 and 1 (e.g. 0.12)")
    if "indirectness" in raw:
        out["indirectness"] = chk.choice(raw["indirectness"], JUDGEMENTS, "indirectness", i, name)
    if "indirectness_reason" in raw:
        out["indirectness_reason"] = chk.label(raw["indirectness_reason"], "indirectness_reason", i, name)
    return out


def _study_key(chk: _Checker, value) -> str | tuple:
    """The ``study`` key: one column, or a list of columns whose cells are joined into the label."""
    if not isinstance(value, list):
        return chk.text_value(value, "study")
    if not value:
        raise chk.fail("study", "an empty list; name the label column, or columns such as [\"author\", \"year\"].")
    names = tuple(chk.text_value(v, "study") for v in value)
    return names[0] if len(names) == 1 else names


def _domains_key(chk: _Checker, value) -> tuple:
    """The ``risk_of_bias_domains`` key: a list of distinct columns, one per domain."""
    if not isinstance(value, list) or not value:
        raise chk.fail("risk_of_bias_domains", "must be a list of the columns holding each domain's judgements,"
                       " such as [\"D1 randomisation\", \"D2 deviations\"].")
    names = tuple(chk.text_value(v, "risk_of_bias_domains") for v in value)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise chk.fail("risk_of_bias_domains", f"column {repeated[0]!r} is listed twice.")
    return names


def _design_key(chk: _Checker, value) -> str:
    """The ``design_default`` key: the code of a design of the vocabulary."""
    from .evidence.designs import parse_design

    try:
        return parse_design(chk.text_value(value, "design_default")).code
    except DataValidationError as exc:
        raise chk.fail("design_default", str(exc)) from None


def parse_spec(text: str, source: str = "analysis file", base_dir: str | Path = ".") -> AnalysisSpec:
    """Parse the TOML text of an analysis file (see the module docstring)."""
    raw = parse_toml(text, source)
    chk = _Checker(source, text)
    raw = _spelled_one_way(chk, raw)
    _placeholders(chk, raw)
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise chk.fail(unknown[0], f"unknown key; allowed: {', '.join(sorted(_TOP_KEYS))}.")
    if "data" not in raw:
        raise DataValidationError(f"{source}: key 'data' (the study table) is missing.")
    defaults = raw.get("defaults", {})
    if isinstance(defaults, dict):
        defaults = _spelled_one_way(chk, defaults)
    if not isinstance(defaults, dict) or set(defaults) - _OPTION_KEYS:
        raise chk.fail("defaults", f"must be a table with keys among {', '.join(sorted(_OPTION_KEYS))}.")
    defaults = _options(chk, defaults)
    outcomes = raw.get("outcome", [])
    if isinstance(outcomes, dict) or (isinstance(outcomes, list) and not all(isinstance(o, dict) for o in outcomes)):
        raise chk.fail("outcome", "each outcome is a table of keys under its own [[outcome]] line.")
    if not isinstance(outcomes, list) or not outcomes:
        raise DataValidationError(f"{source}: no [[outcome]] tables; name at least one outcome.")
    specs = tuple(_outcome(chk, i, o, defaults) for i, o in enumerate(outcomes))
    arms = tuple(chk.label(raw.get(k, ""), k) for k in ("intervention", "comparator"))
    if all(arms):  # the arms' names of the forest plots, unless an outcome names its own
        specs = tuple(o if o.arms else replace(o, arms=arms) for o in specs)
    names = [o.name for o in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise chk.fail("name", f"outcome names must be unique; repeated: {', '.join(dupes)}.", names.index(dupes[0]))
    optional = {key: chk.text_value(raw[key], key) for key in ("sheet", "encoding", "review", *STUDY_KEYS)
                if key in raw and key not in ("study", "risk_of_bias_domains")}
    if "study" in raw:
        optional["study"] = _study_key(chk, raw["study"])
    if "risk_of_bias_domains" in raw:
        optional["risk_of_bias_domains"] = _domains_key(chk, raw["risk_of_bias_domains"])
    if "design_default" in raw:
        optional["design_default"] = _design_key(chk, raw["design_default"])
    data = chk.text_value(raw["data"], "data")
    excel = Path(data).suffix.lower() in EXCEL_SUFFIXES
    if "sheet" in optional and not excel:
        raise chk.fail("sheet", f"{data!r} is a text table; a sheet can only be chosen in an Excel workbook (.xlsx).")
    if "encoding" in optional:
        if excel:
            raise chk.fail("encoding", f"{data!r} is an Excel workbook; an encoding applies to text tables (CSV).")
        try:
            text_encoding(optional["encoding"])
        except DataValidationError as exc:
            raise chk.fail("encoding", str(exc)) from None
    return AnalysisSpec(
        title=chk.text_value(raw.get("title", "Meta-analysis"), "title"),
        data=data,
        outcomes=specs,
        population=chk.label(raw.get("population", ""), "population"),
        intervention=chk.label(raw.get("intervention", ""), "intervention"),
        comparator=chk.label(raw.get("comparator", ""), "comparator"),
        synthetic=chk.flag(raw.get("synthetic", False), "synthetic"),
        source=source,
        base_dir=str(base_dir),
        text=text,
        **{"study": None, **optional},
    )


def load_spec(path: str | Path) -> AnalysisSpec:
    """Read and check an analysis file, and that its data file exists.

    The file is read as UTF-8, else as Windows-1252 or Latin-1 with a note in
    :attr:`AnalysisSpec.notes` (see :func:`metapool.io.decoding.decode_text`).
    """
    path = Path(path)
    decoded = decode_text(read_bytes(path, "Analysis file"), path.name)
    spec = parse_spec(decoded.text, path.name, path.parent)
    data = spec.data_path
    if not data.is_file():
        problem = ("is a folder, not a data file" if data.is_dir() else "is not a regular file" if data.exists()
                   else "does not exist")
        raise _Checker(spec.source, spec.text).fail("data", f"{str(data)!r} {problem}.")
    review = spec.review_path
    if review is not None and not all((review / name).is_file() for name in ("review.toml", "review.db")):
        raise _Checker(spec.source, spec.text).fail(
            "review", f"{str(review)!r} is not a review folder (it needs review.toml and review.db, as"
                      " `metapool review init` makes them; a review kept on PostgreSQL cannot be named here).")
    return replace(spec, notes=(decoded.note,)) if decoded.note else spec

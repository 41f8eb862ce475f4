"""The analysis file: a declarative, serialisable description of a whole review.

An analysis file (TOML) names the data file, the study label column and a list
of outcomes; each outcome says which columns hold its data, how to pool them
and which follow-up analyses to run. Studies contribute to the outcomes they
report: empty cells exclude a study from that outcome only.

Example::

    title = "HMA + venetoclax in R/R AML"
    data = "studies.csv"            # relative to the analysis file
    study = "study"
    n = "n"                         # patients per study (for N), optional
    design = "design"               # study design column, optional
    risk_of_bias = "risk_of_bias"   # optional

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

Errors name the key and its line in the file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .columns import COLUMN_FLAGS, DEFAULT_MEASURE
from .effect_sizes import MEASURES
from .exceptions import DataValidationError
from .inference.tests import TESTS
from .models.tau2 import ALIASES, ESTIMATORS

__all__ = ["KINDS", "OutcomeSpec", "AnalysisSpec", "load_spec", "parse_spec"]

#: Outcome kinds: the column keys each needs (alternatives) and the default measure.
KINDS: dict[str, dict] = {
    "proportion": {"columns": (("events", "total"),), "measure": "PLO",
                   "text": "events out of patients in one group (response, remission, adverse events)"},
    "survival": {"columns": (("events", "total"), ("prop", "ci-lower", "ci-upper")), "measure": None,
                 "text": "landmark survival pooled as a proportion: alive at 1 year out of patients at risk,"
                         " or the reported survival estimate with its CI"},
    "rate": {"columns": (("events", "time"),), "measure": "IRLN", "text": "events per person-time"},
    "binary": {"columns": (("events1", "total1", "events2", "total2"),), "measure": "OR",
               "text": "events out of patients in two groups"},
    "continuous": {"columns": (("mean1", "sd1", "n1", "mean2", "sd2", "n2"),), "measure": "MD",
                   "text": "means and SDs in two groups"},
    "generic": {"columns": (("yi", "vi"), ("yi", "sei"), ("ratio", "ci-lower", "ci-upper")), "measure": None,
                "text": "precomputed effects with variances or SEs, or ratios (e.g. hazard ratios) with CIs"},
    "median": {"columns": (("median",),), "measure": None,
               "text": "study medians (e.g. median overall survival), optionally with their CI (lower, upper)"},
}

_TOP_KEYS = {"title", "data", "sheet", "study", "n", "design", "risk_of_bias", "followup", "population",
             "defaults", "outcome"}
_OPTION_KEYS = {"measure", "method", "test", "level"}
_OUTCOME_KEYS = ({"name", "kind", "subgroup", "subgroup_tau2", "mods", "bias", "sensitivity", "unit",
                  "lower", "upper", "ci_level", "higher_is_better"}
                 | _OPTION_KEYS | {k.replace("-", "_") for k in COLUMN_FLAGS} | {"median"})


@dataclass(frozen=True)
class OutcomeSpec:
    """One outcome of the analysis file (see the module docstring)."""

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

    @property
    def roles(self) -> dict:
        """escalc roles to column names (for the kinds pooled with escalc)."""
        return {COLUMN_FLAGS[k][0]: v for k, v in self.columns.items() if k in COLUMN_FLAGS}


@dataclass(frozen=True)
class AnalysisSpec:
    """A whole analysis: data, study-level columns and outcomes."""

    title: str
    data: str
    study: str | None
    outcomes: tuple
    sheet: str | None = None
    n: str | None = None
    design: str | None = None
    risk_of_bias: str | None = None
    followup: str | None = None
    population: str = ""
    source: str = ""
    base_dir: str = "."
    text: str = field(default="", repr=False)

    @property
    def data_path(self) -> Path:
        return (Path(self.base_dir) / self.data).resolve()

    @property
    def input_files(self) -> tuple[Path, ...]:
        """The files the analysis reads: the data file and the analysis file (never written over)."""
        return self.data_path, (Path(self.base_dir) / self.source).resolve()

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
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for i in range(start, end):
        if pattern.match(lines[i]):
            return i + 1
    return start + 1 if outcome is not None else None


class _Checker:
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
            raise self.fail(key, "must be a non-empty text (a column name or a label).", outcome, name)
        return value.strip()


def _outcome(chk: _Checker, i: int, raw: dict, defaults: dict) -> OutcomeSpec:
    name = raw.get("name", f"Outcome {i + 1}")
    unknown = sorted(set(raw) - _OUTCOME_KEYS)
    if unknown:
        raise chk.fail(unknown[0], f"unknown key; allowed: {', '.join(sorted(_OUTCOME_KEYS))}.", i, name)
    if "kind" not in raw:
        raise chk.fail("kind", f"missing; one of {', '.join(KINDS)}.", i, name)
    kind = chk.choice(raw["kind"], list(KINDS), "kind", i, name)
    keys = {k.replace("_", "-") if k.replace("_", "-") in COLUMN_FLAGS else k: v for k, v in raw.items()}
    alternatives = KINDS[kind]["columns"]
    chosen = next((alt for alt in alternatives if all(c in keys for c in alt)), None)
    if chosen is None:
        wanted = " or ".join("(" + ", ".join(a) + ")" for a in alternatives)
        raise chk.fail("kind", f"a {kind!r} outcome needs the column keys {wanted}.", i, name)
    extra = ("lower", "upper", "n") if kind == "median" else ()
    columns = {c: chk.text_value(keys[c], c, i, name) for c in (*chosen, *(e for e in extra if e in keys))}
    opts = {**defaults, **{k: raw[k] for k in _OPTION_KEYS if k in raw}}
    measure = opts.get("measure")
    if measure is not None:
        measure = chk.choice(measure, list(MEASURES), "measure", i, name)
    elif kind != "median":
        roles = {COLUMN_FLAGS[c][0] for c in columns if c in COLUMN_FLAGS}
        measure = KINDS[kind]["measure"] or next(DEFAULT_MEASURE[r] for r in DEFAULT_MEASURE if r in roles)
    method = chk.choice(opts.get("method", "REML"), list(ESTIMATORS) + list(ALIASES) + ["GLMM", "MH", "PETO"],
                        "method", i, name)
    test = chk.choice(opts.get("test", "z"), list(TESTS), "test", i, name)
    level = opts.get("level", 95)
    if not isinstance(level, (int, float)) or not (0 < level < 1 or 1 < level < 100):
        raise chk.fail("level", f"{level!r} is not a confidence level (e.g. 95).", i, name)
    mods = raw.get("mods", [])
    if isinstance(mods, str):
        mods = [mods] if "~" in mods else [m.strip() for m in mods.split(",") if m.strip()]
    if not isinstance(mods, list) or not all(isinstance(m, str) for m in mods):
        raise chk.fail("mods", "must be a list of column names or a formula text.", i, name)
    for flag in ("bias", "sensitivity", "higher_is_better"):
        if flag in raw and not isinstance(raw[flag], bool):
            raise chk.fail(flag, "must be true or false.", i, name)
    return OutcomeSpec(
        name=chk.text_value(name, "name", i, name),
        kind=kind,
        columns=columns,
        measure=measure,
        method=method,
        test=test,
        level=float(level),
        subgroup=chk.text_value(raw["subgroup"], "subgroup", i, name) if "subgroup" in raw else None,
        subgroup_tau2=chk.choice(raw.get("subgroup_tau2", "separate"), ["separate", "common"], "subgroup_tau2", i, name),
        mods=tuple(mods),
        bias=raw.get("bias", True),
        sensitivity=raw.get("sensitivity", True),
        unit=str(raw.get("unit", "months" if kind == "median" else "")),
        ci_level=float(raw.get("ci_level", 95)),
        higher_is_better=raw.get("higher_is_better", True),
    )


def parse_spec(text: str, source: str = "analysis file", base_dir: str | Path = ".") -> AnalysisSpec:
    """Parse the TOML text of an analysis file (see the module docstring)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataValidationError(f"{source}: not valid TOML: {exc}") from None
    chk = _Checker(source, text)
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise chk.fail(unknown[0], f"unknown key; allowed: {', '.join(sorted(_TOP_KEYS))}.")
    if "data" not in raw:
        raise DataValidationError(f"{source}: key 'data' (the study table) is missing.")
    defaults = raw.get("defaults", {})
    if not isinstance(defaults, dict) or set(defaults) - _OPTION_KEYS:
        raise chk.fail("defaults", f"must be a table with keys among {', '.join(sorted(_OPTION_KEYS))}.")
    outcomes = raw.get("outcome", [])
    if not isinstance(outcomes, list) or not outcomes:
        raise DataValidationError(f"{source}: no [[outcome]] tables; name at least one outcome.")
    specs = tuple(_outcome(chk, i, o, defaults) for i, o in enumerate(outcomes))
    names = [o.name for o in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise chk.fail("name", f"outcome names must be unique; repeated: {', '.join(dupes)}.", names.index(dupes[0]))
    optional = {key: chk.text_value(raw[key], key) for key in ("sheet", "study", "n", "design", "risk_of_bias",
                                                                "followup") if key in raw}
    return AnalysisSpec(
        title=str(raw.get("title", "Meta-analysis")),
        data=chk.text_value(raw["data"], "data"),
        outcomes=specs,
        population=str(raw.get("population", "")),
        source=source,
        base_dir=str(base_dir),
        text=text,
        **{"study": None, **optional},
    )


def load_spec(path: str | Path) -> AnalysisSpec:
    """Read and check an analysis file."""
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"Analysis file {str(path)!r} does not exist.")
    return parse_spec(path.read_text(encoding="utf-8"), path.name, path.parent)

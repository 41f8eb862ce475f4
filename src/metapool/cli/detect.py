"""What a study table holds, read from its column names and cells: the outcomes ``metapool init`` writes.

A column is taken for a role only when its name says so and its cells agree:
counts are whole numbers ≥ 0 (a text column is never a count), events never
exceed their group's size, standard deviations and variances are ≥ 0, a
ratio lies inside its confidence limits. What is recognised:

* two-group counts: metafor's ``ai, n1i, ci, n2i`` (or ``ai, bi, ci, di``:
  events and non-events), or events and totals per arm (``events_t, n_t,
  events_c, n_c``; ``events1 ... total2``; ``tpos, tneg, cpos, cneg``);
* means with SDs per arm (``m1i, sd1i, n1i, m2i, sd2i, n2i``; ``mean_t, sd_t, n_t, ...``);
* precomputed effects: ``yi`` with ``vi`` or ``sei``;
* ratios with confidence limits (``hr, hr_lower, hr_upper``; ``or, lower, upper``);
* medians, with their confidence limits when given (``os_median, os_lower, os_upper``);
* one-group events out of a total (``xi, ni``; any count column that never exceeds ``n``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..exceptions import DataValidationError
from ..io.parsing import to_float_array

__all__ = ["Detected", "detect_outcomes", "detect_study_columns", "normalise_name"]

#: Name stems of each role (after :func:`normalise_name`).
_STEMS = {
    "events": {"events", "event", "ev", "x", "xi", "r", "responders", "responses", "resp", "cases", "deaths",
               "pos", "positive", "successes", "e"},
    "nonevents": {"nonevents", "non_events", "noevents", "neg", "negative", "failures"},
    "size": {"n", "ni", "total", "tot", "size", "patients", "pts", "subjects", "participants", "sample",
             "sample_size", "randomised", "randomized", "tested", "evaluable"},
    "mean": {"mean", "m", "mn", "avg", "average"},
    "sd": {"sd", "std", "stdev", "sdev"},
}
#: Arm words: group 1 (intervention) and group 2 (comparator).
_ARMS = {
    1: {"1", "t", "trt", "treat", "treated", "treatment", "exp", "experimental", "int", "intervention", "active"},
    2: {"2", "c", "ctrl", "control", "placebo", "pbo", "comp", "comparator"},
}
#: metafor's argument names: column -> (role, arm).
_METAFOR = {"ai": ("events", 1), "bi": ("nonevents", 1), "ci": ("events", 2), "di": ("nonevents", 2),
            "n1i": ("size", 1), "n2i": ("size", 2), "m1i": ("mean", 1), "m2i": ("mean", 2),
            "sd1i": ("sd", 1), "sd2i": ("sd", 2)}
_EFFECT = {"yi", "y", "es", "effect", "effect_size", "te"}
_VARIANCE = {"vi", "v", "var", "variance"}
_SE = {"sei", "se", "stderr", "std_err", "std_error", "sete", "se_te"}
_RATIOS = {"or", "hr", "rr", "irr", "ratio", "odds_ratio", "hazard_ratio", "risk_ratio", "rate_ratio"}
_LOWER = ("lower", "lo", "low", "lcl", "ll", "lb", "lci", "l95")
_UPPER = ("upper", "up", "hi", "high", "ucl", "ul", "ub", "uci", "u95")
#: Words naming study-level columns, never an outcome's events.
_NOT_EVENTS = {"year", "id", "row", "row_name", "study", "trial", "age", "followup", "follow_up", "weeks", "months",
               "days", "dose", "rob"}
_STUDY = ("study", "author", "authors", "first_author", "trial", "source", "label", "slab", "name", "reference")


def normalise_name(name: str) -> str:
    """A column name as words joined by ``_``, lower case: ``"Events (T)"`` -> ``"events_t"``."""
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


@dataclass(frozen=True)
class Detected:
    """An outcome found in a table: its kind (:data:`metapool.spec.KINDS`), name and column keys.

    ``columns`` pairs each key of the analysis file (canonical spelling,
    e.g. ``ci_lower``) with its column, in the order of the kind's keys;
    ``why`` says what was recognised, for the template's comment;
    ``options`` are further keys of the outcome as ``(key, value)`` pairs
    (``("measure", "OR")``, ``("bias", False)``), written after its columns:
    the web app's outcome form fills them, detection leaves them empty.
    """

    kind: str
    name: str
    columns: tuple
    why: str
    options: tuple = ()


class _Columns:
    """The table's columns by normalised name, with their numbers (None for a text column)."""

    def __init__(self, table):
        self.names = {normalise_name(c): c for c in table}
        self._table = table
        self._numbers: dict = {}

    def numbers(self, column: str) -> np.ndarray | None:
        """Finite numbers of ``column`` (NaN where missing); None when a cell is text or nothing is given."""
        if column not in self._numbers:
            try:
                x = to_float_array(list(self._table[column]), str(column))
            except DataValidationError:
                x = None
            self._numbers[column] = None if x is None or np.isnan(x).all() else x
        return self._numbers[column]

    def is_count(self, column: str) -> bool:
        x = self.numbers(column)
        ok = x[~np.isnan(x)] if x is not None else None
        return ok is not None and bool(np.all(ok >= 0) and np.all(ok == np.round(ok)))

    def is_nonnegative(self, column: str) -> bool:
        x = self.numbers(column)
        return x is not None and bool(np.all(x[~np.isnan(x)] >= 0))

    def at_most(self, small: str, large: str) -> bool:
        """Whether ``small`` never exceeds ``large`` where both are given (and both are given somewhere)."""
        a, b = self.numbers(small), self.numbers(large)
        both = ~(np.isnan(a) | np.isnan(b))
        return bool(both.any() and np.all(a[both] <= b[both]))


def _role_arm(name: str) -> tuple[str, int, str] | None:
    """(role, arm, stem) of a normalised two-group column name, e.g. ``events_t`` -> ("events", 1, "events")."""
    if name in _METAFOR:
        role, arm = _METAFOR[name]
        return role, arm, name
    tokens = name.split("_")
    candidates = []
    if len(tokens) >= 2:
        candidates += [("_".join(tokens[:-1]), tokens[-1]), ("_".join(tokens[1:]), tokens[0])]
    glued = re.fullmatch(r"([a-z]+?)_?([12])i?", name) or re.fullmatch(r"([tc])(pos|neg|events|n|total|mean|sd)", name)
    if glued:
        a, b = glued.groups()
        candidates.append((a, b) if b in "12" else (b, a))
    for stem, arm in candidates:
        for role, stems in _STEMS.items():
            for number, words in _ARMS.items():
                if stem in stems and arm in words:
                    return role, number, stem
    return None


def _two_group(cols: _Columns) -> list[Detected]:
    found: dict = {}
    for name, column in cols.names.items():
        parsed = _role_arm(name)
        if parsed is not None:
            found.setdefault((parsed[0], parsed[1]), column)
    out = []
    get = found.get
    counts = all(get((r, a)) is not None and cols.is_count(get((r, a))) for r in ("events",) for a in (1, 2))
    if counts:
        sizes = [get(("size", a)) for a in (1, 2)]
        if all(s is not None and cols.is_count(s) and cols.at_most(get(("events", a)), s)
               for a, s in zip((1, 2), sizes)):
            keys = ("events1", "total1", "events2", "total2")
            out.append(Detected("binary", "Events (two groups)", tuple(zip(keys, (get(("events", 1)), sizes[0],
                                                                                  get(("events", 2)), sizes[1]))),
                                "two-group counts: events and totals per arm"))
        elif all(get(("nonevents", a)) is not None and cols.is_count(get(("nonevents", a))) for a in (1, 2)):
            keys = ("events1", "nonevents1", "events2", "nonevents2")
            out.append(Detected("binary", "Events (two groups)", tuple(zip(keys, (get(("events", 1)),
                                                                                  get(("nonevents", 1)),
                                                                                  get(("events", 2)),
                                                                                  get(("nonevents", 2))))),
                                "two-group counts: events and non-events per arm"))
    roles = [(r, a) for a in (1, 2) for r in ("mean", "sd", "size")]
    if all(get(ra) is not None for ra in roles):
        if (all(cols.numbers(get(("mean", a))) is not None and cols.is_nonnegative(get(("sd", a)))
                and cols.is_count(get(("size", a))) for a in (1, 2))):
            keys = ("mean1", "sd1", "n1", "mean2", "sd2", "n2")
            out.append(Detected("continuous", "Mean difference", tuple(zip(keys, (get(ra) for ra in roles))),
                                "means with SDs and sizes per arm"))
    return out


def _title(name: str) -> str:
    """An outcome's name from its column's normalised name: ``os_median_months`` -> ``"Os median months"``."""
    return name.replace("_", " ").capitalize()


def _pick(cols: _Columns, words: set) -> str | None:
    return next((cols.names[w] for w in cols.names if w in words), None)


def _generic(cols: _Columns) -> list[Detected]:
    yi = _pick(cols, _EFFECT)
    if yi is None or cols.numbers(yi) is None:
        return []
    for key, words in (("vi", _VARIANCE), ("sei", _SE)):
        other = _pick(cols, words)
        if other is not None and cols.is_nonnegative(other):
            return [Detected("generic", "Effect", (("yi", yi), (key, other)),
                             f"precomputed effects with their {'variances' if key == 'vi' else 'standard errors'}")]
    return []


def _limit_base(name: str, words: tuple) -> str | None:
    """``hr_ci_lower`` -> ``hr`` for the lower words; None when ``name`` does not end in one of ``words``."""
    for word in words:
        if name == word or name.endswith("_" + word):
            base = name[: -len(word)].rstrip("_")
            return re.sub(r"(^|_)(ci|95|95ci|ci95)$", "", base).rstrip("_")
    return None


def _limits(cols: _Columns, base_of) -> tuple[str, str] | None:
    """The (lower, upper) columns whose base satisfies ``base_of`` (numeric both), if any."""
    pairs = {}
    for side, words in (("lower", _LOWER), ("upper", _UPPER)):
        pairs[side] = next((column for name, column in cols.names.items()
                            if (b := _limit_base(name, words)) is not None and base_of(b)
                            and cols.numbers(column) is not None), None)
    return (pairs["lower"], pairs["upper"]) if pairs["lower"] and pairs["upper"] else None


def _ratios(cols: _Columns) -> list[Detected]:
    out = []
    for name, column in cols.names.items():
        if name not in _RATIOS or cols.numbers(column) is None:
            continue
        x = cols.numbers(column)
        limits = _limits(cols, lambda b, name=name: b in (name, ""))
        if limits is None or not np.all(x[~np.isnan(x)] > 0):
            continue
        if cols.at_most(limits[0], column) and cols.at_most(column, limits[1]):
            out.append(Detected("generic", f"{name.upper()} (ratio)", (("ratio", column), ("ci_lower", limits[0]),
                                                                        ("ci_upper", limits[1])),
                                "ratios with their confidence limits, pooled on the log scale"))
    return out


def _medians(cols: _Columns) -> list[Detected]:
    out = []
    for name, column in cols.names.items():
        tokens = name.split("_")
        limit = any(_limit_base(name, words) is not None for words in (_LOWER, _UPPER))
        if ("median" not in tokens or limit or {"followup", "follow", "age"} & set(tokens)
                or not cols.is_nonnegative(column)):
            continue
        stem = "_".join(tokens[: tokens.index("median")])
        limits = _limits(cols, lambda b, name=name, stem=stem: b == stem if not b else b != name and (
            name.startswith(b) or b == stem))
        pairs = (("median", column),)
        if limits and cols.at_most(limits[0], column) and cols.at_most(column, limits[1]):
            pairs += (("lower", limits[0]), ("upper", limits[1]))
        out.append(Detected("median", _title(name), pairs,
                            "medians" + (" with their confidence limits" if len(pairs) == 3 else "")))
    return out


def _size_column(cols: _Columns) -> str | None:
    """The study size column: named as a total (``n``, ``total``, ``ni``, ...) and holding counts."""
    return next((cols.names[w] for w in ("n", "ni", "total", "n_total", "patients", "sample_size", "size")
                 if w in cols.names and cols.is_count(cols.names[w])), None)


def _one_group(cols: _Columns, used: set) -> list[Detected]:
    size = _size_column(cols)
    if size is None:
        return []
    sizes = {name: column for name, column in cols.names.items()
             if name.split("_")[-1] in _STEMS["size"] and cols.is_count(column)}
    out = []
    for name, column in cols.names.items():
        if (column in used or name in sizes or _role_arm(name) is not None or set(name.split("_")) & _NOT_EVENTS
                or not cols.is_count(column)):  # a group's column (events_c) is not a one-group outcome
            continue
        prefix = "_".join(name.split("_")[:-1])
        own = next((c for n, c in sizes.items() if prefix and n.startswith(prefix + "_") and c != size), None)
        total = own if own is not None and cols.at_most(column, own) else size
        if total != column and cols.at_most(column, total):
            out.append(Detected("proportion", _title(name), (("events", column), ("total", total)),
                                "events out of a total in one group"))
    return out


def detect_outcomes(table) -> tuple[Detected, ...]:
    """The outcomes a study table holds, by column names and contents (see the module docstring).

    Two-group data, precomputed effects, ratios and medians first; the count
    columns they leave that never exceed a total column are one-group
    proportions. An empty tuple when nothing is recognised.
    """
    cols = _Columns(table)
    found = _two_group(cols) + _generic(cols) + _ratios(cols) + _medians(cols)
    used = {column for d in found for _, column in d.columns}
    return tuple(found + _one_group(cols, used))


def detect_study_columns(table) -> dict:
    """Study-level columns by name: ``study`` (labels; a text column first), ``n``, ``design``,
    ``risk_of_bias`` and ``followup`` (None where none is found)."""
    cols = _Columns(table)
    labels = [cols.names[w] for w in _STUDY if w in cols.names]
    text = [c for c in labels if cols.numbers(c) is None]
    first_text = next((c for c in table if cols.numbers(c) is None), None)
    study = next(iter(text), None) or first_text or next(iter(labels), None) or next(iter(table), None)
    found = {"study": study, "n": _size_column(cols)}
    for key, words in (("design", ("design", "study_design")), ("risk_of_bias", ("risk_of_bias", "rob", "overall_rob")),
                       ("followup", ("followup", "follow_up", "followup_months", "followup_median_months",
                                     "median_followup", "followup_median"))):
        found[key] = _pick(cols, set(words))
    return found

"""``review.toml``: what a review searched for, where, and why records are excluded.

A review folder holds ``review.toml`` (written as a commented template by
``metapool review init``, then edited by the team) and, by default, the
database ``review.db``. The file says:

- ``title``, and the question as PICO fields (``[question]``: population,
  intervention, comparator, outcomes; study designs);
- ``reviewers_per_record``: 1 or 2 independent reviewers per record at each
  screening stage;
- ``keywords``: words and phrases highlighted in titles and abstracts on the
  screening screen of ``metapool serve`` (they only help the eye: nothing is
  ranked or excluded by them);
- ``[[exclusion_reasons]]``: the eligibility criteria as named reasons, each
  a short ``code`` (what a reviewer types, what decisions store) and its ``text``;
- ``[[databases]]``: each database searched, its ``name`` (what
  ``metapool review import --source`` names), the ``search`` string, the date
  it was ``searched`` and the date limits ``from`` / ``to`` (a year or a date);
  ``register = true`` for a trial register (ClinicalTrials.gov, WHO ICTRP),
  which PRISMA 2020 counts apart from the bibliographic databases.

The file is parsed with :func:`~metapool.io.settings.parse_toml` (tomllib) into the frozen :class:`ReviewConfig`;
an unknown key, a value of the wrong kind or a repeated code or name raises
:class:`~metapool.exceptions.MetapoolError` naming the file and the key
(``databases[2].searched``).

References
----------
Page MJ, McKenzie JE, Bossuyt PM, et al. The PRISMA 2020 statement: an updated
guideline for reporting systematic reviews. BMJ 2021;372:n71 (items 5-7: eligibility
criteria, information sources, search strategy).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import DataValidationError
from ..io.settings import parse_toml
from ..io.decoding import decode_text, read_bytes

__all__ = ["ReviewConfig", "Question", "ExclusionReason", "Database", "CONFIG_NAME", "TEMPLATE", "parse_config",
           "load_config", "config_text"]

#: The review file's name in a review folder.
CONFIG_NAME = "review.toml"

#: A reason's code: what reviewers type and decisions store (letters, digits, ``-`` and ``_``).
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class Question:
    """The review question (PICO); empty text where the team has not written it."""

    population: str = ""
    intervention: str = ""
    comparator: str = ""
    outcomes: str = ""
    study_designs: str = ""


@dataclass(frozen=True)
class ExclusionReason:
    """One eligibility criterion, as the reason a record is excluded: its short ``code`` and ``text``."""

    code: str
    text: str


@dataclass(frozen=True)
class Database:
    """One database searched: its name, search string, date searched and date limits (each may be unset).

    ``date_from`` / ``date_to`` are a year (``2017``) or a date, as written;
    ``register`` marks a trial register (PRISMA 2020's "registers").
    """

    name: str
    search: str = ""
    searched: dt.date | None = None
    date_from: int | dt.date | None = None
    date_to: int | dt.date | None = None
    register: bool = False


@dataclass(frozen=True)
class ReviewConfig:
    """The checked content of ``review.toml``."""

    title: str
    question: Question
    reviewers_per_record: int
    exclusion_reasons: tuple[ExclusionReason, ...]
    databases: tuple[Database, ...]
    source: str = CONFIG_NAME
    keywords: tuple[str, ...] = ()

    def database(self, name: str) -> Database:
        """The database called ``name``; an error listing the databases of the file otherwise."""
        for db in self.databases:
            if db.name == name:
                return db
        names = ", ".join(repr(db.name) for db in self.databases) or "none yet"
        raise DataValidationError(f"source {name!r} is not a database of {self.source} (its [[databases]]: {names});"
                                  " add it there, with its search string and date, or name one of those.")


TEMPLATE = '''\
# review.toml: the review's question, eligibility criteria and searches (metapool review).
# Edit this file; metapool reads it on every command. Dates are written 2025-03-01 (no quotes).

title = "Untitled review"

# 1: one reviewer screens each record; 2: two independent reviewers, conflicts resolved by a third decision.
reviewers_per_record = 2

# Words and phrases highlighted in titles and abstracts when screening in the browser (metapool serve).
keywords = []               # e.g. ["venetoclax", "azacitidine", "relapsed"]

[question]                  # PICO
population = ""             # e.g. "adults with relapsed or refractory AML"
intervention = ""           # e.g. "hypomethylating agent + venetoclax"
comparator = ""             # e.g. "none (single-arm cohorts) or intensive chemotherapy"
outcomes = ""               # e.g. "overall response, complete remission, overall survival"
study_designs = ""          # e.g. "cohorts and trials with at least 20 participants"

# Eligibility criteria, as the reasons a record is excluded. A decision names the code.
# Add one [[exclusion_reasons]] table per reason; codes are short (letters, digits, - and _).
[[exclusion_reasons]]
code = "population"
text = "Population outside the question"

[[exclusion_reasons]]
code = "intervention"
text = "Intervention outside the question"

[[exclusion_reasons]]
code = "design"
text = "Study design not eligible"

# Each database searched: the name `metapool review import --source` uses, the search string
# as run, the date it was run, and the date limits of the search (a year or a date; leave out if none).
# [[databases]]
# name = "MEDLINE (Ovid)"
# search = """
# 1 exp Leukemia, Myeloid, Acute/
# 2 venetoclax.mp.
# 3 1 and 2
# """
# searched = 2025-03-01
# from = 2017
# to = 2025-03-01
# A trial register is listed the same way, marked (PRISMA 2020 counts registers apart):
# [[databases]]
# name = "ClinicalTrials.gov"
# searched = 2025-03-01
# register = true
'''

_TOP_KEYS = ("title", "reviewers_per_record", "keywords", "question", "exclusion_reasons", "databases")
_QUESTION_KEYS = ("population", "intervention", "comparator", "outcomes", "study_designs")
_REASON_KEYS = ("code", "text")
_DATABASE_KEYS = ("name", "search", "searched", "from", "to", "register")


def _kind(value: object) -> str:
    kinds = ((bool, "true/false"), (str, "a text"), (int, "a number"), (float, "a number"), (list, "a list"),
             (dict, "a table"), (dt.datetime, "a date and time"), (dt.date, "a date"))
    return next((text for kind, text in kinds if isinstance(value, kind)), type(value).__name__)


class _Checker:
    """Checks values of a review file; every error names the file and the key path."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, problem: str) -> DataValidationError:
        return DataValidationError(f"{self.source}: key {key!r}: {problem}")

    def known(self, raw: dict, allowed: tuple, where: str = "") -> None:
        unknown = sorted(set(raw) - set(allowed))
        if unknown:
            raise self.fail(where + unknown[0], f"unknown key; allowed: {', '.join(allowed)}.")

    def text(self, value, key: str, required: bool = False) -> str:
        if not isinstance(value, str) or (required and not value.strip()):
            got = "empty" if isinstance(value, str) else _kind(value)
            raise self.fail(key, f"must be {'a non-empty' if required else 'a'} text in quotes, not {got}.")
        return value.strip()

    def tables(self, value, key: str) -> list:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, f"each entry is a table of keys under its own [[{key}]] line, not {_kind(value)}.")
        return value

    def date(self, value, key: str, year: bool = False):
        if year and isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 9999:
            return value
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        what = "a year (2017) or a date (2017-01-01)" if year else "a date written 2025-03-01 (no quotes)"
        raise self.fail(key, f"must be {what}, not {value!r}.")

    def unique(self, values: list[str], key: str) -> None:
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise self.fail(key, f"must be unique; repeated: {', '.join(map(repr, repeated))}.")


def _database(chk: _Checker, raw: dict, i: int) -> Database:
    where = f"databases[{i + 1}]."
    chk.known(raw, _DATABASE_KEYS, where)
    if "name" not in raw:
        raise chk.fail(where + "name", "missing; each database needs its name (e.g. \"MEDLINE (Ovid)\").")
    limits = {attr: chk.date(raw[key], where + key, year=True) for key, attr in (("from", "date_from"), ("to", "date_to"))
              if key in raw}
    register = raw.get("register", False)
    if not isinstance(register, bool):
        raise chk.fail(where + "register", f"must be true (a trial register) or false, not {_kind(register)}.")
    return Database(name=chk.text(raw["name"], where + "name", required=True),
                    search=chk.text(raw.get("search", ""), where + "search"),
                    searched=chk.date(raw["searched"], where + "searched") if "searched" in raw else None,
                    register=register, **limits)


def _reason(chk: _Checker, raw: dict, i: int) -> ExclusionReason:
    where = f"exclusion_reasons[{i + 1}]."
    chk.known(raw, _REASON_KEYS, where)
    for key in _REASON_KEYS:
        if key not in raw:
            raise chk.fail(where + key, "missing; each reason needs a short code and its text.")
    code = chk.text(raw["code"], where + "code", required=True)
    if not _CODE.match(code):
        raise chk.fail(where + "code", f"{code!r} is not a short code (up to 32 letters, digits, - and _).")
    return ExclusionReason(code=code, text=chk.text(raw["text"], where + "text", required=True))


def parse_config(text: str, source: str = CONFIG_NAME) -> ReviewConfig:
    """Parse and check the TOML text of a review file (see the module docstring)."""
    raw = parse_toml(text, source)
    chk = _Checker(source)
    chk.known(raw, _TOP_KEYS)
    question = raw.get("question", {})
    if not isinstance(question, dict):
        raise chk.fail("question", f"must be a table ([question] with {', '.join(_QUESTION_KEYS)}), not {_kind(question)}.")
    chk.known(question, _QUESTION_KEYS, "question.")
    reviewers = raw.get("reviewers_per_record", 2)
    if reviewers not in (1, 2) or isinstance(reviewers, bool):
        raise chk.fail("reviewers_per_record", f"must be 1 or 2, not {reviewers!r}.")
    reasons = tuple(_reason(chk, r, i) for i, r in enumerate(chk.tables(raw.get("exclusion_reasons", []),
                                                                         "exclusion_reasons")))
    chk.unique([r.code for r in reasons], "exclusion_reasons.code")
    databases = tuple(_database(chk, d, i) for i, d in enumerate(chk.tables(raw.get("databases", []), "databases")))
    chk.unique([d.name for d in databases], "databases.name")
    keywords = raw.get("keywords", [])
    if not isinstance(keywords, list):
        raise chk.fail("keywords", f"must be a list of texts in quotes ([\"venetoclax\", \"AML\"]),"
                                   f" not {_kind(keywords)}.")
    keywords = [chk.text(k, f"keywords[{i + 1}]", required=True) for i, k in enumerate(keywords)]
    return ReviewConfig(
        title=chk.text(raw.get("title", "Untitled review"), "title", required=True),
        question=Question(**{k: chk.text(question[k], "question." + k) for k in _QUESTION_KEYS if k in question}),
        reviewers_per_record=reviewers,
        exclusion_reasons=reasons,
        databases=databases,
        source=source,
        keywords=tuple(dict.fromkeys(keywords)),
    )


def load_config(path: str | Path) -> ReviewConfig:
    """Read and check a review file (UTF-8, else Windows-1252 or Latin-1, as analysis files are read)."""
    path = Path(path)
    decoded = decode_text(read_bytes(path, "Review file"), path.name)
    return parse_config(decoded.text, str(path))


def config_text(title: str, reviewers_per_record: int = 2, question: Question = Question(),
                keywords: tuple[str, ...] = (), exclusion_reasons: tuple[ExclusionReason, ...] = (),
                databases: tuple[Database, ...] = ()) -> str:
    """The text of a ``review.toml`` holding these values (what the web app's "new review" form writes).

    Every text is written as a TOML string (:func:`~metapool.io.settings.toml_string`), so user text
    can never become a key or a table; the result is checked by :func:`parse_config` before it is returned.
    """
    from ..io.settings import toml_string as q

    lines = ["# review.toml: the review's question, eligibility criteria and searches (metapool review).",
             "# Edit this file; metapool reads it on every command. See docs/review.md.", "",
             f"title = {q(title)}", f"reviewers_per_record = {int(reviewers_per_record)}",
             f"keywords = [{', '.join(q(k) for k in keywords)}]", "", "[question]"]
    lines += [f"{k} = {q(getattr(question, k))}" for k in _QUESTION_KEYS]
    for r in exclusion_reasons:
        lines += ["", "[[exclusion_reasons]]", f"code = {q(r.code)}", f"text = {q(r.text)}"]
    for d in databases:
        lines += ["", "[[databases]]", f"name = {q(d.name)}"]
        lines += [f"search = {q(d.search)}"] if d.search else []
        lines += [f"searched = {d.searched.isoformat()}"] if d.searched else []
        lines += [f"{key} = {v if isinstance(v, int) else v.isoformat()}" for key, v in
                  (("from", d.date_from), ("to", d.date_to)) if v is not None]
        lines += ["register = true"] if d.register else []
    text = "\n".join(lines) + "\n"
    parse_config(text)
    return text

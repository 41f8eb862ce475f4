"""The vocabulary of study designs: what a ``design`` cell may say and what each design implies.

A design cell is matched as a whole, after normalising case, hyphens,
British/American spelling and words that carry no design ("study", "trial",
"phase 2", "double-blind", ...): "Non-randomised controlled study",
"nonrandomized controlled trial" and "not randomised" are all the
non-randomised controlled design, and no text is ever read as randomised
because it *contains* "random". A value matching no spelling is an error that
lists the vocabulary, never a guess.

Each design carries its level in the OCEBM 2011 table for treatment benefits
(randomised trial 2, non-randomised controlled cohort/follow-up study 3, case
series, case-control and historically controlled studies 4; a systematic
review of randomised trials is level 1) and its GRADE starting certainty
(randomised trials start high, observational studies low).

References
----------
OCEBM Levels of Evidence Working Group (2011). The Oxford 2011 Levels of
Evidence. Oxford Centre for Evidence-Based Medicine. Table, question "Does this
intervention help? (Treatment benefits)".
Balshem H et al. (2011). GRADE guidelines: 3. Rating the quality of evidence.
J Clin Epidemiol 64:401-406.
Guyatt GH et al. (2008). GRADE: an emerging consensus on rating quality of
evidence and strength of recommendations. BMJ 336:924-926.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..exceptions import DataValidationError
from ..io.parsing import MISSING_MARKERS, describe_row

__all__ = ["Design", "DESIGNS", "normalise", "parse_design", "row_designs", "vocabulary_text"]

_OCEBM = "OCEBM 2011 Levels of Evidence, treatment benefits"


@dataclass(frozen=True)
class Design:
    """One study design.

    Attributes
    ----------
    code
        Stable identifier (``"rct"``), used in results.json.
    name, plural
        Display names ("randomised controlled trial(s)").
    randomised
        Whether allocation to the compared groups was random.
    concurrent_control
        Whether the study has a control group followed at the same time
        (historical controls and single-arm studies have none).
    ocebm_level
        Level of one such study in the OCEBM 2011 table for treatment benefits.
    spellings
        Accepted spellings of a ``design`` cell (matched after :func:`normalise`).
    reference
        Where the design's level and starting point come from.
    """

    code: str
    name: str
    plural: str
    randomised: bool
    concurrent_control: bool
    ocebm_level: int
    spellings: tuple[str, ...]
    reference: str = f"{_OCEBM}; GRADE (Balshem 2011)"

    @property
    def grade_start(self) -> str:
        """GRADE starting certainty: high for randomised trials, low for observational studies (Balshem 2011)."""
        return "high" if self.randomised else "low"


_RCT = ("RCT", "randomised", "randomised controlled trial", "randomised clinical trial", "randomised trial",
        "randomised control trial", "individually randomised trial", "randomised placebo-controlled trial")

#: The design vocabulary, by code.
DESIGNS: dict[str, Design] = {d.code: d for d in (
    Design("rct", "randomised controlled trial", "randomised controlled trials", True, True, 2, _RCT),
    Design("cluster_rct", "cluster-randomised trial", "cluster-randomised trials", True, True, 2,
           ("cluster RCT", "cRCT", "cluster-randomised", "cluster-randomised controlled trial",
            "cluster randomised trial")),
    Design("crossover_rct", "randomised crossover trial", "randomised crossover trials", True, True, 2,
           ("crossover RCT", "randomised crossover", "randomised cross-over trial", "crossover randomised trial",
            "randomised controlled crossover trial")),
    Design("nrs", "non-randomised controlled study", "non-randomised controlled studies", False, True, 3,
           ("non-randomised controlled study", "non-randomised", "nonrandomised controlled trial",
            "non-randomised comparative study", "not randomised", "unrandomised", "quasi-randomised",
            "quasi-randomised controlled trial", "pseudo-randomised", "pseudo-randomised controlled trial",
            "controlled clinical trial", "CCT", "NRS", "NRSI", "quasi-experimental study")),
    Design("cohort", "cohort study", "cohort studies", False, True, 3,
           ("cohort", "cohort study", "controlled cohort", "comparative cohort")),
    Design("prospective_cohort", "prospective cohort study", "prospective cohort studies", False, True, 3,
           ("prospective cohort", "prospective", "prospective comparative cohort", "prospective controlled cohort")),
    Design("retrospective_cohort", "retrospective cohort study", "retrospective cohort studies", False, True, 3,
           ("retrospective cohort", "retrospective", "retrospective comparative cohort",
            "retrospective controlled cohort")),
    Design("case_control", "case-control study", "case-control studies", False, True, 4,
           ("case-control", "case control study", "case-referent study")),
    Design("single_arm", "single-arm trial or case series", "single-arm trials or case series", False, False, 4,
           ("single-arm", "single-arm trial", "phase 2 single-arm", "single-arm phase II trial", "single group",
            "one-arm", "uncontrolled", "uncontrolled trial", "non-comparative", "case series",
            "prospective single-arm", "retrospective single-arm", "prospective case series",
            "retrospective case series", "single-arm cohort", "uncontrolled cohort")),
    Design("historically_controlled", "historically controlled study", "historically controlled studies",
           False, False, 4,
           ("historically controlled", "historical control", "historical controls", "historically controlled cohort")),
)}

#: Words and phrases that say nothing about the design; removed before matching.
_NEUTRAL = re.compile(
    r"\b(?:stud(?:y|ies)|trials?|design|(?:double|single|triple) blind(?:ed)?|blinded|open label|"
    r"multi ?cent(?:er|re)|single cent(?:er|re)|pragmatic|parallel(?: group)?|placebo|"
    r"phase (?:[1-4]|i{1,3}|iv)[ab]?(?: (?:[1-4]|i{1,3}|iv)[ab]?)?)\b")


def normalise(text: str) -> str:
    """A design text reduced for matching: case, hyphens, spelling and neutral words removed.

    ``"Non-Randomised Controlled Study"`` and ``"nonrandomized controlled
    trial"`` both become ``"non randomized controlled"``.
    """
    t = unicodedata.normalize("NFKC", text).casefold()
    t = re.sub(r"[\s\-‐‑‒–—_/,;:.()\[\]]+", " ", t)
    t = re.sub(r"randomis", "randomiz", t)
    t = re.sub(r"\bunrandomiz", "non randomiz", t)
    t = re.sub(r"\bnon(?=[a-z])", "non ", t)
    t = re.sub(r"\bcross over\b", "crossover", t)
    t = _NEUTRAL.sub(" ", t)
    return " ".join(t.split())


_LOOKUP: dict[str, Design] = {}
for _design in DESIGNS.values():
    for _spelling in _design.spellings:
        _key = normalise(_spelling)
        if _LOOKUP.setdefault(_key, _design) is not _design:
            raise RuntimeError(f"design spelling {_spelling!r} is claimed by two designs")  # pragma: no cover


def vocabulary_text() -> str:
    """The vocabulary as one sentence, for error messages."""
    return "; ".join(f"{d.name} ({', '.join(repr(s) for s in d.spellings[:3])}, ...)" for d in DESIGNS.values())


def parse_design(text: str) -> Design:
    """The design a text names, matched as a whole after :func:`normalise`.

    Raises
    ------
    DataValidationError
        When the text names no design of :data:`DESIGNS` (the message lists them).
    """
    design = _LOOKUP.get(normalise(str(text)))
    if design is None:
        raise DataValidationError(f"design {str(text)!r} is not recognised; the designs are: {vocabulary_text()}.")
    return design


def _missing(cell) -> bool:
    return cell is None or (isinstance(cell, float) and cell != cell) or str(cell).strip().lower() in MISSING_MARKERS


def row_designs(cells, n_rows: int, column: str | None = None, default: Design | None = None,
                labels=None) -> tuple[Design | None, ...]:
    """Each row's design: its cell parsed, else ``default`` (None: not stated).

    Parameters
    ----------
    cells
        The design column's cells (None when the table has no design column).
    n_rows
        Rows of the table.
    column
        The column's name, for errors.
    default
        The design of rows whose cell is empty (the analysis file's ``design_default``).
    labels
        Study labels, one per row, to name the study in errors.

    Raises
    ------
    DataValidationError
        Naming the row, study and column of a value that is not in the vocabulary.
    """
    if cells is None:
        return (default,) * n_rows
    out = []
    for i, cell in enumerate(cells):
        if _missing(cell):
            out.append(default)
            continue
        try:
            out.append(parse_design(cell))
        except DataValidationError as exc:
            raise DataValidationError(f"{describe_row(i, labels)}, column {column!r}: {exc}") from None
    return tuple(out)

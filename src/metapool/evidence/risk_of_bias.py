"""Per-study, per-domain risk-of-bias judgements (RoB 2 / ROBINS-I style), for the robvis figures.

The vocabulary is closed: :data:`JUDGEMENTS` (low, some concerns, high, no
information, as RoB 2 words them), each with accepted spellings
(:data:`SPELLINGS`: ROBINS-I's "moderate"/"serious"/"critical", Cochrane's
older "unclear", one-letter forms; not "?", which means "unclear" in RoB 1
but "no information" in robvis); a cell outside it is an error naming row,
study, column and value. An empty cell is "no information".

References
----------
Sterne JAC et al. (2019). RoB 2: a revised tool for assessing risk of bias in
randomised trials. BMJ 366:l4898.
McGuinness LA, Higgins JPT (2021). Risk-of-bias VISualization (robvis): an R
package and Shiny web app for visualizing risk-of-bias assessments. Res Synth
Methods 12:55-61.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..exceptions import DataValidationError
from ..io.parsing import MISSING_MARKERS, describe_study

__all__ = ["JUDGEMENTS", "SPELLINGS", "RiskOfBiasTable", "parse_judgement", "risk_of_bias_table"]

#: The judgements, from best to worst, and "no information" last.
JUDGEMENTS = ("low", "some concerns", "high", "no information")

#: Accepted spellings (casefolded, spaces collapsed) of each judgement.
SPELLINGS: dict[str, str] = {
    **dict.fromkeys(("low", "low risk", "low risk of bias", "l", "+"), "low"),
    **dict.fromkeys(("some concerns", "some concern", "unclear", "unclear risk", "moderate", "moderate risk",
                     "some", "s", "u"), "some concerns"),
    **dict.fromkeys(("high", "high risk", "high risk of bias", "serious", "critical", "h", "-", "x"), "high"),
    **dict.fromkeys(("no information", "no info", "not reported", "ni", "missing"), "no information"),
}


def parse_judgement(cell) -> str:
    """A risk-of-bias cell as one of :data:`JUDGEMENTS` (an empty cell is "no information").

    Raises
    ------
    DataValidationError
        For a value outside :data:`SPELLINGS`, listing the judgements.
    """
    if cell is None or (isinstance(cell, float) and cell != cell):
        return "no information"
    text = " ".join(str(cell).casefold().split())
    if text in MISSING_MARKERS:
        return "no information"
    if text not in SPELLINGS:
        raise DataValidationError(f"risk-of-bias judgement {str(cell)!r} is not recognised; the judgements are: "
                                  + ", ".join(JUDGEMENTS) + " (also: unclear/moderate for some concerns;"
                                  " serious/critical for high)")
    return SPELLINGS[text]


@dataclass(frozen=True)
class RiskOfBiasTable:
    """Each study's judgement per domain, and overall when declared.

    Attributes
    ----------
    studies
        Study labels, one per table row (distinct: a repeated label carries
        its row).
    domains
        Domain names (the columns declared by ``risk_of_bias_domains``).
    judgements
        ``judgements[i][j]``: study i, domain j, one of :data:`JUDGEMENTS`.
    overall
        Each study's overall judgement (the ``risk_of_bias`` column), or None.
    """

    studies: tuple
    domains: tuple
    judgements: tuple
    overall: tuple | None = None

    def counts(self) -> dict:
        """Domain (and "Overall") to the number of studies with each judgement."""
        columns = {d: [row[j] for row in self.judgements] for j, d in enumerate(self.domains)}
        if self.overall is not None:
            columns["Overall"] = list(self.overall)
        return {d: {j: cells.count(j) for j in JUDGEMENTS} for d, cells in columns.items()}

    def to_dict(self) -> dict:
        return {"domains": list(self.domains), "overall": self.overall is not None,
                "studies": [{"study": s, **dict(zip(self.domains, row)),
                             **({"Overall": self.overall[i]} if self.overall is not None else {})}
                            for i, (s, row) in enumerate(zip(self.studies, self.judgements))],
                "counts": self.counts()}


def risk_of_bias_table(studies, domains: dict, overall=None, overall_column: str = "") -> RiskOfBiasTable:
    """Parse the judgement cells of each domain column (and the overall column).

    Parameters
    ----------
    studies
        Study label of each row.
    domains
        Domain column name to its cells (one per row).
    overall, overall_column
        The overall judgement's cells and column name, or None.

    Raises
    ------
    DataValidationError
        ``row 3 (study 'Smith 2010'), column 'D2': risk-of-bias judgement 'maybe' is not recognised; ...``.
    """
    studies = tuple(studies)

    def parse(cells, column):
        out = []
        for i, cell in enumerate(cells):
            try:
                out.append(parse_judgement(cell))
            except DataValidationError as exc:
                raise DataValidationError(f"{describe_study(i, studies[i])}, column {column!r}: {exc}") from None
        return out

    columns = [parse(cells, name) for name, cells in domains.items()]
    return RiskOfBiasTable(
        studies=studies,
        domains=tuple(domains),
        judgements=tuple(zip(*columns)) if columns else tuple(() for _ in studies),
        overall=None if overall is None else tuple(parse(overall, overall_column)),
    )

"""Bundled example data sets, with their provenance.

The worked examples of metafor's companion data (package ``metadat``) are
shipped as CSV files so that examples, the demo and the published-example
tests run without R.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..exceptions import OptionError
from ..io.tables import StudyTable, read_table

__all__ = ["Dataset", "DATASETS", "load_dataset"]

_DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Dataset:
    """A bundled data set: file, description, source and suggested column roles."""

    name: str
    file: str
    description: str
    source: str
    roles: dict
    measure: str

    @property
    def path(self) -> Path:
        return _DATA / self.file


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "pritz1997",
            "pritz1997.csv",
            "14 single-arm studies of hyperdynamic therapy for cerebral vasospasm:"
            " patients improved (xi) out of patients treated (ni).",
            "Pritz MB (1997). Neurosurgery Quarterly 7:273-285; data as in Zhou XH, Brizendine EJ,"
            " Pritz MB (1999). Methods for combining rates from several studies. Stat Med"
            " 18:557-566; distributed as dat.pritz1997 in R's metadat package.",
            {"xi": "xi", "ni": "ni", "slab": "authors"},
            "PLO",
        ),
        Dataset(
            "bcg",
            "bcg.csv",
            "13 trials of the BCG vaccine against tuberculosis: TB cases and non-cases in the"
            " vaccinated (tpos, tneg) and control (cpos, cneg) groups, absolute latitude and year.",
            "Colditz GA et al. (1994). Efficacy of BCG vaccine in the prevention of tuberculosis."
            " JAMA 271:698-702; distributed as dat.bcg in R's metadat package.",
            {"ai": "tpos", "bi": "tneg", "ci": "cpos", "di": "cneg", "slab": "author"},
            "RR",
        ),
        Dataset(
            "normand1999",
            "normand1999.csv",
            "9 studies of length of hospital stay (days) of stroke patients under specialised"
            " (group 1) versus routine (group 2) care: means, SDs and sizes.",
            "Normand SLT (1999). Meta-analysis: Formulating, evaluating, combining, and reporting."
            " Stat Med 18:321-359; distributed as dat.normand1999 in R's metadat package.",
            {"m1i": "m1i", "sd1i": "sd1i", "n1i": "n1i", "m2i": "m2i", "sd2i": "sd2i", "n2i": "n2i", "slab": "source"},
            "MD",
        ),
    )
}


def load_dataset(name: str) -> StudyTable:
    """Read a bundled data set as a :class:`~metapool.io.StudyTable`.

    Use ``.to_frame()`` on the result for a pandas DataFrame.
    """
    if name not in DATASETS:
        raise OptionError(f"Unknown data set {name!r}; available: {', '.join(DATASETS)}.")
    return read_table(DATASETS[name].path)

"""Appraisal of the evidence behind a pooled result: study designs and the evidence level.

:mod:`~metapool.evidence.designs` is the closed vocabulary of study designs
(with their OCEBM 2011 level and GRADE starting certainty);
:mod:`~metapool.evidence.level` derives an outcome's evidence level and GRADE
starting point from the designs of the studies it analysed and from whether
its measure compares two groups; :mod:`~metapool.evidence.grade` judges the
five GRADE domains and the certainty (:mod:`~metapool.evidence.assess` reads
them from a fitted model), with absolute effects from
:mod:`~metapool.evidence.absolute`.
"""

from .designs import DESIGNS, Design, parse_design, row_designs
from .level import Comparison, EvidenceLevel, Start, comparison_of, evidence_level, grade_start

__all__ = ["DESIGNS", "Design", "parse_design", "row_designs", "Comparison", "comparison_of",
           "EvidenceLevel", "evidence_level", "Start", "grade_start"]

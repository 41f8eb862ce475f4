"""Build the SYNTHETIC demo review: the invented search exports of ``data/review_demo``, deduplicated and screened.

``metapool demo`` builds it in a temporary folder and runs the demo analysis
with it, so the demo report shows the search methods and the PRISMA 2020
diagram. Everything is invented and deterministic (no random numbers): the
records of :mod:`metapool.datasets.make_review_demo`, the question, searches
and exclusion reasons of ``data/review_demo/review.toml``, and two reviewers'
decisions ("Reviewer A", "Reviewer B"; conflicts resolved by "Lead"), made
from ``labels.csv`` (which invented work each record reports):

- included: every sixth invented article, :data:`N_INCLUDED` in all (the
  number of studies of the demo analysis), each with its conference
  abstracts (which deduplication keeps apart), linked as reports of one study;
- excluded at full text: the articles three after those (every sixth
  again), the reason cycling through the exclusion reasons, every
  thirteenth not retrieved;
- excluded at title and abstract: every other record (errata included).

Reviewer B disagrees on every seventeenth record excluded at title and
abstract and on every ninth excluded at full text; "Lead" settles each of
those conflicts with the first decision (so agreement and kappa are shown).
Duplicates are removed first (:func:`metapool.review.duplicates.run_dedup`,
its automatic merges only).
"""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["DEMO_FOLDER", "N_INCLUDED", "build_review_demo"]

DEMO_FOLDER = Path(__file__).parent / "data" / "review_demo"

#: Studies the demo review includes: those of the demo analysis' study table.
N_INCLUDED = 32

_FILES = (("embase.ris", "Embase (Ovid)"), ("medline.nbib", "MEDLINE (PubMed)"), ("scopus.ris", "Scopus"))
_WHO = "metapool demo (SYNTHETIC)"


def _labels() -> dict[tuple[str, str], dict]:
    with (DEMO_FOLDER / "labels.csv").open(encoding="utf-8", newline="") as fh:
        return {(r["file"], r["record_id"]): r for r in csv.DictReader(fh)}


def _plan(units: dict[int, dict]) -> tuple[dict[int, str], dict[int, tuple[str, str | None]], list[list[int]]]:
    """The outcome per unit at ta (include/exclude) and ft ((decision, reason)), and the reports to link."""
    articles = sorted({r["work"] for r in units.values() if r["work"].startswith("W")})
    included = set(articles[::6][:N_INCLUDED])
    full_text = articles[3::6]
    reasons = ("population", "intervention", "design", "outcomes")
    ta, ft, studies = {}, {}, {}
    for unit, label in sorted(units.items()):
        work = label["work"]
        study = work if work in included else label["related_to"] if (
            label["kind"] == "conference abstract" and label["related_to"] in included) else None
        if study is not None:
            ta[unit], ft[unit] = "include", ("include", None)
            studies.setdefault(study, []).append(unit)
        elif work in full_text:
            i = full_text.index(work)
            ta[unit] = "include"
            ft[unit] = ("not_retrieved", None) if i % 13 == 12 else ("exclude", reasons[i % len(reasons)])
        else:
            ta[unit] = "exclude"
    return ta, ft, [units_ for units_ in studies.values() if len(units_) > 1]


def build_review_demo(folder: str | Path):
    """Create the SYNTHETIC demo review in ``folder`` (which must not hold a review); returns it, open."""
    from ..review.duplicates import run_dedup
    from ..review.imports import import_files
    from ..review.prisma import link_reports
    from ..review.screening import decide, import_decisions, stage_outcomes
    from ..review.status import record_table
    from ..review.store import init_review, open_review

    folder = Path(folder)
    init_review(folder, who=_WHO).engine.dispose()
    (folder / "review.toml").write_text((DEMO_FOLDER / "review.toml").read_text(encoding="utf-8"), encoding="utf-8")
    review = open_review(folder)
    for name, database in _FILES:
        import_files(review, [DEMO_FOLDER / name], database, who=_WHO)
    run_dedup(review, who=_WHO)
    labels = _labels()
    rows = {r["id"]: labels[(r["source_file"], r["record_id"])] for r in record_table(review)}
    units = {u.record: rows[u.record] for u in stage_outcomes(review, "ta").units}
    ta, ft, linked = _plan(units)
    excluded_ta = [u for u, d in ta.items() if d == "exclude"]
    excluded_ft = [u for u, (d, _) in ft.items() if d == "exclude"]
    ta_plan = {u: (d, None) for u, d in ta.items()}
    for stage, plan, disputed in (("ta", ta_plan, set(excluded_ta[16::17])), ("ft", ft, set(excluded_ft[8::9]))):
        for reviewer in ("Reviewer A", "Reviewer B"):
            sheet = [(i, {"id": str(u), "decision": "include" if reviewer == "Reviewer B" and u in disputed else d,
                          "reason": "" if reviewer == "Reviewer B" and u in disputed else r or ""})
                     for i, (u, (d, r)) in enumerate(sorted(plan.items()), 2)]
            import_decisions(review, sheet, stage, reviewer, who=_WHO, source=f"SYNTHETIC {stage} sheet")
        for u in sorted(disputed):
            decision, reason = plan[u]
            decide(review, u, stage, "Lead", decision, reason=reason, who=_WHO, resolve=True)
    for reports in linked:
        link_reports(review, reports, who=_WHO)
    return review

"""PRISMA 2020 counts, their arithmetic, the flow diagram, the study table and links (issue 14).

A hand-built review on SQLite: 10 MEDLINE and 4 Embase records, two Embase
records duplicates of MEDLINE ones (two clusters), one reviewer per record.
Title/abstract: 12 screened, 5 excluded, 7 forward; full text: 1 not
retrieved, 2 excluded (population, design), 4 included, two of them reports
of one study (3 studies).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

sa = pytest.importorskip("sqlalchemy")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from metapool.cli.main import main  # noqa: E402
from metapool.exceptions import MetapoolError  # noqa: E402
from metapool.review import schema  # noqa: E402
from metapool.review.imports import store_import  # noqa: E402
from metapool.review.prisma import (check_prisma, citation, included_studies, link_reports,  # noqa: E402
                                    prisma_counts, study_label, unlink_reports)
from metapool.review.record import ParsedFile, Record  # noqa: E402
from metapool.review.screening import decide  # noqa: E402
from metapool.review.store import init_review, log_event, open_review, transaction  # noqa: E402
from test_figure_layout import _problems  # noqa: E402
from test_review_store import DATABASES  # noqa: E402

REASONS = '''
[[exclusion_reasons]]
code = "population"
text = "Population outside the question"

[[exclusion_reasons]]
code = "design"
text = "Study design not eligible: fewer than 20 participants, case reports and reviews"
'''


def _records(prefix: str, n: int, authors=("Smith, John",)):
    return tuple(Record(position=i + 1, raw=f"{prefix}{i}", record_id=f"{prefix}{i + 1}",
                        title=f"Trial {prefix}{i + 1}",
                        authors=authors if i % 2 == 0 else ("Doe J", "Roe R"), year=2018 + i % 5, journal="Blood",
                        volume="12", pages=f"{i}-{i + 9}", doi=f"10.1/{prefix}{i + 1}", pmid=str(1000 + i))
                 for i in range(n))


def _cluster(review, kept: int, other: int) -> None:
    with transaction(review) as conn:
        event = log_event(conn, "merge", {"records": [kept, other]}, "alice")
        cid = conn.execute(schema.clusters.insert().values(kept_record=kept, method="exact", evidence={},
                                                           event_id=event)).inserted_primary_key[0]
        conn.execute(schema.cluster_members.insert(), [{"cluster_id": cid, "record": r} for r in (kept, other)])


def build_review(folder: Path, finish: bool = True):
    """The hand-built review of the module docstring (``finish`` False: one ta and one ft decision missing)."""
    init_review(folder, who="alice")
    config = folder / "review.toml"
    text = config.read_text(encoding="utf-8").replace("reviewers_per_record = 2", "reviewers_per_record = 1")
    text = text[: text.index("[[exclusion_reasons]]")] + REASONS + DATABASES
    config.write_text(text, encoding="utf-8")
    review = open_review(folder)
    for name, prefix, n in (("MEDLINE (Ovid)", "m", 10), ("Embase", "e", 4)):
        store_import(review, [ParsedFile(path=f"/x/{prefix}.ris", format="ris", encoding="utf-8",
                                         sha256=prefix * 64, records=_records(prefix, n))], name,
                     searched=dt.date(2025, 3, 2), who="alice")
    _cluster(review, 1, 11)  # Embase records 11 and 12 duplicate MEDLINE 1 and 2
    _cluster(review, 2, 12)
    units = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14]
    for r in units[:5]:
        decide(review, r, "ta", "ann", "exclude")
    for r in units[5:] if finish else units[5:-1]:
        decide(review, r, "ta", "ann", "include")
    # forward: 6 7 8 9 10 13 14
    decide(review, 6, "ft", "ann", "not_retrieved")
    decide(review, 7, "ft", "ann", "exclude", reason="population")
    decide(review, 8, "ft", "ann", "exclude", reason="design")
    for r in (9, 10, 13) if finish else (9, 10):
        decide(review, r, "ft", "ann", "include")
    if finish:
        decide(review, 14, "ft", "ann", "include")
    return review


@pytest.fixture
def review(tmp_path):
    return build_review(tmp_path / "rev")


def test_counts_of_every_box(review):
    c = prisma_counts(review)
    assert c.databases == (("MEDLINE (Ovid)", 10), ("Embase", 4)) and c.registers == ()
    assert (c.identified, c.duplicates_removed, c.removed_other, c.screened, c.excluded_screening) == (14, 2, 0, 12, 5)
    assert (c.sought, c.not_retrieved, c.assessed) == (7, 1, 6)
    assert c.reports_excluded == (("Population outside the question", 1),
                                  ("Study design not eligible: fewer than 20 participants, case reports and reviews",
                                   1))
    assert (c.reports_included, c.studies_included, c.complete) == (4, 4, True)
    link_reports(review, [9, 13], who="bob")
    assert prisma_counts(review).studies_included == 3
    assert json.loads(json.dumps(c.to_dict()))["identified"] == 14


def test_a_register_is_counted_apart_from_the_databases(tmp_path):
    """A [[databases]] entry with register = true (a trial register) fills PRISMA's "Registers" lines."""
    folder = tmp_path / "rev"
    build_review(folder)
    config = folder / "review.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        'name = "Embase"\n', 'name = "Embase"\nregister = true\n'), encoding="utf-8")
    c = prisma_counts(open_review(folder))
    assert c.databases == (("MEDLINE (Ovid)", 10),) and c.registers == (("Embase", 4),) and c.identified == 14
    config.write_text(config.read_text(encoding="utf-8").replace("register = true", 'register = "yes"'),
                      encoding="utf-8")
    with pytest.raises(MetapoolError, match=r"key 'databases\[2\]\.register': must be true"):
        open_review(folder)


def test_pending_screening_is_counted_and_marked(tmp_path):
    c = prisma_counts(build_review(tmp_path / "rev", finish=False))
    assert (c.pending_screening, c.sought, c.pending_full_text, c.assessed, c.complete) == (1, 6, 1, 4, False)


@pytest.mark.parametrize("box, change", [
    ("records screened", {"screened": 13}),
    ("reports sought for retrieval", {"excluded_screening": 4}),
    ("reports assessed for eligibility", {"not_retrieved": 0}),
    ("reports of included studies", {"reports_included": 5}),
    ("studies included", {"studies_included": 5}),
])
def test_a_count_that_does_not_add_up_is_refused_naming_its_box(review, box, change):
    c = prisma_counts(review)
    with pytest.raises(MetapoolError, match=f"PRISMA box '{box}'"):
        check_prisma(dataclasses.replace(c, **change))


def test_the_diagram_has_no_overlap_and_nothing_cut(review, tmp_path):
    from metapool.plots.prisma import prisma_plot

    link_reports(review, [9, 13])
    ax = prisma_plot(prisma_counts(review), title="SYNTHETIC review")
    assert _problems(ax.figure) == []
    texts = " ".join(t.get_text() for t in ax.texts).replace("\u00a0", " ")
    for words in ("Identification of studies via databases and registers", "Identification", "Screening", "Included",
                  "MEDLINE (Ovid) (n = 10)", "Duplicate records removed (n = 2)", "Records screened\n(n = 12)",
                  "Reports not retrieved\n(n = 1)", "Studies included in review\n(n = 3)"):
        assert words in texts
    pending = prisma_plot(prisma_counts(build_review(tmp_path / "p", finish=False)))
    assert _problems(pending.figure) == [] and "Incomplete" in " ".join(t.get_text() for t in pending.texts)


def test_large_counts_get_thousands_separators():
    from metapool.plots.prisma import prisma_boxes
    from metapool.review.prisma import PrismaCounts

    c = check_prisma(PrismaCounts((("Embase", 12345), ("MEDLINE", 4000)), (), 5000, 0, 11345, 11000, 345, 5, 340,
                                  (("Wrong population", 300),), 30, 40))
    boxes = [[(t or "").replace("\u00a0", " ") for t in row] for row in prisma_boxes(c)]
    assert "Embase (n = 12,345)" in boxes[0][0] and "(n = 11,345)" in boxes[1][0]


def test_long_names_and_many_reasons_are_wrapped_inside_their_boxes():
    from metapool.plots.prisma import prisma_plot
    from metapool.review.prisma import PrismaCounts

    long = "a criterion written out at length by the review team " * 2
    reasons = tuple((f"Reason {i}: {long}", 10) for i in range(9))
    c = PrismaCounts((("Cochrane Central Register of Controlled Trials (CENTRAL) via the Cochrane Library", 123456),
                      ("Web of Science Core Collection", 9)), (("ClinicalTrials.gov", 77),), 3542, 0, 120000, 119000,
                     1000, 10, 980, reasons, 750, 890, 0, 10)
    ax = prisma_plot(check_prisma(c), title="A long title of a review " * 3)
    assert _problems(ax.figure) == []


def test_labels_and_citations():
    assert study_label(("Smith, John", "Doe J"), 2020) == "Smith 2020"
    assert study_label(("DiNardo CD",), 2018) == "DiNardo 2018"
    assert study_label(("Courtney D. DiNardo",), None) == "DiNardo n.d."
    assert study_label((), 2019) == "Anonymous 2019"
    row = {"authors": ["A A", "B B", "C C", "D D"], "title": "T.", "journal": "Blood", "year": 2020, "volume": "1",
           "issue": "2", "pages": "3-4", "doi": "10.1/x"}
    assert citation(row) == "A A, B B, C C, et al. T. Blood. 2020;1(2):3-4. doi:10.1/x"


def test_links_group_reports_and_are_undone_by_an_event(review):
    event = link_reports(review, [9, 13], who="bob")
    studies = included_studies(review)
    assert [s.records for s in studies] == [(9, 13), (10,), (14,)]
    assert studies[0].record_ids == ("m9", "e3") and studies[0].label == "Smith 2021"
    with pytest.raises(MetapoolError, match="two or more"):
        link_reports(review, [9, 9])
    with pytest.raises(MetapoolError, match="duplicate in cluster"):
        link_reports(review, [9, 11])
    unlink_reports(review, event, who="bob")
    assert [s.records for s in included_studies(review)] == [(9,), (10,), (13,), (14,)]
    with pytest.raises(MetapoolError, match="not a link in force"):
        unlink_reports(review, event)


def test_cli_prisma_studies_link(review, tmp_path, capsys):
    folder = str(review.folder)
    assert main(["review", "link", folder, "9", "13", "--who", "bob"]) == 0
    assert "event" in capsys.readouterr().out
    out = tmp_path / "studies.csv"
    assert main(["review", "studies", folder, "-o", str(out), "--outcomes", "ORR, CR,=cmd"]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["study"] for r in rows] == ["Smith 2021", "Doe 2022", "Doe 2021"]
    assert rows[0]["records"] == "9; 13" and rows[0]["reports"] == "2" and rows[0]["ORR"] == ""
    assert "'=cmd" in out.read_text(encoding="utf-8").splitlines()[0]  # a header cell is guarded too
    for name in ("prisma.svg", "prisma.png"):
        assert main(["review", "prisma", folder, "-o", str(tmp_path / name)]) == 0
        assert (tmp_path / name).stat().st_size > 1000
    assert main(["review", "prisma", folder, "-o", str(tmp_path / "prisma.txt")]) == 2
    assert main(["review", "prisma", folder, "-o", str(review.folder / "review.toml")]) == 2
    assert main(["review", "link", folder, "9", "99"]) == 2


# --- the analysis names its review ---------------------------------------------------------------------------------

def _analysis(folder: Path, review_key: str = "rev") -> Path:
    (folder / "studies.csv").write_text("study,yi,vi\nSmith 2021,0.1,0.04\nDoe 2022,0.3,0.05\nDoe 2021,0.2,0.03\n",
                                        encoding="utf-8")
    path = folder / "analysis.toml"
    path.write_text(f'title = "Linked"\ndata = "studies.csv"\nreview = "{review_key}"\n\n[[outcome]]\nname = "ORR"\n'
                    'kind = "generic"\nyi = "yi"\nvi = "vi"\n', encoding="utf-8")
    return path


def test_the_report_shows_the_search_and_results_json_holds_its_numbers(review, tmp_path):
    link_reports(review, [9, 13])
    (review.folder / "review.toml").write_text((review.folder / "review.toml").read_text(encoding="utf-8").replace(
        'search = "\'acute', 'search = "<script>alert(1)</script> \'acute'), encoding="utf-8")
    db = review.folder / "review.db"
    before = db.read_bytes()
    out = tmp_path / "out"
    assert main(["run", str(_analysis(tmp_path)), "-o", str(out), "--figures", "svg"]) == 0
    assert db.read_bytes() == before  # read only
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    found = "MEDLINE (Ovid), Embase; 2017–2025; 3 studies from 12 screened records"
    assert results["review"]["found"] == found == results["card"]["found"]
    assert results["review"]["prisma"]["studies_included"] == 3 and results["review"]["prisma"]["identified"] == 14
    assert results["review"]["databases"][0]["search"].startswith("1 exp Leukemia")
    assert results["review"]["databases"][1]["searched"] == "2025-03-02"  # from its import
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="search">Methods: search and selection' in page and "Of 14 records identified, 12 were screened" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)" in page
    assert "PRISMA 2020 flow diagram" in page and (out / "figures" / "prisma.svg").is_file()
    assert f"Found: {found}" in (out / "card.md").read_text(encoding="utf-8")


def test_without_figures_the_search_section_has_no_diagram(review, tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(_analysis(tmp_path)), "-o", str(out), "--figures", "none"]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Of 14 records identified, 12 were screened" in page
    assert "PRISMA 2020 flow diagram" not in page and not (out / "figures").exists()


def test_the_word_draft_has_the_search_and_the_prisma_diagram(review, tmp_path):
    import docx

    out = tmp_path / "out"
    assert main(["run", str(_analysis(tmp_path)), "-o", str(out), "--docx"]) == 0
    assert (out / "figures" / "prisma.png").is_file()  # --docx draws the PNGs it embeds
    document = docx.Document(str(out / "report.docx"))
    texts = [p.text for p in document.paragraphs]
    assert "Search and selection" in texts
    assert any("Of 14 records identified, 12 were screened" in t for t in texts)
    assert any(t.endswith("PRISMA 2020 flow diagram of the search and selection of studies") for t in texts)
    pngs = list((out / "figures").glob("*.png"))
    assert len(document.inline_shapes) == len(pngs)  # every figure embedded once, PRISMA included


def test_a_review_key_that_is_not_a_review_is_refused(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["run", str(_analysis(tmp_path, "empty")), "-o", str(tmp_path / "out")]) == 2
    assert "key 'review'" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_an_output_folder_cannot_overwrite_the_review(review, tmp_path):
    path = _analysis(tmp_path)
    assert main(["run", str(path), "-o", str(review.folder), "--force"]) == 2
    assert (review.folder / "review.db").is_file()


@pytest.fixture(scope="module")
def demo_review(tmp_path_factory):
    from metapool.datasets.review_demo import build_review_demo

    return build_review_demo(tmp_path_factory.mktemp("demo") / "review")


def test_the_synthetic_demo_review_ends_with_the_demo_studies(demo_review):
    from metapool.datasets.review_demo import N_INCLUDED
    from metapool.review.screening import agreement

    review = demo_review
    c = prisma_counts(review)
    assert c.complete and c.studies_included == N_INCLUDED == 32 and c.identified == 498
    assert [name for name, _ in c.databases] == ["Embase (Ovid)", "MEDLINE (PubMed)", "Scopus"]
    assert all(0.8 < a.kappa < 1 for a in agreement(review))  # a few conflicts, each resolved
    assert len(included_studies(review)) == N_INCLUDED


def test_every_search_sentence_points_at_numbers_in_results_json(demo_review, tmp_path):
    from metapool.analysis import run_analysis
    from metapool.report.search import search_claims
    from metapool.spec import load_spec

    analysis = run_analysis(load_spec(_analysis(tmp_path, str(demo_review.folder))))
    results = json.loads(json.dumps(analysis.to_dict()))
    claims = search_claims(analysis.review)
    assert any("Cohen's kappa" in c.text for c in claims)
    for claim in claims:
        for path in claim.evidence:
            node = results
            for key in path.split("."):
                node = node[int(key)] if isinstance(node, list) else node[key]
            assert node not in (None, [], {})

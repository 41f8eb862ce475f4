"""Reading search exports (issue 14, "Import"): each quirky test file gives exactly its records.

The files in tests/data/review/ are invented (every title starts with
SYNTHETIC) and reproduce what real exports do, as each format allows:

- ``ovid_embase.ris``: Ovid Embase RIS, CRLF, ``Y1  - 2021//``, abstract in ``N2``
  over continuation lines, DOI only in ``L2`` (a dx.doi.org URL), PMID in ``N1``,
  a missing ``ER`` between records 2 and 3, publication type in ``M3``.
- ``scopus.ris``: Scopus RIS, DOI only in the ``UR`` link of record 2,
  ``[No abstract available]``, EID from the link, ISSN without hyphen.
- ``wos.ris``: Web of Science RIS, ``FN``/``VR``/``EF`` lines around the records,
  ``DA  - NOV 5`` without a year, WoS id in ``AN``, article number in ``C7``.
- ``cochrane_central.ris``: CENTRAL RIS with ``ID  - CN-...`` and a ``US`` URL
  that holds CENTRAL's own DOI (not the article's).
- ``endnote_utf16.ris``: EndNote, UTF-16 LE with BOM, CRLF, ``PY  - 2020/03/01/``,
  AB and N2 (equal in record 1, different in record 2), a DOI as URL in ``DO``
  and as ``doi:`` in ``L3``, an ISBN in ``SN``, three author spellings, no final ``ER``.
- ``cp1252_cr.ris``: Windows-1252 with old-Mac CR line ends, ``Y1  - 2020///``,
  DOI in ``N1`` as ``doi:10...``.
- ``pubmed.nbib``: PubMed format, continuation lines, ``[doi]`` and ``[pii]`` in
  LID/AID, FAU and AU, CN group author, several PT, translated title in brackets.
- ``wos_tab.txt``: Web of Science tab-delimited, UTF-8 BOM, CRLF, unquoted quotes.
- ``wos_excel_semicolon.csv``: a Web of Science Excel export saved by a European
  Excel as "CSV (semicolon)" in Windows-1252, CRLF, full column names.
- ``scopus.csv``: Scopus CSV, BOM, CRLF, a quoted abstract over two lines, DOI
  only in the Link of record 2, article number instead of pages.
- ``zotero.csv``: Zotero CSV, PMID in Extra, DOI only in Url, a formula-like title.
- ``zotero.bib``: Zotero BibTeX, LaTeX accents, ``{{...}}``, DOI in url/note, PMID in note.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metapool.exceptions import DataValidationError, MetapoolError
from metapool.review.normalize import (_PARTICLES, normalize_author, normalize_doi, normalize_issn, normalize_pages,
                                       normalize_pmid, normalize_title, parse_year)
from metapool.review.parse import decode, detect_format, read_records

DATA = Path(__file__).parent / "data" / "review"

#: file → (format, encoding, number of records, {position: expected field values}).
EXPECTED = {
    "ovid_embase.ris": ("ris", "utf-8", 3, {
        1: dict(record_id="2013000101", year=2021, journal="Blood", volume="138", issue="Supplement 1",
                pages="2345", doi="10.1182/blood-2021-900101", issn="0006-4971", language="English",
                publication_type="Conference Abstract",
                authors=("Okafor, Nneka C.", "Lindqvist, Per", "Van der Berg-Hollander, Karin"),
                keywords=("*acute myeloid leukemia/dt [Drug Therapy]", "venetoclax", "azacitidine"),
                abstract="Background: Invented abstract for testing. Forty-two adults with relapsed or refractory"
                         " AML received venetoclax with azacitidine. Results: CR/CRi 19 of 42 (45%)."),
        2: dict(record_id="2013000102", doi="10.1016/j.leukres.2022.106812", pmid="35500102", pages="106812",
                title="SYNTHETIC Decitabine and venetoclax after intensive chemotherapy failure"),
        3: dict(record_id="2013000103", publication_type="Erratum", pages="640", doi=None, year=2022),
    }),
    "scopus.ris": ("ris", "utf-8", 3, {
        1: dict(record_id="2-s2.0-85130000001", doi="10.1200/jco.2022.40.16_suppl.7012", pages="7012-7020",
                journal="Journal of Clinical Oncology", issn="0732-183X", authors=("Fujimoto, K.", "Garcia, M.A.",
                                                                                   "Schneider, T.")),
        2: dict(record_id="2-s2.0-85140000002", doi="10.1200/jco.22.02999", abstract=None,
                publication_type="Erratum", year=2023),
        3: dict(record_id="2-s2.0-85150000003", doi=None, publication_type="Conference Paper"),
    }),
    "wos.ris": ("ris", "utf-8", 2, {
        1: dict(record_id="WOS:000700000000001", year=2021, journal="BLOOD", pages="2345-2346", issn="0006-4971",
                authors=("Okafor, NC", "Lindqvist, P"), doi="10.1182/blood-2021-900101"),
        2: dict(record_id="WOS:000900000000003", year=2022, pages="e1520", publication_type="Conference paper"),
    }),
    "cochrane_central.ris": ("ris", "utf-8", 2, {
        1: dict(record_id="CN-02300001", doi="10.3324/haematol.2022.300001", journal="Haematologica",
                pages="700-709", publication_type="Journal"),
        2: dict(record_id="CN-02300002", doi=None, publication_type="Trial registry record"),
    }),
    "endnote_utf16.ris": ("ris", "utf-16-le", 3, {
        1: dict(record_id="17", year=2020, doi="10.1007/s00277-020-03901-x", pages="511-19", issn="0939-5555",
                authors=("Müller, Karl", "Wiśniewski, Łukasz", "Smith, John A."),
                abstract="Invented abstract, one of two copies EndNote wrote.",
                title="SYNTHETIC Venetoclax–azacitidine in relapsed AML: the invented Łódź–München series"),
        2: dict(record_id="18", doi="10.1080/10428194.2021.1900002", authors=("J. A. Smith", "K. Müller"),
                journal="Leukemia & Lymphoma",
                abstract="Short invented abstract.\n\nA longer invented abstract that a database put in N2,"
                         " which differs from AB."),
        3: dict(record_id="19", issn=None, publication_type="Book chapter", year=2019),
    }),
    "cp1252_cr.ris": ("ris", "cp1252", 2, {
        1: dict(year=2020, doi="10.5555/rih.2020.0042", authors=("Gómez, Aurélio", "Ødegaard, Françoise"),
                title="SYNTHETIC Azacitidine « plus » venetoclax in relapsed leukaemia — a Brazilian–Norwegian cohort"),
        2: dict(year=2019, authors=("Søren Ågård",), journal="Hématologie", language="French"),
    }),
    "pubmed.nbib": ("medline", "utf-8", 3, {
        1: dict(record_id="36100001", pmid="36100001", doi="10.1182/blood.2022016001", year=2022, volume="140",
                issue="9", pages="1001-9", issn="0006-4971", journal="Blood", language="eng",
                authors=("Okafor, Nneka C", "Muller, Karl"), publication_type="Journal Article; Multicenter Study",
                title="SYNTHETIC Venetoclax with hypomethylating agents in relapsed or refractory acute myeloid"
                      " leukemia: an invented retrospective cohort.",
                keywords=("venetoclax", "relapsed AML", "Humans", "*Leukemia, Myeloid, Acute/drug therapy",
                          "Sulfonamides/therapeutic use")),
        2: dict(pmid="36100002", doi="10.1016/j.leukres.2022.106812", journal="Leukemia research", abstract=None,
                authors=("Nakamura, Hiroshi", "Rossi, Giulia", "Invented AML Study Group")),
        3: dict(pmid="36100003", doi=None, year=2021, authors=("Dubois F", "Delacroix A"), language="fre",
                title="[SYNTHETIC Venetoclax and azacitidine in relapsed AML: a single-centre experience]."),
    }),
    "wos_tab.txt": ("csv", "utf-8-sig", 3, {
        1: dict(record_id="WOS:000700000000001", pmid="35100001", doi="10.1182/blood-2021-900101",
                pages="2345-2346", journal="BLOOD", authors=("Okafor, NC", "Lindqvist, P"),
                keywords=("venetoclax", "azacitidine", "ACUTE MYELOID-LEUKEMIA", "THERAPY")),
        2: dict(abstract='Invented abstract; it contains a "quoted" word.', pages="106812", pmid=None),
        3: dict(publication_type="Meeting Abstract", doi=None, issn="2572-9241"),
    }),
    "wos_excel_semicolon.csv": ("csv", "cp1252", 2, {
        1: dict(record_id="WOS:000600000000042", authors=("Gómez, A", "Ødegaard, F"), pages="45-52", issn="1234-5679",
                journal="REVISTA INVENTED DE HEMATOLOGIA", doi="10.5555/rih.2020.0042", year=2020,
                title="SYNTHETIC Azacitidine « plus » venetoclax in relapsed leukaemia — a Brazilian–Norwegian cohort"),
        2: dict(pages="106812", pmid="35500102", abstract=None, issn="0145-2126", keywords=()),
    }),
    "scopus.csv": ("csv", "utf-8-sig", 3, {
        1: dict(record_id="2-s2.0-85130000001", pmid="36200001", authors=("Fujimoto K.", "Garcia M.A.",
                                                                          "Schneider T."),
                abstract="Invented abstract: 57 adults with relapsed AML, over two lines.",
                keywords=("acute myeloid leukemia", "venetoclax", "Azacitidine", "Humans")),
        2: dict(doi="10.1182/blood.2022099005", abstract=None, publication_type="Erratum", issn="0006-4971"),
        3: dict(pages="e1520", doi="10.1097/hs9.0000000000001520", journal="HemaSphere"),
    }),
    "zotero.csv": ("csv", "utf-8-sig", 2, {
        1: dict(record_id="ABCD2345", pmid="35500102", keywords=("venetoclax", "decitabine"),
                publication_type="journalArticle", authors=("Nakamura, Hiroshi", "Rossi, Giulia")),
        2: dict(doi="10.1182/blood-2021-900101", issue="Supplement 1",
                title='=HYPERLINK("http://example.invalid") SYNTHETIC formula-looking title'),
    }),
    "zotero.bib": ("bibtex", "utf-8", 3, {
        1: dict(record_id="okafor_venetoclax_2021", doi="10.1182/blood-2021-900101", issue="Supplement 1",
                abstract="Invented abstract for testing: 42 adults, CR/CRi 45%.",
                keywords=("venetoclax", "azacitidine", "relapsed AML"),
                title="SYNTHETIC Venetoclax plus azacitidine in relapsed or refractory acute myeloid leukaemia:"
                      " a multicentre cohort"),
        2: dict(pmid="32000017", doi="10.1007/s00277-020-03901-x",
                authors=("Müller, Karl", "Wiśniewski, Łukasz", "Smith, John A.")),
        3: dict(journal="HemaSphere", doi="10.1097/hs9.0000000000001520", publication_type="inproceedings"),
    }),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_export_gives_its_records_exactly(name):
    fmt, encoding, count, fields = EXPECTED[name]
    parsed = read_records(DATA / name)
    assert (parsed.format, parsed.encoding, len(parsed.records)) == (fmt, encoding, count)
    assert [r.position for r in parsed.records] == list(range(1, count + 1))
    assert all("SYNTHETIC" in r.title for r in parsed.records)
    for position, expected in fields.items():
        record = parsed.records[position - 1]
        assert {key: getattr(record, key) for key in expected} == expected, (name, position)


def test_raw_text_is_each_record_as_written():
    embase = read_records(DATA / "ovid_embase.ris").records
    assert embase[0].raw.startswith("TY  - JOUR\nDB  - Embase") and embase[0].raw.endswith("ER  - ")
    assert "ER  -" not in embase[1].raw and embase[1].raw.endswith("N1  - PMID: 35500102")
    pubmed = read_records(DATA / "pubmed.nbib").records
    assert pubmed[0].raw.splitlines()[11] == "      myeloid leukemia: an invented retrospective cohort."
    scopus = read_records(DATA / "scopus.csv").records
    assert "57 adults\nwith relapsed AML" in scopus[0].raw
    assert read_records(DATA / "zotero.bib").records[1].raw.startswith("@article{muller_venetoclaxazacitidine_2020")


def test_same_bytes_same_hash_and_format_read_from_content(tmp_path):
    copy = tmp_path / "export.txt"  # a RIS file whose name says nothing
    copy.write_bytes((DATA / "scopus.ris").read_bytes())
    parsed, original = read_records(copy), read_records(DATA / "scopus.ris")
    assert parsed.format == "ris" and parsed.sha256 == original.sha256 and parsed.records == original.records
    assert parsed.path == str(copy)


def test_line_endings_and_encodings_give_the_same_records(tmp_path):
    text = (DATA / "cochrane_central.ris").read_text(encoding="utf-8")
    variants = {"lf": text.encode(), "crlf": text.replace("\n", "\r\n").encode(),
                "cr": text.replace("\n", "\r").encode(), "bom": b"\xef\xbb\xbf" + text.encode(),
                "utf16be": b"\xfe\xff" + text.encode("utf-16-be"), "utf16le_nobom": text.encode("utf-16-le")}
    results = {}
    for name, data in variants.items():
        (tmp_path / name).write_bytes(data)
        results[name] = [(r.title, r.doi, r.record_id) for r in read_records(tmp_path / name).records]
    assert all(value == results["lf"] for value in results.values())
    assert decode(b"caf\xe9")[1] == "cp1252" and decode(b"\x81\xe9")[1] == "latin-1"
    # two exports concatenated, one UTF-8, one Windows-1252: each line in its own encoding
    assert decode("AU  - Müller, K\r\n".encode() + "AU  - Gómez, A\r\n".encode("cp1252")) == (
        "AU  - Müller, K\nAU  - Gómez, A\n", "utf-8+cp1252")


def test_missing_er_lines_do_not_merge_or_drop_records(tmp_path):
    ris = "".join(f"TY  - JOUR\nTI  - SYNTHETIC record {i}\nPY  - 2020///\n" for i in range(5))
    (tmp_path / "no_er.ris").write_text(ris, encoding="utf-8")
    records = read_records(tmp_path / "no_er.ris").records
    assert [r.title for r in records] == [f"SYNTHETIC record {i}" for i in range(5)]
    assert {r.year for r in records} == {2020}


def test_one_space_tag_lines_and_header_text_are_read(tmp_path):
    (tmp_path / "mendeley.ris").write_text("Provider: Invented\nDatabase: none\n\nTY - JOUR\nTI - SYNTHETIC X\n"
                                           "DO - doi: 10.1000/ABC.1\nER -\n", encoding="utf-8")
    (record,) = read_records(tmp_path / "mendeley.ris").records
    assert (record.title, record.doi) == ("SYNTHETIC X", "10.1000/abc.1")


@pytest.mark.parametrize("content, message", [
    (b"", "records.xyz: the file is empty"),
    (b"  \r\n\n", "records.xyz: the file is empty"),
    (b"\xff\xfe \x00\r\x00\n\x00", "records.xyz: the file is empty"),
    (b"Hello\nthis is a letter.\n", "records.xyz: not a RIS, MEDLINE, BibTeX or CSV export (first line: 'Hello')"),
    (b"%PDF-1.7\n...", "records.xyz: not a search export but a PDF document"),
    (b"PK\x03\x04\x14\x00\x00", "records.xyz: not a search export but a ZIP archive"),
    (bytes(range(256)) * 8, "records.xyz: a binary file"),
    (b"Title,Authors,Year\n", "records.xyz: a CSV file (utf-8) with no records"),
    (b"@comment{only a comment}\n@preamble{x}\n", "records.xyz: a BibTeX file (utf-8) with no records"),
    (b"Name;Size;Colour\nx;1;red\n", "records.xyz: a CSV export needs a title column ('title', 'article title',"
                                     " 'document title'); the columns found are 'Name', 'Size', 'Colour'"),
    (b"@article{a, title = {SYNTHETIC ok}}\n@article{b, title = {broken\n", "records.xyz: the BibTeX entry at line 2"),
    (b'Title,Year\n"SYNTHETIC a",2020\n"SYNTHETIC b" x,2021\n', "records.xyz: line 3 cannot be read as CSV"),
])  # fmt: skip
def test_bad_input_names_the_file_and_what_was_found(tmp_path, content, message):
    path = tmp_path / "records.xyz"
    path.write_bytes(content)
    with pytest.raises(DataValidationError) as info:
        read_records(path)
    assert str(info.value).startswith(message)


def test_long_cells_are_read_and_the_csv_limit_is_restored(tmp_path):
    import csv

    limit = csv.field_size_limit()
    path = tmp_path / "scopus_with_references.csv"
    path.write_text('Title,References\n"SYNTHETIC long",' + '"' + "Ref; " * 60_000 + '"\n', encoding="utf-8")
    (record,) = read_records(path).records
    assert record.title == "SYNTHETIC long" and len(record.raw) > 300_000
    assert csv.field_size_limit() == limit


def test_missing_file_is_a_metapool_error(tmp_path):
    with pytest.raises(MetapoolError, match="no such file"):
        read_records(tmp_path / "absent.ris")
    with pytest.raises(MetapoolError, match="cannot be read"):
        read_records(tmp_path)


def test_detect_format_tells_ris_from_medline():
    assert detect_format("TY  - JOUR\nTI  - x\nER  - \n") == "ris"
    assert detect_format("PMID- 1\nTI  - x\n") == "medline"
    assert detect_format("TI  - x\nAB  - y\n") is None
    assert detect_format("\n@Article{k,\n title={x}}") == "bibtex"


# --- normalisers -------------------------------------------------------------------------------------------

def test_doi_forms():
    forms = ["10.1182/BLOOD.2022016001", "doi:10.1182/blood.2022016001", "DOI: 10.1182/blood.2022016001.",
             "https://doi.org/10.1182/blood.2022016001", "http://dx.doi.org/10.1182/blood.2022016001",
             "10.1182/blood.2022016001 [doi]", "https://doi.org/10.1182%2Fblood.2022016001",
             "see (doi:10.1182/blood.2022016001)"]
    assert {normalize_doi(f) for f in forms} == {"10.1182/blood.2022016001"}
    assert normalize_doi("10.1016/S0140-6736(20)30183-5") == "10.1016/s0140-6736(20)30183-5"
    assert normalize_doi("no doi here 10.12/") is None and normalize_doi(None) is None


def test_other_normalisers():
    assert {normalize_author(a) for a in ("Smith, John A.", "Smith JA", "J. A. Smith", "John A. Smith",
                                          "Smith J.A.", "SMITH, J A")} == {"smith ja"}
    assert normalize_author("K. van der Berg-Hollander") == normalize_author("Van der Berg-Hollander, Karin")
    assert normalize_author("Müller, Karl") == normalize_author("Muller K") == "muller k"
    assert normalize_title("<i>Venetoclax</i> + azacitidine: a Phase-2 study.") == "venetoclax azacitidine a phase 2 study"
    assert normalize_title("Leuk&aelig;mia &amp; lymphoma") == normalize_title("Leukæmia & Lymphoma") == "leukaemia lymphoma"
    assert normalize_pages("1001-9") == normalize_pages("1001–1009") == normalize_pages("1001--1009") == "1001-1009"
    assert normalize_pages("e1520") == "e1520" and normalize_pages(None) == ""
    assert [parse_year(y) for y in ("2020///", "2020/03/01/", "2022 Sep 1", "n.d.")] == [2020, 2020, 2022, None]
    assert normalize_issn("0732183X") == "0732-183X" and normalize_issn("978-3-16-148410-0") is None
    assert normalize_pmid("PMID: 35500102") == normalize_pmid("https://pubmed.ncbi.nlm.nih.gov/35500102/") == "35500102"


_DOI_SUFFIX = st.text(alphabet=st.characters(codec="ascii", categories=("L", "N")) | st.sampled_from("._-;/:<>"),
                      min_size=1, max_size=30).filter(lambda s: s[-1].isalnum())


@given(prefix=st.integers(1000, 99999999), suffix=_DOI_SUFFIX,
       wrapper=st.sampled_from(["{}", "doi:{}", "https://doi.org/{}", "http://dx.doi.org/{}", "{} [doi]",
                                "DOI {}.", "({})"]))
def test_doi_normaliser_reads_every_wrapping_and_is_idempotent(prefix, suffix, wrapper):
    doi = f"10.{prefix}/{suffix}"
    found = normalize_doi(wrapper.format(doi))
    assert found == doi.casefold()
    assert normalize_doi(found) == found
    assert normalize_doi(wrapper.format(doi.upper())) == found


@given(st.text(max_size=80))
def test_title_normaliser_is_idempotent_and_gives_lower_case_words(title):
    key = normalize_title(title)
    assert normalize_title(key) == key
    assert set(key) <= set("abcdefghijklmnopqrstuvwxyz0123456789 ") and "  " not in key and key == key.strip()


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=80))
def test_title_normaliser_ignores_case_and_punctuation(title):
    assert normalize_title(title.upper() + " .") == normalize_title(title.lower())


# --- the SYNTHETIC demo search -----------------------------------------------------------------------------

def test_demo_search_is_reproducible_and_its_labels_match_the_records():
    import csv
    from collections import Counter

    from metapool.datasets import make_review_demo

    folder = make_review_demo.FOLDER
    rendered = make_review_demo.render()
    assert sorted(rendered) == sorted(make_review_demo.FILES)
    for name, text in rendered.items():
        assert (folder / name).read_text(encoding="utf-8") == text, f"{name}: run make_review_demo to rewrite it"
    labels = list(csv.DictReader(io.StringIO(rendered["labels.csv"])))
    for name, fmt in (("embase.ris", "ris"), ("medline.nbib", "medline"), ("scopus.ris", "ris")):
        parsed = read_records(folder / name)
        assert parsed.format == fmt
        assert Counter(r.record_id for r in parsed.records) == Counter(
            row["record_id"] for row in labels if row["file"] == name)
        assert all(r.title.startswith("SYNTHETIC") and r.year for r in parsed.records)
    assert len(labels) >= 300
    per_work = Counter(row["work"] for row in labels)
    assert sum(n > 1 for n in per_work.values()) >= 100  # works with duplicates across (or within) sources
    kinds = Counter(row["kind"] for row in labels)
    assert kinds["erratum"] and kinds["conference abstract"]
    assert all(row["related_to"] in per_work for row in labels if row["kind"] != "article")


_NAME = st.builds(lambda first, rest: first + rest, st.sampled_from("ABCDEFGHIJKLMNOPRSTUVWYZ"),
                  st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10))


_NOT_PARTICLE = _NAME.filter(lambda s: s.lower() not in _PARTICLES)  # "van", "da": read as part of a surname


@given(surname=_NOT_PARTICLE, given_names=st.lists(_NOT_PARTICLE, min_size=1, max_size=3))
def test_author_normaliser_gives_one_key_for_the_three_spellings(surname, given_names):
    initials = "".join(g[0] for g in given_names)
    spellings = (f"{surname}, {' '.join(given_names)}", f"{surname} {initials}",
                 " ".join(f"{g[0]}." for g in given_names) + f" {surname}", f"{' '.join(given_names)} {surname}")
    assert {normalize_author(s) for s in spellings} == {f"{surname.lower()} {initials.lower()}"}

"""Generate the SYNTHETIC demo search: invented records in RIS and MEDLINE format with planted duplicates.

The records are invented. They are shaped like the search of a review of
venetoclax and other agents in AML: one set of invented works (journal
articles, conference abstracts of some of them, errata of some), each exported
by the databases that would index it, each database writing it its own way:

- ``embase.ris``: Embase via Ovid (RIS; ``A1 "Okafor N.C."``, ``Y1 "2022//"``,
  abstract in ``N2``, DOI in ``DO`` and as a dx.doi.org URL in ``L2``, often
  British spelling, no final period, first and last page in ``SP``/``EP``).
- ``medline.nbib``: PubMed (MEDLINE format; ``FAU "Okafor, Nneka C"``, ``AU
  "Okafor NC"``, ``DP "2022 Sep 1"``, title ending in a period, abbreviated last
  page ``1001-9``, DOI in ``LID``/``AID`` with ``[doi]``, wrapped lines).
- ``scopus.ris``: Scopus (RIS; ``AU "Okafor, N.C."``, DOI sometimes upper case,
  EID in the link, ``M3`` document type).

Planted, as real searches produce them: the same work in two or three files;
the DOI missing in one copy; title case, punctuation and spelling changed;
authors in three spellings; the year one off (epub and issue); a work twice in
one database (an in-process record and the complete one); a missing ``ER``
line. Planted look-alikes that are *not* duplicates: errata of an article,
conference abstracts of a full paper, and companion papers by the same authors
in the same year with nearly the same title.

``labels.csv`` says, for every record (file and the export's own record id),
which invented work it reports (``work``: records with one ``work`` are true
duplicates; ``W`` articles, ``C`` companion articles, ``A`` conference
abstracts, ``E`` errata), the kind of work, the work it relates to (an
erratum's or an abstract's article, a companion's look-alike) and what was
planted in that record. Run ``python -m
metapool.datasets.make_review_demo`` to rewrite the files; the seed is fixed,
so the output is byte-for-byte reproducible (a test checks it).
"""

from __future__ import annotations

import csv
import io
import random
import sys
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path

__all__ = ["SEED", "N_ARTICLES", "FILES", "Work", "generate_works", "render", "main"]

SEED = 20260314
N_ARTICLES = 190
FILES = ("embase.ris", "medline.nbib", "scopus.ris", "labels.csv")
FOLDER = Path(__file__).parent / "data" / "review_demo"

_NAMES = (
    ("Okafor", "Nneka C."), ("Lindqvist", "Per"), ("Van der Berg-Hollander", "Karin"), ("Nakamura", "Hiroshi"),
    ("Rossi", "Giulia"), ("Müller", "Karl"), ("Fujimoto", "Kenji"), ("Garcia", "Maria A."), ("Schneider", "Tobias"),
    ("Ivanova", "Elena"), ("Moreau", "Pierre-Louis"), ("Dubois", "Francoise"), ("Eriksen", "Lars"),
    ("Tanaka", "Yuki"), ("Wojcik", "Barbara"), ("Okonkwo", "Chidi"), ("Petrosyan", "Anna"), ("Quintero", "Jose L."),
    ("Almeida", "Rita"), ("Bergstrom", "Sven"), ("Castellanos-Ruiz", "Ines"), ("Hoffmann", "Jonas"),
    ("Jansen", "Pieter"), ("Kowalczyk", "Marta"), ("Xu", "Wei"), ("Yilmaz", "Emre"), ("Zhang", "Li"),
    ("Choudhury", "Ananya"), ("Esposito", "Marco"), ("Friedman", "Rachel B."), ("Abernathy", "Claire"),
    ("Brennan", "Sean P."), ("Delacroix", "Amelie"), ("Uribe", "Camila"), ("Haddad", "Omar"), ("Singh", "Harpreet"),
)  # fmt: skip
_DESIGNS = ("A phase 2 trial of", "A retrospective cohort study of", "Real-world outcomes of",
            "A single-arm study of", "A multicenter registry analysis of", "A prospective observational study of",
            "Long-term follow-up of", "Safety and efficacy of")
_AGENTS = ("venetoclax plus azacitidine", "venetoclax plus decitabine", "venetoclax with low-dose cytarabine",
           "gilteritinib", "ivosidenib", "enasidenib", "FLAG-Ida with venetoclax", "oral azacitidine maintenance",
           "CPX-351", "magrolimab plus azacitidine", "glasdegib with low-dose cytarabine", "quizartinib")
_POPULATIONS = ("relapsed or refractory acute myeloid leukemia", "older adults with newly diagnosed acute myeloid"
                " leukemia", "acute myeloid leukemia after hypomethylating agent failure",
                "FLT3-mutated relapsed acute myeloid leukemia", "IDH1-mutated acute myeloid leukemia",
                "secondary acute myeloid leukemia", "therapy-related myeloid neoplasms")
_JOURNALS = (  # full name, MEDLINE abbreviation, ISSN
    ("Blood", "Blood", "0006-4971"), ("Leukemia Research", "Leuk Res", "0145-2126"),
    ("Journal of Clinical Oncology", "J Clin Oncol", "0732-183X"), ("Haematologica", "Haematologica", "0390-6078"),
    ("Annals of Hematology", "Ann Hematol", "0939-5555"), ("Leukemia & Lymphoma", "Leuk Lymphoma", "1042-8194"),
    ("British Journal of Haematology", "Br J Haematol", "0007-1048"),
    ("American Journal of Hematology", "Am J Hematol", "0361-8609"),
)  # fmt: skip
_MEETINGS = (("Blood", "3"), ("HemaSphere", "S2"), ("Journal of Clinical Oncology", "16_suppl"))
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Work:
    """One invented publication; every record in the demo search reports one work."""

    work: str
    kind: str  # "article", "conference abstract", "erratum"
    title: str
    authors: tuple[tuple[str, str], ...]  # (surname, given names)
    year: int
    month: int
    journal: tuple[str, str, str]
    volume: str
    issue: str
    first_page: int
    last_page: int
    doi: str | None
    pmid: str | None
    abstract: str
    related_to: str = ""
    in_embase: bool = True
    in_medline: bool = True
    in_scopus: bool = True


def _title(rng: random.Random, design: str, agent: str, population: str) -> str:
    tail = rng.choice(("", "", ": results of an invented consortium", ": a SYNTHETIC two-centre experience",
                       ": outcomes by prior therapy"))
    return f"SYNTHETIC {design} {agent} in {population}{tail}"


def _abstract(rng: random.Random, agent: str, population: str) -> str:
    n = rng.randint(20, 240)
    cr = rng.randint(n // 6, n // 2)
    return (f"BACKGROUND: This abstract is invented for a software demonstration. METHODS: {n} patients with"
            f" {population} received {agent}. RESULTS: Complete remission (CR/CRi) in {cr} of {n}"
            f" ({100 * cr / n:.0f}%); median follow-up {rng.randint(6, 40)} months. CONCLUSIONS: None; the data"
            " are SYNTHETIC.")


def generate_works(seed: int = SEED) -> list[Work]:
    """The invented works: articles, their companions, conference abstracts and errata."""
    rng = random.Random(seed)
    combos = [(d, a, p) for d in _DESIGNS for a in _AGENTS for p in _POPULATIONS]
    rng.shuffle(combos)
    works: list[Work] = []
    for i, (design, agent, population) in enumerate(combos[:N_ARTICLES], start=1):
        journal = rng.choice(_JOURNALS)
        first = rng.randint(100, 3000)
        year = rng.randint(2017, 2025)
        no_doi = rng.random() < 0.05
        medline = rng.random() < 0.75
        works.append(Work(
            work=f"W{i:04d}", kind="article", title=_title(rng, design, agent, population),
            authors=tuple(rng.sample(_NAMES, rng.randint(2, 7))), year=year, month=rng.randint(1, 12),
            journal=journal, volume=str(rng.randint(80, 150)), issue=str(rng.randint(1, 24)), first_page=first,
            last_page=first + rng.randint(3, 14),
            doi=None if no_doi else f"10.5555/synthetic.{journal[1].lower().replace(' ', '')}.{year}.{i:04d}",
            pmid=f"{990_000_000 + i}" if medline else None, abstract=_abstract(rng, agent, population),
            in_embase=rng.random() < 0.9, in_medline=medline, in_scopus=rng.random() < 0.55,
        ))
    articles = list(works)
    for n, base in enumerate(rng.sample(articles, 12), start=1):  # look-alikes by the same team, same year
        others = [p for p in _POPULATIONS if p not in base.title]
        population = rng.choice(others)
        title = base.title.split(" in ", 1)[0] + f" in {population}"
        works.append(replace(base, work=f"C{n:04d}", title=title, first_page=base.first_page + 40,
                             last_page=base.last_page + 40, abstract=_abstract(rng, "the same regimen", population),
                             doi=base.doi and base.doi + "c", pmid=base.pmid and str(int(base.pmid) + 5000),
                             related_to=base.work))
    for n, base in enumerate(rng.sample(articles, 25), start=1):  # the meeting abstract that preceded the paper
        meeting, supplement = rng.choice(_MEETINGS)
        journal = next(j for j in _JOURNALS if j[0] == meeting) if meeting != "HemaSphere" else (
            "HemaSphere", "Hemasphere", "2572-9241")
        page = rng.randint(1000, 9999)
        works.append(replace(base, work=f"A{n:04d}", kind="conference abstract", year=base.year - 1,
                             journal=journal, issue=supplement, first_page=page, last_page=page,
                             title=base.title if rng.random() < 0.5
                             else base.title.replace("SYNTHETIC ", "SYNTHETIC Preliminary results: ", 1),
                             doi=None if rng.random() < 0.6 else f"10.5555/synthetic.abstract.{n:04d}", pmid=None,
                             related_to=base.work, in_embase=True, in_medline=False, in_scopus=rng.random() < 0.4))
    for n, base in enumerate(rng.sample(articles, 8), start=1):
        page = base.first_page + rng.randint(200, 900)
        works.append(replace(base, work=f"E{n:04d}", kind="erratum", year=base.year + 1, issue="1",
                             title=rng.choice(("SYNTHETIC Erratum: ", "SYNTHETIC Correction to: "))
                             + base.title.removeprefix("SYNTHETIC "), authors=base.authors[:1],
                             first_page=page, last_page=page, abstract="", related_to=base.work,
                             doi=base.doi and base.doi + "e", pmid=base.pmid and str(int(base.pmid) + 9000)))
    return works


def _wrap(tag: str, value: str) -> list[str]:
    """MEDLINE lines of one field: tag padded to four characters, continuation lines indented by six."""
    lines = textwrap.wrap(value, 82) or [""]
    return [f"{tag:<4}- {lines[0]}", *(f"      {line}" for line in lines[1:])]


def _initials(given: str, dots: bool) -> str:
    parts = given.replace("-", " ").replace(".", " ").split()
    return "".join(p[0] + ("." if dots else "") for p in parts)


def _embase(rng: random.Random, work: Work, accession: str, planted: list[str], complete: bool = True) -> str:
    title = work.title
    if rng.random() < 0.5 and "leukemia" in title:
        title = title.replace("leukemia", "leukaemia")
        planted.append("british spelling")
    if rng.random() < 0.1:
        title = title.title().replace("Synthetic", "SYNTHETIC")
        planted.append("title case")
    lines = ["TY  - JOUR", "DB  - Embase", f"AN  - {accession}", f"T1  - {title}"]
    full = rng.random() < 0.15
    if full:
        planted.append("authors full names")
    lines += [f"A1  - {s}, {g}" if full else f"A1  - {s} {_initials(g, True)}" for s, g in work.authors]
    year = work.year + (1 if rng.random() < 0.04 else 0)
    if year != work.year:
        planted.append("year +1")
    lines.append(f"Y1  - {year}//")
    if complete and work.abstract:
        lines.append(f"N2  - {work.abstract}")
    lines += ["KW  - *acute myeloid leukemia", "KW  - human"]
    lines += [f"JF  - {work.journal[0]}", f"JA  - {work.journal[1]}", f"VL  - {work.volume}", f"IS  - {work.issue}",
              f"SP  - {work.first_page}"]
    if work.last_page != work.first_page:
        lines.append(f"EP  - {work.last_page}")
    lines += [f"SN  - {work.journal[2]}", "LA  - English",
              "M3  - " + {"article": "Article", "conference abstract": "Conference Abstract",
                          "erratum": "Erratum"}[work.kind],
              f"UR  - https://ovidsp.ovid.invalid/ovidweb.cgi?T=JS&D=emed&AN={accession}"]
    if work.doi and complete and rng.random() > 0.15:
        lines += [f"DO  - {work.doi}", f"L2  - http://dx.doi.org/{work.doi}"]
    elif work.doi:
        planted.append("doi missing")
    return "\n".join(lines)


def _abbreviated(first: str, last: str) -> str:
    """The last page as MEDLINE writes it, without the leading digits it shares with the first (1001-9)."""
    if len(first) != len(last) or first == last:
        return last
    return last[next(i for i, (a, b) in enumerate(zip(first, last)) if a != b):]


def _medline(rng: random.Random, work: Work, planted: list[str]) -> str:
    date = f"{work.year} {_MONTHS[work.month - 1]}"
    first, last = str(work.first_page), str(work.last_page)
    short = _abbreviated(first, last)
    lines = [f"PMID- {work.pmid}", "OWN - NLM", "STAT- MEDLINE", f"IS  - {work.journal[2]} (Print)",
             f"VI  - {work.volume}", f"IP  - {work.issue}", f"DP  - {date}", *_wrap("TI", work.title + "."),
             f"PG  - {first}-{short}"]
    if work.doi:
        lines.append(f"LID - {work.doi} [doi]")
    if work.abstract:
        lines += _wrap("AB", work.abstract)
    for surname, given in work.authors:
        lines += [f"FAU - {surname}, {given.rstrip('.')}", f"AU  - {surname} {_initials(given, False)}"]
    lines += ["LA  - eng", "PT  - " + ("Published Erratum" if work.kind == "erratum" else "Journal Article"),
              f"TA  - {work.journal[1]}", f"JT  - {work.journal[0]}", "MH  - Humans",
              "MH  - *Leukemia, Myeloid, Acute/drug therapy"]
    if work.doi:
        lines.append(f"AID - {work.doi} [doi]")
    lines.append(f"SO  - {work.journal[1]}. {date};{work.volume}({work.issue}):{first}-{short}.")
    planted.append("pages abbreviated" if short != last else "title period")
    return "\n".join(lines)


def _scopus(rng: random.Random, work: Work, eid: str, planted: list[str]) -> str:
    title = work.title.replace(": ", " - ") if rng.random() < 0.3 else work.title
    if title != work.title:
        planted.append("punctuation")
    lines = ["TY  - " + ("CONF" if work.kind == "conference abstract" else "JOUR"), f"TI  - {title}",
             f"T2  - {work.journal[0]}", f"VL  - {work.volume}", f"IS  - {work.issue}", f"SP  - {work.first_page}",
             f"EP  - {work.last_page}", f"PY  - {work.year}"]
    if work.doi:
        upper = rng.random() < 0.3
        lines.append(f"DO  - {work.doi.upper() if upper else work.doi}")
        if upper:
            planted.append("doi upper case")
    lines += [f"AU  - {s}, {_initials(g, True)}" for s, g in work.authors]
    lines.append(f"AB  - {work.abstract or '[No abstract available]'}")
    lines += ["DB  - Scopus", "M3  - " + {"article": "Article", "conference abstract": "Conference Paper",
                                           "erratum": "Erratum"}[work.kind],
              f"SN  - {work.journal[2].replace('-', '')}", "LA  - English",
              f"UR  - https://www.scopus.invalid/inward/record.uri?eid={eid}&partnerID=40"]
    return "\n".join(lines)


def render(seed: int = SEED) -> dict[str, str]:
    """File name → text of the demo search files and their labels (see :data:`FILES`)."""
    rng = random.Random(seed + 1)
    embase, medline, scopus = [], [], []
    labels = [["file", "record_id", "work", "kind", "related_to", "planted"]]
    works = generate_works(seed)
    twice_in_embase = {w.work for w in rng.sample([w for w in works if w.kind == "article" and w.in_embase], 5)}
    for n, work in enumerate(works, start=1):
        def label(file: str, record_id: str, planted: list[str]) -> None:
            labels.append([file, record_id, work.work, work.kind, work.related_to, "; ".join(planted)])

        if work.in_embase:
            copies = 2 if work.work in twice_in_embase else 1
            for copy in range(copies):
                planted = ["in-process copy"] if copy else []
                accession = f"{2_030_000_000 + 10 * n + copy}"
                embase.append((_embase(rng, work, accession, planted, complete=not copy), len(labels)))
                label("embase.ris", accession, planted)
        if work.in_medline and work.pmid:
            planted = []
            medline.append(_medline(rng, work, planted))
            label("medline.nbib", work.pmid, planted)
        if work.in_scopus:
            planted = []
            eid = f"2-s2.0-85{300_000_000 + n:09d}"
            scopus.append(_scopus(rng, work, eid, planted))
            label("scopus.ris", eid, planted)
    rng.shuffle(embase)  # Ovid sorts by its own relevance, not by work
    no_er = labels[embase[7][1]]  # one record without its ER line, as broken exports have
    no_er[5] = "; ".join(filter(None, (no_er[5], "missing ER")))
    embase_text = "\n\n".join(text + ("" if k == 7 else "\nER  - ") for k, (text, _) in enumerate(embase))
    rows = io.StringIO()
    csv.writer(rows, lineterminator="\n").writerows(labels)
    return {"embase.ris": embase_text + "\n", "medline.nbib": "\n\n".join(medline) + "\n",
            "scopus.ris": "\n\n".join(r + "\nER  - " for r in scopus) + "\n", "labels.csv": rows.getvalue()}


def main(folder: str | Path | None = None) -> Path:
    """Write the demo search files into ``folder`` (default: the bundled ``data/review_demo``)."""
    out = Path(folder) if folder else FOLDER
    out.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (out / name).write_text(text, encoding="utf-8", newline="\n")
    return out


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else None))

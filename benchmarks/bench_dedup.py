"""Deduplication of 100,000 search records: time, candidate pairs scored, and accuracy against the planted truth.

The records are generated here (deterministic, seed :data:`SEED`), shaped like
the SYNTHETIC demo search of ``metapool.datasets.make_review_demo`` but with a
vocabulary large enough for 100,000 records: invented works (journal articles,
plus companion papers of one team in one year, conference abstracts of a
later paper and errata), each exported by one to three databases that write it
their own way — the DOI missing or in upper case, title case, British
spelling, punctuation changed, authors as ``Okafor NC`` / ``Okafor, N.C.`` /
``Okafor, Nneka C.``, the last page abbreviated, the year one off. Every
record knows its work, so the result is measured the way ASySD's paper does:
records kept, duplicates found of those planted, false merges (records merged
into a cluster of another work), and pairwise precision and recall.

Only :func:`metapool.review.dedup.deduplicate` is timed (the records are built
before). Goal (issue 14): 100,000 records in under a minute on this machine,
no false merge, at least 95 % of duplicates found. With ``--store`` the
records are also imported into a SQLite review in a temporary folder and
``review dedup`` is timed as a user runs it (:func:`metapool.review.duplicates.run_dedup`:
reading the records, the engine, storing the clusters and the event), then
run again (which finds every cluster stored and adds none).

    .venv/bin/python benchmarks/bench_dedup.py [N_RECORDS] [--store]
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

from _common import print_table
from metapool.review.dedup import deduplicate
from metapool.review.record import Record

SEED = 20261203
N_RECORDS = 100_000
GOAL_SECONDS = 60.0

_SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "zen", "dor", "ber", "gan", "hol", "lin", "mar", "nov",
              "per", "qui", "ros", "tal", "ul", "wen", "yo", "fa", "ki", "mo", "sto", "bra", "cle", "dri")
_DESIGNS = ("A phase 2 trial of", "A retrospective cohort study of", "Real-world outcomes of", "A single-arm study of",
            "A multicenter registry analysis of", "A prospective observational study of", "Long-term follow-up of",
            "Safety and efficacy of", "Biomarkers of response to", "Cost-effectiveness of")
_POPULATIONS = ("relapsed or refractory acute myeloid leukemia", "older adults with newly diagnosed acute myeloid"
                " leukemia", "acute myeloid leukemia after hypomethylating agent failure", "FLT3-mutated relapsed acute"
                " myeloid leukemia", "IDH1-mutated acute myeloid leukemia", "secondary acute myeloid leukemia",
                "therapy-related myeloid neoplasms", "myelodysplastic syndromes with excess blasts")
_TAILS = ("", "", ": results of an invented consortium", ": a two-centre experience", ": outcomes by prior therapy")


def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts))


def _works(rng: random.Random, n_articles: int) -> list[dict]:
    journals = [(f"Journal of {_word(rng, 3).title()} Haematology",
                 f"{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}") for _ in range(300)]
    agents = sorted({_word(rng, 3) + rng.choice(("mab", "nib", "clax", "stat", "tide")) for _ in range(6000)})
    names = sorted({(_word(rng, 2).title() + rng.choice(("", "son", "ova", "ez", "i")),
                     rng.choice("ABCDEFGHIJKLMNOPRSTVWYZ") + rng.choice(("", " " + rng.choice("ABCDEJKLMS"))))
                    for _ in range(20000)})
    titles = set()
    works = []
    while len(works) < n_articles:
        title = (f"{rng.choice(_DESIGNS)} {rng.choice(agents)} plus {rng.choice(agents)} in {rng.choice(_POPULATIONS)}"
                 f"{rng.choice(_TAILS)}")
        if title in titles:
            continue
        titles.add(title)
        i = len(works)
        journal = rng.choice(journals)
        first = rng.randint(100, 9000)
        year = rng.randint(2010, 2025)
        works.append(dict(work=f"W{i}", kind="article", title=title, authors=rng.sample(names, rng.randint(1, 8)),
                          year=year, journal=journal, volume=str(rng.randint(1, 150)), first=first,
                          last=first + rng.randint(3, 14), doi=None if rng.random() < 0.05 else f"10.5555/w.{i}",
                          pmid=str(20_000_000 + i) if rng.random() < 0.75 else None))
    for n, base in enumerate(rng.sample(works[:n_articles], n_articles // 16)):  # companion papers
        population = rng.choice([p for p in _POPULATIONS if p not in base["title"]])
        works.append({**base, "work": f"C{n}", "title": base["title"].split(" in ", 1)[0] + f" in {population}",
                      "first": base["first"] + 40, "last": base["last"] + 40,
                      "doi": base["doi"] and base["doi"] + "c", "pmid": base["pmid"] and str(60_000_000 + n)})
    for n, base in enumerate(rng.sample(works[:n_articles], n_articles // 8)):  # the meeting abstract before it
        page = rng.randint(1000, 9999)
        works.append({**base, "work": f"A{n}", "kind": "conference abstract", "year": base["year"] - 1,
                      "volume": base["volume"] + " Suppl", "first": page, "last": page, "pmid": None,
                      "doi": None if rng.random() < 0.6 else f"10.5555/a.{n}"})
    for n, base in enumerate(rng.sample(works[:n_articles], n_articles // 24)):  # errata
        page = base["first"] + rng.randint(200, 900)
        works.append({**base, "work": f"E{n}", "kind": "erratum", "year": base["year"] + 1, "first": page,
                      "last": page, "title": rng.choice(("Erratum: ", "Correction to: ")) + base["title"],
                      "authors": base["authors"][:1], "doi": base["doi"] and base["doi"] + "e",
                      "pmid": base["pmid"] and str(80_000_000 + n)})
    return works


def _copy(rng: random.Random, w: dict, database: str) -> Record:
    """One database's record of work ``w``, with that database's habits and the quirks of real exports."""
    title, authors, doi, pages = w["title"], w["authors"], w["doi"], f"{w['first']}-{w['last']}"
    if database == "embase":
        title = title.replace("leukemia", "leukaemia") if rng.random() < 0.5 else title
        title = title.title() if rng.random() < 0.1 else title
        names = [f"{s} {g.replace(' ', '.')}." for s, g in authors]
        doi = None if rng.random() < 0.15 else doi
        kind = {"article": "Article", "conference abstract": "Conference Abstract", "erratum": "Erratum"}[w["kind"]]
    elif database == "medline":
        title += "."
        names = [f"{s} {g.replace(' ', '')}" for s, g in authors]
        last = str(w["last"])
        pages = f"{w['first']}-{last[-2:]}" if len(last) > 2 and last[:-2] == str(w["first"])[:-2] else pages
        kind = {"article": "Journal Article", "erratum": "Published Erratum"}.get(w["kind"], "Journal Article")
    else:
        title = title.replace(": ", " - ") if rng.random() < 0.3 else title
        names = [f"{s}, {g.replace(' ', '.')}." for s, g in authors]
        doi = doi.upper() if doi and rng.random() < 0.3 else doi
        kind = {"article": "Article", "conference abstract": "Conference Paper", "erratum": "Erratum"}[w["kind"]]
    year = w["year"] + (1 if rng.random() < 0.04 else 0)
    return Record(position=0, raw="", title=title, authors=tuple(names), year=year, journal=w["journal"][0],
                  volume=w["volume"], pages=pages, doi=doi, pmid=w["pmid"] if database == "medline" else None,
                  issn=w["journal"][1], publication_type=kind)


def make_records(n_records: int = N_RECORDS, seed: int = SEED) -> tuple[dict[int, Record], dict[int, str]]:
    """``n_records`` records (record number → record) and the work each reports."""
    rng = random.Random(seed)
    works = _works(rng, n_records * 6 // 10)
    records, truth = {}, {}
    for w in works:
        databases = [d for d, p in (("embase", 0.9), ("medline", 0.75 if w["pmid"] else 0), ("scopus", 0.55))
                     if rng.random() < p] or ["embase"]
        if w["kind"] == "conference abstract":
            databases = [d for d in databases if d != "medline"] or ["embase"]
        for database in databases:
            records[len(records) + 1] = _copy(rng, w, database)
            truth[len(truth) + 1] = w["work"]
            if len(records) == n_records:
                return records, truth
    return records, truth


def accuracy(clusters, truth: dict[int, str]) -> dict[str, float]:
    """ASySD's counts and pairwise precision/recall of the clusters against the works."""
    root = {i: c.members[0] for c in clusters for i in c.members}
    by_work: dict[str, set[int]] = {}
    for i, work in truth.items():
        by_work.setdefault(work, set()).add(root.get(i, i))
    duplicates = len(truth) - len(by_work)
    missed = sum(len(r) - 1 for r in by_work.values())
    merged_pairs = sum(len(c.members) * (len(c.members) - 1) // 2 for c in clusters)
    true_merged = sum(sum(1 for a, b in combinations(c.members, 2) if truth[a] == truth[b]) for c in clusters)
    sizes: dict[str, int] = {}
    for work in truth.values():
        sizes[work] = sizes.get(work, 0) + 1
    true_pairs = sum(n * (n - 1) // 2 for n in sizes.values())
    return {"kept": len(truth) - sum(len(c.members) - 1 for c in clusters), "duplicates": duplicates,
            "found": duplicates - missed, "false_merges": sum(len({truth[i] for i in c.members}) - 1 for c in clusters),
            "precision": true_merged / merged_pairs if merged_pairs else 1.0,
            "recall": true_merged / true_pairs if true_pairs else 1.0}


def time_stored(records: dict[int, Record]) -> None:
    """Import ``records`` into a new SQLite review and time ``run_dedup`` on it, twice."""
    from metapool.review.duplicates import run_dedup
    from metapool.review.imports import store_import
    from metapool.review.record import ParsedFile
    from metapool.review.store import init_review, open_review

    with tempfile.TemporaryDirectory(prefix="bench-dedup-") as tmp:
        folder = Path(tmp) / "review"
        init_review(folder, who="bench")
        config = folder / "review.toml"
        config.write_text(config.read_text(encoding="utf-8") + '\n[[databases]]\nname = "Generated"\n'
                          "searched = 2025-03-01\n", encoding="utf-8")
        review = open_review(folder)
        exported = ParsedFile(path="generated.ris", format="ris", encoding="utf-8",
                              sha256=hashlib.sha256(str(len(records)).encode()).hexdigest(),
                              records=tuple(dataclasses.replace(r, position=i) for i, r in records.items()))
        t0 = time.perf_counter()
        store_import(review, [exported], "Generated", who="bench")
        imported = time.perf_counter() - t0
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            run = run_dedup(review, who="bench")
            times.append((time.perf_counter() - t0, run.clusters_added))
        review.engine.dispose()
    print(f"SQLite review: import {imported:.1f} s; review dedup {times[0][0]:.1f} s ({times[0][1]:,} clusters"
          f" stored), again {times[1][0]:.1f} s ({times[1][1]:,} added)")


def main(n_records: int = N_RECORDS, store: bool = False) -> None:
    t0 = time.perf_counter()
    records, truth = make_records(n_records)
    made = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = deduplicate(records)
    seconds = time.perf_counter() - t0
    acc = accuracy(result.clusters, truth)
    print(f"{len(records):,} records generated in {made:.1f} s (seed {SEED}); deduplicated in {seconds:.1f} s"
          f" (goal < {GOAL_SECONDS:.0f} s: {'met' if seconds < GOAL_SECONDS else 'NOT met'})")
    print_table(["measure", "value"], [
        ["records", f"{len(records):,}"], ["candidate pairs scored", f"{result.pairs_scored:,}"],
        ["records kept", f"{acc['kept']:,}"], ["duplicates planted", f"{acc['duplicates']:,}"],
        ["duplicates found", f"{acc['found']:,} ({100 * acc['found'] / max(acc['duplicates'], 1):.2f} %)"],
        ["false merges", f"{acc['false_merges']:,}"], ["pairs queued for a person", f"{len(result.queue):,}"],
        ["pairwise precision", f"{acc['precision']:.4f}"], ["pairwise recall", f"{acc['recall']:.4f}"],
        ["seconds", f"{seconds:.1f}"]])
    if store:
        time_stored(records)


if __name__ == "__main__":
    numbers = [a for a in sys.argv[1:] if a != "--store"]
    main(int(numbers[0]) if numbers else N_RECORDS, store="--store" in sys.argv[1:])

"""Finding duplicate records: an exact pass, a fuzzy pass on blocked candidate pairs, and union-find clusters.

A pure function of the records (:func:`deduplicate`); storing its clusters and
its queue is :mod:`metapool.review.duplicates`.

1. **Exact pass**, in this order: the same normalised DOI; the same PMID; the
   same normalised title, year, first author and pages (all four present).
2. **Fuzzy pass** on candidate pairs found by blocking, never on all pairs:
   neighbours (:data:`WINDOW` on each side) in three sort orders of the
   records — by normalised title, by the title read backwards (a different
   first word), and by first author, year and title. A pair is scored by the
   similarity of its titles (rapidfuzz's normalised Indel similarity, 0–100)
   plus, for each of the fields of :data:`FIELD_POINTS`, points when both
   records agree and minus points when they disagree (nothing when one lacks
   it). A score of at least :data:`AUTO_MERGE` with titles at least
   :data:`AUTO_TITLE` alike merges the pair; a score from :data:`QUEUE` up to
   it (or a higher score with less alike titles) puts the pair in the manual
   queue, as does a pair whose titles hold different numbers ("phase 2" and
   "phase 3", "3-year" and "5-year" follow-up) or a title of fewer than
   :data:`MIN_WORDS` words ("Editorial"). Titles less than
   :data:`MIN_TITLE` alike are neither merged nor queued.
3. **Rules no score overrides**: two records whose DOIs differ are never
   merged, nor an erratum, correction, comment, reply or retraction notice with
   anything but another notice, nor a conference abstract with a full paper
   unless ``merge_abstracts`` (:func:`record_kind` says how these are
   recognised). The rules hold for clusters too: a merge that would put two
   DOIs, or a notice and an article, in one cluster is not made (the pair goes
   to the queue instead), and pairs a person said are not duplicates
   (``apart``) are never joined.

Pairs are merged strongest first (exact passes, then fuzzy pairs by
descending score; ties by record number), so the result does not depend on
the order of the input. The record kept of each cluster is the most complete
one (:func:`kept_record`).

References
----------
.. [1] Hair K, Bahor Z, Macleod M, Liao J, Sena ES. The Automated Systematic Search
   Deduplicator (ASySD): a rapid, open-source, interoperable tool to remove duplicate
   citations in biomedical systematic reviews. BMC Biology 2023;21:189.
   https://doi.org/10.1186/s12915-023-01686-z
.. [2] Bramer WM, Giustini D, de Jonge GB, Holland L, Bekhuis T. De-duplication of
   database search results for systematic reviews in EndNote. J Med Libr Assoc
   2016;104(3):240-243. https://doi.org/10.3163/1536-5050.104.3.014
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from .normalize import fold, normalize_author, normalize_doi, normalize_pages, normalize_title
from .record import Record

__all__ = ["AUTO_MERGE", "QUEUE", "MIN_TITLE", "AUTO_TITLE", "WINDOW", "MIN_WORDS", "MAX_AUTHORS", "FIELD_POINTS",
           "RECORD_FIELDS_COUNTED", "METHODS", "cluster_method", "Link", "Cluster", "DedupResult", "record_kind",
           "kept_record", "compare", "deduplicate"]

#: Score from which a fuzzy pair is merged without asking.
AUTO_MERGE = 110.0
#: Score from which a fuzzy pair below :data:`AUTO_MERGE` goes to the manual queue.
QUEUE = 90.0
#: Title similarity (0-100) below which a pair is neither merged nor queued, whatever its other fields.
MIN_TITLE = 80.0
#: Title similarity a fuzzy pair needs to be merged without asking (below it, a high score only queues it).
AUTO_TITLE = 90.0
#: Neighbours compared on each side in each sort order of the blocking.
WINDOW = 8
#: Words a normalised title needs for a fuzzy merge without asking ("Editorial", "Reply to Smith" are only queued).
MIN_WORDS = 4
#: Authors compared per record (a consortium paper lists hundreds; the first ones tell works apart).
MAX_AUTHORS = 25

#: Field → (points when two records agree, points taken off when they disagree). A field one record lacks counts 0.
FIELD_POINTS: Mapping[str, tuple[float, float]] = {
    "year": (5, 20),           # agree: same year; one year apart (epub and issue) counts 0
    "first_author": (5, 10),   # surname (fuzzy, accents and case folded) and first initial
    "authors": (5, 15),        # at least half the surnames of the shorter list shared; disagree: none shared
    "journal": (3, 5),         # same ISSN, or the same name (an abbreviation matches its full name)
    "volume": (5, 10),
    "pages": (10, 25),         # same first page (article numbers included)
    "pmid": (0, 30),           # different PubMed records (equal PMIDs merge in the exact pass)
}

#: Fields counted for the completeness of a record (the record kept of a cluster has the most of them).
RECORD_FIELDS_COUNTED = ("title", "abstract", "authors", "year", "journal", "volume", "issue", "pages", "doi", "pmid",
                         "issn", "keywords", "language", "publication_type")

_NOTICE_TYPE = re.compile(r"\b(erratum|corrigendum|correction|comment|reply|retraction|expression of concern)\b")
_NOTICE_TITLE = re.compile(
    r"^(erratum|corrigendum|correction|author correction|publisher correction|comment on|comments on|reply|in reply"
    r"|response to|retraction|retraction note|notice of retraction|expression of concern)\b")
_NOTICE_LABEL = re.compile(r"\b(erratum|corrigendum|correction( to| of)?|comment( on)?|reply( to)?|retraction( note)?"
                           r"|expression of concern)\s*:", re.IGNORECASE)
_ABSTRACT_TYPE = re.compile(r"\b(conference|congress|meeting|proceedings|abstract|poster)\b")
_SUPPLEMENT = re.compile(r"(suppl|^s\d+$)")
_ABSTRACT_TITLE = re.compile(r"^(abstract|poster|oral presentation)\b")
_NUMBER = re.compile(r"\d+")
_JOURNAL_STOP = frozenset(("of", "the", "and", "for", "in", "on"))


def record_kind(record: Record) -> str:
    """``"notice"`` (erratum, correction, comment, reply, retraction), ``"abstract"`` (conference) or ``"article"``.

    A notice is recognised by its publication type (RIS ``M3``/MEDLINE ``PT``:
    "Erratum", "Published Erratum", "Comment", "Retraction of Publication" —
    not "Retracted Publication", which is the article) or by its title
    ("Erratum", "Correction to …", "Comment on …", "Reply", "Retraction note",
    or such a label followed by a colon anywhere in the title; not
    "RETRACTED: …", the title a publisher gives the retracted article itself). A conference
    abstract by its publication type ("Conference Abstract", "Conference
    Paper", "Meeting Abstract", "Congress", "Poster"), a journal supplement
    (``Suppl`` or ``S2`` as issue or volume, ``suppl`` in the DOI) or a title
    starting "Abstract" or "Poster".
    """
    return _kind(record, normalize_title(record.title))


def _kind(record: Record, title: str) -> str:
    """:func:`record_kind` given the record's normalised title."""
    ptype = fold(record.publication_type or "")
    if _NOTICE_TYPE.search(ptype) or _NOTICE_TITLE.match(title) or _NOTICE_LABEL.search(record.title or ""):
        return "notice"
    supplement = any(_SUPPLEMENT.search(fold(v)) for v in (record.issue, record.volume) if v)
    if (_ABSTRACT_TYPE.search(ptype) or supplement or "suppl" in (record.doi or "")
            or "abstract" in (record.doi or "") or _ABSTRACT_TITLE.match(title)):
        return "abstract"
    return "article"


def _filled(value) -> bool:
    return value is not None and value != "" and value != ()


def _completeness(record: Record) -> int:
    return sum(_filled(getattr(record, f)) for f in RECORD_FIELDS_COUNTED)


def kept_record(records: Mapping[int, Record]) -> int:
    """The record kept of a cluster: most of :data:`RECORD_FIELDS_COUNTED` filled; on a tie the lowest number."""
    return min(records, key=lambda i: (-_completeness(records[i]), i))


@dataclass(frozen=True)
class Link:
    """Why two records were merged or queued: the pass, the score and what each field said.

    ``method`` is ``"doi"``, ``"pmid"``, ``"title+year+author+pages"``,
    ``"fuzzy"`` or ``"manual"``; ``score`` the fuzzy score of the pair (also
    for the exact passes and manual merges, which do not depend on it);
    ``fields`` maps the key of an exact pass to ``"same"``, ``"title"`` to the title similarity and each field
    of :data:`FIELD_POINTS` to ``"agree"``, ``"disagree"``, ``"missing"`` or
    (years) ``"one apart"``; ``note`` says why a queued pair was not merged
    when its score alone would have merged it.
    """

    records: tuple[int, int]
    method: str
    score: float | None = None
    fields: Mapping[str, object] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict:
        out = {"records": list(self.records), "method": self.method, "score": self.score, "fields": dict(self.fields)}
        return {**out, "note": self.note} if self.note else out


@dataclass(frozen=True)
class Cluster:
    """Records found to be one work: its members (sorted), the record kept, and the links that joined them."""

    members: tuple[int, ...]
    kept: int
    links: tuple[Link, ...]

    @property
    def method(self) -> str:
        """The passes that joined the cluster (see :func:`cluster_method`)."""
        return cluster_method(link.method for link in self.links)


#: The passes, in their order; a link's ``method`` is one of them.
METHODS = ("doi", "pmid", "title+year+author+pages", "fuzzy", "manual")


def cluster_method(methods: Iterable[str]) -> str:
    """The passes of a cluster's links, once each in the order of :data:`METHODS` (``"doi+fuzzy"``)."""
    found = set(methods)
    return "+".join(m for m in METHODS if m in found)


@dataclass(frozen=True)
class DedupResult:
    """The clusters found (each of two or more records), the manual queue, and what was compared.

    ``records`` is the number of records deduplicated; ``pairs_scored`` the
    candidate pairs whose titles were compared in the fuzzy pass.
    """

    records: int
    clusters: tuple[Cluster, ...]
    queue: tuple[Link, ...]
    pairs_scored: int

    @property
    def duplicates_removed(self) -> int:
        """Records that are not the kept record of their cluster."""
        return sum(len(c.members) - 1 for c in self.clusters)

    @property
    def kept(self) -> int:
        """Records left after deduplication."""
        return self.records - self.duplicates_removed


@dataclass(frozen=True)
class _Keys:
    """The normalised forms of one record that the passes compare."""

    kind: str
    doi: str | None
    pmid: str | None
    title: str
    year: int | None
    surnames: tuple[str, ...]
    first_author: str
    journal: str
    issn: str | None
    volume: str
    pages: str
    numbers: tuple[str, ...]
    completeness: int


def _cached(cache: dict, function, text):
    if text not in cache:
        cache[text] = function(text)
    return cache[text]


def _keys(record: Record, authors_seen: dict[str, str], journals: dict[str | None, str]) -> _Keys:
    """The keys of ``record``; the dictionaries cache normalised author and journal names (a search repeats them)."""
    names = record.authors[:MAX_AUTHORS]
    authors = [a for a in (_cached(authors_seen, normalize_author, name) for name in names) if a]
    title = normalize_title(record.title)
    return _Keys(completeness=_completeness(record), kind=_kind(record, title), doi=normalize_doi(record.doi),
                 pmid=record.pmid or None, title=title,
                 year=record.year, surnames=tuple(a.split(" ")[0] for a in authors),
                 first_author=authors[0] if authors else "", journal=_cached(journals, normalize_title, record.journal),
                 issn=record.issn,
                 volume=fold(record.volume or "").strip(), pages=normalize_pages(record.pages),
                 numbers=tuple(sorted(_NUMBER.findall(title))))


def _rule(a: _Keys, b: _Keys, merge_abstracts: bool) -> str | None:
    """Why ``a`` and ``b`` may never be merged automatically, or None."""
    if a.doi and b.doi and a.doi != b.doi:
        return "different DOIs"
    return _kinds_conflict({a.kind, b.kind}, merge_abstracts)


def _kinds_conflict(kinds: set[str], merge_abstracts: bool) -> str | None:
    if "notice" in kinds and len(kinds) > 1:
        return "an erratum, comment or retraction notice with an article"
    if {"abstract", "article"} <= kinds and not merge_abstracts:
        return "a conference abstract with a full paper"
    return None


def _journal_agrees(a: _Keys, b: _Keys) -> bool | None:
    if a.issn and b.issn:
        return a.issn == b.issn
    if not a.journal or not b.journal:
        return None
    # an ISO 4 abbreviation keeps a word per word but "of", "the"...: "j clin oncol" ~ "journal of clinical oncology"
    wa, wb = ([w for w in j.split() if w not in _JOURNAL_STOP] for j in (a.journal, b.journal))
    return len(wa) == len(wb) and all(x.startswith(y) or y.startswith(x) for x, y in zip(wa, wb))


def _first_page(pages: str) -> str:
    return pages.split("-", 1)[0]


def _authors_agree(a: _Keys, b: _Keys) -> bool | None:
    from rapidfuzz import fuzz

    if not a.surnames or not b.surnames:
        return None
    shorter, longer = sorted((a.surnames, b.surnames), key=len)
    same = set(longer)
    shared = sum(s in same or any(fuzz.ratio(s, t) >= 85 for t in longer) for s in shorter)
    return True if 2 * shared >= len(shorter) else (False if shared == 0 else None)


def _first_author_agrees(a: _Keys, b: _Keys) -> bool | None:
    from rapidfuzz import fuzz

    if not a.first_author or not b.first_author:
        return None
    (sa, _, ia), (sb, _, ib) = a.first_author.partition(" "), b.first_author.partition(" ")
    return fuzz.ratio(sa, sb) >= 85 and (not ia or not ib or ia[0] == ib[0])


def _field_evidence(a: _Keys, b: _Keys) -> dict[str, bool | str | None]:
    """Each field of :data:`FIELD_POINTS`: True (agree), False (disagree), None (missing), "one apart" (years)."""
    year = None if a.year is None or b.year is None else (
        True if a.year == b.year else ("one apart" if abs(a.year - b.year) == 1 else False))
    return {
        "year": year,
        "first_author": _first_author_agrees(a, b),
        "authors": _authors_agree(a, b),
        "journal": _journal_agrees(a, b),
        "volume": None if not a.volume or not b.volume else a.volume == b.volume,
        "pages": None if not a.pages or not b.pages else _first_page(a.pages) == _first_page(b.pages),
        "pmid": None if not a.pmid or not b.pmid else a.pmid == b.pmid,
    }


_WORDS = {True: "agree", False: "disagree", None: "missing"}


def _score(a: _Keys, b: _Keys, title: float) -> tuple[float, dict[str, object]]:
    evidence = _field_evidence(a, b)
    points = sum(FIELD_POINTS[k][0] if v is True else -FIELD_POINTS[k][1] if v is False else 0
                 for k, v in evidence.items())
    fields = {"title": round(title, 1), **{k: v if isinstance(v, str) else _WORDS[v] for k, v in evidence.items()}}
    return round(title + points, 1), fields


def compare(a: Record, b: Record) -> tuple[float, dict[str, object]]:
    """The fuzzy score of two records and its evidence per field (see :data:`FIELD_POINTS`)."""
    from rapidfuzz import fuzz

    ka, kb = _keys(a, {}, {}), _keys(b, {}, {})
    return _score(ka, kb, fuzz.ratio(ka.title, kb.title))


class _Clusters:
    """Union-find over record numbers that refuses unions breaking the rules (DOIs, kinds, pairs kept apart)."""

    def __init__(self, keys: Mapping[int, _Keys], merge_abstracts: bool, apart: Iterable[tuple[int, int]]):
        self.parent = {i: i for i in keys}
        self.members = {i: [i] for i in keys}
        self.dois = {i: {k.doi} - {None} for i, k in keys.items()}
        self.kinds = {i: {k.kind} for i, k in keys.items()}
        self.merge_abstracts = merge_abstracts
        self.apart: dict[int, set[int]] = {}
        for a, b in apart:
            self.apart.setdefault(a, set()).add(b)
            self.apart.setdefault(b, set()).add(a)

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def conflict(self, a: int, b: int) -> str | None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        if len(self.dois[ra] | self.dois[rb]) > 1:
            return "the merge would put records with different DOIs in one cluster"
        reason = _kinds_conflict(self.kinds[ra] | self.kinds[rb], self.merge_abstracts)
        if reason:
            return f"the merge would put {reason} in one cluster"
        small, other = (ra, rb) if len(self.members[ra]) <= len(self.members[rb]) else (rb, ra)
        if any(self.find(j) == other for i in self.members[small] for j in self.apart.get(i, ())):
            return "a person said records of these clusters are not duplicates"
        return None

    def union(self, a: int, b: int) -> None:
        ra, rb = sorted((self.find(a), self.find(b)))
        if ra == rb:
            return
        self.parent[rb] = ra
        self.members[ra] += self.members.pop(rb)
        self.dois[ra] |= self.dois.pop(rb)
        self.kinds[ra] |= self.kinds.pop(rb)


def _exact_links(keys: Mapping[int, _Keys], merge_abstracts: bool) -> list[Link]:
    """Links of the exact passes: each record to the first earlier record with the same key it may be merged with.

    Each link carries the pair's fuzzy score and field evidence too, so that a merge by DOI whose titles or years
    disagree (a DOI typed wrong in one database) can be seen in the evidence."""
    from rapidfuzz import fuzz

    passes = (("doi", lambda k: k.doi), ("pmid", lambda k: k.pmid),
              ("title+year+author+pages", lambda k: (k.title, k.year, k.first_author, k.pages)
               if k.title and k.year and k.first_author and k.pages else None))
    links = []
    for method, key in passes:
        groups: dict[object, list[int]] = {}
        for i in sorted(keys):
            value = key(keys[i])
            if value is not None:
                groups.setdefault(value, []).append(i)
        for group in groups.values():
            for n, i in enumerate(group[1:], start=1):
                j = next((j for j in group[:n] if _rule(keys[j], keys[i], merge_abstracts) is None), None)
                if j is not None:
                    score, fields = _score(keys[j], keys[i], fuzz.ratio(keys[j].title, keys[i].title))
                    links.append(Link(records=(j, i), method=method, score=score, fields={method: "same", **fields}))
    return links


def _candidate_pairs(ids: list[int], keys: Mapping[int, _Keys]):
    """Blocking: pairs of positions in ``ids`` that are within :data:`WINDOW` in some sort order (numpy arrays)."""
    import numpy as np

    n = len(ids)
    orders = (sorted(range(n), key=lambda p: (keys[ids[p]].title, ids[p])),
              sorted(range(n), key=lambda p: (keys[ids[p]].title[::-1], ids[p])),
              sorted(range(n), key=lambda p: (keys[ids[p]].first_author.split(" ")[0], keys[ids[p]].year or 0,
                                              keys[ids[p]].title, ids[p])))
    codes = []
    for order in orders:
        order = np.asarray(order, dtype=np.int64)
        for offset in range(1, min(WINDOW, n - 1) + 1):
            a, b = order[:-offset], order[offset:]
            codes.append(np.minimum(a, b) * n + np.maximum(a, b))
    if not codes:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    codes = np.sort(np.concatenate(codes))
    unique = codes[np.concatenate(([True], codes[1:] != codes[:-1]))]  # faster than np.unique's hash table here
    return unique // n, unique % n


def _fuzzy_links(keys: Mapping[int, _Keys], merge_abstracts: bool, forest: _Clusters) -> tuple[list[Link], int]:
    """Candidate pairs not in one cluster yet, scored: those from :data:`QUEUE` up (titles :data:`MIN_TITLE` alike)."""
    import numpy as np
    from rapidfuzz import fuzz, process

    ids = sorted(i for i, k in keys.items() if k.title)
    first, second = _candidate_pairs(ids, keys)
    roots = np.array([forest.find(i) for i in ids], dtype=np.int64)
    apart = roots[first] != roots[second]
    first, second = first[apart], second[apart]
    if not len(first):
        return [], 0
    titles = [keys[i].title for i in ids]
    similarity = process.cpdist([titles[p] for p in first], [titles[p] for p in second], scorer=fuzz.ratio,
                                score_cutoff=MIN_TITLE, dtype=np.float32)
    links = []
    for p, q, title in zip(first[similarity > 0], second[similarity > 0], similarity[similarity > 0]):
        a, b = ids[p], ids[q]
        if _rule(keys[a], keys[b], merge_abstracts) is not None:
            continue
        score, fields = _score(keys[a], keys[b], float(title))
        if score >= QUEUE:
            words = min(len(keys[a].title.split()), len(keys[b].title.split()))
            note = ("the titles have different numbers" if keys[a].numbers != keys[b].numbers
                    else f"a title of fewer than {MIN_WORDS} words" if words < MIN_WORDS else "")
            links.append(Link(records=(a, b), method="fuzzy", score=score, fields=fields, note=note))
    return links, len(first)


def deduplicate(records: Mapping[int, Record], merge_abstracts: bool = False,
                groups: Iterable[Collection[int]] = (), apart: Iterable[tuple[int, int]] = ()) -> DedupResult:
    """Find the duplicate clusters among ``records`` (record number → record) and the pairs to ask a person about.

    Parameters
    ----------
    records
        The records to deduplicate, by their number in the review.
    merge_abstracts
        Allow a conference abstract to be merged with a full paper.
    groups
        Clusters made before (by an earlier run or by a person): their records
        start as one cluster, whatever the rules say.
    apart
        Pairs of records a person said are not duplicates (or whose merge was
        undone): never put in one cluster.

    Returns
    -------
    DedupResult
        Every cluster of two or more records, with the links found in this run
        (the links that made ``groups`` are the caller's), the queue (fuzzy
        pairs scored from :data:`QUEUE` to :data:`AUTO_MERGE`, and pairs the
        cluster rules kept from merging), and the number of candidate pairs
        scored (those the exact passes had not joined already).
    """
    authors: dict[str, str] = {}
    journals: dict[str | None, str] = {}
    keys = {i: _keys(r, authors, journals) for i, r in records.items()}
    apart = {tuple(sorted(pair)) for pair in apart}
    forest = _Clusters(keys, merge_abstracts, apart)
    for group in groups:
        first, *rest = sorted(group)
        for i in rest:
            forest.union(first, i)
    made: list[Link] = []
    queue: list[Link] = []

    def offer(links: list[Link]) -> None:
        for link in links:
            a, b = link.records
            if (a, b) in apart or forest.find(a) == forest.find(b):
                continue
            if link.method == "fuzzy" and (link.score < AUTO_MERGE or link.fields["title"] < AUTO_TITLE or link.note):
                queue.append(link)
                continue
            reason = forest.conflict(a, b)
            if reason is None:
                forest.union(a, b)
                made.append(link)
            elif not reason.startswith("a person"):
                queue.append(Link(records=link.records, method=link.method, score=link.score, fields=link.fields,
                                  note=reason))

    offer(_exact_links(keys, merge_abstracts))
    fuzzy, scored = _fuzzy_links(keys, merge_abstracts, forest)  # pairs the exact passes joined are not scored
    offer(sorted(fuzzy, key=lambda link: (-link.score, link.records)))
    links_of: dict[int, list[Link]] = {}
    for link in made:
        links_of.setdefault(forest.find(link.records[0]), []).append(link)
    clusters = [Cluster(members=tuple(sorted(members)), kept=min(members, key=lambda i: (-keys[i].completeness, i)),
                        links=tuple(links_of.get(root, ())))
                for root, members in forest.members.items() if len(members) > 1]
    open_pairs = {}  # one entry per pair (its strongest link), none for pairs that ended in one cluster
    for link in queue:
        if forest.find(link.records[0]) != forest.find(link.records[1]):
            open_pairs.setdefault(link.records, link)
    queue = list(open_pairs.values())
    return DedupResult(records=len(records), clusters=tuple(sorted(clusters, key=lambda c: c.members)),
                       queue=tuple(queue), pairs_scored=scored)

"""A table of study sizes in a text: rows that start with a study label, and their patient counts.

Digest pages and manuscripts list their studies in a plain-text table::

    Study        N     CR
    Ito 2015     113   34
    Kowalski 2017 50   16

A row is a line starting with a study label (an author and a year: "Smith 2019", "Smith et al.
2019a"). The patient count is the cell under a header named N, n, patients, participants, total or
sample size: by cell index when the table is split by ``|`` or tabs, else the number nearest below
the header's word (a fixed-width table). Without such a header a row counts only when it holds
exactly one whole number after its label. Nothing is guessed beyond this: a table that cannot be
read this way yields no rows, and the ``n_total`` check then says nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["StudyRow", "study_rows", "STUDY_LABEL"]

#: A study label at the start of a line: an author and a year ("Smith 2019", "Smith et al., 2019a").
STUDY_LABEL = re.compile(r"^[ \t|]*(?P<label>[A-Z][\w'’\-]+(?:\s+(?:et\s+al\.?|and\s+[A-Z][\w'’\-]+|&\s*[A-Z][\w'’\-]+))?"
                         r",?\s*\(?(?:19|20)\d{2}[a-z]?\)?)")
_HEADER_N = re.compile(r"^(?:n|no\.?|n\s*patients|patients|participants|subjects|total|sample\s+size|enrolled|"
                       r"n\s*\(total\)|number\s+of\s+patients)$", re.IGNORECASE)
_INTEGER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?![\w.,]\d|%|\.\d)")
_SPLIT = re.compile(r"\s*[|\t]\s*")


@dataclass(frozen=True)
class StudyRow:
    """One row of a table of study sizes: its label, its patient count, the count's span and the line's."""

    label: str
    n: int
    span: tuple[int, int]
    line: tuple[int, int]


def _lines(text: str) -> list[tuple[int, str]]:
    out, start = [], 0
    for line in text.split("\n"):
        out.append((start, line))
        start += len(line) + 1
    return out


def _cells(line: str) -> list[str]:
    if not re.search(r"[|\t]", line):
        return []
    return [c.strip() for c in _SPLIT.split(line.strip().strip("|")) if c.strip() != ""]


def _header(lines: list[tuple[int, str]], first_row: int) -> tuple[str, int | None, tuple[int, int] | None]:
    """The header line above the first row: ``("cells", index, None)`` or ``("fixed", None, (start, end))``."""
    for i in range(first_row - 1, max(-1, first_row - 4), -1):
        line = lines[i][1]
        cells = _cells(line)
        if cells:
            for j, cell in enumerate(cells):
                if _HEADER_N.match(cell.strip()):
                    return "cells", j, None
            continue
        if not re.search(r"\S {2,}\S", line):
            continue  # not laid out in columns
        for match in re.finditer(r"\S+(?: \S+)*", line):
            if _HEADER_N.match(match.group(0)):
                return "fixed", None, match.span()
    return "none", None, None


def study_rows(text: str) -> tuple[StudyRow, ...]:
    """The rows of the first table of study sizes in ``text`` (empty when there is none)."""
    lines = _lines(text)
    rows = [i for i, (_, line) in enumerate(lines) if STUDY_LABEL.match(line)]
    if len(rows) < 2:
        return ()
    block = [rows[0]]
    for i in rows[1:]:
        if i == block[-1] + 1:
            block.append(i)
        else:
            break
    if len(block) < 2:
        return ()
    mode, index, column = _header(lines, block[0])
    out = []
    for i in block:
        offset, line = lines[i]
        label = STUDY_LABEL.match(line)
        numbers = [(m.group(1), m.span(1)) for m in _INTEGER.finditer(line, label.end())]
        chosen = None
        if mode == "cells":
            cells = _cells(line)
            if index is not None and index < len(cells) and re.fullmatch(r"\d{1,3}(?:,\d{3})+|\d+", cells[index]):
                cell = cells[index]
                at = line.find(cell, label.end())
                chosen = (cell, (at, at + len(cell))) if at >= 0 else None
        elif mode == "fixed":
            centre = 0.5 * (column[0] + column[1])
            near = sorted(numbers, key=lambda nb: abs(0.5 * (nb[1][0] + nb[1][1]) - centre))
            if near and abs(0.5 * (near[0][1][0] + near[0][1][1]) - centre) <= 4:
                chosen = near[0]
        elif len(numbers) == 1:
            chosen = numbers[0]
        if chosen is None:
            return ()
        value, (s, e) = chosen
        out.append(StudyRow(label.group("label").strip(), int(value.replace(",", "")), (offset + s, offset + e),
                            (offset, offset + len(line))))
    return tuple(out)

"""Readers of the search-export formats: RIS, MEDLINE/PubMed, BibTeX and CSV.

Each module has ``parse(text, name) -> tuple[Record, ...]`` over decoded text
with ``\\n`` line endings; :func:`metapool.review.parse.read_records` detects the
encoding and the format and calls the right one.
"""

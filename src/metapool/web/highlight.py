"""Words of a text marked for the eye (the review's keywords in a title or an abstract), HTML built safely.

The text is user data: every piece of it is escaped, and the only markup in the result is the
``<mark>`` elements this module writes around the matches. Matches are found on the raw text
(never on its escaped form, where a keyword could match inside an entity such as ``&amp;``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markupsafe import Markup, escape

__all__ = ["keyword_pattern", "highlight"]


def keyword_pattern(keywords: Sequence[str]) -> re.Pattern | None:
    """One case-insensitive pattern matching any keyword at the start of a word (longest first); None without keywords.

    A keyword matches as a word start, so "relapse" marks "relapsed" but "AML" does not mark "pAMLer".
    """
    words = sorted({k.strip() for k in keywords if k.strip()}, key=lambda k: (-len(k), k.lower()))
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + ")", re.IGNORECASE)


def highlight(text: str | None, pattern: re.Pattern | None) -> Markup:
    """``text`` escaped for HTML, with each match of ``pattern`` wrapped in ``<mark>``."""
    text = text or ""
    if pattern is None:
        return escape(text)
    out, end = [], 0
    for match in pattern.finditer(text):
        if match.end() == match.start():
            continue
        out += [escape(text[end:match.start()]), Markup("<mark>"), escape(match.group()), Markup("</mark>")]
        end = match.end()
    out.append(escape(text[end:]))
    return Markup("").join(out)

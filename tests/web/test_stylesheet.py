"""The app's stylesheet is well formed: one unclosed block (e.g. from a merge) silently drops every rule after it."""

import re
from pathlib import Path

CSS = Path(__file__).parents[2] / "src" / "metapool" / "web" / "static" / "app.css"


def test_every_block_of_the_stylesheet_is_closed():
    text = re.sub(r"/\*.*?\*/", "", CSS.read_text(encoding="utf-8"), flags=re.S)
    depth = 0
    for n, line in enumerate(text.splitlines(), start=1):
        # the file's style: rules inside an @media block are indented, top-level rules start at column 0
        if depth > 0 and line[:1] not in ("", " ", "\t", "}"):
            raise AssertionError(f"app.css line {n}: a top-level rule inside a block that was not closed")
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"app.css line {n}: '}}' without its block"
    assert depth == 0, "app.css ends inside an open block"

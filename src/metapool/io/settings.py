"""Reading the TOML files users write (analysis files, review files) into plain dicts."""

from __future__ import annotations

import tomllib

from ..exceptions import DataValidationError

__all__ = ["parse_toml", "toml_string"]


def parse_toml(text: str, source: str) -> dict:
    """The TOML ``text`` as a dict; invalid TOML is a :class:`DataValidationError` naming ``source``.

    Values nested so deeply that the parser recurses too far are refused the
    same way (a hostile file must not end in a traceback).
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataValidationError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise DataValidationError(f"{source}: not valid TOML: values nested too deeply.") from None


#: TOML's short escapes in basic strings; other control characters are written as \uXXXX.
_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string (quoted; quotes, backslashes and control characters escaped).

    Safe in a value and in a comment: the result holds no line break or other
    control character.
    """
    return '"' + "".join(_TOML_ESCAPES.get(c) or (f"\\u{ord(c):04X}" if ord(c) < 0x20 or ord(c) == 0x7F else c)
                         for c in text) + '"'

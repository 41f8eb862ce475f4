"""Reading the TOML files users write (analysis files, review files) into plain dicts."""

from __future__ import annotations

import tomllib

from ..exceptions import DataValidationError

__all__ = ["parse_toml"]


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

"""Module ``__getattr__`` for names that moved to another module: importable, with a DeprecationWarning."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from types import ModuleType

__all__ = ["moved"]


def moved(old: str, new: ModuleType, names) -> Callable[[str], object]:
    """A module ``__getattr__`` for the module ``old`` whose ``names`` now live in the module ``new``.

    Each access warns (DeprecationWarning, naming the new import path) and
    returns the object of ``new`` itself, so ``isinstance`` checks and
    registrations keep working; other names raise AttributeError.
    """
    names = frozenset(names)

    def __getattr__(name: str):
        if name in names:
            warnings.warn(f"{old}.{name} is deprecated and will be removed in 0.2: import it from {new.__name__}.",
                          DeprecationWarning, stacklevel=2)
            return getattr(new, name)
        raise AttributeError(f"module {old!r} has no attribute {name!r}")

    return __getattr__

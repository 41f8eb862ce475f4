"""Exception and warning hierarchy of metapool.

Every error raised for bad user input derives from :class:`MetapoolError`, so an
application can catch them all; data problems are also ``ValueError`` so that
generic code keeps working.
"""

from __future__ import annotations

import functools
import warnings

__all__ = [
    "MetapoolError",
    "DataValidationError",
    "OptionError",
    "ConvergenceError",
    "MetapoolWarning",
    "ConvergenceWarning",
    "TransformWarning",
]


class MetapoolError(Exception):
    """Base class of all errors raised by metapool."""


class DataValidationError(MetapoolError, ValueError):
    """Input data are impossible or unusable (e.g. events > total, vi <= 0).

    The message names the row (1-based, as a spreadsheet user counts), the
    study label when known, the column and the problem.
    """


class OptionError(MetapoolError, ValueError):
    """An option has a value outside its allowed set or range."""


class ConvergenceError(MetapoolError, RuntimeError):
    """An iterative estimator did not reach a solution; no value is returned."""


class MetapoolWarning(UserWarning):
    """Base class of metapool's warnings."""


class ConvergenceWarning(MetapoolWarning):
    """An iterative estimator needed a fallback (reported, never hidden)."""


class TransformWarning(MetapoolWarning):
    """A back-transformation is known to be unstable for the data at hand."""


#: Warnings metapool never raised, importable until 0.2 with a DeprecationWarning: zero cells are
#: listed in ``EffectSizeTable.corrected`` and small k is said in each result's ``warnings``.
_REMOVED = {
    "ZeroCellWarning": "A continuity correction was applied to studies with zero (or full) cells (never raised).",
    "SmallSampleWarning": "A quantity is unreliable or undefined for the number of studies given (never raised).",
}


@functools.cache
def _removed(name: str) -> type:
    return type(name, (MetapoolWarning,), {"__doc__": _REMOVED[name], "__module__": __name__})


def __getattr__(name: str):
    """The removed warnings of :data:`_REMOVED`, with a DeprecationWarning."""
    if name in _REMOVED:
        warnings.warn(f"metapool.exceptions.{name} is deprecated and will be removed in 0.2: metapool never raises it;"
                      " catch MetapoolWarning.", DeprecationWarning, stacklevel=2)
        return _removed(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Exception and warning hierarchy of metapool.

Every error raised for bad user input derives from :class:`MetapoolError`, so an
application can catch them all; data problems are also ``ValueError`` so that
generic code keeps working.
"""

from __future__ import annotations

__all__ = [
    "MetapoolError",
    "DataValidationError",
    "OptionError",
    "ConvergenceError",
    "MetapoolWarning",
    "ZeroCellWarning",
    "SmallSampleWarning",
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


class ZeroCellWarning(MetapoolWarning):
    """A continuity correction was applied to studies with zero (or full) cells."""


class SmallSampleWarning(MetapoolWarning):
    """A quantity is unreliable or undefined for the number of studies given."""


class ConvergenceWarning(MetapoolWarning):
    """An iterative estimator needed a fallback (reported, never hidden)."""


class TransformWarning(MetapoolWarning):
    """A back-transformation is known to be unstable for the data at hand."""

"""Audit the numbers that an abstract, a digest or a manuscript reports.

``audit(text)`` extracts every statistic it recognises (with its character span), applies the
consistency checks of :data:`metapool.audit.checks.CHECKS` and, given the review's analysis file,
recomputes the pooled estimates under the usual choices. Importing this package is light: the
extractor and the checks need only the standard library, numpy and scipy.special, and are imported
on the first audit.

The package itself can be called: ``metapool.audit(text)`` is ``metapool.audit.audit(text)``.
(``metapool.audit`` names this package as soon as any of its modules is imported, so a function of
that name in ``metapool`` would be replaced by the package; the package is therefore made callable.)
"""

import sys
import types

from .model import STAT_KINDS, AuditResult, Finding, Statistic
from .pipeline import audit

__all__ = ["AuditResult", "Finding", "STAT_KINDS", "Statistic", "audit"]


class _CallablePackage(types.ModuleType):
    """This package's type: calling it runs :func:`audit`."""

    def __call__(self, text: str, **options) -> AuditResult:
        return audit(text, **options)

    __call__.__doc__ = audit.__doc__


sys.modules[__name__].__class__ = _CallablePackage

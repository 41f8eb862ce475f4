"""Audit the numbers that an abstract, a digest or a manuscript reports.

``audit(text)`` extracts every statistic it recognises (with its character span), applies the
consistency checks of :data:`metapool.audit.checks.CHECKS` and, given the review's analysis file,
recomputes the pooled estimates under the usual choices. Importing this package is light: the
extractor and the checks need only the standard library, numpy and scipy.special, and are imported
on the first audit.

``metapool.audit`` is the function :func:`audit` (bound in ``metapool/__init__.py`` after this package is
imported, so later imports of its modules leave it in place); the modules stay importable as
``metapool.audit.model``, ``metapool.audit.checks``, ...
"""

from .model import STAT_KINDS, AuditResult, Finding, Statistic
from .pipeline import audit

__all__ = ["AuditResult", "Finding", "STAT_KINDS", "Statistic", "audit"]


"""Audit the numbers that an abstract, a digest or a manuscript reports.

``audit(text)`` extracts every statistic it recognises (with its character span), applies the
consistency checks of :data:`metapool.audit.checks.CHECKS` and, given the review's analysis file,
recomputes the pooled estimates under the usual choices. Importing this package is light: the
extractor and the checks need only the standard library, numpy and scipy.special.
"""

from .model import STAT_KINDS, AuditResult, Finding, Statistic

__all__ = ["AuditResult", "Finding", "STAT_KINDS", "Statistic"]

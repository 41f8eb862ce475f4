"""One audit, start to end: extract the reported statistics, check them, recompute them from the data.

:func:`audit` is what ``metapool audit``, ``mp.audit(text)`` and the web app's audit page call, so
that they can never disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..exceptions import MetapoolError
from .model import AuditResult

if TYPE_CHECKING:
    from ..spec import AnalysisSpec

__all__ = ["audit"]


def audit(text: str, *, data: str | Path | AnalysisSpec | None = None, source: str | None = None) -> AuditResult:
    """Audit the numbers a text reports.

    Parameters
    ----------
    text
        The text (an abstract, a results section, a digest page; see
        :func:`metapool.audit.sources.read_source` for files).
    data
        An analysis file (``analysis.toml``, or its :class:`~metapool.spec.AnalysisSpec`) whose study
        table the reported pooled estimates are recomputed from
        (:func:`metapool.audit.recompute.recompute`); None: no recomputation.
    source
        Where the text came from, for the report's header.

    Returns
    -------
    AuditResult
        The extracted statistics (text order) and the findings of every check, sorted by their span
        in the text.

    Raises
    ------
    MetapoolError
        ``text`` is not a string, or the analysis file or its study table cannot be read.

    Examples
    --------
    >>> import metapool as mp
    >>> result = mp.audit("The pooled response rate was 26% (95% CI 24-48%).")
    >>> result.flagged  # doctest: +SKIP
    True
    """
    if not isinstance(text, str):
        raise MetapoolError(f"audit takes the text as a string, not {type(text).__name__}; read a file with"
                            " metapool.audit.sources.read_source.")
    from .checks import run_checks
    from .extract import extract

    statistics = tuple(extract(text))
    findings = list(run_checks(statistics, text))
    if data is not None:
        from .recompute import recompute

        findings += recompute(statistics, data)
    findings.sort(key=lambda f: (f.span[0], f.span[1]))
    notes = () if statistics else ("No reported statistic was recognised in the text.",)
    return AuditResult(text, statistics, tuple(findings), source, notes)

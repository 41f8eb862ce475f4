"""The vocabulary of publication-bias analyses: one registry read by the CLI and the docs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .failsafe import fsn
from .lfk import lfk
from .rank import ranktest
from .regression import peters, regtest
from .trimfill import trimfill

__all__ = ["BiasTest", "BIAS_TESTS", "DEFAULT_BIAS_TESTS"]


@dataclass(frozen=True)
class BiasTest:
    """One bias analysis: code (JSON key), display name, reference, function.

    ``function(res)`` runs it with metafor's defaults; ``min_k`` is the
    smallest number of studies for which it is defined; ``needs`` names extra
    inputs the function requires beyond the fitted model.
    """

    code: str
    name: str
    reference: str
    function: Callable
    min_k: int = 3
    needs: tuple = ()


BIAS_TESTS: dict[str, BiasTest] = {
    t.code: t
    for t in (
        BiasTest("egger", "Egger's regression test (metafor's regtest: model rma, predictor sei)",
                 "Egger M, Davey Smith G, Schneider M, Minder C (1997). BMJ 315:629-634.", regtest),
        BiasTest("begg", "Begg and Mazumdar's rank correlation test (Kendall's tau)",
                 "Begg CB, Mazumdar M (1994). Biometrics 50:1088-1101.", ranktest),
        BiasTest("trimfill", "Trim-and-fill (estimator L0, side by metafor's rule)",
                 "Duval S, Tweedie R (2000). Biometrics 56:455-463.", trimfill),
        BiasTest("lfk", "LFK index with Doi plot",
                 "Furuya-Kanamori L, Barendregt JJ, Doi SAR (2018). Int J Evid Based Healthc 16:195-203.", lfk),
        BiasTest("fsn", "Fail-safe N (Rosenthal; also Orwin, Rosenberg)",
                 "Rosenthal R (1979); Orwin RG (1983); Rosenberg MS (2005).", fsn, min_k=1),
        BiasTest("peters", "Peters' regression test (binary outcomes)",
                 "Peters JL, Sutton AJ, Jones DR, Abrams KR, Rushton L (2006). JAMA 295:676-680.", peters,
                 needs=("events", "nonevents")),
    )
}

#: Analyses run by ``metapool pool --bias`` (those that need only the fitted model).
DEFAULT_BIAS_TESTS = tuple(code for code, t in BIAS_TESTS.items() if not t.needs)

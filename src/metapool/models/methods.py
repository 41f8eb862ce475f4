"""The registry of pooling methods (the vocabulary of ``method``) and its one dispatcher.

Every value of ``method`` is one :class:`Method`: the tau2 estimators of
:data:`metapool.models.tau2.ESTIMATORS` (random-effects models fitted by
:func:`~metapool.models.rma.rma`, and the common-effect model ``CE``), the
generalised linear mixed model ``GLMM`` (:func:`~metapool.glmm.model.rma_glmm`)
and the common-effect models of 2x2 tables ``MH`` and ``PETO``
(:func:`~metapool.models.mh_peto.rma_mh`, :func:`~metapool.models.mh_peto.rma_peto`).
Each entry says which data the method pools, which measures and tests it
allows, whether it takes moderators and whether the batch engine fits it.
The command line's choices and help, the analysis file's checks, the report's
methods paragraph and ``docs/vocabulary.md`` read :data:`METHODS`;
:func:`fit` checks a combination against it and calls the fitting function.

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3):1-48.
Stijnen T, Hamza TH, Özdemir P (2010). Stat Med 29:3046-3067 (GLMM).
Mantel N, Haenszel W (1959). J Natl Cancer Inst 22:719-748 (MH).
Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). Prog Cardiovasc Dis
27:335-371 (Peto).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .._validation import check_choice
from ..columns import default_measure
from ..effect_sizes.escalc import escalc
from ..effect_sizes.table import EffectSizeTable
from ..exceptions import OptionError
from ..inference.tests import TESTS
from ..glmm.model import GLMM_MEASURES, rma_glmm
from .mh_peto import MH_MEASURES, rma_mh, rma_peto
from .rma import rma
from .tau2 import ALIASES, ESTIMATORS, Tau2Estimator

__all__ = ["MODEL_KINDS", "DATA", "Method", "METHODS", "ALIASES", "get_method", "method_choices", "Fit", "fit"]

#: Kinds of model, by :attr:`Method.kind`.
MODEL_KINDS = {
    "random": "random-effects model (inverse variance, tau² estimator)",
    "common": "common-effect model (inverse variance)",
    "glmm": "random-effects generalised linear mixed model (ML, 7-point adaptive quadrature; UM.FS for 2x2 tables)",
    "mh": "common-effect model (Mantel-Haenszel)",
    "peto": "common-effect model (Peto)",
}

#: What a method pools, by :attr:`Method.data`: a short label, a description, the escalc roles
#: it accepts (None: any) and the roles of which it needs at least one.
DATA: dict[str, tuple[str, str, frozenset | None, frozenset]] = {
    "effects": ("any effect sizes", "effect sizes of any measure (from any columns escalc reads)", None, frozenset()),
    "counts": ("one-group counts or 2x2 tables",
               "counts: events with totals (proportions) or person-time (rates) of one group, or two-group"
               " binary counts (odds ratios)",
               frozenset({"xi", "ni", "mi", "ti", "ai", "bi", "ci", "di", "n1i", "n2i"}), frozenset({"xi", "ai"})),
    "tables": ("2x2 tables", "two-group binary counts (events and totals, or the four cells, of both groups)",
               frozenset({"ai", "bi", "ci", "di", "n1i", "n2i"}), frozenset({"ai"})),
}


@dataclass(frozen=True)
class Method:
    """One value of ``method``.

    Attributes
    ----------
    code
        The value of ``method`` (``"REML"``, ``"GLMM"``, ``"MH"``).
    name
        Display name.
    reference
        Short citation.
    kind
        A key of :data:`MODEL_KINDS`.
    data
        A key of :data:`DATA`: the data the method pools.
    measures
        Effect measures it pools (None: any of :data:`metapool.effect_sizes.MEASURES`).
    tests
        Values of ``test`` it allows (the first is the default).
    moderators
        Whether it fits moderators (meta-regression), subgroups and permutation tests.
    batch
        Whether :func:`metapool.batch.fit_many` fits it.
    function
        The fitting function (:func:`rma`, :func:`rma_glmm`, :func:`rma_mh`, :func:`rma_peto`).
    estimator
        The tau2 estimator, for the methods fitted by :func:`rma`.
    """

    code: str
    name: str
    reference: str
    kind: str
    data: str
    measures: tuple | None
    tests: tuple
    moderators: bool
    batch: bool
    function: Callable
    estimator: Tau2Estimator | None = None

    @property
    def owner(self) -> str:
        """The name errors give the fitting function (``"rma_glmm"``)."""
        return self.function.__name__

    @property
    def description(self) -> str:
        """One line for the command line's lists: name, kind of model, data and measures."""
        measures = f" ({', '.join(self.measures)})" if self.measures else ""
        return f"{self.name}: {MODEL_KINDS[self.kind]}; {DATA[self.data][0]}{measures}"

    def check_data(self, roles) -> None:
        """Refuse escalc roles (column roles) this method cannot pool."""
        _, text, allowed, needed = DATA[self.data]
        roles = set(roles)
        if allowed is not None and (roles - allowed or not roles & needed):
            raise OptionError(f"Method {self.code!r} ({self.name}) takes {text} only.")

    def check_moderators(self, wanted: bool) -> None:
        """Refuse moderators, subgroups or a permutation test (``wanted``) for a method without them."""
        if wanted and not self.moderators:
            raise OptionError(f"Method {self.code!r} ({self.name}) takes no moderators, subgroups or permutation"
                              " tests; use a tau² estimator (e.g. 'REML').")

    def check_measure(self, measure: str) -> str:
        """The canonical spelling of ``measure``, refused when the method does not pool it."""
        return measure if self.measures is None else check_choice(self.owner, "measure", measure, self.measures)

    def check_test(self, test: str) -> str:
        """The canonical spelling of ``test``, refused when the method does not allow it."""
        return check_choice(self.owner, "test", test, self.tests)


def _tau2_method(e: Tau2Estimator) -> Method:
    return Method(e.code, e.name, e.reference, "random" if e.random else "common", "effects", None, tuple(TESTS),
                  moderators=True, batch=True, function=rma, estimator=e)


#: Every method by code; aliases (:data:`ALIASES`) name tau2 estimators.
METHODS: dict[str, Method] = {
    **{code: _tau2_method(e) for code, e in ESTIMATORS.items()},
    "GLMM": Method("GLMM", "binomial- or Poisson-normal GLMM", "Stijnen, Hamza & Özdemir (2010)", "glmm", "counts",
                   tuple(GLMM_MEASURES), ("z", "t"), moderators=False, batch=False, function=rma_glmm),
    "MH": Method("MH", "Mantel-Haenszel", "Mantel & Haenszel (1959)", "mh", "tables", tuple(MH_MEASURES), ("z",),
                 moderators=False, batch=False, function=rma_mh),
    "PETO": Method("PETO", "Peto's one-step odds ratio", "Yusuf et al. (1985)", "peto", "tables", ("OR", "PETO"),
                   ("z",), moderators=False, batch=False, function=rma_peto),
}


def method_choices(batch: bool = False) -> list[str]:
    """Every accepted value of ``method`` (codes, then aliases); only those ``fit_many`` fits with ``batch``."""
    codes = [code for code, m in METHODS.items() if m.batch or not batch]
    return codes + [alias for alias, code in ALIASES.items() if code in codes]


def get_method(code: str, owner: str = "fit") -> Method:
    """Look up a method by code or alias (case-insensitive); errors in :func:`check_choice`'s words."""
    code = check_choice(owner, "method", code, method_choices())
    return METHODS[ALIASES.get(code, code)]


@dataclass(frozen=True)
class Fit:
    """What :func:`fit` returns: the method, the study-level effect sizes and the pooled model.

    ``effects`` are the effect sizes of the model's measure (for MH and
    Peto's method those of the tables, 1/2 added to zero cells as escalc
    does; Peto's method: Peto's log odds ratios, as metafor's ``rma.peto``);
    ``model`` is an ``RMAResult``, ``GLMMResult`` or ``MHResult``.
    """

    method: Method
    effects: EffectSizeTable
    model: object


def fit(
    method: str = "REML",
    data=None,
    *,
    measure: str | None = None,
    slab=None,
    test: str = "z",
    level: float = 95,
    mods=None,
    reference: dict | None = None,
    add: float | None = None,
    to: str = "only0",
    drop00: bool | None = None,
    ci_level: float = 95,
    **roles,
) -> Fit:
    """Pool a study table with any method of :data:`METHODS`.

    Checks the combination (data, moderators, measure, test) against the
    registry, computes the effect sizes with :func:`~metapool.effect_sizes.escalc`
    and fits the model with the method's function, passing the options it
    takes.

    Parameters
    ----------
    method
        A code or alias of :data:`METHODS` (case-insensitive).
    data
        Table whose columns the roles, ``slab`` and ``mods`` name.
    measure
        Effect measure; default by the roles given
        (:func:`metapool.columns.default_measure`).
    slab, test, level
        Study labels, test and confidence level, as in :func:`rma`.
    mods, reference
        Moderators and reference levels (methods with ``moderators`` only).
    add, to, drop00, ci_level
        Continuity correction and CI level of ratios, as in ``escalc``; for
        MH and Peto's method ``add`` (default 1/2) and ``to`` go to the model
        too. ``drop00`` None is the model's default: False, but True for the
        GLMM (metafor's ``rma.glmm``). The GLMM takes ``add`` (default 1/2),
        ``to`` and ``drop00`` as ``rma.glmm`` does (they shape its observed
        outcomes, hence I^2 and H^2, and for 2x2 tables ``drop00`` its
        studies), and its ``effects`` are computed with the same options.
    **roles
        Column roles as in ``escalc`` (``xi="events", ni="total"``).

    Returns
    -------
    Fit

    Raises
    ------
    OptionError
        A method, measure or test outside the registry, or a combination the
        method does not fit (one line, naming the method).
    DataValidationError
        From escalc and the model functions.
    """
    m = get_method(method)
    roles = {role: value for role, value in roles.items() if value is not None}
    m.check_data(roles)
    m.check_moderators(mods is not None)
    measure = measure or default_measure(roles)
    if measure is None:
        raise OptionError("fit needs the data's columns (e.g. xi and ni, or yi and vi) to pool.")
    measure, test = m.check_measure(measure), m.check_test(test)
    glmm = m.kind == "glmm"
    if glmm:  # rma_glmm's defaults (metafor's rma.glmm): add = 1/2, drop00 = True (2x2 tables only)
        add, drop00 = 0.5 if add is None else add, True if drop00 is None else drop00
    # Peto's method pools (and metafor's rma.peto shows) Peto's log odds ratios, whatever the measure asked
    effects = escalc("PETO" if m.kind == "peto" else measure, data, slab=slab, add=add, to=to,
                     drop00=bool(drop00) and (not glmm or measure == "OR"), ci_level=ci_level, **roles)
    if m.estimator is not None:
        model = rma(effects, mods=mods, data=data, reference=reference, method=m.code, test=test, level=level)
    elif glmm:
        model = rma_glmm(measure, data, slab=slab, test=test, level=level, add=add, to=to, drop00=drop00, **roles)
    else:
        tables = {"slab": slab, "add": 0.5 if add is None else add, "to": to, "level": level, **roles}
        model = rma_peto(data, **tables) if m.kind == "peto" else rma_mh(measure, data, **tables)
    return Fit(m, effects, model)

"""Results are data: ``document(result)`` renders every result type, ``summary()`` only delegates to it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import warnings

import pytest

import metapool as mp
from metapool.analysis_report import AnalysisReport
from metapool.bias import fsn, lfk, peters, ranktest, regtest, trimfill
from metapool.datasets import load_dataset
from metapool.formatting import Document, document
from metapool.influence import baujat, cumulative, gosh, influence, leave_one_out
from metapool.influence.report import sensitivity_report
from metapool.medians import describe_medians, estimate_mean_sd, pool_median_survival, pool_medians
from metapool.moderators.permutation import permutest
from metapool.moderators.subgroups import subgroup_analysis

TABLES = {"ai": [4, 6, 3, 0], "n1i": [123, 306, 231, 50], "ci": [11, 29, 11, 0], "n2i": [139, 303, 220, 60]}
MEDIANS = [3.1, 2.2, 4.0, 5.5, 1.9, 3.3]


def all_results() -> dict:
    """One fitted result of every kind the package returns (small data sets, quick fits)."""
    data = load_dataset("bcg")
    es = mp.escalc("RR", data, ai="tpos", bi="tneg", ci="cpos", di="cneg", slab="author")
    res = mp.rma(es)
    out = {
        "rma REML": res,
        "rma CE": mp.rma(es, method="CE"),
        "rma knha + moderators": mp.rma(es, mods=["ablat", "alloc"], data=data, test="knha"),
        "rma proportions": mp.rma(mp.escalc("PFT", xi=[3, 10, 20, 7], ni=[30, 40, 50, 60])),
        "rma_mh OR": mp.rma_mh("OR", **TABLES),
        "rma_peto": mp.rma_peto(**TABLES),
        "rma_glmm": mp.rma_glmm("PLO", xi=[3, 10, 20, 7, 12], ni=[30, 40, 50, 60, 45]),
        "fsn Rosenthal": fsn(res),
        "fsn Orwin": fsn(res, type="Orwin"),
        "lfk": lfk(res),
        "ranktest": ranktest(res),
        "regtest": regtest(res),
        "regtest lm ni": regtest(res, model="lm", predictor="ni"),
        "peters": peters(res, table=es),
        "trimfill": trimfill(res),
        "influence": influence(res),
        "baujat": baujat(res),
        "gosh": gosh(res, subsets=50, seed=1),
        "leave_one_out": leave_one_out(res),
        "cumulative": cumulative(res),
        "describe_medians": describe_medians(MEDIANS),
        "estimate_mean_sd": estimate_mean_sd(n=[20, 30], median=[3.0, 4.0], q1=[2.0, 3.0], q3=[5.0, 6.0]),
        "pool_medians": pool_medians(MEDIANS),
        "pool_median_survival": pool_median_survival([5.0, 6.0, 7.5], [4.0, 4.5, 5.0], [7.0, 8.0, 11.0]),
        "permutest": permutest(mp.rma(es, mods=["ablat"], data=data), iter=50, seed=1),
        "subgroups separate": subgroup_analysis(es, "alloc", data, method="DL"),
        "subgroups common": subgroup_analysis(es, "alloc", data, tau2="common", method="DL"),
        "sensitivity report": sensitivity_report(res),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["rma_glmm exact"] = mp.rma_glmm("PLO", xi=[0, 0, 0], ni=[10, 20, 30])
    return out


@pytest.fixture(scope="module")
def results():
    return all_results()


def test_document_is_summary_for_every_result(results):
    for name, res in results.items():
        doc = document(res)
        assert isinstance(doc, Document), name
        assert doc == res.summary(), name
        assert doc.title and doc.blocks, name
        assert doc.to_text() == res.summary().to_text() and doc.to_text().strip(), name


def test_every_public_result_class_has_a_renderer(results):
    """Every class with a ``summary()`` in the package is rendered by a registered renderer, not the fallback."""
    classes = set()
    for info in pkgutil.walk_packages(mp.__path__, "metapool."):
        if info.name.startswith(("metapool.cli", "metapool.web")):
            continue
        module = importlib.import_module(info.name)
        classes |= {c for _, c in inspect.getmembers(module, inspect.isclass)
                    if c.__module__.startswith("metapool.") and c.__module__ != "metapool._summary"
                    and hasattr(c, "summary")}
    assert {type(r) for r in results.values()} <= classes
    missing = sorted(c.__qualname__ for c in classes if document.dispatch(c) is document.dispatch(object))
    assert not missing, f"no document renderer for {missing}"
    assert {c for c in classes if not c.__name__.startswith("_")} <= {type(r) for r in results.values()} | {
        AnalysisReport}, "add a fitted example of the new result type to all_results()"


def test_unregistered_type_is_a_clear_type_error():
    class Unknown:
        pass

    with pytest.raises(TypeError, match="No document renderer is registered for .*Unknown"):
        document(Unknown())


def test_formatting_document_is_the_dispatcher_and_the_old_module_path_still_works():
    """``metapool.formatting.document`` is the dispatcher; the document model, once in the module
    formatting/document.py, lives in formatting/blocks.py and imports from its old path."""
    import metapool.formatting as formatting
    from metapool._summary import document as core_document
    from metapool.formatting import blocks
    from metapool.formatting.document import Document as OldPathDocument, Rendered

    assert formatting.document is core_document is document
    assert OldPathDocument is Document is blocks.Document
    assert issubclass(mp.RMAResult, Rendered)


def test_import_metapool_loads_no_renderer_until_a_document_is_made():
    """The renderers import every result type (bias, influence, medians, ...): not at ``import metapool``."""
    import subprocess
    import sys

    code = ("import sys, metapool as mp; before = 'metapool.formatting.renderers' in sys.modules;"
            " from metapool.influence.gosh import GoshResult; from metapool.formatting import document;"
            " ok = document.dispatch(GoshResult) is not document.dispatch(object);"
            " print(before, 'metapool.bias.trimfill' in sys.modules, ok)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True", "True"]

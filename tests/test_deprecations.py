"""Names removed or renamed by issue 11 stay importable, with a DeprecationWarning."""

from __future__ import annotations

import importlib

import pytest

import metapool.exceptions as exceptions
from metapool import MetapoolWarning


@pytest.mark.parametrize("name", ["ZeroCellWarning", "SmallSampleWarning"])
def test_removed_warnings_import_with_a_deprecation(name):
    with pytest.warns(DeprecationWarning, match=f"{name} is deprecated.*never raises it"):
        cls = getattr(exceptions, name)
    assert issubclass(cls, MetapoolWarning) and cls is not MetapoolWarning and cls.__name__ == name
    with pytest.warns(DeprecationWarning):
        assert getattr(exceptions, name) is cls  # one class, so `except` and filters keep working
    assert name not in exceptions.__all__


def test_unknown_names_are_still_attribute_errors():
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchWarning'"):
        exceptions.NoSuchWarning  # noqa: B018


@pytest.mark.parametrize(("old", "new", "name"), [
    ("metapool.models.glmm", "metapool.glmm.model", "rma_glmm"),
    ("metapool.models.glmm", "metapool.glmm.model", "GLMM_MEASURES"),
    ("metapool.models.glmm_results", "metapool.glmm.result", "GLMMResult"),
    ("metapool.models.glmm_results", "metapool.glmm.result", "GLMM_MODELS"),
])
def test_moved_glmm_names_import_from_their_old_modules_with_a_deprecation(old, new, name):
    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=rf"{old}\.{name} is deprecated.*import it from {new}"):
        obj = getattr(module, name)
    assert obj is getattr(importlib.import_module(new), name)  # the same object: isinstance keeps working
    with pytest.raises(AttributeError, match="has no attribute 'fit_glmm'"):
        module.fit_glmm  # noqa: B018  (internal names are not forwarded)

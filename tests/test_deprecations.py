"""Names removed or renamed by issue 11 stay importable, with a DeprecationWarning."""

from __future__ import annotations

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

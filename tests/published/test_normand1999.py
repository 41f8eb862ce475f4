"""Normand SLT (1999). Meta-analysis: formulating, evaluating, combining, and
reporting. Stat Med 18:321-359. Second example: length of stay of stroke patients
(dat.normand1999), mean differences with the pooled SD (Tables VIII and IX).
"""

import numpy as np
import pytest

import metapool as mp
from metapool.datasets import load_dataset


@pytest.fixture(scope="module")
def md():
    data = load_dataset("normand1999")
    num = {c: np.array(data[c], dtype=float) for c in ("n1i", "sd1i", "n2i", "sd2i", "m1i", "m2i")}
    sdp = np.sqrt(((num["n1i"] - 1) * num["sd1i"] ** 2 + (num["n2i"] - 1) * num["sd2i"] ** 2) / (num["n1i"] + num["n2i"] - 2))
    return mp.escalc("MD", m1i=num["m1i"], sd1i=sdp, n1i=num["n1i"], m2i=num["m2i"], sd2i=sdp, n2i=num["n2i"], slab=data["source"])


def test_table_viii(md):
    assert md.yi == pytest.approx([-20, -2, -55, -71, -4, 1, 11, -10, 7])
    assert np.round(md.vi, 2) == pytest.approx([40.59, 2.05, 15.28, 150.22, 20.19, 1.22, 95.38, 8.03, 20.69])


@pytest.mark.parametrize(
    "method, estimate, ci, tau2",
    [
        ("FE", -3.49, (-5.03, -1.96), None),
        ("DL", -14.10, (-24.45, -3.75), 218.72),
        ("REML", -15.12, (-32.67, 2.43), 685.20),
    ],
)
def test_table_ix(md, method, estimate, ci, tau2):
    res = mp.rma(md, method=method)
    assert res.estimate == pytest.approx(estimate, abs=5e-3)
    assert (res.ci_lower, res.ci_upper) == pytest.approx(ci, abs=5e-3)
    if tau2 is not None:
        assert res.tau2 == pytest.approx(tau2, abs=5e-3)

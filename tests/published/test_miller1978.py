"""Miller JJ (1978). The inverse of the Freeman-Tukey double arcsine transformation.
Am Stat 32:138. Example on page 138 (metafor's double arcsine is half of Miller's).
"""

import numpy as np
import pytest

import metapool as mp
from metapool.effect_sizes.transforms import ipft

XI = [3, 6, 10, 1]
NI = [11, 17, 21, 6]


def test_transformed_values():
    es = mp.escalc("PFT", xi=XI, ni=NI)
    assert 2 * es.yi == pytest.approx([1.1391, 1.2888, 1.5253, 0.9515], abs=5e-5)
    assert 4 * es.vi == pytest.approx([0.0870, 0.0571, 0.0465, 0.1538], abs=5e-5)


def test_weighted_pooled_proportion():
    res = mp.rma(mp.escalc("PFT", xi=XI, ni=NI), method="FE")
    assert 2 * res.estimate == pytest.approx(1.3093, abs=5e-5)
    assert res.back().estimate == pytest.approx(0.3595, abs=5e-5)


def test_zero_and_full_proportions_invert_exactly():
    es = mp.escalc("PFT", xi=[0, 4, 9, 16, 20], ni=[10, 10, 15, 20, 20])
    assert ipft(es.yi, es.ni) == pytest.approx([0.0, 0.4, 0.6, 0.8, 1.0], abs=1e-12)
    back = mp.rma(es, method="FE").back()
    assert (back.estimate, back.ci_lower, back.ci_upper) == pytest.approx((0.6886, 0.5734, 0.7943), abs=5e-5)
    assert np.isnan(back.pi_lower)

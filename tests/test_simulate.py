"""metapool.simulate: draws are reproducible, and a published finding is reproduced.

IntHout, Ioannidis & Borm (2014, BMC Med Res Methodol 14:25): with few studies and
large heterogeneity the DerSimonian-Laird z interval under-covers, while the
Hartung-Knapp(-Sidik-Jonkman) interval keeps its nominal level.
"""

import numpy as np
import pandas as pd
import pytest

from metapool.exceptions import OptionError
from metapool.simulate import FAMILIES, Scenario, draw, simulate


def test_knapp_hartung_fixes_the_undercoverage_of_dl_with_few_heterogeneous_studies():
    res = simulate(Scenario("continuous", k=5, tau2=0.5, n_min=20, n_max=100), n_meta=2000,
                   methods=("DL",), tests=("z", "knha"), seed=20140225)
    z, knha = res.coverage("DL", "z"), res.coverage("DL", "knha")
    # Monte Carlo SE of a coverage near 0.95 with 2000 draws is 0.005.
    assert z < 0.91
    assert 0.93 <= knha <= 0.97
    row = res.summary.set_index("test")
    assert row.loc["knha", "ci_width"] > row.loc["z", "ci_width"]
    assert abs(row.loc["z", "bias"]) < 0.05 and (row["n_failed"] == 0).all()


@pytest.mark.parametrize("family", list(FAMILIES))
def test_draws_are_reproducible_and_fit_every_family(family):
    s = Scenario(family, k=4, tau2=0.1, mu=0.3)
    a, b = draw(s, 50, np.random.default_rng(1)), draw(s, 50, np.random.default_rng(1))
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 200 and a["rep"].nunique() == 50
    res = simulate(s, n_meta=50, methods=("REML", "PM"), tests=("t",), seed=3)
    assert list(res.summary["method"]) == ["REML", "PM"]
    assert res.summary["n_fits"].sum() + res.summary["n_failed"].sum() == 100
    assert len(res.fits) == 100


def test_scenario_checks_its_parameters():
    with pytest.raises(OptionError, match="family"):
        Scenario("survival")
    with pytest.raises(OptionError):
        Scenario(k=0)
    with pytest.raises(OptionError):
        Scenario(n_min=50, n_max=10)

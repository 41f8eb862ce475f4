"""The SYNTHETIC HMA + venetoclax demo data set: reproducible and calibrated as documented."""

import csv

import numpy as np
import pytest

import metapool as mp
from metapool.datasets import DATASETS, load_dataset
from metapool.datasets import make_aml_demo

NAME = "aml_hma_ven_synthetic"


@pytest.fixture(scope="module")
def rows():
    with open(DATASETS[NAME].path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_generator_reproduces_the_committed_file():
    assert make_aml_demo.to_csv(make_aml_demo.generate()) == DATASETS[NAME].path.read_text(encoding="utf-8")


def test_labelled_synthetic():
    assert "synthetic" in DATASETS[NAME].file
    assert DATASETS[NAME].description.startswith("SYNTHETIC")


def test_shape(rows):
    n = np.array([int(r["n"]) for r in rows])
    assert len(rows) == 32 and n.sum() == 2289 and n.min() >= 20
    assert {r["design"] for r in rows} == {"prospective single-arm", "retrospective single-arm"}
    assert {r["hma"] for r in rows} == {"azacitidine", "decitabine"}
    years = {int(r["year"]) for r in rows}
    assert min(years) == 2018 and max(years) == 2025
    for r in rows:
        assert int(r["cr_events"]) <= int(r["cr_cri_events"]) <= int(r["orr_events"]) <= int(r["n"])
        assert 0.0 <= float(r["prior_hma_fraction"]) <= 1.0
        if r["mrd_tested"]:
            assert int(r["mrd_negative"]) <= int(r["mrd_tested"]) <= int(r["cr_cri_events"])
        if r["os_median_upper"]:
            assert float(r["os_median_lower"]) <= float(r["os_median_months"]) <= float(r["os_median_upper"])
    # subsets report MRD and survival; a few OS CIs have no upper limit (not reached)
    assert 8 <= sum(bool(r["mrd_tested"]) for r in rows) < 32
    assert any(r["os_median_months"] and not r["os_median_upper"] for r in rows)


@pytest.mark.parametrize(
    "events, total, target",
    [("orr_events", "n", 0.50), ("cr_cri_events", "n", 0.43), ("cr_events", "n", 0.26),
     ("mrd_negative", "mrd_tested", 0.42)],
)  # fmt: skip
def test_calibrated_pooled_values(events, total, target):
    data = load_dataset(NAME)
    res = mp.rma(mp.escalc("PLO", data, xi=events, ni=total, slab="study"))
    assert res.back().estimate == pytest.approx(target, abs=0.005)
    assert res.i2 > 50

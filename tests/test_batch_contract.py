"""Contract: fit_many on a long table equals a loop of single rma fits, analysis by analysis.

Every estimator x test x measure family, with ragged k, k = 1, tau2 at 0, missing
rows, analyses with impossible rows, analyses without studies and fits that do not
converge (reported per analysis with a status, never dropped).
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import metapool as mp
from metapool.batch import BACK_COLUMNS, RESULT_COLUMNS, fit_many
from metapool.exceptions import ConvergenceError, DataValidationError

# measure -> column roles of the long table
FAMILIES = {
    "PLO": {"xi": "x", "ni": "n"},
    "PFT": {"xi": "x", "ni": "n"},
    "OR": {"ai": "x", "n1i": "n", "ci": "c", "n2i": "n2"},
    "RD": {"ai": "x", "n1i": "n", "ci": "c", "n2i": "n2"},
    "SMD": {"m1i": "m1", "sd1i": "sd1", "n1i": "n", "m2i": "m2", "sd2i": "sd2", "n2i": "n2"},
    "GEN": {"yi": "yi", "vi": "vi"},
}
CLOSED_FORM = {"CE", "DL", "HE", "HS", "SJ"}
NUMERIC = [c for c in RESULT_COLUMNS if c not in ("k", "measure", "method", "test", "level", "converged", "n_iter")]


def long_table(seed: int = 11, n_analyses: int = 14) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for g in range(n_analyses):
        k = [1, 2, 3, 5, 8, 13][g % 6]
        tau = 0.0 if g % 4 == 0 else 0.6  # every fourth analysis homogeneous: tau2 at 0
        n = rng.integers(8, 120, k)
        n2 = rng.integers(8, 120, k)
        theta = rng.normal(-0.5, tau, k)
        x = rng.binomial(n, 1 / (1 + np.exp(-theta)))
        c = rng.binomial(n2, 0.3)
        m1 = rng.normal(theta, 1.0 / np.sqrt(n))
        frames.append(pd.DataFrame({
            "review": f"r{g:02d}", "x": x, "n": n, "c": c, "n2": n2,
            "m1": m1, "sd1": rng.uniform(0.5, 2, k), "m2": rng.normal(0, 0.2, k), "sd2": rng.uniform(0.5, 2, k),
            "yi": rng.normal(theta, 0.2), "vi": rng.uniform(0.01, 0.3, k),
        }))  # fmt: skip
    data = pd.concat(frames, ignore_index=True)
    data.loc[data.index[data.review == "r03"][1], ["x", "m1", "yi"]] = np.nan  # a missing row
    data.loc[data.review == "r06", ["x", "m1", "yi"]] = np.nan  # no usable study: k = 0
    bad = data.index[data.review == "r09"][0]
    data.loc[bad, "x"] = data.loc[bad, "n"] + 5  # impossible row
    data.loc[bad, ["sd1", "vi"]] = -1.0
    return data.sample(frac=1.0, random_state=seed).reset_index(drop=True)  # rows in no particular order


def loop(data, by, measure, roles, **kw) -> dict:
    out = {}
    for key, sub in data.groupby(by, sort=True):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out[key] = mp.rma(mp.escalc(measure, sub, **roles), **kw).to_dict()
        except (ConvergenceError, DataValidationError) as exc:
            out[key] = exc
    return out


def assert_same(batch: pd.DataFrame, single: dict, rel: float) -> None:
    assert list(batch["review"]) == sorted(single)
    for _, row in batch.iterrows():
        one = single[row["review"]]
        if isinstance(one, ConvergenceError):
            assert row["status"] == "not_converged" and not row["converged"]
            assert all(math.isnan(row[c]) for c in NUMERIC)
            continue
        if isinstance(one, DataValidationError):
            assert row["status"] in ("invalid_data", "no_studies"), row["message"]
            continue
        assert row["status"] == "ok", row["message"]
        assert row["k"] == one["k"] and bool(row["converged"]) == one["converged"]
        for c in NUMERIC:
            want = one[c]
            if want is None:
                assert math.isnan(row[c]), c
            else:
                assert row[c] == pytest.approx(want, rel=rel, abs=rel * 1e-2), (row["review"], c)
        for c in BACK_COLUMNS:
            want = one.get("back", {}).get(c[5:])
            if want is None:
                assert c not in row or math.isnan(row[c]), c
            else:
                assert row[c] == pytest.approx(want, rel=rel, abs=rel * 1e-2), (row["review"], c)
        if [w for w in one["warnings"] if "artefact" not in w]:
            assert row["message"], row["review"]


DATA = long_table()


@pytest.mark.parametrize("measure", list(FAMILIES))
@pytest.mark.parametrize("method", list(mp.ESTIMATORS))
@pytest.mark.parametrize("test", list(mp.TESTS))
def test_batch_equals_loop(measure, method, test):
    roles = FAMILIES[measure]
    kw = {"method": method, "test": test, "level": 90}
    batch = fit_many(DATA, "review", measure=measure, **kw, **roles)
    assert len(batch) == DATA["review"].nunique()
    assert_same(batch, loop(DATA, "review", measure, roles, **kw), 1e-10 if method in CLOSED_FORM else 1e-8)
    statuses = dict(zip(batch["review"], batch["status"]))
    assert statuses["r06"] == "no_studies" and statuses["r09"] == "invalid_data"
    assert (batch["k"] == 1).any() and (batch.loc[batch.status == "ok", "tau2"] == 0).any()


@pytest.mark.parametrize("method", ["ML", "REML", "EB"])
def test_unconverged_fits_are_reported(method):
    control = mp.Control(maxiter=2, fisher_maxiter=2)
    roles = FAMILIES["GEN"]
    batch = fit_many(DATA, "review", measure="GEN", method=method, control=control, **roles)
    single = loop(DATA, "review", "GEN", roles, method=method, control=control)
    assert (batch["status"] == "not_converged").any()
    assert_same(batch, single, 1e-8)


def test_small_chunks_and_two_keys_give_the_same_results():
    data = DATA.assign(arm=DATA["review"].str[-1:].astype(int) % 2)
    whole = fit_many(data, ["review", "arm"], measure="PLO", method="REML", xi="x", ni="n")
    tiny = fit_many(data, ["review", "arm"], measure="PLO", method="REML", xi="x", ni="n", max_cells=7)
    pd.testing.assert_frame_equal(whole, tiny)
    assert list(whole.columns[:2]) == ["review", "arm"]


def test_if0all_applies_per_analysis():
    data = pd.DataFrame({"g": ["a"] * 3 + ["b"] * 3, "x": [0, 4, 6, 3, 4, 6], "n": [20, 20, 20, 20, 20, 20]})
    batch = fit_many(data, "g", measure="PLO", method="DL", to="if0all", xi="x", ni="n")
    for key, sub in data.groupby("g"):
        one = mp.rma(mp.escalc("PLO", sub, xi="x", ni="n", to="if0all"), method="DL")
        assert batch.set_index("g").loc[key, "estimate"] == pytest.approx(one.estimate, rel=1e-12)


def test_missing_keys_form_their_own_analysis_and_bad_options_raise():
    data = pd.DataFrame({"g": ["a", "a", None, None], "yi": [0.1, 0.3, 0.2, 0.5], "vi": [0.1, 0.2, 0.1, 0.1]})
    out = fit_many(data, "g", measure="GEN", yi="yi", vi="vi")
    assert len(out) == 2 and out["k"].tolist() == [2, 2]
    with pytest.raises(mp.OptionError, match="method"):
        fit_many(data, "g", measure="GEN", method="XX", yi="yi", vi="vi")
    with pytest.raises(DataValidationError, match="columns"):
        fit_many(data, "g", measure="PLO", yi="yi", vi="vi")
    with pytest.raises(DataValidationError, match="nope"):
        fit_many(data, "nope", measure="GEN", yi="yi", vi="vi")

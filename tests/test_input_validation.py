"""Bad input gets a clear error naming the row, the column and the problem."""

import numpy as np
import pytest

import metapool as mp
from metapool.exceptions import DataValidationError, OptionError


def test_events_above_total_names_row_study_and_column():
    with pytest.raises(DataValidationError, match=r"row 2 \(study 'B'\), column 'xi': events 12 exceed the total 10"):
        mp.escalc("PLO", xi=[1, 12], ni=[10, 10], slab=["A", "B"])


def test_negative_count():
    with pytest.raises(DataValidationError, match=r"row 1 .*column 'ci': count -1 is negative"):
        mp.escalc("OR", ai=[1], n1i=[10], ci=[-1], n2i=[10])


def test_fractional_count_is_rejected():
    # metafor silently accepts 2.5 events; metapool does not.
    with pytest.raises(DataValidationError, match="not a whole number"):
        mp.escalc("PR", xi=[2.5, 3], ni=[10, 10])


def test_zero_sample_size():
    with pytest.raises(DataValidationError, match="sample size must be at least 1"):
        mp.escalc("PLO", xi=[0, 1], ni=[0, 10])


def test_nonpositive_sd():
    with pytest.raises(DataValidationError, match=r"column 'sd2i': standard deviation must be > 0, got 0"):
        mp.escalc("MD", m1i=[1], sd1i=[1], n1i=[10], m2i=[1], sd2i=[0], n2i=[10])


def test_thousands_separator_names_the_cell():
    data = {"study": ["A", "B"], "events": ["3", "5"], "n": ["100", "1,000"]}
    with pytest.raises(DataValidationError, match=r"row 2 \(study 'B'\), column 'n': '1,000' is not a number"):
        mp.escalc("PLO", data, xi="events", ni="n", slab="study")


def test_non_numeric_text():
    with pytest.raises(DataValidationError, match="'12 %' is not a number"):
        mp.escalc("GEN", yi=["0.1", "12 %"], vi=[0.1, 0.1])


def test_missing_column_lists_available_columns():
    with pytest.raises(DataValidationError, match="Column 'events' for xi is not in the data. Available columns: 'x', 'n'"):
        mp.escalc("PLO", {"x": [1], "n": [2]}, xi="events", ni="n")


def test_missing_values_are_excluded_and_reported():
    es = mp.escalc("PLO", xi=[1, None, 3], ni=[10, 10, "NA"], slab=["A", "B", "C"])
    assert [(e.row, e.label) for e in es.exclusions] == [(1, "B"), (2, "C")]
    assert "missing value in column 'xi'" in es.exclusions[0].reason
    res = mp.rma(es)
    assert res.k == 1
    assert [e["study"] for e in res.to_dict()["excluded"]] == ["B", "C"]


def test_nan_policy_raise():
    with pytest.raises(DataValidationError, match="missing value"):
        mp.escalc("PLO", xi=[1, np.nan], ni=[10, 10], nan_policy="raise")


def test_labels_that_look_like_missing_stay_labels():
    es = mp.escalc("PLO", xi=[1, 2, 3], ni=[10, 10, 10], slab=["NA", "None", "nan"])
    assert es.slab == ("NA", "None", "nan")


def test_vi_not_positive_is_rejected_naming_the_study():
    with pytest.raises(DataValidationError, match=r"row 2 \(study 'S2'\), column 'vi': sampling variance must be > 0"):
        mp.rma(yi=[0.1, 0.2], vi=[0.1, 0.0], slab=["S1", "S2"])


def test_zero_variance_from_escalc_is_rejected_by_rma():
    es = mp.escalc("PR", xi=[0, 3], ni=[10, 10], to="none")
    with pytest.raises(DataValidationError, match="sampling variance 0.0 is not positive"):
        mp.rma(es)


def test_infinite_values_are_rejected():
    with pytest.raises(DataValidationError, match="infinite value"):
        mp.rma(yi=[0.1, np.inf], vi=[0.1, 0.1])


def test_k_zero():
    with pytest.raises(DataValidationError, match="k = 0"):
        mp.rma(yi=[np.nan], vi=[0.1])
    with pytest.raises(DataValidationError, match="no rows"):
        mp.escalc("PLO", xi=[], ni=[])


def test_columns_of_unequal_length():
    with pytest.raises(DataValidationError, match="differ in length"):
        mp.escalc("PLO", xi=[1, 2], ni=[10])


def test_wrong_columns_for_measure():
    with pytest.raises(DataValidationError, match=r"needs the columns \(xi, ni\) or \(xi, mi\)"):
        mp.escalc("PLO", ai=[1], n1i=[2])


def test_unknown_options_have_uniform_messages():
    with pytest.raises(OptionError, match=r"The 'method' parameter of rma must be one of \{.*'REML'.*\}. Got 'dl2'."):
        mp.rma(yi=[0.1, 0.2], vi=[0.1, 0.1], method="dl2")
    with pytest.raises(OptionError, match="'test' parameter of rma"):
        mp.rma(yi=[0.1, 0.2], vi=[0.1, 0.1], test="wald")
    with pytest.raises(OptionError, match="'measure' parameter of escalc"):
        mp.escalc("XYZ", yi=[1], vi=[1])
    with pytest.raises(OptionError, match="'level' parameter"):
        mp.rma(yi=[0.1, 0.2], vi=[0.1, 0.1], level=0)


def test_ratio_with_ci_validation():
    with pytest.raises(DataValidationError, match="is below its lower limit"):
        mp.escalc("LNR", ratio=[0.5], ci_lb=[0.6], ci_ub=[1.2])
    with pytest.raises(DataValidationError, match="use measure 'LNR'"):
        mp.escalc("GEN", ratio=[0.5], ci_lb=[0.4], ci_ub=[1.2])


def test_proportion_with_ci_is_pooled_on_the_logit_scale():
    es = mp.escalc("PCI", prop=[0.45, 0.30], ci_lb=[0.35, 0.20], ci_ub=[0.55, 0.42])
    z = 1.959963984540054
    assert es.yi[0] == pytest.approx(np.log(0.45 / 0.55))
    assert es.vi[0] == pytest.approx(((np.log(0.55 / 0.45) - np.log(0.35 / 0.65)) / (2 * z)) ** 2)
    assert mp.rma(es).back().estimate == pytest.approx(1 / (1 + np.exp(-mp.rma(es).estimate)))
    with pytest.raises(DataValidationError, match="strictly between 0 and 1"):
        mp.escalc("PCI", prop=[45], ci_lb=[35], ci_ub=[55])
    with pytest.raises(DataValidationError, match="use measure 'PCI'"):
        mp.escalc("LNR", prop=[0.4], ci_lb=[0.3], ci_ub=[0.5])

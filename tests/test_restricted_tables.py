"""A table restricted by ``take`` (one subgroup) keeps its input rows: exclusions are found by row, not position."""

import warnings

import numpy as np

import metapool as mp
from metapool.glmm.model import model_studies


def _subset():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = mp.escalc("PLO", xi=[5, 3, np.nan, 7, 2, 4], ni=[50, 40, 30, 60, 30, 45])
    return es.take([1, 2, 3])  # input rows 1-3; row 2 (position 1) has no count


def test_excluded_positions_map_rows_to_positions():
    sub = _subset()
    assert [e.row for e in sub.exclusions] == [2]
    assert {p: e.row for p, e in sub.excluded_positions().items()} == {1: 2}


def test_glmm_studies_of_a_restricted_table_list_each_exclusion_once_by_its_row():
    keep, exclusions, k = model_studies(_subset())
    assert keep.tolist() == [True, False, True] and k == 2
    assert [(e.row, e.label) for e in exclusions] == [(2, "Study 3")]


def test_rma_of_a_restricted_table_names_the_input_row():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = mp.rma(_subset(), method="REML")
    assert [e.row for e in res.exclusions] == [2] and res.rows.tolist() == [1, 3]

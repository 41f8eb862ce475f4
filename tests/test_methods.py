"""The registry of methods (metapool.models.methods): one list, one dispatcher, read everywhere."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import metapool as mp
from metapool.cli.main import build_parser, main
from metapool.columns import DEFAULT_MEASURE, default_measure
from metapool.exceptions import DataValidationError, OptionError
from metapool.models.methods import ALIASES, METHODS, fit, get_method, method_choices
from metapool.models.tau2 import ESTIMATORS
from metapool.spec import parse_spec

ONE_GROUP = {"xi": [3, 10, 20, 7, 1], "ni": [30, 40, 50, 35, 20]}
TABLES = {"ai": [4, 6, 3, 9, 2], "n1i": [30, 41, 25, 60, 20], "ci": [9, 8, 7, 15, 5], "n2i": [31, 40, 27, 58, 22]}


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def _choices(parser, command: str) -> list:
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return next(a for a in sub._actions if a.dest == "method").choices


def test_the_registry_holds_every_estimator_and_model():
    assert list(METHODS) == [*ESTIMATORS, "GLMM", "MH", "PETO"]
    assert method_choices() == [*METHODS, *ALIASES]
    assert method_choices(batch=True) == [*ESTIMATORS, *ALIASES]
    for m in METHODS.values():
        assert m.tests[0] == "z" and m.description.startswith(m.name)
        assert (m.estimator is not None) == (m.function is mp.rma) == m.batch == m.moderators
    assert get_method("fe") is get_method("EE") is METHODS["CE"]


def test_unknown_method_is_one_line_in_check_choice_words():
    with pytest.raises(OptionError) as exc:
        get_method("dl2")
    assert str(exc.value).startswith("The 'method' parameter of fit must be one of {'CE', 'DL'")
    assert str(exc.value).endswith("Got 'dl2'.") and "\n" not in str(exc.value)


@pytest.mark.parametrize("method, data, direct", [
    ("REML", ONE_GROUP, lambda: mp.rma(mp.escalc("PLO", **ONE_GROUP), method="REML")),
    ("fe", ONE_GROUP, lambda: mp.rma(mp.escalc("PLO", **ONE_GROUP), method="CE")),
    ("DL", TABLES, lambda: mp.rma(mp.escalc("OR", **TABLES), method="DL", test="knha")),
    ("GLMM", ONE_GROUP, lambda: mp.rma_glmm("PLO", **ONE_GROUP)),
    ("GLMM", TABLES, lambda: mp.rma_glmm("OR", **TABLES)),
    ("MH", TABLES, lambda: mp.rma_mh("OR", **TABLES)),
    ("PETO", TABLES, lambda: mp.rma_peto(**TABLES)),
])  # fmt: skip
def test_fit_gives_the_fitting_functions_numbers(method, data, direct):
    test = "knha" if method == "DL" else "z"
    fitted = quiet(fit, method, test=test, **data)
    expected = quiet(direct)
    assert fitted.method is get_method(method)
    assert fitted.model.to_dict() == expected.to_dict()  # bit-identical, every key
    # Peto's method shows Peto's log odds ratios (metafor's rma.peto yi), the model's own study values
    assert fitted.effects.measure == ("PETO" if method == "PETO" else default_measure(data))
    if method == "PETO":
        assert np.array_equal(fitted.effects.yi, fitted.model.yi, equal_nan=True)
    np.testing.assert_array_equal(fitted.effects.yi, mp.escalc(fitted.effects.measure, **data).yi)


@pytest.mark.parametrize("method, options, words", [
    ("GLMM", {"meani": [1.0, 2.0], "sdi": [1.0, 1.0], "ni": [10, 12]}, "Method 'GLMM'"),
    ("MH", ONE_GROUP, "takes two-group binary counts ("),
    ("PETO", {**TABLES, "mods": [1, 2, 3, 4, 5]}, "takes no moderators"),
    ("GLMM", {**ONE_GROUP, "mods": np.arange(5.0)}, "takes no moderators"),
    ("GLMM", {**ONE_GROUP, "test": "knha"}, "The 'test' parameter of rma_glmm must be one of {'z', 't'}. Got 'knha'."),
    ("MH", {**TABLES, "measure": "PETO"}, "The 'measure' parameter of rma_mh must be one of {'OR', 'RR', 'RD'}."),
])  # fmt: skip
def test_fit_refuses_what_the_method_cannot_do(method, options, words):
    with pytest.raises(OptionError) as exc:
        fit(method, **options)
    assert words in str(exc.value) and "\n" not in str(exc.value)


def test_the_command_line_offers_the_registry():
    parser = build_parser()
    assert _choices(parser, "pool") == method_choices()
    assert _choices(parser, "batch") == method_choices(batch=True)


def test_batch_help_offers_only_what_fit_many_fits(capsys):
    with pytest.raises(SystemExit):
        main(["batch", "--help"])
    help_text = capsys.readouterr().out
    listed = help_text.split("\nmethods:\n")[1].split("\n\ntests:")[0].split()
    method_option = help_text.split("  --method ")[1].split("  --test ")[0]
    assert "REML" in listed and "REML" in method_option
    for code in ("GLMM", "MH", "PETO"):
        assert code not in listed and code not in method_option


def test_fit_many_fits_exactly_the_batch_methods():
    pd = pytest.importorskip("pandas")
    from metapool.batch import fit_many

    table = pd.DataFrame({"g": ["a"] * 5 + ["b"] * 5, **{k: v * 2 for k, v in ONE_GROUP.items()}})
    for code in method_choices():
        if code in method_choices(batch=True):
            res = quiet(fit_many, table, "g", measure="PLO", method=code, xi="xi", ni="ni")
            assert (res["status"] == "ok").all() and (res["method"] == get_method(code).code).all()
        else:
            with pytest.raises(OptionError, match="'method' parameter of fit_many"):
                fit_many(table, "g", measure="PLO", method=code, xi="xi", ni="ni")


def test_list_methods_prints_the_registry(capsys):
    assert main(["list", "methods"]) == 0
    out = capsys.readouterr().out
    for m in METHODS.values():
        assert f"{m.code}  " in out and m.description in out


def _spec(outcome: str, defaults: str = "") -> str:
    return f'title = "t"\ndata = "d.csv"\n{defaults}\n[[outcome]]\nname = "O"\n{outcome}'


@pytest.mark.parametrize("outcome, key, words", [
    ('kind = "proportion"\nevents = "e"\ntotal = "n"\nmethod = "MH"\n', "method", "takes two-group binary counts ("),
    ('kind = "continuous"\nmean1 = "a"\nsd1 = "b"\nn1 = "c"\nmean2 = "d"\nsd2 = "e"\nn2 = "f"\nmethod = "GLMM"\n',
     "method", "Method 'GLMM'"),
    ('kind = "median"\nmedian = "m"\nlower = "l"\nupper = "u"\nmethod = "PETO"\n', "method", "Method 'PETO'"),
    ('kind = "binary"\nevents1 = "a"\ntotal1 = "b"\nevents2 = "c"\ntotal2 = "d"\nmethod = "MH"\nmeasure = "SMD"\n',
     "measure", "'measure' parameter of rma_mh"),
    ('kind = "binary"\nevents1 = "a"\ntotal1 = "b"\nevents2 = "c"\ntotal2 = "d"\nmethod = "MH"\ntest = "t"\n',
     "test", "'test' parameter of rma_mh"),
])  # fmt: skip
def test_analysis_file_checks_the_method_against_its_data(outcome, key, words):
    with pytest.raises(DataValidationError) as exc:
        parse_spec(_spec(outcome), "a.toml")
    message = str(exc.value)
    assert message.startswith("a.toml, line ") and f"key {key!r}" in message and words in message
    assert "\n" not in message


def test_a_default_test_the_method_cannot_use_is_an_error_of_the_outcome():
    outcome = 'kind = "binary"\nevents1 = "a"\ntotal1 = "b"\nevents2 = "c"\ntotal2 = "d"\nmethod = "PETO"\n'
    with pytest.raises(DataValidationError, match="outcome 1 .*key 'test'.*rma_peto"):
        parse_spec(_spec(outcome, '[defaults]\ntest = "knha"\n'), "a.toml")
    assert parse_spec(_spec(outcome, '[defaults]\ntest = "z"\n'), "a.toml").outcomes[0].method == "PETO"


@pytest.mark.parametrize("kind, columns", [
    ("proportion", {"events": "e", "total": "n"}),
    ("rate", {"events": "e", "time": "t"}),
    ("binary", {"events1": "a", "total1": "b", "events2": "c", "total2": "d"}),
    ("continuous", {"mean1": "a", "sd1": "b", "n1": "c", "mean2": "d", "sd2": "e", "n2": "f"}),
    ("survival", {"prop": "p", "ci-lower": "l", "ci-upper": "u"}),
    ("generic", {"ratio": "r", "ci-lower": "l", "ci-upper": "u"}),
    ("generic", {"yi": "y", "sei": "s"}),
])  # fmt: skip
def test_one_default_measure_rule(kind, columns):
    """The analysis file's default measure is default_measure() of the outcome's roles."""
    keys = "".join(f'{k.replace("-", "_")} = "{v}"\n' for k, v in columns.items())
    out = parse_spec(_spec(f'kind = "{kind}"\n{keys}'), "a.toml").outcomes[0]
    first = next(DEFAULT_MEASURE[role] for role in DEFAULT_MEASURE if role in out.roles)
    assert out.measure == default_measure(out.roles) == first
    assert default_measure({"ni"}) is None


def test_methods_text_names_the_model_used(tmp_path):
    from metapool.analysis import run_analysis
    from metapool.report.methods import methods_text

    rows = zip("ABCDE", TABLES["ai"], TABLES["n1i"], TABLES["ci"], TABLES["n2i"])
    (tmp_path / "d.csv").write_text("study,a,b,c,d\n" + "".join(f"{s},{a},{b},{c},{d}\n" for s, a, b, c, d in rows))
    tables = 'kind = "binary"\nevents1 = "a"\ntotal1 = "b"\nevents2 = "c"\ntotal2 = "d"\n'
    spec = (f'title = "t"\ndata = "d.csv"\nstudy = "study"\n[[outcome]]\nname = "Death"\n{tables}method = "MH"\n'
            f'measure = "RR"\n[[outcome]]\nname = "AE"\n{tables}method = "peto"\n'
            f'[[outcome]]\nname = "Relapse"\n{tables}method = "FE"\n')
    analysis = quiet(run_analysis, parse_spec(spec, "a.toml", tmp_path))
    assert [o.error for o in analysis.outcomes] == [None, None, None]
    text, references = methods_text(analysis)
    assert ("a common-effect Mantel-Haenszel model of the 2x2 tables [1] (variance of Greenland and Robins [2]);"
            " Cochran's Q and I² [3] from the study-level estimates for Death") in text
    assert "Peto's one-step common-effect odds ratio of the 2x2 tables [4]" in text and "for AE" in text
    assert "a common-effect (inverse-variance) model for Relapse" in text  # FE, an alias of CE, is named too
    assert any(r.startswith("Mantel N, Haenszel W (1959)") for r in references)
    assert any(r.startswith("Yusuf S, Peto R") for r in references)

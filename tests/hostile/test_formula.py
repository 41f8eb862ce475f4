"""Moderator formulas are parsed by metapool's grammar, never run as code (issue 10, section 1).

The issue's payload ran a shell command through formulaic's ``{...}``
evaluation; here it goes in through every door (``rma``, ``metapool pool
--mods``, an analysis file with ``metapool run``) and must be refused with one
line, exit status 2, and no file written. A family of other injection
attempts, a hypothesis property over random text, the grammar itself, designs
compared with hand-built matrices, and a scan of ``src/`` for calls that run
text as code complete the class.
"""

from __future__ import annotations

import ast
import json
import string
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metapool as mp
from metapool.cli.main import main
from metapool.exceptions import DataValidationError
from metapool.moderators.design import build_design
from metapool.moderators.formula import MAX_LENGTH, Categorical, Column, Transform, parse_formula


def payload(target: Path) -> str:
    """The issue's formula, writing ``target`` instead of ``PWNED`` (it did, through formulaic)."""
    return ("~ {x.__class__.__init__.__globals__['__builtins__']['__import__']('os')"
            f".system('id > {target}') or x}}")


@pytest.fixture
def studies(tmp_path):
    path = tmp_path / "studies.csv"
    path.write_text("study,yi,vi,x,g\nA,0.1,0.02,1,a\nB,0.3,0.03,2,b\nC,0.5,0.05,3,a\nD,0.2,0.04,4,b\nE,0.9,0.02,5,a\n")
    return path


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("metapool: error: "), err
    assert "Traceback" not in err
    return lines[0]


# ------------------------------------------------------------ the payload --


def test_payload_through_rma(tmp_path):
    target = tmp_path / "PWNED"
    es = mp.escalc("GEN", yi=[0.1, 0.3, 0.5, 0.2], vi=[0.02, 0.03, 0.05, 0.04])
    with pytest.raises(DataValidationError, match=r"'\{' at character 3: braces are not allowed"):
        mp.rma(es, mods=payload(target), data={"x": [1.0, 2.0, 3.0, 4.0]})
    assert not target.exists()


def test_payload_through_pool_mods(studies, tmp_path, capsys):
    target = tmp_path / "PWNED"
    status = main(["pool", str(studies), "--yi", "yi", "--vi", "vi", "--study", "study", "--mods", payload(target)])
    assert status == 2
    assert "braces are not allowed" in one_line_error(capsys)
    assert not target.exists()


def test_payload_through_an_analysis_file(studies, tmp_path, capsys):
    target, out = tmp_path / "PWNED", tmp_path / "report"
    formula = json.dumps(payload(target))  # a TOML basic string is a JSON string here
    analysis = tmp_path / "analysis.toml"
    analysis.write_text(
        f'data = "{studies.name}"\nstudy = "study"\n\n[[outcome]]\nname = "Effect"\nkind = "generic"\n'
        f'yi = "yi"\nvi = "vi"\nmods = [{formula}]\n'
    )
    assert main(["run", str(analysis), "-o", str(out)]) == 2
    line = one_line_error(capsys)
    assert "key 'mods'" in line and "line 9" in line and "braces are not allowed" in line
    assert not target.exists() and not out.exists()


# ----------------------------------------------------------- injection attempts --

ATTEMPTS = {
    "attribute": "~ x.__class__",
    "attribute after call": "~ log(x).real",
    "dunder name": "~ __class__",
    "dunder call": "~ __import__('os')",
    "builtins": "~ x + __builtins__",
    "braces": "~ {x}",
    "braces in I": "~ I({x})",
    "subscript": "~ x['a']",
    "lambda": "~ lambda x: x",
    "lambda in I": "~ I(lambda: 1)",
    "import": "~ import os",
    "getattr": "~ getattr(x, 'y')",
    "eval": "~ eval('1')",
    "exec in I": "~ I(exec('1'))",
    "open": "~ open('f')",
    "string concatenation": "~ 'a' + 'b'",
    "strings in I": "~ I('a' + 'b')",
    "nested unknown call": "~ log(sqrt(system('id')))",
    "call of a call": "~ log(x)(y)",
    "C with an expression": "~ C(log(x))",
    "C with Python contrasts": "~ C(g, contr.treatment(base='a'))",
    "C with a bare reference": "~ C(g, ref = a)",
    "keyword argument": "~ log(x, base = 2)",
    "comma": "~ x, y",
    "semicolon": "~ x; import os",
    "walrus": "~ I(y := x)",
    "comparison": "~ I(x > 1)",
    "boolean": "~ x or y",
    "numpy namespace": "~ np.log(x)",
    "f-string": "~ f'{x}'",
    "unbalanced": "~ log(x",
    "closing only": "~ x)",
    "empty term": "~ x + + ",
    "empty": "~ ",
    "only operators": "~ : *",
    "very long": "~ " + " + ".join(f"x{i}" for i in range(MAX_LENGTH)),
    "deep nesting": "~ " + "(" * 200 + "x" + ")" * 200,
    "deep arithmetic": "~ I(" + "-" * 500 + "x)",
    "long arithmetic": "~ I(" + "+".join(["x"] * 400) + ")",
    "term explosion": "~ " + "*".join(string.ascii_lowercase),
    "fullwidth letters": "~ ｅｖａｌ(x)",
    "homoglyph": "~ еval(x)",  # Cyrillic е
    "line separator": "~ x\u2028+ y",
    "nul": "~ x\x00",
    "control character in backticks": "~ `x\ny`",
    "unclosed backtick": "~ `x",
    "unclosed string": "~ C(g, 'a)",
    "two-sided": "~ y ~ x",
    "power of terms": "~ (a + b)^2",
    "nesting slash": "~ a/b",
    "number term": "~ 2 + x",
    "huge number": "~ I(x * 1e999)",
}


@pytest.mark.parametrize("formula", list(ATTEMPTS.values()), ids=list(ATTEMPTS))
def test_injection_attempts_are_refused_by_the_grammar(formula, tmp_path):
    with pytest.raises(DataValidationError) as info:
        parse_formula(formula)
    message = str(info.value)
    assert message.startswith("Moderator formula ") and "A formula may contain" in message
    assert "\n" not in message and "\u2028" not in message  # one line, whatever the formula
    assert len(message) < 1000


@pytest.mark.parametrize("formula", list(ATTEMPTS.values())[:12], ids=list(ATTEMPTS)[:12])
def test_injection_attempts_through_pool_exit_2(formula, studies, capsys):
    assert main(["pool", str(studies), "--yi", "yi", "--vi", "vi", "--mods", formula]) == 2
    one_line_error(capsys)


def test_column_and_level_names_are_data_not_code(tmp_path):
    """The column-list route builds terms directly: names and levels are looked up, never spliced into code."""
    target = tmp_path / "PWNED"
    evil_level = f"') + __import__('os').system('id > {target}') + ('"
    evil_column = "{__import__('os').system('id > " + str(target) + "')}"
    data = {evil_column: [1.0, 2.0, 3.0, 4.0, 5.0], "g": [evil_level, "b", evil_level, "b", "b"]}
    es = mp.escalc("GEN", yi=[0.1, 0.3, 0.5, 0.2, 0.9], vi=[0.02, 0.03, 0.05, 0.04, 0.02])
    res = mp.rma(es, mods=[evil_column, "g"], data=data, reference={"g": evil_level}, method="DL")
    assert res.coefficients.names == ("intrcpt", evil_column, "g[b]")
    res = mp.rma(es, mods=[evil_column, "g:cat"], data=data, method="DL")
    assert res.coefficients.names == ("intrcpt", evil_column, "g[b]")  # "'" sorts before "b"
    quoted = mp.rma(es, mods=f"~ `{evil_column}` + C(g, ref = \"b\")", data=data, method="DL")
    assert quoted.coefficients.names == ("intrcpt", evil_column, f"g[{evil_level}]")
    assert not target.exists()


# ------------------------------------------------------------- property: any text --

DATA = {"x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], "z": [0.5, 1.5, 1.0, 2.5, 3.0, 0.25, 2.0, 4.0],
        "g": ["a", "b", "c", "a", "b", "c", "c", "a"], "h": ["u", "u", "v", "v", "u", "v", "u", "u"],
        "prior HMA %": [10.0, 20.0, 15.0, 30.0, 25.0, 5.0, 12.5, 40.0]}
K = len(DATA["x"])
GRAMMAR_PIECES = ["x", "z", "g", "h", "`prior HMA %`", "C(", "factor(", "I(", "log(", "sqrt(", "exp(", "abs(",
                  "(", ")", "+", "-", "*", ":", "/", "^", "**", ",", "=", "ref", '"a"', "'b'", "~", " ", "0", "1",
                  "2", ".5", "1e3", "__", ".", "{", "}", "[", "]", "`", "\u2028", "é", "lambda", "os"]
ATOMS = ["x", "z", "g", "h", "`prior HMA %`", "C(g)", 'C(h, ref = "v")', "factor(g)", "log(z)", "I(x^2)",
         "I(x/z - 1)", "sqrt(x)", "(x + g)", "nope", "log(g)", "I(1/(x - 1))", 'C(g, "zz")']


def _near_formula(parts) -> str:
    """A formula of grammar atoms, sometimes without intercept, sometimes with a random piece spliced in."""
    first, rest, no_intercept, piece, at, mutate = parts
    text = "~ " + first + "".join(f" {op} {atom}" for op, atom in rest) + (" - 1" if no_intercept else "")
    return text[:at] + piece + text[at:] if mutate else text


formula_text = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(GRAMMAR_PIECES), max_size=25).map("".join),
    st.tuples(st.sampled_from(ATOMS), st.lists(st.tuples(st.sampled_from(["+", ":", "*", "-"]), st.sampled_from(ATOMS)),
                                               max_size=4),
              st.booleans(), st.sampled_from(GRAMMAR_PIECES), st.integers(0, 60), st.booleans()).map(_near_formula),
)


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(formula_text)
def test_any_text_is_a_design_of_named_columns_or_a_validation_error(text):
    try:
        formula = parse_formula(text)
    except DataValidationError:
        return
    assert all(isinstance(c, str) for c in formula.columns)
    assert all(isinstance(v, Column | Categorical | Transform) for v in formula.variables)
    try:
        design = build_design(text, DATA, K, [f"s{i}" for i in range(K)])
    except DataValidationError:
        return
    assert set(formula.columns) <= set(DATA)
    assert design.X.shape[0] == K and design.X.shape[1] == len(design.names)


# ------------------------------------------------------------------------ grammar --


def names_of(formula: str, data=DATA, **kw) -> tuple:
    return build_design(formula, data, len(next(iter(data.values()))), None, **kw).names


@pytest.mark.parametrize(("formula", "names"), [
    ("x", ("intrcpt", "x")),
    ("~ x + z", ("intrcpt", "x", "z")),
    ("~ x:z", ("intrcpt", "x:z")),
    ("~ x*z", ("intrcpt", "x", "z", "x:z")),
    ("~ x:z + g", ("intrcpt", "g[b]", "g[c]", "x:z")),  # main effects before interactions, as R
    ("~ x*g", ("intrcpt", "x", "g[b]", "g[c]", "x:g[b]", "x:g[c]")),
    ("~ x:g", ("intrcpt", "x:g[a]", "x:g[b]", "x:g[c]")),  # no g main effect: all levels, as R
    ("~ g*h", ("intrcpt", "g[b]", "g[c]", "h[v]", "g[b]:h[v]", "g[c]:h[v]")),
    ("~ h:g + g", ("intrcpt", "g[b]", "g[c]", "h[v]:g[a]", "h[v]:g[b]", "h[v]:g[c]")),
    ("~ (x + z):g", ("intrcpt", "x:g[a]", "x:g[b]", "x:g[c]", "z:g[a]", "z:g[b]", "z:g[c]")),
    ("~ x*z - x:z", ("intrcpt", "x", "z")),
    ("~ x - 1", ("x",)),
    ("~ -1 + x", ("x",)),
    ("~ 0 + x", ("x",)),
    ("~ x + 0", ("x",)),
    ("~ x - 1 + 1", ("intrcpt", "x")),
    ("~ g - 1", ("g[a]", "g[b]", "g[c]")),
    ("~ x + g + h - 1", ("x", "g[a]", "g[b]", "g[c]", "h[v]")),  # only the first factor gets all levels
    ("~ C(x)", ("intrcpt", *(f"x[{i}.0]" for i in range(2, 9)))),
    ("~ factor(g)", ("intrcpt", "g[b]", "g[c]")),
    ('~ C(g, ref = "c")', ("intrcpt", "g[a]", "g[b]")),
    ("~ C(g, 'b')", ("intrcpt", "g[a]", "g[c]")),
    ('~ C(g, reference = "b") - 1', ("g[b]", "g[a]", "g[c]")),  # reference first, as R's factor levels
    ("~ `prior HMA %`", ("intrcpt", "prior HMA %")),
    ("~ I(x^2) + I(x**3)", ("intrcpt", "I(x^2)", "I(x^3)")),
    ("~ I((x - 1)/2 * z)", ("intrcpt", "I((x - 1)/2 * z)")),
    ("~ log(x) + log2(x) + log10(z) + exp(-z) + sqrt(x) + abs(z - 1)",
     ("intrcpt", "log(x)", "log2(x)", "log10(z)", "exp(-z)", "sqrt(x)", "abs(z - 1)")),
    ("~ I(`prior HMA %` / 100)", ("intrcpt", "I(`prior HMA %`/100)")),
])
def test_grammar(formula, names):
    assert names_of(formula) == names


def test_reference_mapping_applies_to_formulas_and_c_takes_precedence():
    assert names_of("~ g", reference={"g": "b"}) == ("intrcpt", "g[a]", "g[c]")
    assert names_of("~ C(g, ref = 'c')", reference={"g": "b"}) == ("intrcpt", "g[a]", "g[b]")


@pytest.mark.parametrize(("formula", "message"), [
    ("~ nope", "Column 'nope' for a moderator is not in the data"),
    ("~ log(nope)", "Column 'nope' for a moderator is not in the data"),
    ("~ foo(x)", "'foo' at character 3: unknown function; allowed: C, factor, I, log"),
    ("~ I(C(g))", "C() cannot be used inside arithmetic"),
    ("~ log(g)", "column 'g': 'a' is not a number"),
    ("~ x - z", "'z' at character 7: this term is not in the formula before it"),
    ("~ 1", "the formula names no moderator"),
    ("~ a.b", "'.' at character 4: attribute access is not allowed; write a column name that contains '.' in"),
    ('~ C(g, ref = "zz")', "Reference level 'zz' is not a level of moderator 'g': 'a', 'b', 'c'"),
    ("~ C(g, base = 'a')", "unknown argument of C()"),
])
def test_grammar_errors(formula, message):
    with pytest.raises(DataValidationError, match=None) as info:
        build_design(formula, DATA, K, None)
    assert message in str(info.value)


def test_transform_that_is_not_finite_names_the_row_and_study():
    data = {"dose": [1.0, 2.0, 0.0, 4.0], "other": [1.0, 1.0, 1.0, 1.0]}
    labels = ["A", "B", "Smith 2010", "D"]
    with pytest.raises(DataValidationError, match=r"row 3 \(study 'Smith 2010'\): moderator 'log\(dose\)' is -inf "
                                                  r"\(dose = 0\), not a finite number"):
        build_design("~ log(dose)", data, 4, labels)
    with pytest.raises(DataValidationError, match=r"row 3 \(study 'Smith 2010'\): moderator 'I\(other/dose\)' is inf"):
        build_design("~ I(other/dose)", data, 4, labels)
    with pytest.raises(DataValidationError, match=r"row 1 \(study 'A'\): moderator 'sqrt\(-dose\)' is nan"):
        build_design("~ sqrt(-dose)", data, 4, labels)
    with pytest.raises(DataValidationError, match=r"row 1 \(study 'A'\): moderator 'exp\(dose \* 1000\)' is inf"):
        build_design("~ exp(dose * 1000)", data, 4, labels)
    # a row left out for a missing value is not an error
    holes = {"dose": [1.0, 2.0, None, 4.0]}
    design = build_design("~ log(dose)", holes, 4, labels)
    assert design.missing == {2: "missing value of moderator 'dose'"}
    np.testing.assert_array_equal(design.X[[0, 1, 3], 1], np.log([1.0, 2.0, 4.0]))


def test_column_list_errors_instead_of_silent_readings():
    with pytest.raises(DataValidationError, match="Column 'x:z' for a moderator is not in the data"):
        build_design(["x:z"], DATA, K, None)  # was read as column 'x' without a word
    with pytest.raises(DataValidationError, match="A reference level is given for 'gg', which is not a categorical"):
        build_design(["x", "g"], DATA, K, None, reference={"gg": "a"})
    with pytest.raises(DataValidationError, match="Moderator 'g' has a single level \\('a'\\)"):
        build_design(["g"], {"g": ["a", "a", "a"]}, 3, None)


def test_matrix_route_errors_are_validation_errors():
    with pytest.raises(DataValidationError, match="values that are not numbers"):
        build_design([[1.0, "a"], [2.0, "b"]], None, 2, None)
    with pytest.raises(DataValidationError, match=r"row 2 \(study 'B'\), moderator 'mod1': infinite value"):
        build_design(np.array([1.0, np.inf, 3.0]), None, 3, ["A", "B", "C"])
    with pytest.raises(DataValidationError, match=r"shape \(2, 2, 1\) but the data have 2 rows"):
        build_design(np.ones((2, 2, 1)), None, 2, None)


def test_analysis_file_formula_must_be_alone(studies, tmp_path, capsys):
    analysis = tmp_path / "analysis.toml"
    analysis.write_text(f'data = "{studies.name}"\nstudy = "study"\n\n[[outcome]]\nname = "E"\nkind = "generic"\n'
                        'yi = "yi"\nvi = "vi"\nmods = ["~ x", "g"]\n')
    assert main(["run", str(analysis), "-o", str(tmp_path / "out")]) == 2
    assert "a formula ('~ ...') must be the only entry" in one_line_error(capsys)


def test_a_valid_formula_runs_from_an_analysis_file(studies, tmp_path, capsys):
    analysis = tmp_path / "analysis.toml"
    analysis.write_text(f'data = "{studies.name}"\nstudy = "study"\n\n[[outcome]]\nname = "E"\nkind = "generic"\n'
                        'yi = "yi"\nvi = "vi"\nmods = ["~ log(x) + C(g, ref = \\"b\\")"]\nbias = false\n'
                        "sensitivity = false\n")
    assert main(["run", str(analysis), "-o", str(tmp_path / "out")]) == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert "g[a]" in json.dumps(results) and "log(x)" in json.dumps(results)


# ------------------------------------------------------ designs equal hand-built --

HAND = {"x": np.array(DATA["x"]), "z": np.array(DATA["z"]), "g": np.array(DATA["g"]), "h": np.array(DATA["h"])}
ONE = np.ones(K)


def dummy(var: str, level: str) -> np.ndarray:
    return (HAND[var] == level).astype(float)


@pytest.mark.parametrize(("formula", "expected"), [
    ("~ x + z", [ONE, HAND["x"], HAND["z"]]),
    ("~ x*z", [ONE, HAND["x"], HAND["z"], HAND["x"] * HAND["z"]]),
    ("~ x*g", [ONE, HAND["x"], dummy("g", "b"), dummy("g", "c"),
               HAND["x"] * dummy("g", "b"), HAND["x"] * dummy("g", "c")]),
    ("~ g:h - 1", [dummy("g", a) * dummy("h", b) for b in "uv" for a in "abc"]),
    ("~ x:g", [ONE, *(HAND["x"] * dummy("g", a) for a in "abc")]),
    ("~ C(h, ref = 'v') + I(x^2 - 2*z) + log(z)", [ONE, dummy("h", "u"), HAND["x"] ** 2 - 2 * HAND["z"],
                                                    np.log(HAND["z"])]),
    ("~ g + h - 1", [dummy("g", "a"), dummy("g", "b"), dummy("g", "c"), dummy("h", "v")]),
    ("~ I(-x^2) + sqrt(abs(z - 1))", [ONE, -(HAND["x"] ** 2), np.sqrt(np.abs(HAND["z"] - 1))]),
])
def test_design_equals_a_hand_built_matrix(formula, expected):
    design = build_design(formula, DATA, K, None)
    np.testing.assert_array_equal(design.X, np.column_stack(expected))


def test_column_list_and_formula_give_the_same_design():
    a = build_design(["x", "g", "h:cat"], DATA, K, None, reference={"g": "b"})
    b = build_design('~ x + C(g, ref = "b") + C(h)', DATA, K, None)
    np.testing.assert_array_equal(a.X, b.X)
    assert a.names == b.names == ("intrcpt", "x", "g[a]", "g[c]", "h[v]")


# --------------------------------------------- no code evaluation anywhere in src --

SRC = Path(__file__).resolve().parents[2] / "src" / "metapool"
#: Builtins that run or load code.
FORBIDDEN_BUILTINS = {"eval", "exec", "compile", "__import__", "breakpoint"}
#: Methods that evaluate text (pandas ``eval``/``query``, jinja2 ``from_string``, yaml, ast, importlib).
FORBIDDEN_METHODS = {"eval", "query", "from_string", "literal_eval", "import_module", "unsafe_load", "load_all",
                     "system", "popen", "format_map"}
FORBIDDEN_MODULES = {"pickle", "marshal", "shelve", "dill", "cloudpickle", "subprocess", "formulaic", "patsy",
                     "numexpr", "yaml", "code", "codeop"}
#: ``str.format`` on a template that is not a literal: each is metapool's own constant, reviewed.
REVIEWED_FORMAT = {("plots/forest.py", "lay.ci_header"), ("effect_sizes/cells.py", "problem"),
                   ("models/rma.py", "problem"), ("web/pages/accounts.py", "message")}


def _markup_literal(node: ast.AST) -> bool:
    """``Markup("literal")``: its ``format`` escapes every argument (markupsafe), the template is ours."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Markup"
            and len(node.args) == 1 and isinstance(node.args[0], ast.Constant))


def forbidden_calls(path: Path) -> list[str]:
    rel = path.relative_to(SRC).as_posix()
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        where = f"{rel}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"{where}: import {m}" for m in modules if m.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_BUILTINS | {"Template"}:
                found.append(f"{where}: {func.id}()")
            elif isinstance(func, ast.Attribute):
                receiver = ast.unparse(func.value)
                if func.attr in FORBIDDEN_METHODS or (func.attr == "load" and receiver == "yaml"):
                    found.append(f"{where}: {receiver}.{func.attr}()")
                elif func.attr == "Template":
                    found.append(f"{where}: {receiver}.Template()")
                elif func.attr == "format" and not isinstance(func.value, ast.Constant) \
                        and not _markup_literal(func.value) and (rel, receiver) not in REVIEWED_FORMAT:
                    found.append(f"{where}: {receiver}.format() with a template that is not a literal")
    return found


def test_no_source_file_evaluates_text_as_code():
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 50
    problems = [p for f in files for p in forbidden_calls(f)]
    assert not problems, "calls that may run user text as code:\n" + "\n".join(problems)


def test_the_scan_finds_what_it_forbids(tmp_path, monkeypatch):
    bad = SRC / "_scan_probe_does_not_exist.py"
    text = ("import pickle\nimport yaml\neval(s)\nframe.query(s)\nenv.from_string(s)\njinja2.Template(s)\n"
            "user.format(x=1)\nyaml.load(s)\nast.literal_eval(s)\n")
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: text)
    assert len(forbidden_calls(bad)) == 9

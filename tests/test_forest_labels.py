"""The analysis file's forest-plot keys (``favours``, ``arms``) and the report's figure plans (issue 13)."""

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from metapool.analysis import run_analysis  # noqa: E402
from metapool.exceptions import DataValidationError  # noqa: E402
from metapool.plots import forest_plot  # noqa: E402
from metapool.report.figures import forest_of, outcome_figures  # noqa: E402
from metapool.spec import load_spec, parse_spec  # noqa: E402

DATA = "study,e1,n1,e2,n2,x\nA,4,50,9,50,1\nB,6,60,12,62,2\nC,3,40,8,41,3\nD,10,90,15,88,4\n"


def _spec(extra_outcome: str = "", extra_top: str = "") -> str:
    return (f'title = "Trials"\ndata = "studies.csv"\nstudy = "study"\n{extra_top}\n[[outcome]]\nname = "Death"\n'
            'kind = "binary"\nevents1 = "e1"\ntotal1 = "n1"\nevents2 = "e2"\ntotal2 = "n2"\n'
            f'sensitivity = false\n{extra_outcome}\n')


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _run(tmp_path, text: str):
    (tmp_path / "studies.csv").write_text(DATA, encoding="utf-8")
    (tmp_path / "analysis.toml").write_text(text, encoding="utf-8")
    return run_analysis(load_spec(tmp_path / "analysis.toml"))


def test_favours_and_arms_reach_the_forest_plot(tmp_path):
    analysis = _run(tmp_path, _spec('favours = ["Magnesium", "Favours control"]\narms = ["Magnesium", "Control"]'))
    outcome = analysis.outcomes[0]
    assert outcome.spec.favours == ("Magnesium", "Favours control") and outcome.spec.arms == ("Magnesium", "Control")
    table = forest_of(outcome, analysis.table)
    assert table.favours == ("Magnesium", "Favours control")
    assert table.column_groups == (("Magnesium", 2), ("Control", 2)) and table.data_headers == ("Events", "Total") * 2
    assert table.blocks[0].pooled.cells == ("23", "240", "44", "241")  # totals of events and patients per arm
    texts = {t.get_text() for t in forest_plot(table).texts}
    assert {"\u2190 Favours Magnesium", "Favours control \u2192", "Magnesium", "Control", "23", "241"} <= texts


def test_arms_default_to_intervention_and_comparator_then_group_numbers(tmp_path):
    top = 'intervention = "Magnesium"\ncomparator = "Placebo"'
    spec = parse_spec(_spec(extra_top=top), "a.toml", tmp_path)
    assert spec.outcomes[0].arms == ("Magnesium", "Placebo") and spec.outcomes[0].favours == ()
    own = parse_spec(_spec('arms = ["Mg", "Ctrl"]', extra_top=top), "a.toml", tmp_path)
    assert own.outcomes[0].arms == ("Mg", "Ctrl")  # an outcome's own names win
    analysis = _run(tmp_path, _spec())
    assert forest_of(analysis.outcomes[0]).column_groups == (("Group 1", 2), ("Group 2", 2))


@pytest.mark.parametrize("value", ['["Magnesium"]', '["A", "B", "C"]', '["A", ""]', '"Magnesium"', '["A", 2]'])
@pytest.mark.parametrize("key", ["favours", "arms"])
def test_favours_and_arms_must_be_two_texts(tmp_path, key, value):
    with pytest.raises(DataValidationError, match=f"line 13: outcome 1 \\('Death'\\), key '{key}': must be a list of two"):
        parse_spec(_spec(f"{key} = {value}"), "a.toml", tmp_path)


def test_funnel_only_with_bias_and_contour_enhanced_only_with_a_null(tmp_path):
    kinds = lambda analysis: {f.kind: f.caption for f in outcome_figures(analysis.outcomes[0], None)}  # noqa: E731
    with_bias = kinds(_run(tmp_path, _spec()))
    assert with_bias["funnel"].startswith("Contour-enhanced funnel plot: Death")
    assert "funnel" not in kinds(_run(tmp_path, _spec("bias = false")))
    single = _run(tmp_path, _spec().replace('kind = "binary"\nevents1 = "e1"\ntotal1 = "n1"\nevents2 = "e2"\ntotal2 = "n2"',
                                            'kind = "proportion"\nevents = "e1"\ntotal = "n1"'))
    assert kinds(single)["funnel"].startswith("Funnel plot: Death")  # proportions: no null, no contours


def test_user_text_with_dollar_signs_is_drawn_literally():
    """Labels, arms, favours and titles are data: '$x^2$' is shown as written, never as mathtext."""
    import metapool as mp
    from metapool.plots import baujat_plot, forest_table

    es = mp.escalc("OR", ai=[3, 5, 8, 2], n1i=[50] * 4, ci=[6, 9, 8, 7], n2i=[50] * 4,
                   slab=["$x^2$ trial", "B $5 $6", "C", "D"])  # fmt: skip
    res = mp.rma(es)
    forest = forest_plot(forest_table(res, es, arms=("$a$", "B"), favours=("$\\alpha$", "x")), title="$T$")
    baujat = baujat_plot(res, title="$T$", label_top=4)
    for ax in (forest, baujat):
        ax.figure.canvas.draw()
        dollars = [t for t in ax.figure.findobj(matplotlib.text.Text) if "$" in t.get_text()]
        assert dollars and not any(t.get_parse_math() for t in dollars)


def test_labbe_axes_name_the_arms(tmp_path):
    analysis = _run(tmp_path, _spec(extra_top='intervention = "HMA + venetoclax"\ncomparator = "Placebo"'))
    labbe = next(f for f in outcome_figures(analysis.outcomes[0], None) if f.kind == "labbe")
    assert "Event rate, HMA + venetoclax" in labbe.svg and "Event rate, Placebo" in labbe.svg

"""The HTML report reads in plain words, keeps metafor's output in a technical section, and its numbers check out.

Issue 13 ("Readable by a clinician, checkable by a statistician"): plain names
in the main text, metafor's names only inside ``<details>``, natural-scale
bias and sensitivity values, contents and per-outcome navigation, alt text
for every figure, a print stylesheet, and a sensitivity summary whose every
row is one call of :func:`metapool.models.methods.fit`.
"""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from metapool.analysis import run_analysis
from metapool.bias import trimfill
from metapool.datasets import load_dataset
from metapool.influence.sensitivity import sensitivity_summary
from metapool.models.methods import fit
from metapool.report.plain import TRIMFILL_NONE
from metapool.report.figures import labelled_svg
from metapool.report.render import render_report
from metapool.spec import load_spec

DEMO = Path(__file__).resolve().parents[1] / "src" / "metapool" / "datasets" / "data" / "aml_hma_ven_synthetic.toml"

#: metafor's console names: none of them may appear in the report's main text.
CONSOLE_NAMES = ("zval", "tval", "pval", "p-val", "ci.lb", "ci.ub", "pi.lb", "pi.ub", "QE.del", "QE", "QM", "Qp",
                 "tau2.del", "cook.d", "cov.r", "rstudent", "dffits", "dfbs", "intrcpt", "tau^2", "I^2", "H^2",
                 "sei", "vi", "yi")


class _MainText(HTMLParser):
    """Text of a page outside ``<details>``, ``<script>``, ``<style>`` and figures' ``<svg>``; ids and links."""

    SKIP = {"details", "script", "style", "svg"}

    def __init__(self):
        super().__init__()
        self.depth = {tag: 0 for tag in self.SKIP}
        self.main, self.technical, self.ids, self.links, self.svgs = [], [], set(), [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.SKIP:
            self.depth[tag] += 1
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href", "").startswith("#"):
            self.links.append(attrs["href"][1:])
        if tag == "svg" and self.depth["svg"] == 1:
            self.svgs.append(attrs)

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.depth[tag] -= 1

    def handle_data(self, data):
        if not any(self.depth.values()):
            self.main.append(data)
        elif self.depth["details"] and not self.depth["svg"]:
            self.technical.append(data)


@pytest.fixture(scope="module")
def demo():
    return run_analysis(load_spec(DEMO))


@pytest.fixture(scope="module")
def page(demo):
    parser = _MainText()
    html = render_report(demo)
    parser.feed(html)
    return html, parser


def test_main_text_has_none_of_metafors_console_names(page):
    _, parsed = page
    text = " ".join(parsed.main)
    found = {name for name in CONSOLE_NAMES if re.search(rf"(?<![\w.^]){re.escape(name)}(?![\w.^])", text)}
    assert not found, f"metafor's names in the main text: {sorted(found)}"
    for plain in ("Between-study variance τ²", "95% CI", "Test for heterogeneity", "Prediction interval",
                  "Pooled proportion", "Sensitivity summary"):
        assert plain in text


def test_each_outcome_keeps_metafors_output_in_a_technical_section(page, demo):
    html, parsed = page
    analysed = [o for o in demo.outcomes if o.error is None]
    assert html.count("<summary>Technical details (metafor-style output)</summary>") == len(analysed)
    technical = " ".join(parsed.technical)
    assert "ci.lb" in technical and "zval" in technical and "QE.del" in technical


def test_contents_and_outcome_links_lead_somewhere(page, demo):
    _, parsed = page
    assert "contents" in parsed.ids
    assert set(parsed.links) <= parsed.ids, set(parsed.links) - parsed.ids
    for i, _ in enumerate(demo.outcomes, 1):
        assert f"outcome-{i}" in parsed.links  # in the contents
    assert parsed.links.count("contents") >= 2 * len(demo.outcomes)  # each outcome's navigation and its back link


def test_print_stylesheet_breaks_pages_before_outcomes_and_never_inside_figures(page):
    html, _ = page
    css = html[html.index("@media print"):html.index("</style>")]
    assert re.search(r"section\.outcome \{[^}]*break-before: page", css)
    assert re.search(r"figure[^{]*\{[^}]*break-inside: avoid", css)
    assert "nav.toc" in css and "display: none" in css
    assert "beforeprint" in html  # <details> printed open


def test_every_figure_has_its_caption_as_alternative_text():
    svg = '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg width="10pt" xmlns="http://www.w3.org/2000/svg"><g/></svg>'
    out = labelled_svg(svg, 'Forest plot: "A" <b> & B')
    assert out.startswith('<svg role="img" aria-label="Forest plot: &quot;A&quot; &lt;b&gt; &amp; B" width="10pt"')
    assert "<title>Forest plot: &quot;A&quot; &lt;b&gt; &amp; B</title>" in out and "<?xml" not in out


def test_report_figures_are_labelled(demo, tmp_path):
    from metapool.report.figures import outcome_figures

    o = demo.outcomes[0]
    figures = {o.spec.name: outcome_figures(o, tmp_path, demo.table, "", index=1)}
    parsed = _MainText()
    parsed.feed(render_report(demo, figures))
    assert parsed.svgs and all(a.get("role") == "img" and a.get("aria-label") for a in parsed.svgs)
    captions = {f.caption for f in figures[o.spec.name]}
    assert {a["aria-label"] for a in parsed.svgs} == captions


def _options(demo, o):
    spec = demo.spec
    from metapool.analysis import study_labels

    return dict(measure=o.spec.measure, level=o.spec.level, ci_level=o.spec.ci_level,
                slab=study_labels(spec, demo.table), **o.spec.roles)


def test_sensitivity_rows_equal_a_direct_fit(demo):
    o = demo.outcomes[0]
    s = o.sensitivity_summary
    codes = [r.code for r in s.rows]
    assert codes[0] == "primary" and {"CE", "DL", "PM", "ML", "SJ", "knha", "without_high_rob", "GLMM"} <= set(codes)
    assert "REML" not in codes  # the primary analysis is not repeated
    options = _options(demo, o)
    for r in s.rows:
        assert r.reason is None, (r.code, r.reason)
        data, opts = demo.table, options
        if r.code == "without_high_rob":
            keep = [i for i, c in enumerate(demo.table["risk_of_bias"]) if c != "high"]
            data = {name: [cells[i] for i in keep] for name, cells in demo.table.columns.items()}
            opts = options | {"slab": [options["slab"][i] for i in keep]}
        model = fit(r.method, data, test=r.test, **opts).model
        assert r.k == model.k
        np.testing.assert_allclose([r.estimate, r.ci_lower, r.ci_upper, r.tau2, r.i2],
                                   [model.estimate, model.ci_lower, model.ci_upper, model.tau2, model.i2], rtol=1e-12)
        back = model.back()
        np.testing.assert_allclose([r.natural.estimate, r.natural.ci_lower, r.natural.ci_upper],
                                   [back.estimate, back.ci_lower, back.ci_upper], rtol=1e-12)
    knha = s.rows[codes.index("knha")]
    assert knha.estimate == s.rows[0].estimate and knha.ci_upper != s.rows[0].ci_upper


def test_sensitivity_summary_is_in_results_json_and_traceable(demo):
    d = json.loads(json.dumps(demo.to_dict(), allow_nan=False))
    rows = d["outcomes"][0]["sensitivity_summary"]["rows"]
    row = demo.outcomes[0].sensitivity_summary.rows[1]
    assert rows[1]["code"] == row.code and rows[1]["estimate"] == row.estimate
    assert rows[1]["natural"]["ci_upper"] == row.natural.ci_upper
    median = next(o for o in d["outcomes"] if o["kind"] == "median")
    assert "sensitivity_summary" not in median  # sensitivity = false in the demo


def test_undefined_rows_say_why():
    data = load_dataset("bcg")
    res = fit("REML", data, measure="RR", ai="tpos", bi="tneg", ci="cpos", di="cneg").model
    rob = ["low"] * len(data["tpos"])
    s = sensitivity_summary(res, data, method="REML", measure="RR", rob=rob, ai="tpos", bi="tneg", ci="cpos",
                            di="cneg")
    why = {r.code: r.reason for r in s.rows}
    assert why["without_high_rob"] == "no analysed study is at high risk of bias"
    assert why["GLMM"].startswith("not applicable: the GLMM pools counts")
    s = sensitivity_summary(res, data, method="REML", measure="RR", test="knha", ai="tpos", bi="tneg", ci="cpos",
                            di="cneg")
    assert {r.code: r.reason for r in s.rows}["knha"] == "the primary analysis uses it"
    assert "without_high_rob" not in {r.code for r in s.rows}  # no risk-of-bias column: no row
    from types import SimpleNamespace

    from metapool.report.plain import sensitivity_table

    table = sensitivity_table(SimpleNamespace(sensitivity_summary=s, model=res))
    assert table.header == ("Analysis", "Pooled risk ratio (95% CI)", "Log risk ratio (CI)", "τ²", "I²", "k")
    reasons = {row[0]: row[1] for row in table.rows if len(row) == 2}  # spans the value columns
    assert reasons["Knapp–Hartung adjustment (Random effects, restricted maximum likelihood τ²)"] == (
        "the primary analysis uses it")


def test_glmm_row_for_two_by_two_tables_and_the_or_scale():
    data = load_dataset("bcg")
    roles = dict(ai="tpos", bi="tneg", ci="cpos", di="cneg")
    res = fit("DL", data, measure="OR", **roles).model
    s = sensitivity_summary(res, data, method="DL", measure="OR", **roles)
    glmm = {r.code: r for r in s.rows}["GLMM"]
    direct = fit("GLMM", data, measure="OR", **roles).model
    assert glmm.reason is None and math.isclose(glmm.estimate, direct.estimate, rel_tol=1e-12)
    assert math.isclose(glmm.natural.estimate, math.exp(direct.estimate), rel_tol=1e-12)


def test_glmm_row_without_a_measure_uses_the_fitted_one():
    data = {"e": [3, 10, 20, 7, 12], "n": [30, 40, 50, 60, 45]}
    res = fit("REML", data, xi="e", ni="n").model
    glmm = {r.code: r for r in sensitivity_summary(res, data, method="REML", measure=None, xi="e", ni="n").rows}["GLMM"]
    assert glmm.reason is None and glmm.label == "Random effects, binomial-normal GLMM"
    assert math.isclose(glmm.estimate, fit("GLMM", data, xi="e", ni="n").model.estimate, rel_tol=1e-12)


def test_trim_and_fill_without_filled_studies_prints_no_second_model():
    import metapool as mp

    tf = trimfill(mp.rma([-1.0, -0.5, 0.0, 0.5, 1.0], [0.1, 0.2, 0.05, 0.2, 0.1]))
    assert tf.k0 == 0
    text = str(tf.summary())
    assert "Model results" not in text and "unchanged" in text


def test_plain_bias_and_leave_one_out_tables_show_the_natural_scale(demo):
    from metapool.report.plain import bias_table, leave_one_out_table

    o = demo.outcomes[0]
    loo = leave_one_out_table(o)
    assert loo.header[1].startswith("Pooled proportion") and loo.header[2].startswith("Log odds")
    assert loo.rows[0][1].endswith("%)") and "%" not in loo.rows[0][2]
    bias = dict(bias_table(o).rows)
    tf = o.bias.results["trimfill"]
    shown = bias["Trim-and-fill"]
    assert (TRIMFILL_NONE in shown) == (tf.k0 == 0)
    if tf.k0:
        assert "%" in shown and "log odds" in shown


BINARY = """[[outcome]]
name = "Tuberculosis ({method})"
kind = "binary"
events1 = "tpos"
total1 = "n1"
events2 = "cpos"
total2 = "n2"
method = "{method}"
"""


def test_two_group_outcomes_of_every_method_read_in_plain_words(tmp_path):
    data = load_dataset("bcg")
    rob = ["low", "high", "some concerns"]
    lines = ["study,tpos,n1,cpos,n2,rob"] + [
        f"{a} {y},{t},{t + u},{c},{c + d},{rob[i % 3]}"
        for i, (a, y, t, u, c, d) in enumerate(zip(data["author"], data["year"], data["tpos"], data["tneg"],
                                                   data["cpos"], data["cneg"]))]
    (tmp_path / "bcg.csv").write_text("\n".join(lines) + "\n")
    spec = 'title = "BCG"\ndata = "bcg.csv"\nstudy = "study"\nrisk_of_bias = "rob"\n' + "".join(
        BINARY.format(method=m) for m in ("MH", "GLMM", "REML"))
    (tmp_path / "a.toml").write_text(spec)
    analysis = run_analysis(load_spec(tmp_path / "a.toml"))
    parsed = _MainText()
    parsed.feed(render_report(analysis))
    text = " ".join(parsed.main)
    assert not {n for n in CONSOLE_NAMES if re.search(rf"(?<![\w.^]){re.escape(n)}(?![\w.^])", text)}
    assert "Pooled odds ratio (95% CI)" in text and "Log odds ratio (CI)" in text and "Test of no effect" in text
    mh, glmm, reml = (o.sensitivity_summary for o in analysis.outcomes)
    assert [r.code for r in mh.rows][:2] == ["primary", "CE"] and "REML" in {r.code for r in mh.rows}
    assert "GLMM" not in {r.code for r in glmm.rows[1:]}  # the primary analysis is the GLMM
    assert glmm.rows[0].label == "Primary analysis: Random effects, logistic GLMM with fixed study effects (UM.FS)"
    assert {r.code: r.k for r in reml.rows}["without_high_rob"] == 9

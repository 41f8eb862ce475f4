"""Issue 12: every number printed on the evidence card is a number of results.json.

The card is rendered from the results, never computed on its own: each number in card.md (after
removing the user's own text and the constants of the wording: "OCEBM 2011", "per 1,000", the
"< 10" of a caution) must equal, at the precision shown, a number stored in results.json (as a
number: the card's texts stored there are not read). Percentages map to stored fractions (× 100)
and per-1,000 figures to stored risks (× 1,000); "fewer"/"more" are signs. The analyses are
generated: random trials (k, designs, risk of bias, measure, model; binary, continuous and a
single-arm proportion) with fixed seeds, and the bundled single-arm demo.
"""

import json
import random
import re
from pathlib import Path

import pytest

from metapool.analysis import run_analysis
from metapool.report.card import build_card
from metapool.report.render import render_card
from metapool.spec import load_spec

DEMO = Path(__file__).resolve().parents[1] / "src" / "metapool" / "datasets" / "data" / "aml_hma_ven_synthetic.toml"
NUMBER = re.compile(r"(?<![\w.])[−-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])|(?<![\w.,])[−-]?\d+(?:\.\d+)?(?![\w])")
CONSTANTS = [r"OCEBM 2011", r"Level \d", r"per 1,000", r"metapool \S+", r"< 10\b", r"I²", r"column '[^']*'"]


def stored_numbers(results: dict) -> list[float]:
    out = []

    def walk(x):
        if isinstance(x, bool):
            return
        if isinstance(x, (int, float)):
            out.append(float(x))
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(results)  # texts are not read: the card's own numbers count only where stored as numbers
    return out


def card_numbers(md: str, user_texts) -> list[tuple[str, tuple]]:
    """The numbers of the card's text with the scales they may be stored at.

    A number followed (before the next space) by "%" is a percentage (stored
    as a fraction, or I² in percent); one followed by "fewer", "more" or "per
    1,000" is a per-1,000 figure (stored as a risk); any other is stored as shown.
    """
    text = md.replace("\\", "").replace("per 1,000", "‰")
    for t in sorted((t for t in user_texts if t), key=len, reverse=True):
        text = text.replace(t, " ")
    for pattern in CONSTANTS:
        text = re.sub(pattern, " ", text)
    out = []
    for m in NUMBER.finditer(text):
        after = text[m.end():].split(" ", 1)[0]
        following = text[m.end():m.end() + 7]
        shown = m.group()
        if "%" in after:
            scales = (100, 1)
        elif following.startswith((" fewer", " more", " ‰")):
            scales = (1000,)
            if following.startswith(" fewer"):  # "8 fewer per 1,000" is a risk difference of -0.008
                shown = "-" + shown
        else:
            scales = (1,)
        out.append((shown, scales))
    return out


def matches(shown: str, scales: tuple, stored: list[float]) -> bool:
    """The signed number shown equals a stored one at a scale, within the rounding of the shown decimals."""
    value = float(shown.replace(",", "").replace("−", "-"))
    decimals = len(shown.partition(".")[2])
    tol = 0.5 * 10 ** -decimals + 1e-9
    return any(abs(value - v * scale) <= tol for v in stored for scale in scales)


def check(md: str, results: dict) -> None:
    spec = results["spec"]
    user = [spec.get(k) or "" for k in ("title", "population", "intervention", "comparator")]
    user += [o["name"] for o in spec["outcomes"]] + [o["name"].replace(">", "&gt;") for o in spec["outcomes"]]
    stored = stored_numbers(results)
    missing = [n for n, scales in card_numbers(md, user) if not matches(n, scales, stored)]
    assert not missing, f"card numbers not in results.json: {missing}"


def run(toml: Path) -> tuple[str, dict]:
    """card.md and results.json as ``metapool run`` writes them (without drawing the figures)."""
    analysis = run_analysis(load_spec(toml))
    card = build_card(analysis)
    results = json.loads(json.dumps(analysis.to_dict() | {"card": card.to_dict()}, allow_nan=False))
    return render_card(analysis, card)[1], results


def generated(seed: int) -> tuple[str, str]:
    """Random two-arm trials and their analysis file (binary OR/RR/RD, REML/DL/MH; continuous MD)."""
    rng = random.Random(seed)
    k = rng.randint(3, 14)
    designs = rng.choice([["RCT"], ["RCT", "prospective cohort"], ["retrospective cohort"]])
    rows = ["study,n,e1,n1,e2,n2,m1,s1,m2,s2,design,rob"]
    for i in range(k):
        n1, n2 = rng.randint(20, 400), rng.randint(20, 400)
        p2 = rng.uniform(0.05, 0.5)
        p1 = min(0.95, p2 * rng.uniform(0.4, 1.3))
        rows.append(f"T{i + 1},{n1 + n2},{round(n1 * p1)},{n1},{round(n2 * p2)},{n2},"
                    f"{rng.uniform(10, 14):.2f},{rng.uniform(2, 5):.2f},{rng.uniform(11, 15):.2f},"
                    f"{rng.uniform(2, 5):.2f},{rng.choice(designs)},{rng.choice(['low', 'some concerns', 'high', ''])}")
    method = rng.choice(["REML", "DL", "MH"])
    measure = rng.choice(["OR", "RR", "RD"])
    top = rng.choice(['intervention = "Drug A"\ncomparator = "placebo"\n', ""])
    text = (f'title = "Generated {seed}"\ndata = "studies.csv"\nstudy = "study"\nn = "n"\ndesign = "design"\n'
            f'risk_of_bias = "rob"\n{top}\n'
            f'[[outcome]]\nname = "Death"\nkind = "binary"\nevents1 = "e1"\ntotal1 = "n1"\nevents2 = "e2"\n'
            f'total2 = "n2"\nmeasure = "{measure}"\nmethod = "{method}"\n\n'
            '[[outcome]]\nname = "Pain score"\nkind = "continuous"\nmean1 = "m1"\nsd1 = "s1"\nn1 = "n1"\n'
            'mean2 = "m2"\nsd2 = "s2"\nn2 = "n2"\n\n'
            '[[outcome]]\nname = "Deaths on drug"\nkind = "proportion"\nevents = "e1"\ntotal = "n1"\n')
    return "\n".join(rows) + "\n", text


@pytest.mark.parametrize("seed", range(6))
def test_every_card_number_is_in_results_json_generated(tmp_path, seed):
    data, text = generated(seed)
    (tmp_path / "studies.csv").write_text(data, encoding="utf-8")
    (tmp_path / "analysis.toml").write_text(text, encoding="utf-8")
    check(*run(tmp_path / "analysis.toml"))


def test_every_card_number_is_in_results_json_demo():
    check(*run(DEMO))


def test_the_check_catches_a_number_not_in_the_results():
    results = {"spec": {"title": "", "outcomes": []},
               "outcomes": [{"x": 0.5, "lower": 0.45, "level": 0.95, "difference": -0.3, "log": -0.7}]}
    check("about half (50%, 95% CI 45–50%); 300 fewer per 1,000; −0.70", results)
    for wrong in ("51%", "0.51", "50 fewer per 1,000", "45–55%", "−50%", "300 more per 1,000", "0.70", "−0.45"):
        with pytest.raises(AssertionError, match="card numbers not in results.json"):
            check(wrong, results)

"""Screening (issue 14): decisions, outcomes for one or two reviewers, conflicts, agreement, ranking, simulation, CLI.

Storage tests run on SQLite and on the throwaway PostgreSQL server of
``test_review_store`` (its fixtures are reused); the CLI tests on SQLite.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sa = pytest.importorskip("sqlalchemy")
pytest.importorskip("sklearn")

from metapool.cli.main import main  # noqa: E402
from metapool.exceptions import MetapoolError  # noqa: E402
from metapool.review import schema  # noqa: E402
from metapool.review.imports import store_import  # noqa: E402
from metapool.review.ranking import rank, records_to_reach, simulate, wss  # noqa: E402
from metapool.review.record import ParsedFile, Record  # noqa: E402
from metapool.review.screening import (  # noqa: E402
    Vote, agreement, cohen_kappa, conflicts, decide, import_decisions, next_unit, queue, reviewer_sheet,
    simulate_review, stage_outcomes, unit_outcome)
from metapool.review.status import review_status  # noqa: E402
from metapool.review.store import init_review, log_event, open_review, transaction  # noqa: E402
from test_review_store import (  # noqa: E402,F401  (fixtures)
    DATABASES, SRC, backend, pg_databases, pg_url, postgres_server)

RELEVANT = "venetoclax azacitidine relapsed acute myeloid leukemia remission"
IRRELEVANT = ["insulin glargine type 2 diabetes glycaemic control", "knee arthroplasty rehabilitation physiotherapy",
              "asthma inhaled corticosteroid children exacerbation", "statin cholesterol cardiovascular prevention",
              "depression cognitive behavioural therapy adolescents", "hip fracture surgery elderly mortality",
              "migraine prophylaxis topiramate headache days"]


def make_review(folder: Path, backend=None, reviewers: int = 2, titles=None):
    """A review with ``reviewers`` per record and the given record titles (one source, MEDLINE)."""
    init_review(folder, db=backend, who="alice")
    config = folder / "review.toml"
    text = config.read_text(encoding="utf-8").replace("reviewers_per_record = 2", f"reviewers_per_record = {reviewers}")
    config.write_text(text + DATABASES, encoding="utf-8")
    review = open_review(folder, db=backend)
    titles = titles or [f"Study {i}" for i in range(1, 9)]
    records = tuple(Record(position=i + 1, raw=t, record_id=f"m{i + 1}", title=t, abstract=f"Abstract of {t}.",
                           keywords=("kw",)) for i, t in enumerate(titles))
    store_import(review, [ParsedFile(path="/x/m.ris", format="ris", encoding="utf-8", sha256="0" * 64,
                                     records=records)], "MEDLINE (Ovid)", who="alice")
    return review


@pytest.fixture
def dual(tmp_path, backend):
    return make_review(tmp_path / "dual", backend, reviewers=2)


@pytest.fixture
def single(tmp_path):
    return make_review(tmp_path / "single", reviewers=1)


def decision_rows(review):
    with transaction(review, read_only=True) as conn:
        return conn.execute(sa.select(schema.decisions).order_by(schema.decisions.c.id)).all()


# --- the rules, on their own ----------------------------------------------------------------------------------------

def test_outcome_rules():
    v = Vote
    assert unit_outcome(1, "ta", [], 2).state == "pending"
    assert unit_outcome(1, "ta", [v("a", "include")], 2).state == "pending"
    assert unit_outcome(1, "ta", [v("a", "include")], 1).decision == "include"
    both = unit_outcome(1, "ta", [v("a", "include"), v("b", "maybe")], 2)  # maybe counts as include
    assert (both.state, both.decision) == ("final", "maybe")
    assert unit_outcome(1, "ta", [v("a", "maybe"), v("b", "exclude")], 2).state == "conflict"
    out = unit_outcome(1, "ta", [v("a", "exclude", "design"), v("b", "exclude")], 2)
    assert (out.state, out.decision, out.reason) == ("final", "exclude", None)
    assert unit_outcome(1, "ft", [v("a", "exclude", "design"), v("b", "exclude", "population")], 2).state == "conflict"
    assert unit_outcome(1, "ft", [v("a", "include"), v("b", "not_retrieved")], 2).state == "conflict"
    resolved = unit_outcome(1, "ft", [v("a", "include"), v("b", "exclude", "design"), v("c", "include", None, True)], 2)
    assert (resolved.state, resolved.decision) == ("final", "include")


def test_cohen_kappa_hand_worked_example():
    """Two raters, 50 items (the worked example of Wikipedia's "Cohen's kappa" article, after Cohen 1960).

    Both yes 20, A yes / B no 5, A no / B yes 10, both no 15.
    p_o = (20 + 15) / 50 = 0.70.  A says yes 25/50 = 0.5, B says yes 30/50 = 0.6.
    p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.30 + 0.20 = 0.50.  kappa = (0.70 - 0.50) / (1 - 0.50) = 0.40.
    """
    a = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.40, abs=1e-12)
    from sklearn.metrics import cohen_kappa_score

    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)
    assert cohen_kappa(["x", "x"], ["x", "x"]) != cohen_kappa(["x", "x"], ["x", "x"])  # NaN: one label only


def test_wss_by_hand():
    # 10 records, 4 relevant, found after each record screened:
    found = [1, 2, 3, 3, 4, 4, 4, 4, 4, 4]
    # 95% of 4 = 3.8 -> all 4 needed -> reached after 5 records; unscreened 5 = TN + FN.
    # WSS@95 = 5/10 - 0.05 = 0.45;  at 75% recall: 3 needed after 3 records, 7/10 - 0.25 = 0.45.
    assert records_to_reach(found, 4, 0.95) == 5
    assert wss(found, 0.95) == pytest.approx(0.45)
    assert wss(found, 0.75) == pytest.approx(0.45)


def test_simulate_toy_review_by_hand():
    """10 records, relevant at positions 1, 5 and 9 (their texts share every word; the others share none).

    The stable order screens 0 (irrelevant) and 1 (relevant); the refitted model then offers 5 and 9, then the
    rest: found = 0, 1, 2, 3, 3, ... -> 95% of 3 needs 3 -> 4 records screened -> WSS@95 = 6/10 - 0.05 = 0.55.
    With stop_after = 3 the heuristic stops after 3 irrelevant records in a row: after 7 records, recall 3/3.
    """
    relevant = [i in (1, 5, 9) for i in range(10)]
    texts, others = [], iter(IRRELEVANT)
    for rel in relevant:
        texts.append(RELEVANT if rel else next(others, "dermatology eczema emollient"))
    sim = simulate(texts, relevant, stop_after=3)
    assert sim.order[:4] == (0, 1, 5, 9)
    assert sim.found == (0, 1, 2, 3, 3, 3, 3, 3, 3, 3)
    assert (sim.n95, sim.wss95) == (4, pytest.approx(0.55))
    assert (sim.stopped_at, sim.recall_at_stop) == (7, 1.0)
    assert sim.to_dict()["recall_curve"][3] == {"screened": 4, "found": 3}


def test_rank_is_stable_until_both_classes_are_seen():
    texts = ["a b", "c d", "e f", "a b c"]
    assert rank(texts, {}) == [0, 1, 2, 3]
    assert rank(texts, {2: True}) == [0, 1, 3]
    assert rank(texts, {0: False, 1: False}) == [2, 3]


# --- deciding ------------------------------------------------------------------------------------------------------

def test_single_screening_is_final_and_keeps_history(single):
    first = decide(single, 1, "ta", "ana", "include", who="ana")
    assert first.changed and first.supersedes is None
    assert stage_outcomes(single, "ta").units[0].decision == "include"
    with pytest.raises(MetapoolError, match=r"record 1 already has its 1 decision at ta \(by ana"):
        decide(single, 1, "ta", "bob", "exclude")
    second = decide(single, 1, "ta", "ana", "exclude", reason="design", note="adults only?")
    assert second.supersedes == first.id
    again = decide(single, 1, "ta", "ana", "exclude", reason="design", note="adults only?")
    assert not again.changed and again.id == second.id
    rows = decision_rows(single)
    assert [(r.decision, r.superseded_by) for r in rows] == [("include", second.id), ("exclude", None)]
    with transaction(single, read_only=True) as conn:
        kinds = [e.kind for e in conn.execute(sa.select(schema.events).order_by(schema.events.c.id))]
    assert kinds[-2:] == ["decision", "decision"]
    out = stage_outcomes(single, "ta").units[0]
    assert (out.decision, out.reason) == ("exclude", "design")


def test_dual_screening_conflict_and_resolution(dual):
    decide(dual, 1, "ta", "ana", "include")
    assert stage_outcomes(dual, "ta").units[0].state == "pending"
    decide(dual, 1, "ta", "bob", "maybe")
    decide(dual, 2, "ta", "ana", "include")
    decide(dual, 2, "ta", "bob", "exclude", reason="population")
    with pytest.raises(MetapoolError, match="no conflict at ta to resolve"):
        decide(dual, 1, "ta", "lead", "exclude", resolve=True)
    with pytest.raises(MetapoolError, match=r"already has its 2 decisions at ta \(by ana, bob"):
        decide(dual, 2, "ta", "cy", "include")
    (conflict,) = conflicts(dual, "ta")
    assert conflict.record == 2 and [v.reviewer for v in conflict.votes] == ["ana", "bob"]
    outcomes = {u.record: u for u in stage_outcomes(dual, "ta").units}
    assert (outcomes[1].state, outcomes[1].decision) == ("final", "maybe")
    resolution = decide(dual, 2, "ta", "lead", "include", resolve=True, note="adults in a subgroup")
    assert resolution.resolution and conflicts(dual, "ta") == ()
    assert {u.record: u.decision for u in stage_outcomes(dual, "ta").units if u.state == "final"} == {
        1: "maybe", 2: "include"}
    counts = review_status(dual).screening
    assert counts[0]["decisions"] == {"include": 1, "exclude": 0, "maybe": 1}
    assert (counts[0]["pending"], counts[0]["conflicts"], counts[1]["eligible"]) == (6, 0, 2)


def test_full_text_needs_a_forward_title_abstract_outcome_and_a_reason(dual):
    with pytest.raises(MetapoolError, match="record 3 is not forward to full text: its title/abstract outcome is pend"):
        decide(dual, 3, "ft", "ana", "include")
    for who, d in (("ana", "exclude"), ("bob", "exclude")):
        decide(dual, 3, "ta", who, d)
        decide(dual, 4, "ta", who, "include")
    with pytest.raises(MetapoolError, match="outcome is exclude at ta"):
        decide(dual, 3, "ft", "ana", "include")
    with pytest.raises(MetapoolError, match="exclude at full text needs a reason: one of population, intervention, de"):
        decide(dual, 4, "ft", "ana", "exclude")
    with pytest.raises(MetapoolError, match="reason 'age' is not an exclusion reason of review.toml"):
        decide(dual, 4, "ft", "ana", "exclude", reason="age")
    with pytest.raises(MetapoolError, match="a reason is given with 'include'"):
        decide(dual, 4, "ft", "ana", "include", reason="design")
    with pytest.raises(MetapoolError, match="decision 'maybe' is not one of include, exclude, not_retrieved at stage"):
        decide(dual, 4, "ft", "ana", "maybe")
    with pytest.raises(MetapoolError, match="stage 'abstract' is not a screening stage"):
        decide(dual, 4, "abstract", "ana", "include")
    with pytest.raises(MetapoolError, match=r"record 99 is not in the review \(its records are 1 to 8\)"):
        decide(dual, 99, "ta", "ana", "include")
    assert queue(dual, "ft", "ana") == [4]  # only the record forward from ta
    decide(dual, 4, "ft", "ana", "exclude", reason="design")
    decide(dual, 4, "ft", "bob", "exclude", reason="population")
    assert [u.record for u in conflicts(dual, "ft")] == [4]  # PRISMA counts one reason per exclusion
    decide(dual, 4, "ft", "bob", "exclude", reason="design")  # bob changes his mind: no conflict now
    (ft,) = stage_outcomes(dual, "ft").units
    assert (ft.state, ft.decision, ft.reason) == ("final", "exclude", "design")
    assert review_status(dual).screening[1]["reasons"] == {"design": 1}


def test_import_decisions_is_all_or_nothing(dual):
    rows = [(2, {"id": "1", "decision": "include"}), (3, {"id": "2", "decision": ""}),
            (4, {"id": "3", "decision": "exclude", "reason": "design", "note": "'=SUM(A1)"})]
    stored = import_decisions(dual, rows, "ta", "ana", who="clerk", source="ana.csv")
    assert [(d.record, d.decision, d.reason, d.note) for d in stored] == [(1, "include", None, None),
                                                                         (3, "exclude", "design", "=SUM(A1)")]
    assert import_decisions(dual, rows, "ta", "ana") == ()  # the same sheet again changes nothing
    bad = [(2, {"id": "4", "decision": "maybe"}), (3, {"id": "5", "decision": "include"}),
           (4, {"id": "99", "decision": "include"})]  # rows 2 and 3 are stored, row 4 fails: all are rolled back
    with pytest.raises(MetapoolError, match=r"ana.csv: row 4: record 99 is not in the review.*Nothing was imported"):
        import_decisions(dual, bad, "ta", "ana", source="ana.csv")
    assert len(decision_rows(dual)) == 2


def test_a_duplicate_that_is_not_kept_is_screened_through_its_kept_record(dual):
    from metapool.review.schema import cluster_members, clusters

    with transaction(dual) as conn:
        event = log_event(conn, "merge", {}, "dedup")
        cid = conn.execute(clusters.insert().values(kept_record=2, method="exact", evidence={}, event_id=event)
                           ).inserted_primary_key[0]
        conn.execute(cluster_members.insert(), [{"cluster_id": cid, "record": 2}, {"cluster_id": cid, "record": 5}])
    with pytest.raises(MetapoolError, match=f"record 5 is a duplicate in cluster {cid}, screened as its kept record 2"):
        decide(dual, 5, "ta", "ana", "include")
    assert [u.record for u in stage_outcomes(dual, "ta").units] == [1, 2, 3, 4, 6, 7, 8]
    with transaction(dual) as conn:  # undone: record 5 is a unit again
        undo = log_event(conn, "unmerge", {}, "dedup", undoes=event)
        conn.execute(clusters.update().where(clusters.c.id == cid).values(undone_by=undo))
    assert decide(dual, 5, "ta", "ana", "include").changed


def test_agreement_per_stage_and_pair_by_hand(dual):
    # ana and bob on 4 records at ta (forward / exclude):  1 F F, 2 F X, 3 X X, 4 X X
    # p_o = 3/4; ana forward 2/4, bob forward 1/4: p_e = .5*.25 + .5*.75 = .5; kappa = (.75-.5)/.5 = .5
    for record, a, b in ((1, "include", "maybe"), (2, "maybe", "exclude"), (3, "exclude", "exclude"),
                         (4, "exclude", "exclude")):
        decide(dual, record, "ta", "ana", a)
        decide(dual, record, "ta", "bob", b)
    decide(dual, 5, "ta", "ana", "include")
    decide(dual, 5, "ta", "cy", "include")
    found = {(a.stage, a.reviewers): a for a in agreement(dual)}
    ab = found["ta", ("ana", "bob")]
    assert (ab.units, ab.agreed, ab.raw, ab.kappa) == (4, 3, 0.75, pytest.approx(0.5))
    assert ab.table == {"exclude / exclude": 2, "forward / exclude": 1, "forward / forward": 1}
    ac = found["ta", ("ana", "cy")]
    assert (ac.units, ac.raw) == (1, 1.0) and ac.to_dict()["kappa"] is None
    assert ("ta", ("bob", "cy")) not in found


# --- the queue and its ranking -------------------------------------------------------------------------------------

def test_queue_is_in_import_order_then_ranked_by_relevance(tmp_path):
    titles = [IRRELEVANT[0], RELEVANT, *IRRELEVANT[1:5], "relapsed acute myeloid leukemia venetoclax cohort",
              IRRELEVANT[5]]
    review = make_review(tmp_path / "r", reviewers=2, titles=titles)
    assert queue(review, "ta", "ana") == list(range(1, 9))  # nothing to learn from: import order
    decide(review, 1, "ta", "ana", "exclude")
    assert next_unit(review, "ta", "ana") == 2
    decide(review, 2, "ta", "ana", "include")
    assert next_unit(review, "ta", "ana") == 7  # retrained: the obvious relevant record comes first
    assert queue(review, "ta", "bob")[:2] == [2, 7]  # bob's queue learns from ana's decisions too
    decide(review, 7, "ta", "ana", "include")
    decide(review, 7, "ta", "bob", "include")
    assert 7 not in queue(review, "ta", "cy")  # final: no one else needs to screen it
    sheet = reviewer_sheet(review, "ta", "ana")
    assert [r["id"] for r in sheet][-3:] == [1, 2, 7] and sheet[-1]["decision"] == "include"
    assert all(not r["decision"] for r in sheet[:-3])


# --- CSV round trip ------------------------------------------------------------------------------------------------

def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def folder(tmp_path, capsys):
    review = make_review(tmp_path / "review", reviewers=1,
                         titles=["=HYPERLINK(\"http://x\") venetoclax", *[f"Study {i}" for i in range(2, 7)]])
    review.engine.dispose()
    return review.folder


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_csv_round_trip(folder, tmp_path, capsys):
    sheet = tmp_path / "ana.csv"
    assert cli(capsys, "review", "export", str(folder), "--stage", "ta", "--reviewer", "ana", "-o", str(sheet))[0] == 0
    rows = list(csv.DictReader(sheet.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5", "6"] and rows[0]["title"].startswith("'=HYPERLINK")
    rows[0].update(decision="include", note="-adults only")  # a note that starts like a formula
    rows[1].update(decision="Exclude", reason="design")
    rows[2].update(decision="maybe")
    write_csv(sheet, rows)
    code, out, _ = cli(capsys, "review", "import-decisions", str(folder), str(sheet), "--stage", "ta",
                       "--reviewer", "ana", "--who", "clerk")
    assert code == 0 and "Stored 3 decisions" in out
    assert cli(capsys, "review", "export", str(folder), "--stage", "ta", "--reviewer", "ana", "-o", str(sheet))[0] == 0
    back = {r["id"]: r for r in csv.DictReader(sheet.open(encoding="utf-8"))}
    assert [(back[i]["decision"], back[i]["reason"]) for i in "123"] == [("include", ""), ("exclude", "design"),
                                                                       ("maybe", "")]
    assert back["1"]["note"] == "'-adults only"  # guarded in the sheet ...
    assert cli(capsys, "review", "import-decisions", str(folder), str(sheet), "--stage", "ta", "--reviewer",
               "ana")[1].startswith("Stored 0 decisions")  # ... and read back unguarded: nothing changed
    review = open_review(folder)
    assert [(r.note, r.who) for r in decision_rows(review)][0] == ("-adults only", "clerk")


@pytest.mark.parametrize("row, message", [
    ({"id": "17", "decision": "include"}, "row 3: record 17 is not in the review"),
    ({"id": "x1", "decision": "include"}, "row 3: id 'x1' is not a record number"),
    ({"id": "2", "decision": "exclude", "reason": "age"}, "row 3: reason 'age' is not an exclusion reason"),
    ({"id": "2", "decision": "yes"}, "row 3: decision 'yes' is not one of include, exclude, maybe"),
    ({"id": "1", "decision": "exclude"}, "row 3: record 1 appears again with another decision (row 2: include;"
                                         " here: exclude)"),
])
def test_each_csv_error_names_its_row_and_nothing_is_stored(folder, tmp_path, capsys, row, message):
    sheet = write_csv(tmp_path / "s.csv", [{"id": "1", "decision": "include", "reason": ""},
                                           {"reason": "", **row}, {"id": "4", "decision": "maybe", "reason": ""}])
    code, _, err = cli(capsys, "review", "import-decisions", str(folder), str(sheet), "--stage", "ta",
                       "--reviewer", "ana")
    assert code == 2 and f"s.csv: {message}" in err and "Traceback" not in err, err
    assert decision_rows(open_review(folder)) == []


def test_a_sheet_without_the_columns_is_refused(folder, tmp_path, capsys):
    sheet = write_csv(tmp_path / "s.csv", [{"record": "1", "choice": "include"}])
    code, _, err = cli(capsys, "review", "import-decisions", str(folder), str(sheet), "--stage", "ta",
                       "--reviewer", "a")
    assert code == 2 and "s.csv: no column id, decision (its columns: record, choice)" in err


# --- CLI -----------------------------------------------------------------------------------------------------------

def test_cli_screen_conflicts_agreement_status(tmp_path, capsys):
    folder = make_review(tmp_path / "r", reviewers=2).folder
    base = ["review", "screen", str(folder), "--stage", "ta"]
    assert cli(capsys, *base, "--reviewer", "ana", "1", "include")[1] == "Record 1 at ta: ana: include.\n"
    assert cli(capsys, *base, "--reviewer", "bob", "1", "exclude", "--reason", "design")[0] == 0
    code, _, err = cli(capsys, *base, "--reviewer", "bob", "1", "exclude", "--reason", "nope")
    assert code == 2 and "reason 'nope' is not an exclusion reason" in err
    code, out, _ = cli(capsys, "review", "conflicts", str(folder), "--stage", "ta", "--json")
    assert json.loads(out) == [{"record": 1, "votes": [{"reviewer": "ana", "decision": "include", "reason": None},
                                                       {"reviewer": "bob", "decision": "exclude", "reason": "design"}]}]
    code, out, _ = cli(capsys, "review", "agreement", str(folder), "--json")
    assert json.loads(out) == [{"stage": "ta", "reviewers": ["ana", "bob"], "units": 1, "agreed": 0, "raw": 0.0,
                                "kappa": 0.0, "table": {"forward / exclude": 1}}]  # p_o = p_e = 0
    assert "1 conflict at ta" in cli(capsys, "review", "conflicts", str(folder), "--stage", "ta")[1]
    resolved = cli(capsys, *base, "--reviewer", "lead", "1", "include", "--resolve")[1]
    assert resolved == "Record 1 at ta: resolved as include.\n"
    code, out, _ = cli(capsys, "review", "status", str(folder), "--json")
    ta = json.loads(out)["screening"][0]
    assert (ta["eligible"], ta["final"], ta["conflicts"], ta["decisions"]["include"]) == (8, 1, 0, 1)
    assert "Screening, title and abstract (ta): 8 records; final: include 1" in cli(capsys, "review", "status",
                                                                                    str(folder))[1].replace("\n", " ")
    code, _, err = cli(capsys, "review", "simulate", str(folder), "--stage", "ta")
    assert code == 2 and "stage ta is not fully screened: 7 records pending and 0 in conflict" in err


def test_cli_simulate_on_a_screened_review(tmp_path, capsys):
    titles = [RELEVANT if i in (1, 5, 9) else (IRRELEVANT + ["dermatology eczema emollient"] * 3)[i] for i in range(10)]
    review = make_review(tmp_path / "r", reviewers=1, titles=titles)
    for i in range(10):
        decide(review, i + 1, "ta", "ana", "include" if i in (1, 5, 9) else "exclude")
    plot = tmp_path / "recall.png"
    code, out, _ = cli(capsys, "review", "simulate", str(review.folder), "--stage", "ta", "--stop-after", "3",
                       "--json", "--plot", str(plot))
    result = json.loads(out)
    assert code == 0 and (result["n95"], result["wss95"], result["stopped_at"]) == (4, pytest.approx(0.55), 7)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert simulate_review(review, "ta", stop_after=3).order[:4] == (1, 2, 6, 10)  # record ids
    code, out, _ = cli(capsys, "review", "simulate", str(review.folder), "--stage", "ta")
    assert "WSS@95" in out and "55.0%" in out
    assert cli(capsys, "review", "simulate", str(review.folder), "--stage", "ft")[0] == 2  # nothing forward at ft


# --- concurrency and PostgreSQL --------------------------------------------------------------------------------------

CONCURRENT_DECISIONS = """
import sys
from metapool.review.screening import decide
from metapool.review.store import open_review

review = open_review(sys.argv[1], db=sys.argv[3] or None)
name = sys.argv[2]
for record in range(1, 41):
    decide(review, record, "ta", name, "include" if record % 2 else "exclude", who=name)
"""


def test_two_processes_deciding_at_once_lose_nothing(tmp_path, backend):
    review = make_review(tmp_path / "r", backend, reviewers=2, titles=[f"Study {i}" for i in range(1, 41)])
    db = "" if backend is None else review.engine.url.render_as_string(hide_password=False)
    script = tmp_path / "decide.py"
    script.write_text(CONCURRENT_DECISIONS, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    procs = [subprocess.Popen([sys.executable, str(script), str(review.folder), name, db], env=env,
                              stderr=subprocess.PIPE, text=True) for name in ("ana", "bob")]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    rows = decision_rows(review)
    assert len(rows) == 80 and sorted({(r.record, r.reviewer) for r in rows}) == sorted(
        (i, n) for i in range(1, 41) for n in ("ana", "bob"))
    assert stage_outcomes(review, "ta").counts()["final"] == 40

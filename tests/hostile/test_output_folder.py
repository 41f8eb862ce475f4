"""Issue 10, section 3: nothing lost, nothing written outside the output folder, nothing half-written.

``metapool run`` builds its output in a temporary sibling folder and swaps it
into place (:mod:`metapool.io.outputs`). Each reported example is a test here,
next to a test of its class: input files, symbolic links and foreign files in
the target are refused before anything is written; a concurrent run is refused
by the lock; an error or Ctrl-C leaves the previous output byte for byte.
"""

import io
import json
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

import pytest

import metapool.analysis
import metapool.report.drawing
import metapool.report.render
from metapool.cli.main import main
from metapool.exceptions import MetapoolError
from metapool.io.outputs import MARKER, check_output_folder, folder_lock, staged_folder
from metapool.report.figures import figure_stem, slug

DATA = "study,n,resp\nA 2019,40,12\nB 2020,55,30\n"

#: Outcome names whose old file names collided ("Effect"/"effect", "A/B"/"A B", CJK names -> "outcome").
NAMES = ("Effect", "effect", "A/B", "A B", "奏効率", "生存率")

OUTCOME = ('[[outcome]]\nname = "{name}"\nkind = "proportion"\nevents = "{events}"\ntotal = "n"\n'
           "bias = false\nsensitivity = false\n")


def analysis_text(names=NAMES, broken=("Broken",), data="studies.csv") -> str:
    outcomes = [OUTCOME.format(name=n, events="resp") for n in names]
    outcomes += [OUTCOME.format(name=n, events="no_such_column") for n in broken]
    return f'title = "Hostile"\ndata = "{data}"\nstudy = "study"\nn = "n"\n\n' + "\n".join(outcomes)


def snapshot(folder) -> dict:
    """Every file below ``folder`` (links not followed) with its bytes: to compare before and after."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder)
            out[rel] = ("link", os.readlink(path)) if os.path.islink(path) else open(path, "rb").read()
    return out


def one_line_error(err: str, *parts: str) -> None:
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for part in parts:
        assert part in err, err


def siblings(folder) -> list:
    """metapool's hidden siblings of ``folder`` (temporary folder, old output, lock) left behind."""
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}.metapool-"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One real run: six outcomes whose names collided before, one that cannot be pooled (exit 1)."""
    folder = tmp_path_factory.mktemp("review")
    (folder / "studies.csv").write_text(DATA)
    (folder / "analysis.toml").write_text(analysis_text(), encoding="utf-8")
    out = folder / "out"
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        code = main(["run", str(folder / "analysis.toml"), "-o", str(out)])
    return folder, out, code, err.getvalue()


@pytest.fixture()
def review(built, tmp_path):
    """A fresh copy of the review folder with its previous output (``out``), and the run's args."""
    src, _, _, _ = built
    folder = tmp_path / "review"
    shutil.copytree(src, folder, symlinks=True)
    out = folder / "out"
    return folder, out, ["run", str(folder / "analysis.toml"), "-o", str(out)]


# --- a run that completes -----------------------------------------------------------------------------


def test_run_writes_a_marked_folder_and_leaves_nothing_beside_it(built):
    folder, out, _, _ = built
    assert (out / MARKER).is_file() and (out / "report.html").is_file()
    assert siblings(out) == []


def test_figure_names_are_unique_per_outcome_and_keep_non_latin_names(built):
    _, out, _, _ = built
    names = sorted(p.name for p in (out / "figures").iterdir())
    assert len(names) == len(NAMES) == len(set(names))  # forest plot (k = 2) as SVG per outcome
    assert "05_奏効率_forest.svg" in names and "06_生存率_forest.svg" in names
    assert {"01_effect_forest.svg", "02_effect_forest.svg", "03_a_b_forest.svg", "04_a_b_forest.svg"} <= set(names)


@pytest.mark.parametrize("a, b", [("Effect", "effect"), ("A/B", "A B"), ("奏効率", "生存率"), ("x", "X!")])
def test_figure_stems_differ_for_any_two_outcomes(a, b):
    assert figure_stem(1, a) != figure_stem(2, b)
    assert figure_stem(1, a) == figure_stem(1, a)  # stable


@pytest.mark.parametrize("name, want", [
    ("奏効率", "奏効率"), ("Ｆｕｌｌ　ｗｉｄｔｈ", "full_width"), ("Ärger²", "ärger2"), ("../../etc/passwd", "etc_passwd"),
    ("", "outcome"), ("***", "outcome"), ("हिन्दी", "हिन्दी"),
])
def test_slug_keeps_letters_of_any_script_and_nothing_else(name, want):
    assert slug(name) == want


def test_run_exits_1_listing_the_outcomes_not_pooled_and_the_report_marks_them(built):
    _, out, code, err = built
    assert code == 1
    one_line_error(err, "1 of 7 outcomes could not be pooled", "'Broken'")
    assert "Not analysed:" in (out / "report.html").read_text(encoding="utf-8")


def test_run_exits_1_when_nothing_was_pooled(tmp_path, capsys):
    (tmp_path / "studies.csv").write_text(DATA)
    (tmp_path / "a.toml").write_text(analysis_text(names=(), broken=("X", "Y")))
    assert main(["run", str(tmp_path / "a.toml"), "-o", str(tmp_path / "out")]) == 1
    one_line_error(capsys.readouterr().err, "2 of 2 outcomes could not be pooled", "'X', 'Y'")
    assert (tmp_path / "out" / "report.html").is_file()


# --- input files inside the target --------------------------------------------------------------------


def test_run_into_the_data_folder_does_not_overwrite_the_data(tmp_path, monkeypatch, capsys):
    """The report: `run -o .` with data = "effect_sizes.csv" overwrote the input."""
    (tmp_path / "effect_sizes.csv").write_text(DATA)
    (tmp_path / "a.toml").write_text(analysis_text(broken=(), data="effect_sizes.csv"))
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    for force in ([], ["--force"]):
        assert main(["run", "a.toml", "-o", ".", *force]) == 2
        one_line_error(capsys.readouterr().err, "holds the input file", "effect_sizes.csv")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("where", ["data in a subfolder", "analysis file", "hard link of the data", "target is data"])
def test_any_input_inside_the_target_is_refused_before_any_work(review, where, capsys):
    folder, out, args = review
    if where == "data in a subfolder":
        (folder / "analysis.toml").write_text(analysis_text(broken=(), data="out/figures/studies.csv"))
        shutil.copy(folder / "studies.csv", out / "figures" / "studies.csv")
    elif where == "analysis file":
        (out / "analysis.toml").write_text(analysis_text(broken=(), data="../studies.csv"))
        args = ["run", str(out / "analysis.toml"), "-o", str(out)]
    elif where == "hard link of the data":
        os.link(folder / "studies.csv", out / "figures" / "copy.csv")
    else:
        args = [*args[:-1], str(folder / "studies.csv")]
    before = snapshot(folder)
    assert main([*args, "--force"]) == 2
    one_line_error(capsys.readouterr().err, "input file" if where != "target is data" else "is a file")
    assert snapshot(folder) == before


# --- symbolic links -----------------------------------------------------------------------------------


@pytest.mark.parametrize("link", ["figures", "figures/01_effect_forest.svg", "card.md", "the folder itself"])
def test_symbolic_links_in_or_as_the_target_are_refused_and_nothing_is_written_anywhere(review, tmp_path, link,
                                                                                         capsys):
    folder, out, args = review
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if link == "the folder itself":
        shutil.rmtree(out)
        out.symlink_to(elsewhere, target_is_directory=True)
    else:
        victim = out / link
        _remove(victim)
        victim.symlink_to(elsewhere / "target", target_is_directory=link == "figures")
    before = snapshot(folder)
    assert main([*args, "--force"]) == 2
    one_line_error(capsys.readouterr().err, "symbolic link")
    assert snapshot(folder) == before
    assert list(elsewhere.iterdir()) == []
    assert siblings(out) == []


def _remove(path):
    shutil.rmtree(path) if path.is_dir() else path.unlink()


# --- --force and foreign folders ----------------------------------------------------------------------


def test_existing_report_needs_force_and_force_replaces_it_whole(review, capsys):
    folder, out, args = review
    (out / "figures" / "99_stale_forest.svg").write_text("<svg/>")  # a file listed in no marker: refused
    assert main([*args, "--force"]) == 2
    one_line_error(capsys.readouterr().err, "did not write", "99_stale_forest.svg")
    (out / "figures" / "99_stale_forest.svg").unlink()
    assert main(args) == 2
    one_line_error(capsys.readouterr().err, "use --force")
    (out / "report.html").write_text("stale")
    (out / "figures" / "01_effect_forest.svg").unlink()  # a listed file may be missing
    assert main([*args, "--force"]) == 1  # the broken outcome
    assert "Not analysed:" in (out / "report.html").read_text(encoding="utf-8")
    assert (out / "figures" / "01_effect_forest.svg").is_file()
    assert siblings(out) == []


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_a_folder_of_other_files_is_refused_even_with_force(tmp_path, force, capsys):
    (tmp_path / "studies.csv").write_text(DATA)
    (tmp_path / "a.toml").write_text(analysis_text(broken=()))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.html").write_text("my own report")
    (mine / "notes.txt").write_text("keep me")
    before = snapshot(mine)
    assert main(["run", str(tmp_path / "a.toml"), "-o", str(mine), *force]) == 2
    one_line_error(capsys.readouterr().err, str(mine), "did not write", "notes.txt")
    assert snapshot(mine) == before


def test_demo_never_replaces_a_users_folder(tmp_path, capsys):
    """The report: `demo -o DIR` replaced a user's report.html without --force (run_demo passed force=True)."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.html").write_text("my own report")
    for force in ([], ["--force"]):
        assert main(["demo", "-o", str(mine), *force]) == 2
        assert "did not write" in capsys.readouterr().err
    assert (mine / "report.html").read_text() == "my own report"


def test_demo_output_needs_force_to_be_replaced(tmp_path, capsys):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "report.html").write_text("old")
    (out / MARKER).write_text('{"files": ["report.html"]}')
    assert main(["demo", "-o", str(out)]) == 2
    one_line_error(capsys.readouterr().err.splitlines()[-1], "use --force")


@pytest.mark.parametrize("extra, results, ours", [
    ({}, {"metapool_version": "0.1.0"}, True),
    ({"notes.txt": "keep me"}, {"metapool_version": "0.1.0"}, False),
    ({}, {"title": "someone else's results"}, False),
    ({"figures/sub/x.svg": "<svg/>"}, {"metapool_version": "0.1.0"}, False),
])
def test_a_report_written_before_the_marker_existed(tmp_path, extra, results, ours):
    """A report of an earlier metapool (no marker) is replaced with --force; anything else in it is refused."""
    import json

    old = tmp_path / "old"
    (old / "figures").mkdir(parents=True)
    files = {"report.html": "old", "card.md": "old", "figures/01_x_forest.svg": "<svg/>",
             "results.json": json.dumps(results), **extra}
    for name, text in files.items():
        (old / name).parent.mkdir(parents=True, exist_ok=True)
        (old / name).write_text(text)
    with pytest.raises(MetapoolError, match="use --force" if ours else "did not write"):
        check_output_folder(old)
    if ours:
        assert check_output_folder(old, force=True) == old
    else:
        with pytest.raises(MetapoolError, match="did not write"):
            check_output_folder(old, force=True)


def test_an_empty_folder_is_used_without_force(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with staged_folder(empty) as tmp:
        (tmp / "x.txt").write_text("x")
    assert sorted(p.name for p in empty.iterdir()) == [MARKER, "x.txt"]


# --- a concurrent run ---------------------------------------------------------------------------------


HOLD_LOCK = """
import sys
from metapool.io.outputs import folder_lock
with folder_lock(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.read()
"""


def test_a_concurrent_run_into_the_same_folder_is_refused_at_once(review, monkeypatch, capsys):
    """The report: two concurrent runs into one folder both exited 0, with one report lost and figures mixed."""
    folder, out, args = review
    before = snapshot(folder)
    monkeypatch.setattr(metapool.analysis, "run_analysis", lambda *a, **k: pytest.fail("ran before the lock"))
    other = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(out)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline() == "locked\n"
        assert main([*args, "--force"]) == 2
        one_line_error(capsys.readouterr().err, f"another metapool run is writing to {out}")
        with pytest.raises(MetapoolError, match="another metapool run"):
            with staged_folder(out, force=True):
                pass
    finally:
        other.communicate("")
    assert snapshot(folder) == before
    assert siblings(out) == []  # the lock file goes with the lock


def test_the_lock_is_reentrant_within_a_run(tmp_path):
    out = tmp_path / "out"
    with folder_lock(out), staged_folder(out) as tmp:
        (tmp / "a.txt").write_text("a")
        assert siblings(out) == [".out.metapool-lock", ".out.metapool-tmp"]
    assert (out / "a.txt").is_file() and siblings(out) == []


def test_a_lock_file_left_by_a_killed_run_does_not_block(review):
    folder, out, _ = review
    (folder / ".out.metapool-lock").write_text("12345")  # no process holds it
    (folder / ".out.metapool-tmp").mkdir()  # half-written output of the killed run
    (folder / ".out.metapool-tmp" / "report.html").write_text("half")
    check_output_folder(out, force=True)
    with staged_folder(out, force=True) as tmp:
        (tmp / "report.html").write_text("new")
    assert (out / "report.html").read_text() == "new"
    assert siblings(out) == []


def test_previous_output_moved_aside_by_a_killed_swap_is_restored(tmp_path):
    out = tmp_path / "out"
    old = tmp_path / ".out.metapool-old"
    old.mkdir()
    (old / "report.html").write_text("previous")
    (old / MARKER).write_text('{"files": ["report.html"]}')
    with pytest.raises(RuntimeError):
        with staged_folder(out, force=True):
            raise RuntimeError("boom")
    assert (out / "report.html").read_text() == "previous"
    assert siblings(out) == []


# --- interrupts and write errors ----------------------------------------------------------------------


def _interrupting_save(exc):
    """A figure writer that writes half a figure, then fails with ``exc`` (Ctrl-C, a full disk)."""
    def save(kind, caption, images, folder, name, formats):
        (folder / f"{name}.svg").write_text("<svg")
        raise exc

    return save


def _results_first(out) -> None:
    """``out`` holds the complete results-first folder: results, card, a report saying figures are missing."""
    files = json.loads((out / MARKER).read_text())["files"]
    assert sorted(files) == ["card.html", "card.md", "effect_sizes.csv", "report.html", "results.json"]
    assert sorted(p.name for p in out.iterdir()) == sorted([*files, MARKER])
    assert "still being drawn" in (out / "report.html").read_text(encoding="utf-8")
    assert json.loads((out / "results.json").read_text())["outcomes"]


def test_ctrl_c_while_writing_the_results_leaves_the_previous_output_byte_identical(review, monkeypatch, capsys):
    folder, out, args = review
    before = snapshot(folder)

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(metapool.report.render, "render_card", interrupted)
    assert main([*args, "--force"]) == 130
    one_line_error(capsys.readouterr().err, "interrupted")
    assert snapshot(folder) == before
    assert siblings(out) == []


def test_ctrl_c_while_drawing_leaves_the_complete_results_first_folder(review, monkeypatch, capsys):
    folder, out, args = review
    monkeypatch.setattr(metapool.report.drawing, "saved_figure", _interrupting_save(KeyboardInterrupt()))
    assert main([*args, "--force"]) == 130
    one_line_error(capsys.readouterr().err, "interrupted")
    _results_first(out)
    assert siblings(out) == []


def test_a_full_disk_is_one_line_and_leaves_the_results_first_folder(review, monkeypatch, capsys):
    folder, out, args = review
    monkeypatch.setattr(metapool.report.drawing, "saved_figure",
                        _interrupting_save(OSError(28, "No space left on device", "x.png")))
    assert main([*args, "--force"]) == 2
    one_line_error(capsys.readouterr().err, "No space left on device", "was left as it was")
    _results_first(out)
    assert siblings(out) == []


def test_output_naming_a_file_or_an_unwritable_parent_is_one_line(review, monkeypatch, capsys):
    folder, _, args = review
    assert main([*args[:-1], str(folder / "analysis.toml")]) == 2
    one_line_error(capsys.readouterr().err, "is a file, not a folder")
    monkeypatch.setattr(os, "access", lambda *a, **k: False)  # tests may run as root, where chmod cannot refuse
    assert main([*args[:-1], str(folder / "new")]) == 2
    one_line_error(capsys.readouterr().err, "cannot write in", str(folder))
    assert not (folder / "new").exists()

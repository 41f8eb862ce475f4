"""The console output of ``metapool run``: user text is printed as text, never read as Rich markup."""

from pathlib import Path

import pytest
import rich.console

from metapool.cli.main import main

CSV = "study,e,n\nA 2001,4,40\nB 2003,9,55\nC 2005,12,61\n"


@pytest.mark.parametrize("name", ["R [/red] [bold", "[link=http://example.org]click[/link]", "[bold]x[/bold]", "a\\[b"])
def test_markup_in_titles_and_outcome_names_is_printed_as_written(tmp_path: Path, name, capsys, monkeypatch):
    # on a terminal Rich renders the progress line: a stray closing tag there was a MarkupError traceback
    monkeypatch.setattr(rich.console.Console, "is_terminal", property(lambda self: True))
    (tmp_path / "studies.csv").write_text(CSV, encoding="utf-8")
    spec = (f'title = "Title {name}"\ndata = "studies.csv"\nstudy = "study"\n[[outcome]]\n'
            f'name = "{name}"\nkind = "proportion"\nevents = "e"\ntotal = "n"\nbias = false\nsensitivity = false\n')
    (tmp_path / "analysis.toml").write_text(spec.replace("\\", "\\\\"), encoding="utf-8")
    assert main(["run", str(tmp_path / "analysis.toml"), "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert name in out and f"Title {name}" in out
    assert "16% (95% CI 11–23%)" in out


def test_console_table_numbers_use_the_report_formats(tmp_path: Path, capsys):
    rows = "".join(f"S{i},{i % 3},{1000 + i}\n" for i in range(12))
    (tmp_path / "studies.csv").write_text("study,e,n\n" + rows, encoding="utf-8")
    (tmp_path / "analysis.toml").write_text('data = "studies.csv"\nstudy = "study"\n[[outcome]]\nname = "Rare"\n'
                                            'kind = "proportion"\nevents = "e"\ntotal = "n"\nbias = false\n'
                                            'sensitivity = false\n', encoding="utf-8")
    assert main(["run", str(tmp_path / "analysis.toml"), "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "12,066" in out  # patients with a thousands separator
    assert "0.13% (95% CI 0.08–0.23%)" in out  # a rare event rate is not printed as 0%


def test_pool_text_output_sends_no_control_sequence_to_the_terminal(tmp_path: Path, capsys):
    """A label holding terminal escapes (colour, hyperlink, title) or line breaks is printed on one line, inert."""
    label = "Evil\x1b[31m red\x1b]8;;http://example.org\x07link\x1b]8;;\x07\u2028next\r\x9b2J"
    (tmp_path / "s.csv").write_text(f'study,e,n\n"{label}",0,40\nB,9,55\nC,12,61\n', encoding="utf-8")
    assert main(["pool", str(tmp_path / "s.csv"), "--events", "e", "--total", "n", "--study", "study"]) == 0
    out = capsys.readouterr().out
    assert "Evil" in out  # the label is shown (continuity correction note) ...
    assert not any(c in out for c in "\x1b\x07\x9b\r\u2028")  # ... without a control character

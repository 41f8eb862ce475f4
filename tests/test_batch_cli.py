"""``metapool batch``: a long CSV in, one row per analysis out (Parquet or CSV)."""

import pandas as pd
import pytest

from metapool.batch import fit_many
from metapool.cli.main import main
from test_batch_contract import long_table


@pytest.fixture()
def long_csv(tmp_path):
    path = tmp_path / "long.csv"
    long_table().to_csv(path, index=False)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_batch_writes_one_row_per_analysis(long_csv, tmp_path, suffix, capsys):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    out = tmp_path / f"res{suffix}"
    code = main(["batch", str(long_csv), "--by", "review", "--events", "x", "--total", "n",
                 "--method", "DL", "--test", "knha", "-o", str(out), "--no-progress"])
    assert code == 0
    res = pd.read_csv(out, dtype={"review": str}) if suffix == ".csv" else pd.read_parquet(out)
    want = fit_many(pd.read_csv(long_csv, dtype={"review": str}), "review", measure="PLO", method="DL",
                    test="knha", xi="x", ni="n")
    assert res["review"].tolist() == want["review"].tolist()
    assert res["estimate"].to_numpy() == pytest.approx(want["estimate"].to_numpy(), nan_ok=True, rel=1e-12)
    assert "2 not fitted" in capsys.readouterr().out


def test_batch_errors_are_one_line(long_csv, tmp_path, capsys):
    assert main(["batch", str(long_csv), "--by", "review", "--events", "x", "--total", "n",
                 "-o", str(tmp_path / "r.json")]) == 2
    assert "parquet or .csv" in capsys.readouterr().err
    assert main(["batch", str(long_csv), "--by", "nope", "--events", "x", "--total", "n",
                 "-o", str(tmp_path / "r.csv"), "--no-progress"]) == 2
    assert "nope" in capsys.readouterr().err

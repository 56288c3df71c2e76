"""The Python wrapper against the binary it wraps: the same numbers as the command line's
JSON, the same seed the same numbers, the binary's own words on bad input, and nothing
left behind in the temporary folder."""

import csv
import json
import os
import subprocess
from pathlib import Path

import pytest

import darkfigure

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


def cli_json(args, tmp_path):
    out = tmp_path / "cli.json"
    subprocess.run(
        [darkfigure.binary(), *args, "--json", str(out), "--quiet"], check=True
    )
    return json.loads(out.read_text())


def rows_of(name):
    with open(DATA / name, newline="") as f:
        return [{k: int(v) for k, v in r.items()} for r in csv.DictReader(f)]


def test_the_wrapper_gives_the_cli_json(tmp_path):
    args = ["estimate", str(DATA / "UKdat_5.csv"), "-m", "stepwise", "--bootstrap", "200", "--seed", "3"]
    theirs = cli_json(args, tmp_path)
    ours = darkfigure.estimate(DATA / "UKdat_5.csv", methods=["stepwise"], bootstrap=200, seed=3)
    assert ours.raw == theirs
    # The same table given as rows (SparseMSE's layout: 0/1 lists and a count) gives the
    # same estimates; only the echoed file name differs.
    rows = darkfigure.estimate(rows_of("UKdat_5.csv"), methods=["stepwise"], bootstrap=200, seed=3)
    assert rows.raw["estimates"] == theirs["estimates"]


def test_a_job_as_a_dict_is_the_job_file(tmp_path):
    job = {
        "schema": "darkfigure.job/1",
        "data": {"file": str(DATA / "UKdat.csv")},
        "methods": [{"id": "mth-chao"}, {"id": "loglinear", "model": "[12,23]"}],
    }
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job))
    theirs = cli_json(["run", str(path)], tmp_path)
    assert darkfigure.run_job(job).raw == theirs
    assert darkfigure.run_job(path).raw == theirs


def test_the_same_seed_gives_the_same_numbers():
    a = darkfigure.estimate(DATA / "kosovo.csv", methods="main", bootstrap=100, seed=9)
    b = darkfigure.estimate(DATA / "kosovo.csv", methods="main", bootstrap=100, seed=9)
    c = darkfigure.estimate(DATA / "kosovo.csv", methods="main", bootstrap=100, seed=10)
    assert a.raw == b.raw
    assert a.estimates[0].bootstrap["values"] != c.estimates[0].bootstrap["values"]


def test_rcapture_family_on_ukdat_matches_the_reference():
    ref = json.loads((ROOT / "tests" / "reference" / "UKdat.json").read_text())
    rows = {r["model"]: r for r in ref["rcapture"]["closedp.t"]["results"]}
    r = darkfigure.estimate(DATA / "UKdat.csv", methods=["m0", "mt"])
    by = {e.method: e for e in r.estimates}
    for ours, theirs in (("m0", "M0"), ("mt", "Mt")):
        n = rows[theirs]["abundance"]
        assert abs(by[ours].population - n) <= 1e-6 * n


def test_one_register_with_covariates():
    r = darkfigure.estimate(
        DATA / "netherlandsimmigrant.csv",
        methods=["ztpoisson"],
        count_column="capture",
        covariates=["gender", "age", "nation"],
    )
    e = r.estimates[0]
    assert e.status == "ok"
    assert abs(e.population - 12690.3536525677) <= 1e-6 * 12690.35
    assert e.interval.kind == "log-normal"


@pytest.mark.parametrize(
    "rows, words",
    [
        (
            [{"A": 1, "B": 2, "count": 5}, {"A": 0, "B": 1, "count": 3}],
            ['expected 0 or 1 in list column "B"', 'found "2"'],
        ),
        (
            [{"A": 1, "B": 0, "count": -5}, {"A": 0, "B": 1, "count": 3}],
            ["data.csv:2:3:", 'the negative value "-5"'],
        ),
    ],
)
def test_bad_data_raise_the_binarys_message(rows, words):
    with pytest.raises(darkfigure.DarkfigureError) as e:
        darkfigure.estimate(rows, methods="m0")
    assert e.value.exit_code == 2
    for w in words:
        assert w in e.value.message, e.value.message


def test_an_unknown_method_raises_with_the_known_ones():
    with pytest.raises(darkfigure.DarkfigureError) as e:
        darkfigure.estimate(DATA / "UKdat.csv", methods="m99")
    assert e.value.exit_code == 2
    assert "unknown method \"m99\"" in e.value.message and "stepwise" in e.value.message


def test_nothing_is_left_in_the_temporary_folder(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    darkfigure.estimate(rows_of("UKdat_5.csv"), methods="main")
    with pytest.raises(darkfigure.DarkfigureError):
        darkfigure.estimate([{"A": 3, "B": 1, "count": 2}], methods="m0")
    with pytest.raises(darkfigure.DarkfigureError):
        darkfigure.run_job({"schema": "darkfigure.job/1", "data": {"file": "nowhere.csv"}})
    assert list(scratch.iterdir()) == []


def test_the_report_is_written_where_asked(tmp_path):
    path = tmp_path / "r.html"
    got = darkfigure.report(DATA / "UKdat_5.csv", path, methods=["main"])
    assert got == str(path)
    assert path.read_text().startswith("<!DOCTYPE html>")


def test_rows_and_pandas():
    r = darkfigure.estimate(DATA / "UKdat.csv", methods=["m0", "mb"])
    rows = r.rows()
    assert [x["method"] for x in rows] == ["m0", "mb"]
    assert set(rows[0]) >= {"abundance", "stderr", "lower", "upper", "status", "AIC", "BIC"}
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install pandas"):
            r.to_pandas()
    else:
        df = r.to_pandas()
        assert list(df["method"]) == ["m0", "mb"]


def test_a_missing_binary_says_how_to_build_it(monkeypatch):
    monkeypatch.setenv("DARKFIGURE_BIN", os.devnull + "-none")
    with pytest.raises(darkfigure.DarkfigureError) as e:
        darkfigure.binary()
    assert e.value.exit_code == 127


def test_a_pandas_data_frame_is_read_as_its_rows():
    # pandas is installed by .ci/run for this test (it is optional for users).
    import pandas as pd
    df = pd.read_csv(DATA / "UKdat_5.csv")
    a = darkfigure.estimate(df, methods="main")
    b = darkfigure.estimate(DATA / "UKdat_5.csv", methods="main")
    assert a.raw["estimates"] == b.raw["estimates"]
    out = a.to_pandas()
    assert list(out.columns[:4]) == ["method", "model", "abundance", "stderr"]

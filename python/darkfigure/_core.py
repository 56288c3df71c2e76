"""The wrapper's whole mechanism: find the darkfigure binary, hand it the data as a CSV in a
temporary folder, run it, read its JSON back into dataclasses. No statistics here: every
number comes from the binary, so Python, R and the command line give the same ones."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sysconfig
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

__all__ = [
    "DarkfigureError",
    "Interval",
    "Estimate",
    "Result",
    "binary",
    "estimate",
    "calibrate",
    "check",
    "run_job",
    "report",
    "simulate",
]


class DarkfigureError(Exception):
    """The binary refused the input or failed; `message` is its own words, `exit_code` its
    exit code (2: bad input, 1: a failure, 127: no binary)."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


@dataclass
class Interval:
    """An interval on the population scale, as the JSON's `interval`."""

    lower: float | None
    upper: float | None
    level: float
    kind: str

    @staticmethod
    def of(d: Mapping[str, Any] | None) -> "Interval | None":
        if d is None:
            return None
        return Interval(d.get("lower"), d.get("upper"), d["level"], d["kind"])


@dataclass
class Estimate:
    """One estimate, with the JSON's fields (`options` is the method family's record)."""

    method: str
    label: str
    status: str
    observed: int
    population: float | None
    missing: float | None
    std_error: float | None
    interval: Interval | None
    model: str | None = None
    fit: dict | None = None
    options: Any = None
    draws: dict | None = None
    bootstrap: dict | None = None
    check: dict | None = None
    warnings: list[str] = field(default_factory=list)

    @staticmethod
    def of(d: Mapping[str, Any]) -> "Estimate":
        return Estimate(
            method=d["method"],
            label=d["label"],
            status=d["status"],
            observed=d["observed"],
            population=d.get("population"),
            missing=d.get("missing"),
            std_error=d.get("std_error"),
            interval=Interval.of(d.get("interval")),
            model=d.get("model"),
            fit=d.get("fit"),
            options=d.get("options"),
            draws=d.get("draws"),
            bootstrap=d.get("bootstrap"),
            check=d.get("check"),
            warnings=list(d.get("warnings", [])),
        )


@dataclass
class Result:
    """A `darkfigure.result/1` document: the estimates as dataclasses, everything else as
    the JSON has it, and the JSON itself in `raw`."""

    schema: str
    version: str
    job: dict
    data: dict
    estimates: list[Estimate]
    strata: list = field(default_factory=list)
    totals: list = field(default_factory=list)
    aggregate: dict | None = None
    calibration: dict | None = None
    warnings: list[str] = field(default_factory=list)
    raw: dict = field(default_factory=dict, repr=False)

    @staticmethod
    def of(d: Mapping[str, Any]) -> "Result":
        return Result(
            schema=d["schema"],
            version=d["version"],
            job=d["job"],
            data=d["data"],
            estimates=[Estimate.of(e) for e in d["estimates"]],
            strata=d.get("strata", []),
            totals=d.get("totals", []),
            aggregate=d.get("aggregate"),
            calibration=d.get("calibration"),
            warnings=list(d.get("warnings", [])),
            raw=dict(d),
        )

    def rows(self) -> list[dict]:
        """One row per estimate: method, model, abundance, stderr, limits, level, interval
        kind, deviance, df, AIC, BIC, status and warnings."""
        out = []
        for e in self.estimates:
            fit = e.fit or {}
            iv = e.interval
            out.append(
                {
                    "method": e.method,
                    "model": e.label,
                    "abundance": e.population,
                    "stderr": e.std_error,
                    "lower": iv.lower if iv else None,
                    "upper": iv.upper if iv else None,
                    "level": iv.level if iv else None,
                    "interval": iv.kind if iv else None,
                    "deviance": fit.get("deviance"),
                    "df": fit.get("df"),
                    "AIC": fit.get("aic"),
                    "BIC": fit.get("bic"),
                    "status": e.status,
                    "warnings": "; ".join(e.warnings),
                }
            )
        return out

    def to_pandas(self):
        """The rows as a pandas DataFrame (pandas is optional: `pip install pandas`)."""
        try:
            import pandas as pd
        except ImportError as err:  # pragma: no branch
            raise ImportError(
                "Result.to_pandas needs pandas (pip install pandas); Result.rows() gives the same rows as dicts"
            ) from err
        return pd.DataFrame(self.rows())


def binary() -> str:
    """The darkfigure binary: `DARKFIGURE_BIN`, then the one this package installed, then
    PATH."""
    env = os.environ.get("DARKFIGURE_BIN")
    if env:
        if Path(env).is_file() and os.access(env, os.X_OK):
            return env
        raise DarkfigureError(f"DARKFIGURE_BIN={env} is not an executable file", 127)
    name = "darkfigure.exe" if os.name == "nt" else "darkfigure"
    here = Path(sysconfig.get_path("scripts")) / name
    if here.is_file():
        return str(here)
    found = shutil.which("darkfigure")
    if found:
        return found
    raise DarkfigureError(
        "the darkfigure binary was not found: install this package with `pip install .` in the "
        "darkfigure repository (it builds the binary), or build it with `cargo install --path .` "
        "and put it on PATH, or set DARKFIGURE_BIN to its path",
        127,
    )


def _run(args: Sequence[str], cwd: str | None = None) -> str:
    """Runs the binary; its error message becomes a DarkfigureError."""
    p = subprocess.run([binary(), *args], cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        msg = p.stderr.strip()
        if msg.startswith("error: "):
            msg = msg[len("error: ") :]
        raise DarkfigureError(msg or f"darkfigure exited with code {p.returncode}", p.returncode)
    return p.stdout


def _write_csv(rows: Iterable[Mapping[str, Any]], path: Path) -> None:
    rows = list(rows)
    if not rows:
        raise DarkfigureError("the data have no rows", 2)
    header: list[str] = []
    for r in rows:
        for k in r:
            if k not in header:
                header.append(str(k))
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(["" if r.get(k) is None else _cell(r.get(k)) for k in header])


def _cell(v: Any) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _data_file(data: Any, folder: Path) -> str:
    """A path for the binary: a path as given, or the rows written as a CSV in `folder`."""
    if isinstance(data, (str, os.PathLike)):
        return os.fspath(data)
    to_dict = getattr(data, "to_dict", None)
    if callable(to_dict):  # a pandas DataFrame
        rows = to_dict(orient="records")
    elif isinstance(data, Mapping):
        cols = list(data)
        n = len(data[cols[0]]) if cols else 0
        rows = [{c: data[c][i] for c in cols} for i in range(n)]
    else:
        rows = list(data)
    path = folder / "data.csv"
    _write_csv(rows, path)
    return str(path)


def _flags(
    methods: Sequence[str] | str | None,
    models: Sequence[str] | None,
    bootstrap: int | None,
    parametric: bool,
    seed: int | None,
    level: float | None,
    interval: str | None,
    lists: Sequence[str] | None,
    count_column: str | None,
    covariates: Sequence[str] | None,
    baseline: Mapping[str, str] | None,
    stratify_by: str | None,
    format: str | None,
    occasions: int | str | None,
    threads: int | None,
    options: Mapping[str, Any] | None,
) -> list[str]:
    a: list[str] = []
    if isinstance(methods, str):
        methods = [methods]
    for m in methods or []:
        a += ["-m", m]
    for s in models or []:
        a += ["--model", s]
    if bootstrap is not None:
        a += ["--bootstrap", str(bootstrap)]
    if parametric:
        a += ["--parametric"]
    if seed is not None:
        a += ["--seed", str(seed)]
    if level is not None:
        a += ["--level", repr(float(level))]
    if interval is not None:
        a += ["--interval", interval]
    if lists is not None:
        a += ["--lists", ",".join(lists)]
    if count_column is not None:
        a += ["--count-column", count_column]
    if covariates is not None:
        a += ["--covariates", ",".join(covariates)]
    for col, lev in (baseline or {}).items():
        a += ["--baseline", f"{col}={lev}"]
    if stratify_by is not None:
        a += ["--stratify-by", stratify_by]
    if format is not None:
        a += ["--format", format]
    if occasions is not None:
        a += ["--occasions", str(occasions)]
    if threads is not None:
        a += ["--threads", str(threads)]
    for k, v in (options or {}).items():
        flag = "-K" if k == "K" else "--" + k.replace("_", "-")
        if v is True:
            a += [flag]
        elif v is not False and v is not None:
            a += [flag, str(v)]
    return a


def estimate(
    data: Any,
    methods: Sequence[str] | str | None = None,
    *,
    models: Sequence[str] | None = None,
    bootstrap: int | None = None,
    parametric: bool = False,
    seed: int | None = None,
    level: float | None = None,
    interval: str | None = None,
    lists: Sequence[str] | None = None,
    count_column: str | None = None,
    covariates: Sequence[str] | None = None,
    baseline: Mapping[str, str] | None = None,
    stratify_by: str | None = None,
    format: str | None = None,
    occasions: int | str | None = None,
    threads: int | None = None,
    options: Mapping[str, Any] | None = None,
    report: str | os.PathLike | None = None,
) -> Result:
    """Estimates N with the given methods (`darkfigure estimate`).

    `data` is a CSV path, a pandas DataFrame, a dict of columns or a list of dicts, in any
    layout the binary reads: 0/1 list columns and a `count` column (SparseMSE's and
    Rcapture's `dfreq` layout), one row per person with `lists=` naming the list columns,
    `times_captured,count` frequencies, or one register's counts with `count_column=`.
    Other options of the command line go in `options` (`{"pthresh": 0.05, "K": 5}`)."""
    return _estimate("estimate", data, locals())


def calibrate(data: Any, methods: Sequence[str] | str | None = None, *, replicates: int | None = None, **kw: Any) -> Result:
    """`darkfigure calibrate`: the estimates, and how often each interval covers the truth
    on data simulated from fits to these data (`replicates` datasets per model)."""
    opts = dict(kw.pop("options", None) or {})
    if replicates is not None:
        opts["replicates"] = replicates
    kw["options"] = opts
    return _estimate("calibrate", data, {"methods": methods, **kw})


def _estimate(command: str, data: Any, kw: Mapping[str, Any]) -> Result:
    report = kw.get("report")
    names = [
        "methods", "models", "bootstrap", "parametric", "seed", "level", "interval", "lists",
        "count_column", "covariates", "baseline", "stratify_by", "format", "occasions",
        "threads", "options",
    ]
    args = {n: kw.get(n) for n in names}
    args["parametric"] = bool(args["parametric"])
    with tempfile.TemporaryDirectory(prefix="darkfigure-") as tmp:
        folder = Path(tmp)
        path = _data_file(data, folder)
        out = folder / "result.json"
        cmd = [command, path, *_flags(**args), "--json", str(out), "--quiet"]
        if report is not None:
            cmd += ["--report", os.fspath(report)]
        _run(cmd)
        with open(out, encoding="utf-8") as f:
            return Result.of(json.load(f))


def check(data: Any, models: Sequence[str], **kw: Any) -> dict:
    """`darkfigure check`: whether each log-linear model's MLE exists and is identifiable
    (SparseMSE's codes 0-3), as the JSON `darkfigure.check/1` gives it."""
    with tempfile.TemporaryDirectory(prefix="darkfigure-") as tmp:
        folder = Path(tmp)
        path = _data_file(data, folder)
        out = folder / "check.json"
        cmd = ["check", path]
        for m in models:
            cmd += ["--model", m]
        for k in ("format", "lists"):
            if kw.get(k) is not None:
                v = kw[k]
                cmd += ["--" + k, ",".join(v) if isinstance(v, (list, tuple)) else str(v)]
        _run(cmd + ["--json", str(out)])
        with open(out, encoding="utf-8") as f:
            return json.load(f)


def _job_file(job: Any, folder: Path) -> str:
    """A job file: a path as given, or a job dict written in `folder` (a relative data file
    is made absolute from the current folder, where the caller means it)."""
    if isinstance(job, (str, os.PathLike)):
        return os.fspath(job)
    job = json.loads(json.dumps(job))
    data = job.get("data")
    if isinstance(data, dict) and isinstance(data.get("file"), str):
        data["file"] = os.path.abspath(data["file"])
    path = folder / "job.json"
    with open(path, "w", encoding="utf-8") as f:
        json.dump(job, f)
    return str(path)


def run_job(job: Any, *, report: str | os.PathLike | None = None, threads: int | None = None) -> Result:
    """`darkfigure run`: a job file's path, or a job as a dict (`darkfigure.job/1`)."""
    with tempfile.TemporaryDirectory(prefix="darkfigure-") as tmp:
        folder = Path(tmp)
        path = _job_file(job, folder)
        out = folder / "result.json"
        cmd = ["run", path, "--json", str(out), "--quiet"]
        if report is not None:
            cmd += ["--report", os.fspath(report)]
        if threads is not None:
            cmd += ["--threads", str(threads)]
        _run(cmd)
        with open(out, encoding="utf-8") as f:
            return Result.of(json.load(f))


def report(source: Any, path: str | os.PathLike, **kw: Any) -> str:
    """Writes the HTML (or Markdown, by the extension) report of a job (a `.json` path or a
    dict with a `schema`) or of an estimate on data (with `estimate`'s options); returns the
    report's path."""
    is_job = isinstance(source, Mapping) and "schema" in source
    is_job = is_job or (isinstance(source, (str, os.PathLike)) and os.fspath(source).endswith(".json"))
    if is_job:
        run_job(source, report=path, threads=kw.get("threads"))
    else:
        _estimate("estimate", source, {**kw, "report": path})
    return os.fspath(path)


def simulate(study: Any, *, replicates: int | None = None, seed: int | None = None) -> dict:
    """`darkfigure simulate`: a study file's path, or a study as a dict
    (`darkfigure.study/1`); returns the `darkfigure.simulation/1` document."""
    with tempfile.TemporaryDirectory(prefix="darkfigure-") as tmp:
        folder = Path(tmp)
        path = _job_file(study, folder)
        out = folder / "simulation.json"
        cmd = ["simulate", path, "--json", str(out), "--quiet"]
        if replicates is not None:
            cmd += ["--replicates", str(replicates)]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        _run(cmd)
        with open(out, encoding="utf-8") as f:
            return json.load(f)

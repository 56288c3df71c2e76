"""darkfigure from Python: estimate how many victims of trafficking (or any hidden
population) went unidentified, with the darkfigure engine.

A thin wrapper, as cmdstanpy is to CmdStan: it hands the data to the `darkfigure` binary
(installed with this package) and reads its JSON; every number comes from the binary.

    import darkfigure
    r = darkfigure.estimate("UKdat.csv", methods=["stepwise"], bootstrap=1000, seed=1)
    r.estimates[0].population, r.estimates[0].interval
    r.to_pandas()            # with pandas installed
"""

from ._core import (
    DarkfigureError,
    Estimate,
    Interval,
    Result,
    binary,
    calibrate,
    check,
    estimate,
    report,
    run_job,
    simulate,
)

__all__ = [
    "DarkfigureError",
    "Estimate",
    "Interval",
    "Result",
    "binary",
    "calibrate",
    "check",
    "estimate",
    "report",
    "run_job",
    "simulate",
]

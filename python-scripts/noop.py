"""Answers at once with a valid Outcome for its Job: for plumbing tests and benchmarks.

Standard library only. Optional Job fields:
    sleepSeconds  wait this long first (a stand-in for a long job)
    exitWith      report {"status": <exitWith>} and exit non-zero (a stand-in for a failing script)
It prints `noop started <unix time>` to stderr first, for dispatch-latency measurements.
"""
import sys
import time

import jobcontract as jc


def main(job):
    jc.log(f"noop started {time.time():.6f}")
    sleep = jc.get_number(job, "sleepSeconds", 0, 0, 86400)
    if sleep:
        time.sleep(sleep)
    failure = jc.get_number(job, "exitWith", None, 400, 599, integer=True)
    if failure is not None:
        raise jc.JobError("failing as the Job asked (exitWith)", "RequestedFailure", failure)
    return {"status": 200, "loss": 0.0, "metric": 0.0, "metricName": "none"}


if __name__ == "__main__":
    jc.run(main)

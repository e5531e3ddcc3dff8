"""Answers at once with a valid Outcome for its Job: for plumbing tests and benchmarks.

Standard library only. Optional Job fields:
    sleepSeconds  wait this long first (a stand-in for a long job)
    ignoreTerm    true: ignore SIGTERM while sleeping (a stand-in for a script slow to stop)
    exitWith      report {"status": <exitWith>} and exit non-zero (a stand-in for a failing script)
    outcomeKeys   names added to the Outcome with the value 1 (e.g. "val.loss", "$where": keys the
                  Boss cannot store, which the Worker encodes)
    stderrBytes   print about this many bytes of log lines to stderr first (a long log tail)
It prints `noop started <unix time>` to stderr first, for dispatch-latency measurements.
"""
import signal
import sys
import time

import jobcontract as jc


def main(job):
    jc.log(f"noop started {time.time():.6f}")
    chatter = jc.get_number(job, "stderrBytes", 0, 0, 100_000_000, integer=True)
    line = "noop log line " + "x" * 49 + "\n"
    for _ in range(chatter // len(line)):
        sys.stderr.write(line)
    if jc.get_bool(job, "ignoreTerm", False):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        jc.log("noop ignores SIGTERM")
    sleep = jc.get_number(job, "sleepSeconds", 0, 0, 86400)
    if sleep:
        time.sleep(sleep)
    failure = jc.get_number(job, "exitWith", None, 400, 599, integer=True)
    if failure is not None:
        raise jc.JobError("failing as the Job asked (exitWith)", "RequestedFailure", failure)
    keys = job.get("outcomeKeys", [])
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise jc.JobError("outcomeKeys must be a list of strings")
    outcome = {"status": 200, "loss": 0.0, "metric": 0.0, "metricName": "none"}
    outcome.update({key: 1 for key in keys})
    return outcome


if __name__ == "__main__":
    jc.run(main)

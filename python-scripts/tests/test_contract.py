"""The script contract: how a Job gets in and how the one Outcome comes out."""
import json

import pytest

from conftest import example, run_script


@pytest.mark.parametrize("via", ["argv", "file", "stdin"])
def test_noop_reads_the_job_from_each_way_in(via):
    run = run_script("noop.py", {"_id": "abc123", "scriptName": "noop.py"}, via=via)
    assert run.code == 0, run.stderr
    assert run.outcome["status"] == 200
    assert run.outcome["jobId"] == "abc123"


def test_noop_logs_its_start_time_to_stderr_and_only_the_outcome_to_stdout():
    run = run_script("noop.py", {"_id": "x"})
    assert run.stderr.startswith("noop started ")
    float(run.stderr.split()[2])
    assert len([line for line in run.stdout if line.strip()]) == 1


def test_noop_can_stand_in_for_a_failing_script():
    run = run_script("noop.py", {"_id": "x", "exitWith": 503})
    assert run.code != 0
    assert run.outcome["status"] == 503
    assert run.outcome["error"]["type"] == "RequestedFailure"


@pytest.mark.parametrize("script, job", [
    ("nn.py", example("diabetes_good_job.json", epochs=5, cvFolds=2)),
    ("sk.py", example("diabetes_ridge_job.json")),
    ("noop.py", {"_id": "n"}),
])
def test_the_last_line_is_the_only_outcome(script, job):
    run = run_script(script, job)
    assert run.code == 0, run.stderr
    outcome = run.outcome
    assert outcome["status"] == 200
    assert outcome["jobId"] == job["_id"]
    for key in ("loss", "metric", "metricName", "durationSeconds"):
        assert key in outcome
    earlier_outcomes = []
    for line in run.stdout[:-1]:
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict) and "status" in parsed:
            earlier_outcomes.append(line)
    assert earlier_outcomes == []


def test_errors_are_outcomes_with_a_non_zero_exit():
    run = run_script("nn.py", "this is not json")
    assert run.code == 2
    assert run.outcome == {"status": 400, "jobId": None, "error": run.outcome["error"]}
    assert run.outcome["error"]["type"] == "InvalidJob"


def test_noop_can_report_keys_the_boss_cannot_store_and_a_long_log():
    run = run_script("noop.py", {"_id": "k", "outcomeKeys": ["val.loss", "$where"], "stderrBytes": 10_000})
    assert run.code == 0, run.stderr
    assert run.outcome["val.loss"] == 1 and run.outcome["$where"] == 1
    assert len(run.stderr) >= 9_000


def test_noop_can_ignore_sigterm_while_it_sleeps():
    import signal
    import subprocess
    import sys

    from conftest import SCRIPTS

    process = subprocess.Popen([sys.executable, str(SCRIPTS / "noop.py"), json.dumps({"_id": "t", "sleepSeconds": 30,
                                                                                      "ignoreTerm": True})],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    process.stderr.readline()  # noop started
    assert process.stderr.readline().startswith(b"noop ignores SIGTERM")
    process.send_signal(signal.SIGTERM)
    with pytest.raises(subprocess.TimeoutExpired):
        process.wait(timeout=0.5)
    process.kill()
    process.wait()

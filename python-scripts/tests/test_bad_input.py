"""Every bad input gives a clear error Outcome, fast: before any heavy import (numpy, pandas,
scikit-learn, torch) and within a second."""
from pathlib import Path

import pytest

from conftest import example, run_script

WINE = example("wine_seed_job.json", epochs=5)


def data_dir(tmp_path: Path, text: str) -> str:
    (tmp_path / "bad.csv").write_text(text)
    return str(tmp_path)


CASES = [
    # name, script, job changes, csv text (None: the shipped data), status, error type, words in the message
    ("missing data file", "nn.py", {"dataFileName": "nope.csv"}, None, 404, "DataFileNotFound", ["nope.csv"]),
    ("data file with a path", "nn.py", {"dataFileName": "../secret.csv"}, None, 400, "InvalidJob", ["dataFileName"]),
    ("unknown column", "nn.py", {"depedentVariable": "colour"}, None, 422, "UnknownColumn", ["colour", "proline", "hue"]),
    ("no target", "nn.py", {"depedentVariable": None}, None, 400, "InvalidJob", ["depedentVariable"]),
    ("non-numeric column", "nn.py", {"dataFileName": "bad.csv", "depedentVariable": "y"},
     "x,kind,y\n1,red,2\n2,blue,3\n", 422, "NonNumericColumn", ["kind"]),
    ("NaN in a feature", "nn.py", {"dataFileName": "bad.csv", "depedentVariable": "y"},
     "x,z,y\n1,,2\n2,3,3\n", 422, "MissingValues", ["z", "nanPolicy"]),
    ("too few rows after filtering", "nn.py", {"minDependentVarValue": 1500, "maxDependentVarValue": 1600},
     None, 422, "TooFewRows", ["rows"]),
    ("unknown optimizer", "nn.py", {"optimizer": "adamw2"}, None, 400, "InvalidJob", ["optimizer", "adamw2"]),
    ("unknown activation", "nn.py", {"hiddenLayers": [{"activation": "swishy", "widthModifier": 1}]},
     None, 400, "InvalidJob", ["activation", "swishy"]),
    ("unknown last activation", "nn.py", {"lastLayerActivator": "softmaxx"}, None, 400, "InvalidJob", ["lastLayerActivator"]),
    ("layers not a list", "nn.py", {"hiddenLayers": "big"}, None, 400, "InvalidJob", ["hiddenLayers"]),
    ("epochs is text", "nn.py", {"epochs": "many"}, None, 400, "InvalidJob", ["epochs"]),
    ("negative dropout", "nn.py", {"hiddenLayers": [{"dropout": -0.5}]}, None, 400, "InvalidJob", ["dropout"]),
    ("unknown scaler", "nn.py", {"scalerType": "zscore"}, None, 400, "InvalidJob", ["scalerType"]),
    ("unknown scorer", "nn.py", {"crossValidationCrossingType": "accuracy_maybe"}, None, 400, "InvalidJob",
     ["crossValidationCrossingType"]),
    ("slow rate above rate", "nn.py", {"slowLearningRate": 1.0}, None, 400, "InvalidJob", ["slowLearningRate"]),
    ("inverted target range", "nn.py", {"minDependentVarValue": 10, "maxDependentVarValue": 1}, None, 400,
     "InvalidJob", ["minDependentVarValue"]),
    ("unknown sk model", "sk.py", {"model": "xgboost"}, None, 400, "InvalidJob", ["model", "xgboost"]),
    ("sk missing data file", "sk.py", {"dataFileName": "gone.csv"}, None, 404, "DataFileNotFound", ["gone.csv"]),
]


@pytest.mark.parametrize("name, script, changes, csv, status, error_type, words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_fast_with_a_clear_outcome(tmp_path, heavy_imports_poisoned, name, script, changes, csv,
                                                   status, error_type, words):
    job = dict(WINE)
    if script == "sk.py":
        job["scriptName"] = "sk.py"
    for key, value in changes.items():
        if value is None:
            job.pop(key, None)
        else:
            job[key] = value
    env = dict(heavy_imports_poisoned)
    if csv is not None:
        env["DATA_DIR"] = data_dir(tmp_path, csv)
    run = run_script(script, job, env=env)
    outcome = run.outcome
    assert outcome["status"] == status, outcome
    assert outcome["error"]["type"] == error_type
    assert outcome["jobId"] == job["_id"]
    for word in words:
        assert word in outcome["error"]["message"]
    assert run.code == 2
    assert run.seconds < 1.0, f"took {run.seconds:.2f}s"


@pytest.mark.parametrize("text", ["", "[1, 2]", "{\"_id\": ", "42"])
def test_a_malformed_job_is_rejected(text, heavy_imports_poisoned):
    run = run_script("nn.py", text if text else " ", env=heavy_imports_poisoned)
    assert run.outcome["status"] == 400
    assert run.outcome["error"]["type"] == "InvalidJob"


def test_nan_is_accepted_when_the_job_says_how(tmp_path):
    rows = "\n".join(f"{i},{'' if i == 3 else i * 2},{i * 3 + 1}" for i in range(40))
    env = {"DATA_DIR": data_dir(tmp_path, "x,z,y\n" + rows + "\n")}
    job = {"_id": "nan", "dataFileName": "bad.csv", "depedentVariable": "y", "epochs": 3, "cvFolds": 2}
    for policy, rows_used in (("drop", 39), ("mean", 40)):
        run = run_script("nn.py", dict(job, nanPolicy=policy), env=env)
        assert run.outcome["status"] == 200, run.stderr
        assert run.outcome["rows"] == rows_used


def test_a_diverging_run_is_reported_not_hidden():
    job = example("diabetes_good_job.json", optimizer="sgd", learningRate=1e9, epochs=20, cvFolds=2,
                  patienceRate=0)
    run = run_script("nn.py", job)
    assert run.code == 2
    assert run.outcome["status"] == 422
    assert run.outcome["error"]["type"] == "Diverged"


def write_bytes(tmp_path: Path, data: bytes) -> str:
    (tmp_path / "bad.csv").write_bytes(data)
    return str(tmp_path)


LINES = [f"{i},{i * 2},{i * 3 + 1}\n" for i in range(40)]
ROWS = "".join(LINES)

BAD_DATA = [
    # name, file bytes, error type, words in the message
    ("Latin-1 text in the header", "température,z,y\n".encode("latin-1") + ROWS.encode(), "BadEncoding",
     ["UTF-8", "byte 0xe9", "line 1"]),
    ("Windows-1252 text in a row", ("x,z,y\n" + "".join(LINES[:6]) + "1,2,3 \u20ac\n").encode("cp1252"), "BadEncoding",
     ["UTF-8", "0x80", "line 8"]),
    ("a row with an extra field", ("x,z,y\n" + "".join(LINES[:10]) + "1,2,3,4\n" + "".join(LINES[10:])).encode(), "BadRow",
     ["line 12", "4 fields", "header has 3", "quoted"]),
    ("duplicate column names", ("x,x,y\n" + ROWS).encode(), "DuplicateColumn", ["'x'", "own name"]),
    ("a header field over the csv module's limit", ("x" * 131_073 + ",z,y\n" + ROWS).encode(), "BadRow",
     ["line 1", "131072", "quote"]),
    ("a row field over the csv module's limit", ("x,z,y\n" + "".join(LINES[:4]) + "1,2," + "9" * 131_073 + "\n"
                                               + "".join(LINES[4:])).encode(), "BadRow", ["line 6", "131072"]),
    ("a quote left open", ("x,z,y\n" + "".join(LINES[:2]) + '1,"2,3\n' + "4,5,6\n" * 30_000).encode(), "BadRow",
     ["line", "quote left open"]),
]


@pytest.mark.parametrize("name, data, error_type, words", BAD_DATA, ids=[c[0] for c in BAD_DATA])
def test_bad_data_is_a_4xx_a_person_can_act_on(tmp_path, heavy_imports_poisoned, name, data, error_type, words):
    env = dict(heavy_imports_poisoned, DATA_DIR=write_bytes(tmp_path, data))
    for script in ("nn.py", "sk.py"):
        run = run_script(script, {"_id": "bad", "dataFileName": "bad.csv", "depedentVariable": "y"}, env=env)
        assert run.outcome["status"] == 422, run.outcome
        assert run.outcome["error"]["type"] == error_type
        for word in words:
            assert word in run.outcome["error"]["message"]
        assert run.code == 2
        assert run.seconds < 1.0, f"took {run.seconds:.2f}s"


def test_a_bad_row_past_the_rows_checked_first_is_still_a_4xx(tmp_path):
    rows = "".join(f"{i},{i * 2},{i * 3 + 1}\n" for i in range(3000))
    env = {"DATA_DIR": write_bytes(tmp_path, ("x,z,y\n" + rows + "1,2,3,4\n").encode())}
    run = run_script("sk.py", {"_id": "late", "dataFileName": "bad.csv", "depedentVariable": "y"}, env=env)
    assert run.outcome["status"] == 422
    assert run.outcome["error"]["type"] == "BadRow"
    assert "line 3002" in run.outcome["error"]["message"]


def test_a_latin1_byte_past_the_rows_checked_first_is_still_a_4xx(tmp_path):
    rows = "".join(f"{i},{i * 2},{i * 3 + 1}\n" for i in range(3000))
    data = ("x,z,y\n" + rows).encode() + "1,2,3\n# caf\u00e9\n".encode("latin-1")
    run = run_script("sk.py", {"_id": "late", "dataFileName": "bad.csv", "depedentVariable": "y"},
                     env={"DATA_DIR": write_bytes(tmp_path, data)})
    assert run.outcome["status"] == 422
    assert run.outcome["error"]["type"] in ("BadEncoding", "BadRow")


def test_a_utf8_byte_order_mark_is_read_as_utf8_not_taken_for_part_of_a_name(tmp_path):
    env = {"DATA_DIR": write_bytes(tmp_path, b"\xef\xbb\xbf" + ("x,z,y\n" + ROWS).encode())}
    run = run_script("sk.py", {"_id": "bom", "dataFileName": "bad.csv", "depedentVariable": "x", "cvFolds": 2}, env=env)
    assert run.outcome["status"] == 200, run.outcome
    assert run.outcome["rows"] == 40

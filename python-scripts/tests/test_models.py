"""Saved models: nn.py and sk.py write them when crossValidateOnly is false, predict.py reads them back."""
import csv
import hashlib
import importlib.util
import os
import subprocess
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import SCRIPTS, example, run_script

sys.path.insert(0, str(SCRIPTS))
import jobcontract  # noqa: E402
import nn  # noqa: E402
import predict as predict_script  # noqa: E402
import sk  # noqa: E402
import tabular  # noqa: E402

WINE = SCRIPTS / "data" / "wine_data.csv"
WINE_COLUMNS = pd.read_csv(WINE).columns.tolist()
FEATURES = [c for c in WINE_COLUMNS if c != "proline"]
NN_JOB = example("wine_seed_job.json", _id="train-nn", crossValidateOnly=False, epochs=12, patienceRate=0,
                 l1=0, l2=0, learningRate=0.01, slowLearningRate=0, dataSha256="ab" * 32)
SK_JOB = example("wine_seed_job.json", _id="train-sk", scriptName="sk.py", model="ridge", crossValidateOnly=False)
PREDICT_JOB = {"_id": "predict", "scriptName": "predict.py", "model": {"jobId": "train-nn"},
               "dataFileName": "wine_data.csv"}
MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One nn.py and one sk.py holdout run on the wine data, shared by the tests that read their files."""
    runs = {}
    for name, script, job in (("nn", "nn.py", NN_JOB), ("sk", "sk.py", SK_JOB)):
        out = tmp_path_factory.mktemp(name)
        run = run_script(script, job, env={"OUTPUT_DIR": str(out)})
        assert run.outcome["status"] == 200, run.stderr
        runs[name] = (out, run.outcome)
    return runs


def in_range_wine() -> pd.DataFrame:
    frame = pd.read_csv(WINE)
    return frame[(frame["proline"] >= 0) & (frame["proline"] <= 1500)]


def test_nn_saves_a_model_that_loads_without_pickled_code_and_describes_itself(trained):
    import torch

    out, outcome = trained["nn"]
    expected = {"model.pt", "model.json", "curve.csv"} | ({"curve.png"} if MATPLOTLIB else set())
    assert {p.name for p in out.iterdir()} == expected
    assert set(outcome["outputs"]) == expected
    saved = torch.load(out / "model.pt", weights_only=True)
    spec = json.loads(saved["spec"])
    assert spec["features"] == FEATURES
    assert spec["network"]["inputs"] == 13
    assert [layer["units"] for layer in spec["network"]["hiddenLayers"]] == [52, 30, 17]
    assert [layer["dropout"] for layer in spec["network"]["hiddenLayers"]] == [0.2, 0.2, 0.2]
    network = nn.build_network(spec["network"])
    network.load_state_dict(saved["state_dict"])

    description = json.loads((out / "model.json").read_text())
    expected_fields = {"format": 1, "kind": "torch", "file": "model.pt", "task": "regression", "target": "proline",
                       "script": "nn.py", "jobId": "train-nn", "nanPolicy": "error", "lossName": "mse"}
    assert {k: description[k] for k in expected_fields} == expected_fields
    assert description["features"] == FEATURES
    assert description["job"] == NN_JOB
    assert description["data"] == {"file": "wine_data.csv", "sha256": "ab" * 32, "rows": 174}
    assert description["preprocessing"] == [{"step": "scale", "type": "standard"}]
    # Fitted on all 174 rows in the target range, not on the 80% the holdout score trained on.
    assert outcome["finalFit"]["rows"] == 174
    assert description["scaler"]["type"] == "standard"
    assert description["scaler"]["mean"] == pytest.approx(in_range_wine()[FEATURES].mean().tolist())
    assert description["network"]["weights"] == "best epoch"


def test_nn_writes_its_final_fits_training_curve(trained):
    out, outcome = trained["nn"]
    with (out / "curve.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "train_loss", "validation_loss", "learning_rate"]
    assert [int(r["epoch"]) for r in rows] == list(range(1, outcome["finalFit"]["epochs"] + 1))
    assert len(rows) == 12
    for row in rows:
        assert np.isfinite(float(row["train_loss"])) and np.isfinite(float(row["validation_loss"]))
        assert float(row["learning_rate"]) == 0.01


def test_the_curve_plot_is_skipped_without_matplotlib(tmp_path):
    poison = tmp_path / "poison"
    poison.mkdir()
    (poison / "matplotlib.py").write_text("raise ImportError('no matplotlib here')\n")
    out = tmp_path / "out"
    job = example("diabetes_good_job.json", crossValidateOnly=False, epochs=3, validationFraction=0)
    run = run_script("nn.py", job, env={"OUTPUT_DIR": str(out), "PYTHONPATH": str(poison)})
    assert run.outcome["status"] == 200, run.stderr
    assert {p.name for p in out.iterdir()} == {"model.pt", "model.json", "curve.csv"}
    assert "no curve.png" in run.stderr
    # Without a validation split the curve has no validation column.
    assert (out / "curve.csv").read_text().splitlines()[0] == "epoch,train_loss,learning_rate"


def test_a_job_with_a_non_finite_number_in_a_field_no_script_reads_still_saves_a_valid_model_json(tmp_path):
    job = example("diabetes_ridge_job.json", crossValidateOnly=False)
    text = json.dumps(job)[:-1] + ', "note": NaN}'
    run = run_script("sk.py", text, env={"OUTPUT_DIR": str(tmp_path)})
    assert run.outcome["status"] == 200, run.stderr
    description = json.loads((tmp_path / "model.json").read_text(), parse_constant=pytest.fail)
    assert description["job"]["note"] == "nan"


def test_sk_saves_its_pipeline_fitted_on_all_rows_and_describes_it(trained):
    import joblib

    out, outcome = trained["sk"]
    assert {p.name for p in out.iterdir()} == {"model.joblib", "model.json"}
    assert outcome["outputs"] == ["model.joblib", "model.json"]
    pipeline = joblib.load(out / "model.joblib")
    assert pipeline.named_steps["features"].named_steps["scale"].n_samples_seen_ == 174
    description = json.loads((out / "model.json").read_text())
    assert description["kind"] == "sklearn" and description["file"] == "model.joblib"
    assert description["estimator"] == {"name": "ridge", "class": "Ridge"}
    assert description["features"] == FEATURES and description["target"] == "proline"
    assert description["job"] == SK_JOB and description["script"] == "sk.py"
    # A local data file (no dataSha256 in the Job) is hashed: the model says which bytes it was fitted on.
    assert description["data"]["sha256"] == hashlib.sha256(WINE.read_bytes()).hexdigest()


@pytest.mark.parametrize("script, job", [
    ("nn.py", example("diabetes_good_job.json", epochs=2, cvFolds=2)),
    ("sk.py", example("diabetes_ridge_job.json", cvFolds=2)),
])
def test_cross_validation_only_writes_no_model(tmp_path, script, job):
    run = run_script(script, job, env={"OUTPUT_DIR": str(tmp_path)})
    assert run.outcome["status"] == 200, run.stderr
    assert list(tmp_path.iterdir()) == []
    assert "outputs" not in run.outcome and "finalFit" not in run.outcome


def predict(tmp_path: Path, model_dir: Path, data: Path, **env: str):
    out = tmp_path / "predictions"
    run = run_script("predict.py", PREDICT_JOB, env={"INPUT_DIR": str(model_dir), "OUTPUT_DIR": str(out),
                                                     "DATA_FILE": str(data), **env})
    return run, out


def unlabelled_shuffled_wine(tmp_path: Path) -> Path:
    """The wine data without its target, columns reversed: predict.py must pick features by name."""
    frame = pd.read_csv(WINE).drop(columns=["proline"])
    path = tmp_path / "unlabelled.csv"
    frame[frame.columns[::-1]].to_csv(path, index=False)
    return path


def test_predict_with_the_nn_model_gives_what_the_loaded_model_gives(trained, tmp_path):
    import torch

    model_dir, _ = trained["nn"]
    run, out = predict(tmp_path, model_dir, unlabelled_shuffled_wine(tmp_path))
    outcome = run.outcome
    assert outcome["status"] == 200, run.stderr
    assert outcome["rows"] == 178  # every input row, also the four outside the training target range
    assert outcome["outputs"] == ["predictions.csv"] and outcome["modelJobId"] == "train-nn"
    assert [p.name for p in out.iterdir()] == ["predictions.csv"]
    predictions = pd.read_csv(out / "predictions.csv")
    assert predictions.columns.tolist() == ["row", "prediction"]
    assert predictions["row"].tolist() == list(range(178))

    # The same model, loaded here and fed by hand with model.json's scaler.
    saved = torch.load(model_dir / "model.pt", weights_only=True)
    spec = json.loads(saved["spec"])
    scaler = json.loads((model_dir / "model.json").read_text())["scaler"]
    network = nn.build_network(spec["network"])
    network.load_state_dict(saved["state_dict"])
    network.eval()
    X = (pd.read_csv(WINE)[FEATURES].to_numpy() - np.array(scaler["mean"])) / np.array(scaler["scale"])
    with torch.no_grad():
        z = network(torch.as_tensor(X, dtype=torch.float32)).reshape(-1).double().numpy()
    expected = z * spec["target"]["width"] + spec["target"]["shift"]
    assert predictions["prediction"].to_numpy() == pytest.approx(expected, rel=1e-6)
    assert predictions["prediction"].nunique() > 1


def test_predict_with_the_sk_model_reads_data_dir_when_no_data_file_is_set(trained, tmp_path):
    import joblib

    model_dir, _ = trained["sk"]
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(unlabelled_shuffled_wine(tmp_path), data_dir / "wine_data.csv")
    out = tmp_path / "out"
    run = run_script("predict.py", PREDICT_JOB, env={"INPUT_DIR": str(model_dir), "OUTPUT_DIR": str(out),
                                                     "DATA_DIR": str(data_dir)})
    assert run.outcome["status"] == 200, run.stderr
    assert run.outcome["kind"] == "sklearn" and run.outcome["rows"] == 178
    predictions = pd.read_csv(out / "predictions.csv")
    expected = joblib.load(model_dir / "model.joblib").predict(pd.read_csv(WINE)[FEATURES].to_numpy())
    assert predictions["prediction"].to_numpy() == pytest.approx(expected, rel=1e-12)


def write_model(directory: Path, **changes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    description = {"format": 1, "kind": "torch", "file": "model.pt", "task": "regression", "target": "proline",
                   "features": ["alcohol", "not_here", "hue", "also_missing"], "nanPolicy": "error",
                   "preprocessing": [{"step": "scale", "type": "standard"}]}
    description.update(changes)
    (directory / "model.json").write_text(json.dumps(description))
    (directory / "model.pt").write_bytes(b"never read")
    return directory


def broken_model(directory: Path) -> Path:
    write_model(directory)
    (directory / "model.json").write_text('{"format": 1, "kind": ')
    return directory


BAD_PREDICT = [
    # name, env builder (tmp_path -> env), status, error type, words in the message
    ("no INPUT_DIR", lambda t: {}, 400, "MissingInput", ["INPUT_DIR", "model"]),
    ("INPUT_DIR without model.json", lambda t: {"INPUT_DIR": str(t)}, 400, "MissingModel", ["model.json"]),
    ("model.json not JSON", lambda t: {"INPUT_DIR": str(broken_model(t / "m"))}, 400, "BadModel", ["model.json"]),
    ("an unknown model kind", lambda t: {"INPUT_DIR": str(write_model(t / "m", kind="xgboost"))}, 400,
     "UnknownModelKind", ["xgboost", "torch", "sklearn"]),
    ("an unsupported task", lambda t: {"INPUT_DIR": str(write_model(t / "m", task="segmentation"))}, 400,
     "UnsupportedTask", ["segmentation"]),
    ("a newer format", lambda t: {"INPUT_DIR": str(write_model(t / "m", format=99))}, 400, "BadModel", ["99"]),
    ("model.json without its model file", lambda t: {"INPUT_DIR": str(write_model(t / "m", kind="sklearn"))},
     400, "MissingModel", ["model.joblib"]),
    ("missing feature columns", lambda t: {"INPUT_DIR": str(write_model(t / "m"))}, 400, "MissingColumns",
     ["not_here", "also_missing", "alcohol, malic_acid"]),
    ("no OUTPUT_DIR", lambda t: {"INPUT_DIR": str(write_model(t / "m", features=["alcohol"])), "OUTPUT_DIR": ""},
     400, "InvalidJob", ["OUTPUT_DIR"]),
    ("a missing DATA_FILE", lambda t: {"INPUT_DIR": str(write_model(t / "m", features=["alcohol"])),
                                       "DATA_FILE": str(t / "gone.csv")}, 404, "DataFileNotFound", ["gone.csv"]),
]


@pytest.mark.parametrize("name, make_env, status, error_type, words", BAD_PREDICT, ids=[c[0] for c in BAD_PREDICT])
def test_bad_predict_input_fails_fast_with_a_4xx_naming_it(tmp_path, heavy_imports_poisoned, name, make_env, status,
                                                          error_type, words):
    env = {"OUTPUT_DIR": str(tmp_path / "out"), **make_env(tmp_path), **heavy_imports_poisoned}
    if not env["OUTPUT_DIR"]:
        del env["OUTPUT_DIR"]
    run = run_script("predict.py", PREDICT_JOB, env=env)
    outcome = run.outcome
    assert outcome["status"] == status, outcome
    assert outcome["error"]["type"] == error_type
    assert outcome["jobId"] == "predict"
    for word in words:
        assert word in outcome["error"]["message"]
    assert run.code == 2
    assert run.seconds < 1.0, f"took {run.seconds:.2f}s"
    assert not (tmp_path / "out" / "predictions.csv").exists()


def test_missing_values_are_a_422_unless_the_model_imputes(tmp_path, heavy_imports_poisoned):
    data = tmp_path / "gaps.csv"
    data.write_text("alcohol,hue\n13.1,1.0\n,0.9\n")
    run, _ = predict(tmp_path, write_model(tmp_path / "m", features=["alcohol", "hue"]), data, **heavy_imports_poisoned)
    assert run.outcome["status"] == 422
    assert run.outcome["error"]["type"] == "MissingValues"
    assert "alcohol" in run.outcome["error"]["message"] and "nanPolicy" in run.outcome["error"]["message"]


def test_an_imputing_model_predicts_rows_with_gaps(tmp_path):
    job = example("diabetes_ridge_job.json", crossValidateOnly=False, nanPolicy="mean", model="ridge")
    model_dir = tmp_path / "model"
    assert run_script("sk.py", job, env={"OUTPUT_DIR": str(model_dir)}).outcome["status"] == 200
    frame = pd.read_csv(SCRIPTS / "data" / "diabetes.csv").head(5)
    frame.loc[2, "bmi"] = np.nan
    data = tmp_path / "gaps.csv"
    frame.to_csv(data, index=False)
    run, out = predict(tmp_path, model_dir, data)
    assert run.outcome["status"] == 200, run.stderr
    assert len(pd.read_csv(out / "predictions.csv")) == 5


# --- DATA_FILE, the Worker's path to the job's data, comes before DATA_DIR/dataFileName ----------------------

def write_xy(path: Path, rows: int) -> Path:
    path.write_text("x,z,y\n" + "".join(f"{i},{i % 7},{i * 3 + 1}\n" for i in range(rows)))
    return path


def test_data_file_is_preferred_over_data_dir(tmp_path):
    data_dir = tmp_path / "dir"
    data_dir.mkdir()
    write_xy(data_dir / "xy.csv", 30)
    env = {"DATA_DIR": str(data_dir), "DATA_FILE": str(write_xy(tmp_path / "blob", 40))}
    job = {"_id": "df", "dataFileName": "xy.csv", "depedentVariable": "y", "cvFolds": 2}
    assert run_script("sk.py", job, env=env).outcome["rows"] == 40
    assert run_script("sk.py", job, env={"DATA_DIR": str(data_dir)}).outcome["rows"] == 30
    # A Job that pins its data by dataSha256 alone has no dataFileName: DATA_FILE is enough.
    pinned = {k: v for k, v in job.items() if k != "dataFileName"}
    assert run_script("sk.py", pinned, env=env).outcome["rows"] == 40
    assert run_script("sk.py", pinned, env={"DATA_DIR": str(data_dir)}).outcome["status"] == 400


def test_a_missing_data_file_is_a_404_before_any_heavy_import(tmp_path, heavy_imports_poisoned):
    env = dict(heavy_imports_poisoned, DATA_FILE=str(tmp_path / "absent"))
    run = run_script("nn.py", {"_id": "x", "dataFileName": "wine_data.csv", "depedentVariable": "proline"}, env=env)
    assert run.outcome["status"] == 404 and run.outcome["error"]["type"] == "DataFileNotFound"
    assert "DATA_FILE" in run.outcome["error"]["message"]


def test_errors_name_the_data_by_its_name_when_data_dir_links_the_cached_blob(tmp_path, heavy_imports_poisoned):
    blob = tmp_path / "cache" / ("cd" * 32)
    blob.parent.mkdir()
    blob.write_text("x,z,y\n1,2,3\n1,2,3,4\n")
    data_dir = tmp_path / "run-data"
    data_dir.mkdir()
    (data_dir / "sales.csv").symlink_to(blob)
    env = dict(heavy_imports_poisoned, DATA_DIR=str(data_dir), DATA_FILE=str(blob))
    run = run_script("sk.py", {"_id": "x", "dataFileName": "sales.csv", "depedentVariable": "y"}, env=env)
    assert run.outcome["error"]["type"] == "BadRow"
    assert "of sales.csv" in run.outcome["error"]["message"] and "cd" * 32 not in run.outcome["error"]["message"]


# --- the plain preprocessing in model.pt does what the scikit-learn pipeline did ---------------------------------

@pytest.mark.parametrize("changes", [
    {},
    {"scalerType": "minmax"},
    {"scalerType": "robust"},
    {"scalerType": "none"},
    {"nanPolicy": "mean"},
    {"extraTreesKeepThreshd": 0.08},
    {"pcaComponents": 3},
    {"pcaComponents": 0.9, "scalerType": "minmax", "nanPolicy": "mean", "extraTreesKeepThreshd": 0.05},
])
def test_plain_steps_transform_as_the_fitted_pipeline_does(changes):
    spec = tabular.TabularSpec.from_job(dict({"dataFileName": "wine_data.csv", "depedentVariable": "proline"},
                                             **changes))
    frame = pd.read_csv(WINE)
    X, y = frame[FEATURES].to_numpy(), frame["proline"].to_numpy()
    if spec.nan_policy == "mean":
        X = X.copy()
        X[::5, 2] = np.nan
        X[:, 4] = np.nan  # a column with no value at all, which the imputer drops
    pipeline = tabular.preprocessor(spec).fit(X[:150], y[:150])
    steps = tabular.plain_steps(pipeline)
    expected = pipeline.transform(X[150:])
    assert tabular.apply_steps(steps, X[150:]) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert [s["step"] for s in steps] == [name for name, _ in pipeline.steps if name != "identity"]


# --- predict.py loads model.joblib as data: only what an sk.py pipeline is made of is unpickled -------------

def sk_configurations():
    """Every model with every scaler, and every model with each other preprocessing option (and all of them)."""
    configurations = []
    for model in sk.MODELS:
        for scaler in tabular.SCALERS:
            configurations.append((model, {"scalerType": scaler}))
        for changes in ({"nanPolicy": "mean"}, {"extraTreesKeepThreshd": 0.05}, {"pcaComponents": 3},
                        {"pcaComponents": 0.9},
                        {"nanPolicy": "mean", "extraTreesKeepThreshd": 0.05, "pcaComponents": 0.9, "scalerType": "robust"}):
            configurations.append((model, changes))
    return configurations


def recorded_load(path: Path):
    """joblib.load of path, returning the globals its unpickler looked up."""
    import joblib
    from joblib import numpy_pickle

    seen = set()
    base = numpy_pickle.NumpyUnpickler

    class Recorder(base):
        def find_class(self, module, name):
            seen.add((module, name))
            return super().find_class(module, name)

    numpy_pickle.NumpyUnpickler = Recorder
    try:
        joblib.load(path)
    finally:
        numpy_pickle.NumpyUnpickler = base
    return seen


def test_every_pipeline_sk_py_builds_round_trips_through_predicts_loader_whose_allow_list_is_exactly_theirs(tmp_path):
    import joblib

    frame = pd.read_csv(WINE)
    X, y = frame[FEATURES].to_numpy(), frame["proline"].to_numpy()
    X_gaps = X.copy()
    X_gaps[::7, 3] = np.nan
    used = set()
    for i, (model, changes) in enumerate(sk_configurations()):
        spec = tabular.TabularSpec.from_job(dict({"dataFileName": "wine_data.csv", "depedentVariable": "proline"},
                                                 **changes))
        X_fit = X_gaps if spec.nan_policy == "mean" else X
        pipeline = sk.build(spec, model, 1.0, [0.1, 1.0, 10.0], 5, None, 0).fit(X_fit, y)
        path = tmp_path / f"model-{i}.joblib"
        joblib.dump(pipeline, path, compress=3)  # as sk.save writes it

        loaded = predict_script.load_sklearn(path)

        assert loaded.predict(X_fit) == pytest.approx(pipeline.predict(X_fit), rel=1e-12), (model, changes)
        used |= recorded_load(path)
    assert used <= predict_script.SKLEARN_GLOBALS, used - predict_script.SKLEARN_GLOBALS
    # Nothing allowed that no sk.py model needs, but numpy's helpers under the other numpy version's names.
    assert predict_script.SKLEARN_GLOBALS - predict_script.NUMPY_HELPERS <= used


class Runs:
    """Pickled, runs `call(*args)`: what a crafted model.joblib does to the process that unpickles it."""

    def __init__(self, call, *args):
        self.call, self.args = call, args

    def __reduce__(self):
        return self.call, self.args


def crafted_models(marker: Path):
    touch = f"open({str(marker)!r}, 'w').close()"
    return {
        "posix.system": Runs(os.system, f"touch {marker}"),
        "builtins.eval": Runs(eval, touch),
        "numpy.testing._private.utils.runstring": Runs(np.testing._private.utils.runstring, touch, {}),
        "subprocess.Popen": Runs(subprocess.Popen, ["touch", str(marker)]),
        # joblib reads such an array's items with a plain pickle.load, past the unpickler's find_class
        "an array of Python objects": np.array([Runs(os.system, f"touch {marker}")], dtype=object),
        # an allowed class first, the payload inside it
        "builtins.exec": sk.build(tabular.TabularSpec.from_job({"dataFileName": "x", "depedentVariable": "y"}),
                                  "ridge", Runs(exec, touch), [1.0], 1, None, 0),
    }


@pytest.mark.parametrize("refused", ["posix.system", "builtins.eval", "numpy.testing._private.utils.runstring",
                                     "subprocess.Popen", "an array of Python objects", "builtins.exec"])
def test_a_model_joblib_that_would_run_code_is_refused_before_anything_runs(tmp_path, refused):
    import joblib

    marker = tmp_path / "marker"
    model_dir = write_model(tmp_path / "model", kind="sklearn", file="model.joblib", features=FEATURES)
    (model_dir / "model.pt").unlink()
    joblib.dump(crafted_models(marker)[refused], model_dir / "model.joblib", compress=3)

    run, out = predict(tmp_path, model_dir, WINE)

    assert run.outcome["status"] == 400, run.stderr
    assert run.outcome["error"]["type"] == "UnsafeModel"
    assert refused in run.outcome["error"]["message"]
    assert not marker.exists(), "the pickle's payload ran"
    assert not (out / "predictions.csv").exists()


def test_a_tree_whose_nodes_point_back_is_refused_before_predict_walks_it(tmp_path):
    import joblib

    frame = pd.read_csv(WINE)
    spec = tabular.TabularSpec.from_job({"dataFileName": "wine_data.csv", "depedentVariable": "proline"})
    pipeline = sk.build(spec, "extratrees", 1.0, [1.0], 2, None, 0).fit(frame[FEATURES].to_numpy(),
                                                                        frame["proline"].to_numpy())
    tree = pipeline.named_steps["model"].estimators_[1].tree_
    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    nodes["left_child"][nodes["left_child"] > 0] = 0  # every split leads back to the root: a cycle
    tree.__setstate__(dict(state, nodes=nodes))
    path = tmp_path / "model.joblib"
    joblib.dump(pipeline, path, compress=3)

    with pytest.raises(jobcontract.JobError) as refused:
        predict_script.load_sklearn(path)
    assert refused.value.type == "BadModel" and "decision tree" in str(refused.value)

"""Predicts with a model another job saved: one prediction per row of this Job's data.

The Job:
    {"scriptName": "predict.py", "model": {"jobId": "<a job that saved a model>"},
     "dataFileName": "<a dataset or data file>"}
The Boss turns `model` into the Job's `inputs` (that job's model.* artifacts) and the Worker fetches
them into $INPUT_DIR. The data is $DATA_FILE when the Worker sets it, else dataFileName; it must
have the model's feature columns (by name, in any order, other columns are ignored) and need not
have the target.

Writes $OUTPUT_DIR/predictions.csv: `row` (the row's position among the data rows, from 0) and
`prediction` (in the target's units), one line per input row, in the input's order. The preprocessing
is exactly the one saved with the model (modelfiles.py): nothing is refitted on this data.

Outcome: {"status": 200, "rows": N, "outputs": ["predictions.csv"], "modelJobId": ..., "kind": ...,
"target": ...}. No loss: predictions are not a training run, and must not rank among them.
Bad input is a 4xx before torch or scikit-learn is imported: no INPUT_DIR, no model.json or model
file (400 MissingInput / MissingModel), an unknown kind or task (400), missing feature columns
(400 MissingColumns), non-numeric or missing feature values (422).

The model file is an input, and a submitter can name any uploaded blob as one: it is loaded as data,
never as code. model.pt with torch.load(weights_only=True); model.joblib with an unpickler that
imports only the classes a pipeline sk.py saves is made of (SKLEARN_GLOBALS) and refuses anything
else before importing it (400 UnsafeModel naming it); its trees are checked before compiled code
follows them.
"""
from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any, Dict, List

import jobcontract as jc
import modelfiles
import nn
import tabular

PREDICTIONS = "predictions.csv"
BATCH_ROWS = 65536  # rows per forward pass, so a large input does not need one huge activation

# numpy's helpers for scalars and for arrays joblib did not write with its own wrapper, under numpy 1's
# (numpy.core) and numpy 2's (numpy._core) names: which of them a model.joblib uses depends on the versions.
NUMPY_HELPERS = frozenset((module, name) for module in ("numpy.core.multiarray", "numpy._core.multiarray")
                          for name in ("scalar", "_reconstruct"))
# Every global a model.joblib that sk.py saved refers to: found by pickling each pipeline sk.py can
# build (every model, scaler, NaN policy, selection and PCA) and recording what the unpickler looks up.
# tests/test_models.py checks the list against that record both ways.
SKLEARN_GLOBALS = frozenset({
    ("sklearn.pipeline", "Pipeline"),
    ("sklearn.impute._base", "SimpleImputer"),
    ("sklearn.preprocessing._data", "StandardScaler"),
    ("sklearn.preprocessing._data", "MinMaxScaler"),
    ("sklearn.preprocessing._data", "RobustScaler"),
    ("sklearn.decomposition._pca", "PCA"),
    ("sklearn.linear_model._ridge", "Ridge"),
    ("sklearn.linear_model._ridge", "RidgeCV"),
    ("sklearn.ensemble._forest", "ExtraTreesRegressor"),
    ("sklearn.tree._classes", "ExtraTreeRegressor"),
    ("sklearn.tree._tree", "Tree"),
    ("tabular", "ExtraTreesSelect"),
    ("tabular", "PcaUpTo"),
    ("joblib.numpy_pickle", "NumpyArrayWrapper"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}) | NUMPY_HELPERS


def main(job: Dict[str, Any]) -> Dict[str, Any]:
    inputs = jc.input_dir()
    description = modelfiles.read(inputs)
    data_file = jc.locate_data(jc.get_str(job, "dataFileName") or None)
    features: List[str] = description["features"]
    check_data(data_file, features, description)
    out = jc.output_dir()
    if out is None:
        raise jc.JobError(f"OUTPUT_DIR is not set: predict.py writes {PREDICTIONS} there", "InvalidJob", 400)
    # Everything above is the standard library; bad input has been answered before this point.
    import numpy as np

    frame = tabular.read_frame(data_file, features)
    missing = [c for c in features if frame[c].isna().any()]
    if missing and not imputes(description):
        raise missing_values(missing, description)
    X = frame.to_numpy(dtype=np.float64)
    kind = description["kind"]
    model_file = inputs / modelfiles.KINDS[kind]
    predicted = predict_torch(model_file, features, X) if kind == "torch" else predict_sklearn(model_file, X)
    if not np.all(np.isfinite(predicted)):
        raise jc.JobError(f"the model predicted non-finite values for {int(np.sum(~np.isfinite(predicted)))} rows",
                          "NonFinitePrediction", 422)
    write_predictions(out / PREDICTIONS, predicted)
    jc.log(f"predict: {len(predicted)} predictions of {description['target']} from a {kind} model")
    return {"status": 200, "rows": int(len(predicted)), "outputs": [PREDICTIONS],
            "modelJobId": description.get("jobId"), "kind": kind, "target": description["target"]}


def check_data(data_file: Path, features: List[str], description: Dict[str, Any]) -> None:
    header = jc.read_header(data_file)
    absent = [f for f in features if f not in header]
    if absent:
        raise jc.JobError(f"{data_file.name} lacks the model's feature column(s) {', '.join(absent)}; "
                          f"its columns are: {', '.join(header)}", "MissingColumns", 400)
    problems = jc.scan_values(data_file, features)
    text = sorted(c for c, kind in problems.items() if kind == "text")
    if text:
        raise jc.JobError("non-numeric values in column(s) " + ", ".join(text), "NonNumericColumn", 422)
    if problems and not imputes(description):
        raise missing_values(sorted(problems), description)


def imputes(description: Dict[str, Any]) -> bool:
    return any(step.get("step") == "impute" for step in description.get("preprocessing", []))


def missing_values(columns: List[str], description: Dict[str, Any]) -> jc.JobError:
    return jc.JobError("missing values (NaN) in column(s) " + ", ".join(columns) + "; the model was trained "
                       f"with nanPolicy {description.get('nanPolicy')!r}, which gives it no value to fill in "
                       "(train with nanPolicy mean to predict rows with gaps)", "MissingValues", 422)


def predict_torch(model_file: Path, features: List[str], X):
    import numpy as np
    import torch

    # weights_only: torch's own restricted unpickler, which builds tensors and plain values and refuses any
    # other global, so a crafted model.pt cannot run code here.
    saved = torch.load(model_file, map_location="cpu", weights_only=True)
    spec = json.loads(saved["spec"])
    if spec["features"] != features:
        raise jc.JobError("model.pt and model.json name different features", "BadModel", 400)
    network = nn.build_network(spec["network"])
    network.load_state_dict(saved["state_dict"])
    network.eval()
    Z = tabular.apply_steps(saved["preprocessing"], X)
    outputs = [np.zeros(0)]
    with torch.no_grad():
        for start in range(0, len(Z), BATCH_ROWS):
            batch = torch.as_tensor(Z[start:start + BATCH_ROWS], dtype=torch.float32)
            outputs.append(network(batch).reshape(-1).double().numpy())
    target = spec["target"]
    return np.concatenate(outputs) * target["width"] + target["shift"]


def predict_sklearn(model_file: Path, X):
    import numpy as np

    pipeline = load_sklearn(model_file)
    return np.asarray(pipeline.predict(X), dtype=np.float64).reshape(-1)


def unsafe(what: str) -> jc.JobError:
    return jc.JobError(f"model.joblib refers to {what}, which no model sk.py saves is made of: not loaded "
                       "(predict.py unpickles only the scikit-learn, numpy and tabular.py classes of an sk.py "
                       "pipeline)", "UnsafeModel", 400)


def load_sklearn(model_file: Path):
    """model.joblib, unpickled by joblib with only SKLEARN_GLOBALS importable, and checked to be a
    Pipeline whose trees are sound. joblib.load alone would import and call whatever the pickle names
    (os.system, say), and the file is whatever blob the Job named as its input."""
    import joblib
    import numpy as np
    from joblib import numpy_pickle

    base = numpy_pickle.NumpyUnpickler

    class AllowListUnpickler(base):
        dispatch = base.dispatch.copy()

        def find_class(self, module: str, name: str):
            if (module, name) not in SKLEARN_GLOBALS:
                raise unsafe(f"the global {module}.{name}")  # before anything is imported
            return super().find_class(module, name)

        def load_build(self):
            # joblib reads the items of an array of Python objects with a plain pickle.load, which
            # find_class above never sees: sk.py's pipelines hold numbers only, so such arrays are refused.
            if len(self.stack) >= 2 and isinstance(self.stack[-2], numpy_pickle.NumpyArrayWrapper):
                state = self.stack[-1]
                dtype = state.get("dtype") if isinstance(state, dict) else None
                if not isinstance(dtype, np.dtype) or dtype.hasobject:
                    raise unsafe("an array of Python objects")
            base.load_build(self)

        dispatch[pickle.BUILD[0]] = load_build

    def old_format(*_args, **_kwargs):
        raise unsafe("joblib's pre-0.10 format, which sk.py never writes")

    # joblib.load does the file format (compression, arrays) and builds its unpickler from these names.
    saved = numpy_pickle.NumpyUnpickler, numpy_pickle.load_compatibility
    numpy_pickle.NumpyUnpickler, numpy_pickle.load_compatibility = AllowListUnpickler, old_format
    try:
        pipeline = joblib.load(model_file)
    except jc.JobError:
        raise
    except Exception as e:  # a damaged or foreign file: the input's fault
        raise jc.JobError(f"model.joblib cannot be loaded: {type(e).__name__}: {e}", "BadModel", 400) from e
    finally:
        numpy_pickle.NumpyUnpickler, numpy_pickle.load_compatibility = saved
    from sklearn.pipeline import Pipeline

    if not isinstance(pipeline, Pipeline):
        raise jc.JobError(f"model.joblib holds a {type(pipeline).__name__}, not the Pipeline sk.py saves",
                          "BadModel", 400)
    check_trees(pipeline)
    return pipeline


def check_trees(pipeline) -> None:
    """scikit-learn's compiled tree code follows child and feature indexes without checking them: in a
    sound tree each child comes after its parent and within the tree, and each split names one of the
    model's features. A tree that is not sound is refused before predict() walks it."""
    import numpy as np
    from sklearn.pipeline import Pipeline

    for _, step in pipeline.steps:
        if isinstance(step, Pipeline):
            check_trees(step)
            continue
        for estimator in [step, *getattr(step, "estimators_", [])]:
            tree = getattr(estimator, "tree_", None)
            if tree is None:
                continue
            n = int(tree.node_count)
            left, right, feature = tree.children_left, tree.children_right, tree.feature
            index = np.arange(n)
            leaf = left == -1
            sound = (len(left) == len(right) == len(feature) == n
                     and getattr(estimator, "n_features_in_", None) == tree.n_features
                     and bool(np.all(leaf == (right == -1)))
                     and bool(np.all(leaf | ((left > index) & (left < n) & (right > index) & (right < n))))
                     and bool(np.all(leaf | ((feature >= 0) & (feature < tree.n_features)))))
            if not sound:
                raise jc.JobError("model.joblib holds a decision tree whose nodes do not form a tree: not used",
                                  "BadModel", 400)


def write_predictions(path: Path, predicted) -> None:
    import csv

    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["row", "prediction"])
        for row, value in enumerate(predicted.tolist()):
            writer.writerow([row, repr(value)])


if __name__ == "__main__":
    jc.run(main)

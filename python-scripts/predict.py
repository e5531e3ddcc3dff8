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
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import jobcontract as jc
import modelfiles
import nn
import tabular

PREDICTIONS = "predictions.csv"
BATCH_ROWS = 65536  # rows per forward pass, so a large input does not need one huge activation


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

    # weights_only: model.pt holds tensors and plain values only, so nothing in it can run code.
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
    import joblib
    import numpy as np

    # joblib unpickles, which can run code: the file must come from this system's own jobs, as the
    # Boss's artifacts do. The Pipeline refers to tabular's classes, importable from this folder.
    pipeline = joblib.load(model_file)
    return np.asarray(pipeline.predict(X), dtype=np.float64).reshape(-1)


def write_predictions(path: Path, predicted) -> None:
    import csv

    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["row", "prediction"])
        for row, value in enumerate(predicted.tolist()):
            writer.writerow([row, repr(value)])


if __name__ == "__main__":
    jc.run(main)

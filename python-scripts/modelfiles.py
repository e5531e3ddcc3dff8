"""The saved-model files nn.py and sk.py write and predict.py reads, in the standard library only.

A trained model is two files in $OUTPUT_DIR, which the Boss finds by their `model.` prefix:
    model.pt | model.joblib   the model itself (authoritative): torch's holds the network's weights,
                              its shape and every preprocessing step as plain numbers (it loads with
                              torch.load(..., weights_only=True)); scikit-learn's is the whole fitted
                              Pipeline, preprocessing included
    model.json                what predict.py (and a person) needs to know first, without torch or
                              scikit-learn: the kind, the file, the task, the target, the feature
                              columns in the order the model takes them, the scaler, the script and
                              the Job that trained it. FORMAT is its version.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import math
import platform
import sys
from pathlib import Path
from typing import Any, Dict, List

import jobcontract as jc

MODEL_JSON = "model.json"
FORMAT = 1
# kind -> the file that holds the model
KINDS = {"torch": "model.pt", "sklearn": "model.joblib"}
TASKS = ["regression"]  # nn.py and sk.py regress; predict.py refuses a task it cannot decode


def describe(kind: str, spec: Any, job: Dict[str, Any], script: str, steps: List[Dict[str, Any]],
             rows: int, **details: Any) -> Dict[str, Any]:
    """model.json's content for a model fitted on `rows` rows of spec's data with preprocessing `steps`
    (tabular.plain_steps' output); `details` are added as they are (network, estimator)."""
    scaler = next((summary(s) for s in steps if s["step"] == "scale"), {"type": "none"})
    description = {
        "format": FORMAT,
        "kind": kind,
        "file": KINDS[kind],
        "task": "regression",
        "target": spec.target,
        "features": list(spec.features),
        "scaler": {k: v for k, v in scaler.items() if k != "step"},
        "preprocessing": [summary(s, arrays=False) for s in steps],
        "nanPolicy": spec.nan_policy,
        "lossName": spec.loss,
        "script": script,
        "jobId": jc.job_id(job),
        "job": json_safe(job),
        "data": {"file": spec.data_name or spec.data_file.name, "sha256": data_sha256(job, spec.data_file),
                 "rows": rows},
        "versions": versions(),
        "createdAt": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    description.update(details)
    return description


def data_sha256(job: Dict[str, Any], data_file: Path) -> str:
    """The data's SHA-256: the Job's dataSha256 (the Worker verified the blob against it before the run),
    else that of the local file the model was fitted on, read once more."""
    pinned = job.get("dataSha256")
    if isinstance(pinned, str) and pinned:
        return pinned.lower()
    digest = hashlib.sha256()
    with open(data_file, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def summary(step: Dict[str, Any], arrays: bool = True) -> Dict[str, Any]:
    """A preprocessing step for JSON: its numbers as lists (PCA's matrix only as its size), or with
    arrays False only what the step is."""
    if step["step"] == "pca":
        return {"step": "pca", "components": int(len(step["components"]))}
    if not arrays:
        return {k: v for k, v in step.items() if k in ("step", "type")}
    return {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in step.items()}


def json_safe(value: Any) -> Any:
    """The Job as strict JSON: a NaN or infinity (Python's json reads them) becomes its text, which
    fields the scripts read never hold (they reject non-finite numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


def versions() -> Dict[str, str]:
    found = {"python": platform.python_version()}
    for module in ("numpy", "sklearn", "torch"):
        if module in sys.modules:
            found[module] = str(getattr(sys.modules[module], "__version__", "?"))
    return found


def write(out: Path, description: Dict[str, Any]) -> str:
    text = json.dumps(jc.finite(description), allow_nan=False, indent=1)
    (out / MODEL_JSON).write_text(text + "\n", encoding="utf-8")
    return MODEL_JSON


def read(directory: Path) -> Dict[str, Any]:
    """model.json from `directory`, checked: a 400 naming what is missing or wrong."""
    path = directory / MODEL_JSON
    if not path.is_file():
        present = sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []
        raise jc.JobError(f"INPUT_DIR has no {MODEL_JSON} (it has: {', '.join(present) or 'nothing'}); the "
                          "job named in model.jobId saved no model: train with crossValidateOnly false",
                          "MissingModel", 400)
    try:
        description = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise jc.JobError(f"{MODEL_JSON} is not valid JSON: {e}", "BadModel", 400) from e
    if not isinstance(description, dict):
        raise jc.JobError(f"{MODEL_JSON} must be a JSON object", "BadModel", 400)
    version = description.get("format")
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT:
        raise jc.JobError(f"{MODEL_JSON} has format {version!r}; this predict.py reads formats up to {FORMAT}",
                          "BadModel", 400)
    kind = description.get("kind")
    if kind not in KINDS:
        raise jc.JobError(f"unknown model kind {kind!r} in {MODEL_JSON}; predict.py loads "
                          + ", ".join(KINDS), "UnknownModelKind", 400)
    if description.get("task") not in TASKS:
        raise jc.JobError(f"unsupported task {description.get('task')!r} in {MODEL_JSON}; predict.py handles "
                          + ", ".join(TASKS), "UnsupportedTask", 400)
    features, target = description.get("features"), description.get("target")
    if not isinstance(features, list) or not features or not all(isinstance(f, str) for f in features):
        raise jc.JobError(f"{MODEL_JSON} must list the model's features as strings", "BadModel", 400)
    if not isinstance(target, str):
        raise jc.JobError(f"{MODEL_JSON} must name the target as a string", "BadModel", 400)
    if not (directory / KINDS[kind]).is_file():
        raise jc.JobError(f"INPUT_DIR has {MODEL_JSON} for a {kind} model but no {KINDS[kind]}",
                          "MissingModel", 400)
    return description

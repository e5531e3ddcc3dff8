"""Classical regression with scikit-learn, so that `scriptName` really selects between models.

Shared tabular fields (target, range filter, NaN policy, scaler, ExtraTrees selection, PCA, CV or
holdout, scorer, loss, seed) are documented in tabular.py. This script's fields:

    model         ridge (default) | ridgecv | extratrees
    alpha         ridge's L2 strength, default 1.0
    alphas        ridgecv's candidates, default [0.001, 0.01, 0.1, 1, 10, 100, 1000]
    nEstimators   extratrees' trees, default 200
    maxDepth      extratrees' depth limit, default none

With crossValidateOnly false, the model is scored on a held-out split, then fitted on all rows and
saved to $OUTPUT_DIR (when it is set): model.joblib (the whole fitted scikit-learn Pipeline,
preprocessing included; joblib.load needs tabular.py importable) and model.json
(modelfiles.describe, kind "sklearn"). The Outcome then has finalFit (rows) and outputs.

Progress: after each fold, a progress line (jobcontract.progress) with step = the fold's number (from
1) and value = its held-out loss, in the units of the Outcome's loss.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import jobcontract as jc
import modelfiles
import tabular

MODELS = ["ridge", "ridgecv", "extratrees"]


def main(job: Dict[str, Any]) -> Dict[str, Any]:
    data = tabular.TabularSpec.from_job(job)
    model = jc.get_str(job, "model", "ridge", MODELS)
    alpha = jc.get_number(job, "alpha", 1.0, 0.0, 1e12)
    alphas = job.get("alphas", [0.001, 0.01, 0.1, 1, 10, 100, 1000])
    if not isinstance(alphas, list) or not alphas or not all(
            isinstance(a, (int, float)) and not isinstance(a, bool) and a > 0 for a in alphas):
        raise jc.JobError("alphas must be a non-empty list of positive numbers")
    trees = jc.get_number(job, "nEstimators", 200, 1, 10_000, integer=True)
    depth = jc.get_number(job, "maxDepth", None, 1, 1000, integer=True)
    data.check_data()

    X, y = tabular.load(data)

    def fit(X_train, y_train, seed):
        pipeline = build(data, model, alpha, alphas, trees, depth, seed).fit(X_train, y_train)
        info: Dict[str, Any] = {}
        if model == "ridgecv":
            info["alpha"] = float(pipeline.named_steps["model"].alpha_)
        return pipeline, info

    def fit_predict(X_train, y_train, X_test, seed):
        pipeline, info = fit(X_train, y_train, seed)
        return pipeline.predict(X_test), info

    # One progress point per fold, its held-out loss: a sweep can stop a losing trial between folds.
    result = tabular.evaluate(data, X, y, fit_predict, on_fold=jc.progress)
    result["model"] = model
    if not data.cross_validate:
        out = jc.output_dir()
        if out is None:
            jc.log("sk: OUTPUT_DIR is not set, so no final model is fitted or saved")
        else:
            pipeline, info = fit(X, y, data.seed)
            result["finalFit"] = dict(info, rows=int(len(y)))
            result["outputs"] = save(out, pipeline, data, job, model, len(y))
    return result


def build(data: tabular.TabularSpec, model: str, alpha: float, alphas: List[float], trees: int,
          depth: Optional[int], seed: int):
    """The unfitted Pipeline: tabular's preprocessing, then the model. What model.joblib holds, fitted."""
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.linear_model import Ridge, RidgeCV
    from sklearn.pipeline import Pipeline

    estimator = {"ridge": lambda: Ridge(alpha=alpha),
                 "ridgecv": lambda: RidgeCV(alphas=alphas),
                 "extratrees": lambda: ExtraTreesRegressor(n_estimators=trees, max_depth=depth,
                                                           random_state=seed)}[model]()
    return Pipeline([("features", tabular.preprocessor(data)), ("model", estimator)])


def save(out: Path, pipeline, data: tabular.TabularSpec, job: Dict[str, Any], model: str, rows: int) -> List[str]:
    import joblib

    joblib.dump(pipeline, out / "model.joblib", compress=3)
    estimator = pipeline.named_steps["model"]
    names = ["model.joblib", modelfiles.write(out, modelfiles.describe(
        "sklearn", data, job, "sk.py", tabular.plain_steps(pipeline.named_steps["features"]), rows,
        estimator={"name": model, "class": type(estimator).__name__,
                   **({"alpha": float(estimator.alpha_)} if model == "ridgecv" else {})}))]
    jc.log(f"sk: saved {', '.join(names)} to {out}")
    return names


if __name__ == "__main__":
    jc.run(main)

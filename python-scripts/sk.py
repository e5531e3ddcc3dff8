"""Classical regression with scikit-learn, so that `scriptName` really selects between models.

Shared tabular fields (target, range filter, NaN policy, scaler, ExtraTrees selection, PCA, CV or
holdout, scorer, loss, seed) are documented in tabular.py. This script's fields:

    model         ridge (default) | ridgecv | extratrees
    alpha         ridge's L2 strength, default 1.0
    alphas        ridgecv's candidates, default [0.001, 0.01, 0.1, 1, 10, 100, 1000]
    nEstimators   extratrees' trees, default 200
    maxDepth      extratrees' depth limit, default none

With crossValidateOnly false, the fitted pipeline is saved to $OUTPUT_DIR/model.pkl.
"""
from __future__ import annotations

from typing import Any, Dict

import jobcontract as jc
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

    def fit_predict(X_train, y_train, X_test, seed):
        from sklearn.ensemble import ExtraTreesRegressor
        from sklearn.linear_model import Ridge, RidgeCV
        from sklearn.pipeline import Pipeline

        estimator = {"ridge": lambda: Ridge(alpha=alpha),
                     "ridgecv": lambda: RidgeCV(alphas=alphas),
                     "extratrees": lambda: ExtraTreesRegressor(n_estimators=trees, max_depth=depth,
                                                               random_state=seed)}[model]()
        pipeline = Pipeline([("features", tabular.preprocessor(data)), ("model", estimator)]).fit(X_train, y_train)
        info: Dict[str, Any] = {}
        if model == "ridgecv":
            info["alpha"] = float(pipeline.named_steps["model"].alpha_)
        if not data.cross_validate:
            save(pipeline)
        return pipeline.predict(X_test), info

    result = tabular.evaluate(data, X, y, fit_predict)
    result["model"] = model
    return result


def save(pipeline) -> None:
    out = jc.output_dir()
    if out is None:
        return
    import pickle

    with (out / "model.pkl").open("wb") as f:
        pickle.dump(pipeline, f)
    jc.log(f"saved model.pkl to {out}")


if __name__ == "__main__":
    jc.run(main)

"""What nn.py and sk.py share: the tabular Job fields, the data checks, preprocessing and scoring.

Everything at module level is standard library; numpy, pandas and scikit-learn are imported inside
the functions that need them, after `TabularSpec.from_job` and `check_data` have passed.

Fields (all optional but the target):
    depedentVariable      the target column (the seed's spelling; dependentVariable is an alias)
    minDependentVarValue, maxDependentVarValue
                          keep only rows whose target lies in this closed range
    nanPolicy             error (default) | drop (drop rows with a missing value) |
                          mean (impute the training fold's column mean)
    scalerType            standard (default) | minmax | robust | none; fitted on training rows only
    extraTreesKeepThreshd 0 = off; else keep the features whose ExtraTrees importance is at least
                          this (the most important is always kept)
    pcaComponents         -1 = off; an integer k keeps k components; a fraction in (0, 1) keeps
                          that share of the variance
    crossValidateOnly     true (default): k-fold CV; false: train and test on a held-out split,
                          then fit on all rows and save the model to $OUTPUT_DIR (modelfiles.py)
    cvFolds               folds for CV, default 5
    testFraction          held-out share when not cross-validating, default 0.2
    crossValidationCrossingType
                          a scikit-learn regression scorer name, default neg_mean_squared_error;
                          it is the Outcome's `metric` (mean over folds) and `metricName`
    loss                  mse (default) | mae | huber, in any capitalisation, or Keras'
                          mean_squared_error, mean_absolute_error, huber_loss: the training loss,
                          and the Outcome's `loss` (mean over held-out folds, in the target's
                          units; huber uses delta = one standard deviation of the training target)
    seed                  default 0 (the Boss gives every Job one); Python's random, NumPy and torch
                          are seeded with it, the folds and models with it (fold k: seed + k), so
                          the same seed gives the same result on the same machine
Preprocessing runs in the order scaler -> ExtraTrees selection -> PCA, fitted inside each fold.
The data is $DATA_FILE when the Worker sets it, else dataFileName (jobcontract.locate_data).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import jobcontract as jc

SCALERS = ["standard", "minmax", "robust", "none"]
NAN_POLICIES = ["error", "drop", "mean"]
LOSSES = ["mse", "mae", "huber"]
# The Keras names people paste from older Jobs (matched regardless of case).
LOSS_ALIASES = {"mean_squared_error": "mse", "meansquarederror": "mse", "mean_absolute_error": "mae",
                "meanabsoluteerror": "mae", "huber_loss": "huber"}
SCORERS = ["neg_mean_squared_error", "neg_root_mean_squared_error", "neg_mean_absolute_error",
           "neg_median_absolute_error", "r2", "explained_variance", "max_error",
           "neg_mean_absolute_percentage_error", "neg_mean_squared_log_error"]


@dataclass
class TabularSpec:
    data_name: Optional[str]
    data_file: Optional[Path]
    target: str
    features: List[str]
    min_target: Optional[float]
    max_target: Optional[float]
    nan_policy: str
    scaler: str
    extra_trees_threshold: float
    pca_components: float
    cross_validate: bool
    folds: int
    test_fraction: float
    scorer: str
    loss: str
    seed: int

    @staticmethod
    def from_job(job: Dict[str, Any]) -> "TabularSpec":
        target = jc.get_str(job, "depedentVariable") or jc.get_str(job, "dependentVariable")
        if not target:
            raise jc.JobError("depedentVariable (or dependentVariable) is required: the target column")
        data_name = jc.get_str(job, "dataFileName") or None
        if not data_name and not os.environ.get("DATA_FILE"):
            raise jc.JobError("dataFileName is required")
        spec = TabularSpec(
            data_name=data_name,
            data_file=None,
            target=target,
            features=[],
            min_target=jc.get_number(job, "minDependentVarValue"),
            max_target=jc.get_number(job, "maxDependentVarValue"),
            nan_policy=jc.get_str(job, "nanPolicy", "error", NAN_POLICIES),
            scaler=jc.get_str(job, "scalerType", "standard", SCALERS) or "none",
            extra_trees_threshold=jc.get_number(job, "extraTreesKeepThreshd", 0, 0, 1),
            pca_components=jc.get_number(job, "pcaComponents", -1),
            cross_validate=jc.get_bool(job, "crossValidateOnly", True),
            folds=jc.get_number(job, "cvFolds", 5, 2, 100, integer=True),
            test_fraction=jc.get_number(job, "testFraction", 0.2, 0.05, 0.5),
            scorer=jc.get_str(job, "crossValidationCrossingType", "neg_mean_squared_error", SCORERS),
            loss=jc.get_str(job, "loss", "mse", LOSSES, LOSS_ALIASES),
            seed=jc.get_number(job, "seed", 0, 0, 2**32 - 1, integer=True),
        )
        if spec.pca_components != -1 and not (0 < spec.pca_components < 1 or
                                               (spec.pca_components >= 1 and spec.pca_components == int(spec.pca_components))):
            raise jc.JobError("pcaComponents must be -1 (off), a whole number of components, or a fraction in (0, 1)")
        if (spec.min_target is not None and spec.max_target is not None and spec.min_target > spec.max_target):
            raise jc.JobError("minDependentVarValue is above maxDependentVarValue")
        return spec

    def check_data(self) -> None:
        """Finds the data file and checks its header and first rows, with the standard library."""
        self.data_file = jc.locate_data(self.data_name)
        header = jc.read_header(self.data_file)
        if self.target not in header:
            raise jc.JobError(f"unknown column {self.target!r}; the columns of {self.data_file.name} are: "
                              + ", ".join(header), "UnknownColumn", 422)
        self.features = [c for c in header if c != self.target]
        if not self.features:
            raise jc.JobError(f"{self.data_file.name} has no feature columns besides the target", "BadData", 422)
        problems = jc.scan_values(self.data_file, header)
        text = sorted(c for c, kind in problems.items() if kind == "text")
        if text:
            raise jc.JobError("non-numeric values in column(s) " + ", ".join(text), "NonNumericColumn", 422)
        missing = sorted(problems)
        if missing and self.nan_policy == "error":
            raise jc.JobError("missing values (NaN) in column(s) " + ", ".join(missing)
                              + "; set nanPolicy to drop or mean to accept them", "MissingValues", 422)
        kept = jc.count_in_range(self.data_file, self.target, self.min_target, self.max_target)
        if kept < self.rows_needed():
            raise too_few_rows(kept, self.rows_needed())

    def rows_needed(self) -> int:
        return max(2 * self.folds, 10) if self.cross_validate else 10


def too_few_rows(kept: int, needed: int) -> jc.JobError:
    return jc.JobError(f"only {kept} rows are left after filtering; at least {needed} are needed", "TooFewRows", 422)


def load(spec: TabularSpec):
    """Reads the data, applies the NaN policy and the target range; returns (X, y) as numpy arrays."""
    import numpy as np

    frame = read_frame(spec.data_file, [*spec.features, spec.target])
    if frame[spec.target].isna().any():
        if spec.nan_policy == "error":
            raise jc.JobError(f"missing values (NaN) in the target {spec.target!r}", "MissingValues", 422)
        frame = frame[frame[spec.target].notna()]
    if frame.isna().any().any():
        if spec.nan_policy == "error":
            raise jc.JobError("missing values (NaN) in column(s) " + ", ".join(frame.columns[frame.isna().any()]),
                              "MissingValues", 422)
        if spec.nan_policy == "drop":
            frame = frame.dropna()
    if spec.min_target is not None:
        frame = frame[frame[spec.target] >= spec.min_target]
    if spec.max_target is not None:
        frame = frame[frame[spec.target] <= spec.max_target]
    if len(frame) < spec.rows_needed():
        raise too_few_rows(len(frame), spec.rows_needed())
    X = frame[spec.features].to_numpy(dtype=np.float64)
    y = frame[spec.target].to_numpy(dtype=np.float64)
    return X, y


def read_frame(path: Path, columns: List[str]):
    """The CSV as a pandas frame of `columns`, each numeric, with infinities read as NaN: a 422 for
    text that is not UTF-8, an irregular table or a non-numeric value, wherever it is in the file."""
    import numpy as np
    import pandas as pd

    try:
        frame = pd.read_csv(path, encoding=jc.CSV_ENCODING)
    except UnicodeDecodeError as e:  # past the rows check_data looked at
        raise jc.not_utf8(path, e) from e
    except pd.errors.ParserError as e:
        raise jc.JobError(f"{path.name} is not a regular CSV table: {e}; a value with a comma in it "
                          "must be quoted", "BadRow", 422) from e
    frame = frame[columns]
    non_numeric = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if non_numeric:
        raise jc.JobError("non-numeric values in column(s) " + ", ".join(non_numeric), "NonNumericColumn", 422)
    return frame.replace([np.inf, -np.inf], np.nan)


def preprocessor(spec: TabularSpec):
    """The feature pipeline (impute, scale, select, PCA), to be fitted on training rows only."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    steps: List[Tuple[str, Any]] = []
    if spec.nan_policy == "mean":
        steps.append(("impute", SimpleImputer(strategy="mean")))
    scaler = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}.get(spec.scaler)
    if scaler is not None:
        steps.append(("scale", scaler()))
    if spec.extra_trees_threshold > 0:
        steps.append(("select", ExtraTreesSelect(spec.extra_trees_threshold, spec.seed)))
    if spec.pca_components != -1:
        steps.append(("pca", PcaUpTo(spec.pca_components, spec.seed)))
    return Pipeline(steps or [("identity", "passthrough")])


class ExtraTreesSelect:
    """Keeps the features whose ExtraTrees importance reaches the threshold (at least the best one)."""

    def __init__(self, threshold: float, seed: int):
        self.threshold = threshold
        self.seed = seed
        self.keep = None

    def fit(self, X, y):
        from sklearn.ensemble import ExtraTreesRegressor

        importances = ExtraTreesRegressor(n_estimators=100, random_state=self.seed).fit(X, y).feature_importances_
        keep = importances >= self.threshold
        keep[importances.argmax()] = True
        self.keep = keep
        return self

    def transform(self, X):
        return X[:, self.keep]


class PcaUpTo:
    """PCA whose whole-number component count is capped at what the training rows allow."""

    def __init__(self, components: float, seed: int):
        self.components = components
        self.seed = seed
        self.pca = None

    def fit(self, X, y=None):
        from sklearn.decomposition import PCA

        n = self.components if self.components < 1 else min(int(self.components), X.shape[0], X.shape[1])
        self.pca = PCA(n_components=n, random_state=self.seed).fit(X)
        return self

    def transform(self, X):
        return self.pca.transform(X)


def plain_steps(pipeline) -> List[Dict[str, Any]]:
    """The fitted feature pipeline as plain numbers (numpy arrays), in order: what a model file keeps
    instead of pickled scikit-learn objects. apply_steps applies them as pipeline.transform does (to within
    a tolerance: see there)."""
    import numpy as np
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    steps: List[Dict[str, Any]] = []
    for _, step in pipeline.steps:
        if isinstance(step, SimpleImputer):
            # The imputer drops a column that had no value at all in training; "keep" says which stay.
            keep = np.flatnonzero(~np.isnan(step.statistics_))
            steps.append({"step": "impute", "keep": keep, "fill": step.statistics_[keep]})
        elif isinstance(step, StandardScaler):
            steps.append({"step": "scale", "type": "standard", "mean": step.mean_, "scale": step.scale_})
        elif isinstance(step, RobustScaler):
            steps.append({"step": "scale", "type": "robust", "center": step.center_, "scale": step.scale_})
        elif isinstance(step, MinMaxScaler):
            steps.append({"step": "scale", "type": "minmax", "scale": step.scale_, "min": step.min_})
        elif isinstance(step, ExtraTreesSelect):
            steps.append({"step": "select", "keep": np.flatnonzero(step.keep)})
        elif isinstance(step, PcaUpTo):
            if step.pca.whiten:
                raise ValueError("whitened PCA has no plain form here")
            steps.append({"step": "pca", "mean": step.pca.mean_, "components": step.pca.components_})
        elif step != "passthrough":
            raise ValueError(f"no plain form for preprocessing step {type(step).__name__}")
    return steps


def apply_steps(steps: List[Dict[str, Any]], X):
    """Applies plain_steps' output (numpy arrays or CPU tensors) to X: the arithmetic each step's
    transform does in the installed scikit-learn, written out here. The results are not promised to be
    bit-for-bit the same (scikit-learn may order or fuse the operations otherwise); tests/test_models.py
    checks that they agree within a relative and absolute 1e-12 for every step sk.py and nn.py use."""
    import numpy as np

    X = np.array(X, dtype=np.float64)
    for step in steps:
        values = {k: np.asarray(v) for k, v in step.items() if k not in ("step", "type")}
        kind = step["step"]
        if kind == "impute":
            X = X[:, values["keep"]]
            rows, cols = np.nonzero(np.isnan(X))
            X[rows, cols] = values["fill"][cols]
        elif kind == "scale" and step["type"] == "minmax":
            X = X * values["scale"] + values["min"]
        elif kind == "scale":
            X = (X - values["mean" if step["type"] == "standard" else "center"]) / values["scale"]
        elif kind == "select":
            X = X[:, values["keep"]]
        elif kind == "pca":
            X = (X - values["mean"]) @ values["components"].T
        else:
            raise ValueError(f"unknown preprocessing step {kind!r}")
    return X


class Predictor:
    """Adapts a predict function to scikit-learn's scorer interface."""

    def __init__(self, predict: Callable):
        self.predict = predict


def loss_value(kind: str, y_true, y_pred, y_train) -> float:
    import numpy as np

    residual = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    if kind == "mae":
        return float(np.mean(np.abs(residual)))
    if kind == "huber":
        delta = float(np.std(y_train)) or 1.0
        a = np.abs(residual)
        return float(np.mean(np.where(a <= delta, 0.5 * residual ** 2, delta * (a - 0.5 * delta))))
    return float(np.mean(residual ** 2))


def evaluate(spec: TabularSpec, X, y, fit_predict: Callable,
             on_fold: Optional[Callable[[int, float], None]] = None) -> Dict[str, Any]:
    """Cross-validates (or trains and tests once) with `fit_predict(X_tr, y_tr, X_te, seed)`, which
    returns (predictions in target units, info dict). Returns the Outcome's numbers. `on_fold(k, loss)`
    hears each fold's held-out loss as it is known (k from 1)."""
    import numpy as np
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import KFold, train_test_split

    jc.seed_everything(spec.seed)
    scorer = get_scorer(spec.scorer)
    if spec.cross_validate:
        splits = list(KFold(n_splits=spec.folds, shuffle=True, random_state=spec.seed).split(X))
    else:
        idx = np.arange(len(y))
        train, test = train_test_split(idx, test_size=spec.test_fraction, random_state=spec.seed)
        splits = [(train, test)]
    losses, metrics, infos = [], [], []
    for fold, (train, test) in enumerate(splits):
        started = time.monotonic()
        # Within 2^32: scikit-learn refuses a larger random_state.
        prediction, info = fit_predict(X[train], y[train], X[test], (spec.seed + fold) % 2**32)
        prediction = np.asarray(prediction, dtype=np.float64)
        if not np.all(np.isfinite(prediction)):
            raise jc.JobError("the model predicted non-finite values", "Diverged", 422)
        losses.append(loss_value(spec.loss, y[test], prediction, y[train]))
        metrics.append(float(scorer(Predictor(lambda _X, p=prediction: p), X[test], y[test])))
        info.update({"fold": fold, "loss": losses[-1], "metric": metrics[-1],
                     "seconds": round(time.monotonic() - started, 3)})
        infos.append(info)
        jc.log(f"fold {fold + 1}/{len(splits)} loss={losses[-1]:.4f} {spec.scorer}={metrics[-1]:.4f}")
        if on_fold is not None:
            on_fold(fold + 1, losses[-1])
    return {
        "loss": float(np.mean(losses)),
        "metric": float(np.mean(metrics)),
        "metricName": spec.scorer,
        "lossName": spec.loss,
        "lossStd": float(np.std(losses)),
        "metricStd": float(np.std(metrics)),
        "evaluation": f"{spec.folds}-fold CV" if spec.cross_validate else f"holdout {spec.test_fraction}",
        "rows": int(len(y)),
        "features": int(X.shape[1]),
        "folds": infos,
    }

"""Neural-network regression for the seed's Job: PyTorch on CUDA when available, else the CPU.

The Job is the seed's hyper-parameter set. Shared tabular fields (target, range filter, NaN policy,
scaler, ExtraTrees selection, PCA, CV or holdout, scorer, loss, seed) are documented in tabular.py.
The network's fields:

    hiddenLayers        [{"activation", "widthModifier", "dropout"}, ...]; layer i has
                        max(1, round(widthModifier * F)) units, F being the number of features that
                        reach the network (after selection and PCA). activation: relu, tanh, sigmoid,
                        elu, leaky_relu, selu, gelu, softplus, or "" / linear. dropout in [0, 1).
    lastLayerActivator  "" (linear, default) or one of the activations above, on the single output.
                        The network learns a scaled target: standardised when the output is linear,
                        min-max scaled to [0, 1] otherwise; predictions are scaled back before scoring.
    optimizer           rmsprop (default), adam, adamw, sgd (momentum 0.9), adagrad, adadelta,
                        adamax, nadam, in any capitalisation (Keras' Adam, RMSprop, SGD...); with
                        learningRate (default 0.001).
    l1, l2              penalties added to the loss: l1 * sum|w| + l2 * sum w^2 over the weights
                        (not the biases), as Keras' regularizers do. Default 0.
    loss                mse | mae | huber (delta 1 on the scaled target).
    epochs              default 100.
    batchSize           default 32, capped at the number of training rows.
    validationFraction  share of the training rows held out to watch for early stopping and
                        plateaus, default 0.1 (at least one row). 0 watches the training loss.
    patienceRate        early-stopping patience as a fraction of epochs: stop after
                        ceil(patienceRate * epochs) epochs without improvement. 0 = never stop early.
    slowLearningRate    on a plateau (no improvement for half the patience, or 10 epochs when there
                        is no patience), the learning rate drops once to this value. Must be below
                        learningRate; 0 = off.
    saveWeightsOnlyAtEnd
                        false (default): predict with (and save) the best epoch's weights;
                        true: the last epoch's.
    device              auto (default: cuda if torch.cuda.is_available()), cpu, or cuda.

With crossValidateOnly false, the model is trained on the training split and scored on the held-out
split (the Outcome's loss and metric); then a model is fitted the same way on all rows and saved to
$OUTPUT_DIR (when it is set):
    model.pt    torch.save of {format, spec, state_dict, preprocessing}, loadable with
                weights_only=True: spec is JSON text of network (inputs, hiddenLayers [{units,
                activation, dropout}], lastLayerActivator), features (column order), target {name,
                shift, width} (prediction = output * width + shift) and weights (best or last
                epoch); preprocessing is tabular.plain_steps' list with its arrays as tensors
    model.json  modelfiles.describe: kind "torch", features, target, scaler, the Job...
    curve.csv   the final fit's epochs: epoch, train_loss (with the l1/l2 penalties), validation_loss
                (when validationFraction > 0), learning_rate; losses on the scaled target
    curve.png   the same curve, when matplotlib imports
Progress: after each epoch that has a validation split (validationFraction > 0), a progress line
(jobcontract.progress) with step = the epochs run so far in this run, counted across folds and the
final fit (so it only grows), and value = the validation rows' loss in the target's units, the same
measure as the Outcome's loss (which is on held-out rows). A sweep's early stopping reads these; a
trial it stops gets SIGTERM and simply ends, the Worker reporting its last value.
A non-finite training loss ends the run with a 422 "Diverged" Outcome. Extra Outcome fields:
device, epochsRun, rows, features, durationSeconds, folds (per fold: loss, metric, epochs, best
epoch, seconds), and with a saved model finalFit (rows, epochs, bestEpoch) and outputs (file names).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import jobcontract as jc
import modelfiles
import tabular

ACTIVATIONS = ["relu", "tanh", "sigmoid", "elu", "leaky_relu", "selu", "gelu", "softplus", "linear", ""]
OPTIMIZERS = ["rmsprop", "adam", "adamw", "sgd", "adagrad", "adadelta", "adamax", "nadam"]


@dataclass
class NetSpec:
    layers: List[Tuple[float, str, float]]
    last_activation: str
    optimizer: str
    learning_rate: float
    l1: float
    l2: float
    epochs: int
    batch_size: int
    validation_fraction: float
    patience_rate: float
    slow_learning_rate: float
    save_last: bool
    device: str

    @staticmethod
    def from_job(job: Dict[str, Any]) -> "NetSpec":
        raw_layers = job.get("hiddenLayers", [])
        if not isinstance(raw_layers, list) or len(raw_layers) > 64:
            raise jc.JobError("hiddenLayers must be a list of at most 64 layers")
        layers = []
        for i, layer in enumerate(raw_layers):
            if not isinstance(layer, dict):
                raise jc.JobError(f"hiddenLayers[{i}] must be an object")
            layers.append((jc.get_number(layer, "widthModifier", 1.0, 0.001, 1000),
                           jc.get_str(layer, "activation", "relu", ACTIVATIONS),
                           jc.get_number(layer, "dropout", 0.0, 0.0, 0.99)))
        spec = NetSpec(
            layers=layers,
            last_activation=jc.get_str(job, "lastLayerActivator", "", ACTIVATIONS),
            optimizer=jc.get_str(job, "optimizer", "rmsprop", OPTIMIZERS),
            learning_rate=jc.get_number(job, "learningRate", 0.001, 1e-12, 1e12),
            l1=jc.get_number(job, "l1", 0.0, 0.0, 1e6),
            l2=jc.get_number(job, "l2", 0.0, 0.0, 1e6),
            epochs=jc.get_number(job, "epochs", 100, 1, 1_000_000, integer=True),
            batch_size=jc.get_number(job, "batchSize", 32, 1, 10**9, integer=True),
            validation_fraction=jc.get_number(job, "validationFraction", 0.1, 0.0, 0.5),
            patience_rate=jc.get_number(job, "patienceRate", 0.0, 0.0, 1.0),
            slow_learning_rate=jc.get_number(job, "slowLearningRate", 0.0, 0.0, 1e12),
            save_last=jc.get_bool(job, "saveWeightsOnlyAtEnd", False),
            device=jc.get_str(job, "device", "auto", ["auto", "cpu", "cuda"]),
        )
        if spec.slow_learning_rate and spec.slow_learning_rate >= spec.learning_rate:
            raise jc.JobError("slowLearningRate must be below learningRate (or 0 for off)")
        return spec

    @property
    def patience(self) -> Optional[int]:
        return max(1, math.ceil(self.patience_rate * self.epochs)) if self.patience_rate > 0 else None


def main(job: Dict[str, Any]) -> Dict[str, Any]:
    data = tabular.TabularSpec.from_job(job)
    net = NetSpec.from_job(job)
    data.check_data()
    # Everything above is the standard library; bad input has been answered before this point.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
    import torch

    if net.device == "cuda" and not torch.cuda.is_available():
        raise jc.JobError("device cuda was asked for, but torch sees no CUDA device", "DeviceUnavailable", 422)
    device = torch.device("cuda" if net.device != "cpu" and torch.cuda.is_available() else "cpu")
    torch.use_deterministic_algorithms(True, warn_only=True)
    jc.log(f"nn: device={device} torch={torch.__version__}")

    X, y = tabular.load(data)
    trainer = Trainer(data, net, device)
    result = tabular.evaluate(data, X, y, trainer.fit_predict)
    result["device"] = str(device)
    result["epochsRun"] = round(sum(f["epochs"] for f in result["folds"]) / len(result["folds"]))
    if not data.cross_validate:
        out = jc.output_dir()
        if out is None:
            jc.log("nn: OUTPUT_DIR is not set, so no final model is fitted or saved")
        else:
            fit = trainer.fit(X, y, data.seed)
            result["finalFit"] = {"rows": int(len(y)), "epochs": fit.history["epochs"],
                                  "bestEpoch": fit.history["bestEpoch"]}
            result["outputs"] = save(out, fit, data, net, job)
    return result


@dataclass
class Fit:
    model: Any
    pipeline: Any
    scale: "TargetScale"
    history: Dict[str, Any]
    curve: List[Tuple[int, float, Optional[float], float]]  # epoch, train loss, validation loss, lr
    shape: Dict[str, Any]  # network_shape
    rows: int


class Trainer:
    def __init__(self, data: tabular.TabularSpec, net: NetSpec, device):
        self.data = data
        self.net = net
        self.device = device
        self.epochs_run = 0  # across folds and the final fit: the progress lines' step

    def fit_predict(self, X_train, y_train, X_test, seed: int):
        import torch

        fit = self.fit(X_train, y_train, seed)
        fit.model.eval()
        with torch.no_grad():
            Z_test = torch.as_tensor(fit.pipeline.transform(X_test), dtype=torch.float32, device=self.device)
            predicted = fit.model(Z_test).reshape(-1).double().cpu().numpy()
        return fit.scale.invert(predicted), fit.history

    def fit(self, X_train, y_train, seed: int) -> Fit:
        import numpy as np
        import torch

        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        pipeline = tabular.preprocessor(self.data).fit(X_train, y_train)
        Z_train = pipeline.transform(X_train)
        scale = TargetScale.fit(y_train, linear=self.net.last_activation in ("", "linear"))

        order = rng.permutation(len(y_train))
        n_val = int(round(self.net.validation_fraction * len(y_train)))
        n_val = min(max(n_val, 1), len(y_train) - 1) if self.net.validation_fraction > 0 else 0
        fit_rows, val_rows = order[n_val:], order[:n_val]
        tensor = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32, device=self.device)
        Xf, yf = tensor(Z_train[fit_rows]), tensor(scale.apply(y_train[fit_rows])).reshape(-1, 1)
        Xv, yv = (tensor(Z_train[val_rows]), tensor(scale.apply(y_train[val_rows])).reshape(-1, 1)) if n_val else (None, None)

        shape = network_shape(self.net, Z_train.shape[1])
        model = build_network(shape).to(self.device)
        report = self.reporter(np.asarray(y_train)[val_rows], y_train, scale) if n_val else None
        history, curve = self.train(model, Xf, yf, Xv, yv, seed, report)
        return Fit(model, pipeline, scale, history, curve, shape, len(y_train))

    def reporter(self, y_val, y_train, scale: "TargetScale"):
        """A progress line from the validation rows' predictions on the scaled target: their loss in the
        target's units, measured as the Outcome's loss is (tabular.loss_value, huber's delta from the
        training target), at step = epochs run so far."""
        def report(predicted):
            values = scale.invert(predicted.reshape(-1).double().cpu().numpy())
            jc.progress(self.epochs_run, tabular.loss_value(self.data.loss, y_val, values, y_train))
        return report

    def train(self, model, Xf, yf, Xv, yv, seed: int, report=None):
        import copy

        import torch

        net = self.net
        loss_fn = {"mse": torch.nn.MSELoss(), "mae": torch.nn.L1Loss(), "huber": torch.nn.HuberLoss(delta=1.0)}[self.data.loss]
        optimizer = make_optimizer(net.optimizer, model.parameters(), net.learning_rate)
        weights = [m.weight for m in model.modules() if isinstance(m, torch.nn.Linear)]
        batch = min(net.batch_size, len(yf))
        generator = torch.Generator(device="cpu").manual_seed(seed)
        patience = net.patience
        plateau = max(1, patience // 2) if patience else 10
        best, best_epoch, best_state, stale, slowed = math.inf, 0, None, 0, False
        epoch = 0
        curve = []
        for epoch in range(1, net.epochs + 1):
            model.train()
            permutation = torch.randperm(len(yf), generator=generator).to(Xf.device)
            total = 0.0
            for start in range(0, len(yf), batch):
                rows = permutation[start:start + batch]
                optimizer.zero_grad()
                loss = loss_fn(model(Xf[rows]), yf[rows])
                if net.l1:
                    loss = loss + net.l1 * sum(w.abs().sum() for w in weights)
                if net.l2:
                    loss = loss + net.l2 * sum((w * w).sum() for w in weights)
                if not torch.isfinite(loss):
                    raise jc.JobError(f"training diverged at epoch {epoch}: the loss is {loss.item()}", "Diverged", 422)
                loss.backward()
                optimizer.step()
                total += loss.item() * len(rows)
            watched = train_loss = total / len(yf)
            validation_loss = None
            self.epochs_run += 1
            if Xv is not None:
                model.eval()
                with torch.no_grad():
                    predicted = model(Xv)
                    watched = validation_loss = loss_fn(predicted, yv).item()
                if report is not None:
                    report(predicted)
            curve.append((epoch, train_loss, validation_loss, optimizer.param_groups[0]["lr"]))
            if not math.isfinite(watched):
                raise jc.JobError(f"training diverged at epoch {epoch}: the loss is {watched}", "Diverged", 422)
            if watched < best:
                best, best_epoch, stale = watched, epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                stale += 1
            if net.slow_learning_rate and not slowed and stale >= plateau:
                for group in optimizer.param_groups:
                    group["lr"] = net.slow_learning_rate
                slowed = True
                jc.log(f"epoch {epoch}: plateau, learning rate now {net.slow_learning_rate}")
            if patience and stale >= patience:
                jc.log(f"epoch {epoch}: no improvement for {patience} epochs, stopping")
                break
        if not net.save_last and best_state is not None:
            model.load_state_dict(best_state)
        return {"epochs": epoch, "bestEpoch": best_epoch, "watchedLoss": best, "slowed": slowed}, curve


class TargetScale:
    """Maps the target to the scale the network learns and back."""

    def __init__(self, shift: float, width: float):
        self.shift = shift
        self.width = width

    @staticmethod
    def fit(y, linear: bool) -> "TargetScale":
        import numpy as np

        if linear:
            return TargetScale(float(np.mean(y)), float(np.std(y)) or 1.0)
        low, high = float(np.min(y)), float(np.max(y))
        return TargetScale(low, (high - low) or 1.0)

    def apply(self, y):
        return (y - self.shift) / self.width

    def invert(self, z):
        return z * self.width + self.shift


def activation(name: str):
    import torch

    return {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "elu": torch.nn.ELU,
            "leaky_relu": torch.nn.LeakyReLU, "selu": torch.nn.SELU, "gelu": torch.nn.GELU,
            "softplus": torch.nn.Softplus}.get(name, torch.nn.Identity)()


def network_shape(net: NetSpec, features: int) -> Dict[str, Any]:
    """The network's layers in units, which is what rebuilding it from model.pt needs."""
    return {"inputs": features,
            "hiddenLayers": [{"units": max(1, round(modifier * features)), "activation": act, "dropout": dropout}
                             for modifier, act, dropout in net.layers],
            "lastLayerActivator": net.last_activation}


def build_network(shape: Dict[str, Any]):
    import torch

    layers: List[Any] = []
    width_in = shape["inputs"]
    for layer in shape["hiddenLayers"]:
        layers += [torch.nn.Linear(width_in, layer["units"]), activation(layer["activation"])]
        if layer["dropout"] > 0:
            layers.append(torch.nn.Dropout(layer["dropout"]))
        width_in = layer["units"]
    layers += [torch.nn.Linear(width_in, 1), activation(shape["lastLayerActivator"])]
    return torch.nn.Sequential(*layers)


def make_optimizer(name: str, parameters, lr: float):
    import torch

    optimizers = {"rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
                  "adagrad": torch.optim.Adagrad, "adadelta": torch.optim.Adadelta, "adamax": torch.optim.Adamax,
                  "nadam": torch.optim.NAdam}
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=0.9)
    return optimizers[name](parameters, lr=lr)


def save(out: Path, fit: Fit, data: tabular.TabularSpec, net: NetSpec, job: Dict[str, Any]) -> List[str]:
    """Writes model.pt, model.json, curve.csv and (with matplotlib) curve.png; returns their names."""
    import numpy as np
    import torch

    steps = tabular.plain_steps(fit.pipeline)
    shape = fit.shape
    weights = "last epoch" if net.save_last else "best epoch"
    tensors = lambda step: {k: torch.from_numpy(np.ascontiguousarray(v)) if isinstance(v, np.ndarray) else v
                            for k, v in step.items()}
    # torch 1.13's weights_only loader refuses Python floats, so the plain values go as JSON text.
    spec = {"network": shape, "features": list(data.features), "weights": weights,
            "target": {"name": data.target, "shift": fit.scale.shift, "width": fit.scale.width}}
    torch.save({"format": modelfiles.FORMAT,
                "spec": json.dumps(spec),
                "state_dict": {k: v.detach().cpu() for k, v in fit.model.state_dict().items()},
                "preprocessing": [tensors(step) for step in steps]}, out / "model.pt")
    history = fit.history
    names = ["model.pt", modelfiles.write(out, modelfiles.describe(
        "torch", data, job, "nn.py", steps, fit.rows,
        network=dict(shape, weights=weights, epochs=history["epochs"], bestEpoch=history["bestEpoch"],
                     targetScaling={"shift": fit.scale.shift, "width": fit.scale.width})))]
    names.append(write_curve(out, fit.curve))
    if plot_curve(out, fit.curve, None if net.save_last else history["bestEpoch"]):
        names.append("curve.png")
    jc.log(f"nn: saved {', '.join(names)} to {out}")
    return names


def write_curve(out: Path, curve) -> str:
    import csv

    validated = any(v is not None for _, _, v, _ in curve)
    with (out / "curve.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch", "train_loss"] + (["validation_loss"] if validated else []) + ["learning_rate"])
        for epoch, train, validation, lr in curve:
            writer.writerow([epoch, repr(train)] + ([repr(validation)] if validated else []) + [repr(lr)])
    return "curve.csv"


def plot_curve(out: Path, curve, kept_epoch: Optional[int]) -> bool:
    """curve.png, if matplotlib is installed (it is optional: requirements.txt does not name it)."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display on a Worker
        import matplotlib.pyplot as plt
    except ImportError:
        jc.log("nn: matplotlib is not installed, so no curve.png")
        return False
    try:
        figure, axes = plt.subplots(figsize=(7, 4))
        epochs = [c[0] for c in curve]
        axes.plot(epochs, [c[1] for c in curve], label="train")
        if any(c[2] is not None for c in curve):
            axes.plot(epochs, [c[2] for c in curve], label="validation")
        if kept_epoch:
            axes.axvline(kept_epoch, color="grey", linestyle=":", label=f"kept (epoch {kept_epoch})")
        axes.set_xlabel("epoch")
        axes.set_ylabel("loss (scaled target)")
        axes.set_yscale("log" if all(c[1] > 0 for c in curve) else "linear")
        axes.legend()
        figure.tight_layout()
        figure.savefig(out / "curve.png", dpi=100)
        plt.close(figure)
        return True
    except Exception as e:  # a plot is never worth the trained model
        jc.log(f"nn: curve.png failed: {e}")
        (out / "curve.png").unlink(missing_ok=True)
        return False


if __name__ == "__main__":
    jc.run(main)

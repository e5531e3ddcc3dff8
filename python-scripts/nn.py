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

With crossValidateOnly false, the model is trained on the training split, scored on the held-out
split, and saved to $OUTPUT_DIR: model.pt (architecture, weights, target scaling) and
preprocess.pkl (the fitted feature pipeline). A non-finite training loss ends the run with a
422 "Diverged" Outcome. Extra Outcome fields: device, epochsRun, rows, features, durationSeconds,
folds (per fold: loss, metric, epochs, best epoch, seconds).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import jobcontract as jc
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
    return result


class Trainer:
    def __init__(self, data: tabular.TabularSpec, net: NetSpec, device):
        self.data = data
        self.net = net
        self.device = device

    def fit_predict(self, X_train, y_train, X_test, seed: int):
        import numpy as np
        import torch

        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        pipeline = tabular.preprocessor(self.data).fit(X_train, y_train)
        Z_train, Z_test = pipeline.transform(X_train), pipeline.transform(X_test)
        scale = TargetScale.fit(y_train, linear=self.net.last_activation in ("", "linear"))

        order = rng.permutation(len(y_train))
        n_val = int(round(self.net.validation_fraction * len(y_train)))
        n_val = min(max(n_val, 1), len(y_train) - 1) if self.net.validation_fraction > 0 else 0
        fit_rows, val_rows = order[n_val:], order[:n_val]
        tensor = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32, device=self.device)
        Xf, yf = tensor(Z_train[fit_rows]), tensor(scale.apply(y_train[fit_rows])).reshape(-1, 1)
        Xv, yv = (tensor(Z_train[val_rows]), tensor(scale.apply(y_train[val_rows])).reshape(-1, 1)) if n_val else (None, None)

        model = build_model(self.net, Z_train.shape[1]).to(self.device)
        history = self.train(model, Xf, yf, Xv, yv, seed)
        model.eval()
        with torch.no_grad():
            predicted = model(tensor(Z_test)).reshape(-1).double().cpu().numpy()
        prediction = scale.invert(predicted)
        if not self.data.cross_validate:
            save(model, pipeline, scale, self.net, Z_train.shape[1])
        return prediction, history

    def train(self, model, Xf, yf, Xv, yv, seed: int) -> Dict[str, Any]:
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
            watched = total / len(yf)
            if Xv is not None:
                model.eval()
                with torch.no_grad():
                    watched = loss_fn(model(Xv), yv).item()
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
        return {"epochs": epoch, "bestEpoch": best_epoch, "watchedLoss": best, "slowed": slowed}


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


def build_model(net: NetSpec, features: int):
    import torch

    layers: List[Any] = []
    width_in = features
    for modifier, act, dropout in net.layers:
        width = max(1, round(modifier * features))
        layers += [torch.nn.Linear(width_in, width), activation(act)]
        if dropout > 0:
            layers.append(torch.nn.Dropout(dropout))
        width_in = width
    layers += [torch.nn.Linear(width_in, 1), activation(net.last_activation)]
    return torch.nn.Sequential(*layers)


def make_optimizer(name: str, parameters, lr: float):
    import torch

    optimizers = {"rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
                  "adagrad": torch.optim.Adagrad, "adadelta": torch.optim.Adadelta, "adamax": torch.optim.Adamax,
                  "nadam": torch.optim.NAdam}
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=0.9)
    return optimizers[name](parameters, lr=lr)


def save(model, pipeline, scale: TargetScale, net: NetSpec, features: int) -> None:
    out = jc.output_dir()
    if out is None:
        return
    import pickle

    import torch

    torch.save({"state_dict": {k: v.cpu() for k, v in model.state_dict().items()},
                "features": features,
                "hiddenLayers": [{"widthModifier": m, "activation": a, "dropout": d} for m, a, d in net.layers],
                "lastLayerActivator": net.last_activation,
                "targetShift": scale.shift, "targetWidth": scale.width,
                "weights": "last epoch" if net.save_last else "best epoch"}, out / "model.pt")
    with (out / "preprocess.pkl").open("wb") as f:
        pickle.dump(pipeline, f)
    jc.log(f"saved model.pt and preprocess.pkl to {out}")


if __name__ == "__main__":
    jc.run(main)

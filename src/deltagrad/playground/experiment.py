"""An experiment: a checked configuration, its data and network, and what the page asks of it —
a worked forward and backward pass (the tracer's own numbers), a bounded chunk of training,
the decision region or fitted curve, and the model file.

The server keeps no state: every request carries the configuration and the current weights
``[{"W": [[w_ji]], "b": [w_j0]}, ...]`` (one entry per layer, ``W[j][i]`` is w_ji), so a
link or a reload reproduces an experiment.
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from types import SimpleNamespace

import numpy as np

import deltagrad as dg

from .. import _validate as check
from . import views
from .config import MAX_EPOCHS_PER_REQUEST, MAX_TOTAL_EPOCHS, MAX_WEIGHT, OWNER, parse_config
from .datasets import EXAMPLES, FEATURES, GATES, ONE_INPUT_FEATURES, features, generate

GRID = 41      # decision-region grid points per axis (2-D inputs)
CURVE = 121    # points of the fitted curve (1-D inputs)
PRECISION = 4  # decimals in the workings shown on the page


class Experiment:
    """The data (split into training and validation sets) and the network of a configuration.

    Example:
        >>> ex = Experiment({"dataset": "xor", "hidden": [2], "seed": 1})
        >>> ex.sizes, len(ex.X)
        ([2, 2, 1], 4)
    """

    def __init__(self, raw_config):
        self.config = c = parse_config(raw_config)
        data = generate(c["dataset"], c["n"], c["noise"], c["seed"], c["points"])
        self.kind = data.kind
        if c["output"] == "softmax" and data.kind != "classes":
            raise ValueError(f"{OWNER}: a softmax output is for classes; the data set "
                             f"{c['dataset']!r} is a regression")
        outputs = 2 if c["output"] == "softmax" else 1
        self.features = self._feature_names(data.dims)
        self.sizes = [len(self.features)] + c["hidden"] + [outputs]
        # a truth table or a worked example is learned whole: nothing is held out
        fraction = 0.0 if c["dataset"] in GATES + tuple(EXAMPLES) else c["validation"]
        self.X, self.targets, self.Xv, self.targets_v = _split(data, fraction, c["seed"])
        self.F = self.inputs(self.X)  # what the network sees: the features of X
        self.Fv = None if self.Xv is None else self.inputs(self.Xv)
        self.T = self.encode(self.targets)
        self.Tv = None if self.Xv is None else self.encode(self.targets_v)
        self._check_overrides()

    def _feature_names(self, dims: int) -> list:
        chosen = self.config["features"]
        if chosen is None:
            return ["x1", "x2"][:dims]
        allowed = ONE_INPUT_FEATURES if dims == 1 else tuple(FEATURES)
        wrong = [name for name in chosen if name not in allowed]
        if wrong:
            raise ValueError(f"{OWNER}: features {wrong} need a second input; the data set "
                             f"{self.config['dataset']!r} has one input x₁ (features "
                             f"{list(ONE_INPUT_FEATURES)})")
        return chosen

    def inputs(self, X: np.ndarray) -> np.ndarray:
        """The network's inputs ``(N, len(features))`` for raw inputs ``(N, D)``."""
        return features(X, self.features)

    # ---- the network ---------------------------------------------------------------------
    def initial_network(self) -> dg.nn.MLP:
        """The seed's initial weights (by the chosen initialisation) with the hand-set ones."""
        c = self.config
        net = dg.nn.MLP(self.sizes, hidden=c["activation"], output=c["output"], rng=c["seed"])
        rng = np.random.default_rng(c["seed"])
        for linear in net.linears:
            if c["init"] in ("glorot", "he"):
                linear.init = c["init"]
                linear.reset_parameters(rng)
            elif c["init"] == "small":
                linear.weight.data[...] = rng.uniform(-0.1, 0.1, size=linear.weight.shape)
            elif c["init"] == "zeros":
                linear.weight.data[...] = 0.0
        for name, value in c["weights"].items():
            l, j, i = self._locate(name)
            linear = net.linears[l - 1]
            (linear.bias.data if i == 0 else linear.weight.data[:, i - 1])[j - 1] = value
        return net

    def network(self, weights=None) -> dg.nn.MLP:
        """The network with ``weights`` (the page's current ones; None: the initial ones)."""
        net = self.initial_network()
        if weights is None:
            return net
        if not isinstance(weights, list) or len(weights) != len(net.linears):
            raise ValueError(f"{OWNER}: weights must be a list of {len(net.linears)} layers "
                             "[{\"W\": ..., \"b\": ...}, ...]")
        for l, (linear, layer) in enumerate(zip(net.linears, weights), start=1):
            if not isinstance(layer, dict) or set(layer) != {"W", "b"}:
                raise ValueError(f"{OWNER}: weights[{l - 1}] must be {{\"W\": ..., \"b\": ...}}")
            linear.weight.data[...] = _numbers(layer["W"], f"weights[{l - 1}].W",
                                               linear.weight.shape)
            linear.bias.data[...] = _numbers(layer["b"], f"weights[{l - 1}].b", linear.bias.shape)
        return net

    def _locate(self, name: str) -> tuple:
        """``(l, j, i)`` of a weight named as the notes do, checked against the sizes."""
        l, j, i = (int(d) for d in name[3:].replace(")_", ""))
        if not (l <= len(self.sizes) - 1 and 1 <= j <= self.sizes[l] and i <= self.sizes[l - 1]):
            raise ValueError(f"{OWNER}: weights key {name!r} names no weight of the "
                             f"{'-'.join(map(str, self.sizes))} network")
        return l, j, i

    def _check_overrides(self) -> None:
        for name in self.config["weights"]:
            self._locate(name)

    def encode(self, targets: np.ndarray) -> np.ndarray:
        """Targets ``(N, K)``: the label for one output, 1-of-K coding for a softmax."""
        if self.sizes[-1] == 2:
            return np.eye(2)[targets.astype(int)]
        return targets[:, None].astype(float)

    # ---- what the page asks for ---------------------------------------------------------
    def step(self, net, pattern=0) -> dict:
        """One pattern's worked forward and backward pass and update, by ``explain.backprop``.
        ``pattern``: an index into the training set, or ``{"x": [...], "t": target}``."""
        x, t = self._pattern(pattern)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the page names non-canonical pairs itself
            sol = dg.explain.backprop(net, x, self.encode(np.array([t]))[0],
                                      loss=self.config["loss"], lr=self.config["lr"])
        return {"x": x.tolist(), "t": float(t), "values": sol.to_dict(),
                "sections": sol.to_records(PRECISION), "markdown": sol.to_markdown(PRECISION)}

    def _pattern(self, pattern):
        if isinstance(pattern, dict):
            if set(pattern) != {"x", "t"}:
                raise ValueError(f"{OWNER}: pattern must be an index or {{\"x\": [...], "
                                 "\"t\": target}")
            x = _numbers(pattern["x"], "pattern.x", (self.X.shape[1],), limit=1e6)
            t = check.real(pattern["t"], "pattern.t", OWNER, low=-1e6, high=1e6)
            if self.kind == "classes" and t not in (0.0, 1.0):
                raise check.InvalidArgument(OWNER, "pattern.t", "must be 0 or 1 (a class)",
                                            pattern["t"])
            return self.inputs(x[None])[0], t
        index = check.real(pattern, "pattern", OWNER, low=0, high=len(self.X))
        if index != int(index):
            raise check.InvalidArgument(OWNER, "pattern", "must be an integer index", pattern)
        return self.F[int(index)], float(self.targets[int(index)])

    def train(self, net, epoch: int, epochs: int, stopper=None, max_seconds: float = 2.0,
              max_epochs: int = MAX_EPOCHS_PER_REQUEST) -> dict:
        """Train from epoch ``epoch`` (the weights ``net`` has) for up to ``epochs`` more,
        stopping early after ``max_seconds``, by early stopping (§4.4.1) or at
        ``MAX_TOTAL_EPOCHS``. ``config["epochs"]`` is what one press of Train asks for; the
        page asks again to go on, so training continues from the current weights.

        Each epoch is one ``dg.fit`` epoch shuffled by (seed, epoch), so the result does not
        depend on how training was cut into requests. ``stopper`` carries the early-stopping
        state between requests.
        """
        epoch = check.real(epoch, "epoch", OWNER, low=0, high=MAX_TOTAL_EPOCHS,
                           high_inclusive=True)
        epochs = check.positive_int(epochs, "epochs", OWNER, maximum=max_epochs)
        early = self._stopper(stopper, net)
        trainer = SimpleNamespace(model=net, stop=False, history=SimpleNamespace())
        history, stopped, start = {"error": [], "val_error": []}, None, time.monotonic()
        epoch, end = int(epoch), min(int(epoch) + epochs, MAX_TOTAL_EPOCHS)
        notes = set()
        while epoch < end:
            if time.monotonic() - start > max_seconds and history["error"]:
                stopped = "time"
                break
            try:
                logs = self._one_epoch(net, epoch, notes)
            except dg.DivergenceError as err:
                stopped, notes = "diverged", notes | {str(err)}
                break
            epoch += 1
            for key in history:
                history[key].append(_finite_or_none(logs[key]))
            if early is not None:
                early.on_epoch_end(trainer, epoch, logs)
                if trainer.stop:
                    early.on_train_end(trainer)
                    stopped = "early"
                    break
        if stopped is None and epoch >= MAX_TOTAL_EPOCHS:
            stopped = "limit"
        if _rising(history["error"]):
            notes.add("loss rising: the training error grew over the last epochs; lower η")
        return {"epoch": epoch, "history": history, "stopped": stopped,
                "stopper": _stopper_state(early), "notes": sorted(notes),
                "weights": weights_of(net), **self.evaluate(net)}

    def _one_epoch(self, net, epoch: int, notes: set) -> dict:
        validation = None if self.Xv is None else (self.Fv, self.Tv)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = dg.fit(net, self.F, self.T, seed=self.config["seed"] + epoch,
                             validation_data=validation, **self.fit_arguments())
        notes.update(str(w.message) for w in caught)
        return {"error": history.error[0], "val_error": history.val_error[0]}

    def fit_arguments(self) -> dict:
        """What ``dg.fit`` is given each epoch besides the epoch's seed."""
        c = self.config
        batch = {"batch": None, "online": 1, "minibatch": min(c["batch_size"], len(self.X))}
        return {"loss": c["loss"], "optimizer": "sgd", "lr": c["lr"], "epochs": 1,
                "batch_size": batch[c["mode"]], "regularizer": self._regularizer(),
                "progress": False}

    def _regularizer(self):
        c = self.config
        if c["regularizer"] == "l1":
            return dg.regularizers.L1(c["lam"])
        if c["regularizer"] == "weight_decay":
            return dg.regularizers.WeightDecay(c["lam"])
        if c["regularizer"] == "prior":
            alphas = c["alphas"] or [c["lam"]] * (len(self.sizes) - 1)
            return dg.regularizers.ConsistentGaussianPrior(alphas)
        return None

    def _stopper(self, state, net):
        """``dg.callbacks.EarlyStopping`` resumed from the state the page sent back."""
        if not self.config["early_stopping"]:
            return None
        monitor = "val_error" if self.Xv is not None else "error"
        early = dg.callbacks.EarlyStopping(monitor=monitor, patience=self.config["patience"])
        early.best, early.best_epoch, early.wait, early.best_state = np.inf, None, 0, None
        if state is None:
            return early
        if not isinstance(state, dict) or set(state) != {"best", "best_epoch", "wait",
                                                         "best_weights"}:
            raise ValueError(f"{OWNER}: stopper must be the object the last response sent")
        if state["best_weights"] is not None:
            early.best = check.real(state["best"], "stopper.best", OWNER, low=0.0)
            early.best_epoch = check.positive_int(state["best_epoch"], "stopper.best_epoch",
                                                  OWNER)
            early.best_state = self.network(state["best_weights"]).state_dict()
        early.wait = int(check.real(state["wait"], "stopper.wait", OWNER, low=0))
        return early

    def evaluate(self, net) -> dict:
        """Errors per pattern and accuracies on both sets, and the region or curve."""
        out = {"error": dg.evaluate(net, self.F, self.T, loss=self.config["loss"]),
               "view": self.view(net), **views.unit_views(self, net)}
        if self.kind == "classes":
            out["accuracy"] = dg.accuracy(net, self.F, self.targets)
            out["correct"] = int(round(out["accuracy"] * len(self.X)))
            if self.Xv is not None:
                out["val_accuracy"] = dg.accuracy(net, self.Fv, self.targets_v)
        return out

    def view(self, net) -> dict:
        """The decision region (2-D: y on a grid) or the fitted curve (1-D), over the data."""
        axes, mesh = self.grid(GRID if self.X.shape[1] == 2 else CURVE)
        y = dg.predict(net, self.inputs(mesh))[:, -1]  # the one output, or p(class 1)
        return {"axes": [a.tolist() for a in axes], "values": _finite_list(y)}

    def grid(self, steps: int) -> tuple:
        """``(axes, mesh)``: ``steps`` points per input over the data with a margin, and the
        grid's points ``(steps^D, D)``, x₁ varying fastest."""
        X = self.X if self.Xv is None else np.vstack([self.X, self.Xv])
        low, high = X.min(axis=0), X.max(axis=0)
        pad = np.maximum(0.1 * (high - low), 0.25)
        axes = [np.linspace(lo, hi, steps) for lo, hi in zip(low - pad, high + pad)]
        return axes, np.stack(np.meshgrid(*axes), axis=-1).reshape(-1, X.shape[1])

    def data(self) -> dict:
        """The patterns for the page to draw."""
        return {"kind": self.kind, "X": self.X.tolist(), "t": self.targets.tolist(),
                "Xv": [] if self.Xv is None else self.Xv.tolist(),
                "tv": [] if self.Xv is None else self.targets_v.tolist()}

    def model_file(self, net, epoch: int = 0) -> bytes:
        """The network as a deltagrad model file (``dg.save``); ``extra`` holds the
        configuration, the epoch, the input columns and the features the network reads, so
        ``deltagrad predict`` and the page's "Load model file" can use it."""
        epoch = check.real(epoch, "epoch", OWNER, low=0, high=MAX_TOTAL_EPOCHS, high_inclusive=True)
        extra = {"playground": self.config, "epoch": int(epoch),
                 "inputs": ["x1", "x2"][:self.X.shape[1]], "features": self.features,
                 "kind": self.kind}
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "playground.safetensors")
            dg.save(net, path, extra=extra)
            with open(path, "rb") as handle:
                return handle.read()


def weights_of(net) -> list:
    return [{"W": linear.weight.data.tolist(), "b": linear.bias.data.tolist()}
            for linear in net.linears]


def _stopper_state(early) -> dict | None:
    if early is None:
        return None
    best = None
    if early.best_state is not None:
        best = [{"W": early.best_state[f"linear{l}.weight"].tolist(),
                 "b": early.best_state[f"linear{l}.bias"].tolist()}
                for l in range(1, len(early.best_state) // 2 + 1)]
    return {"best": None if best is None else float(early.best), "best_epoch": early.best_epoch,
            "wait": early.wait, "best_weights": best}


def _split(data, fraction: float, seed: int):
    """Hold out ``fraction`` of the patterns at random by ``seed`` (none for tiny sets)."""
    n_val = int(round(fraction * len(data.X)))
    if n_val < 1 or len(data.X) - n_val < 2:
        return data.X, data.targets, None, None
    order = np.random.default_rng(seed).permutation(len(data.X))
    train, val = order[n_val:], order[:n_val]
    return data.X[train], data.targets[train], data.X[val], data.targets[val]


def _numbers(value, name: str, shape: tuple, limit: float = MAX_WEIGHT) -> np.ndarray:
    """A nested list of JSON numbers of the given shape, each finite and within ±limit."""
    def leaves(item, depth):
        if depth == len(shape):
            yield item
            return
        if not isinstance(item, list) or len(item) != shape[depth]:
            raise ValueError(f"{OWNER}: {name} must have shape {shape}")
        for sub in item:
            yield from leaves(sub, depth + 1)

    flat = [check.real(v, name, OWNER, low=-limit, high=limit, high_inclusive=True)
            for v in leaves(value, 0)]
    return np.array(flat, dtype=float).reshape(shape)


def _rising(errors: list) -> bool:
    """At least 7 of the last 10 epochs raised the error, and it ended 5% above where it began
    (minibatch noise alone rarely does both)."""
    values = [e for e in errors[-10:] if e is not None]
    if len(values) < 5:
        return False
    ups = sum(b > a for a, b in zip(values, values[1:]))
    return ups >= 0.7 * (len(values) - 1) and values[-1] > 1.05 * values[0]


def _finite_or_none(value: float):
    return float(value) if np.isfinite(value) else None


def _finite_list(values: np.ndarray) -> list:
    return [_finite_or_none(v) for v in values]

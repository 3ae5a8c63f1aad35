"""The experiment's configuration as the page sends it (and the URL holds it): every field
checked with :mod:`deltagrad._validate`, unknown fields refused, defaults filled in.

The limits are the issue's: at most 6 layers of weights (5 hidden layers) of at most 8 units,
at most 1000 patterns, and a training request runs at most ``MAX_EPOCHS_PER_REQUEST`` epochs.
"""

from __future__ import annotations

import re

from .. import _validate as check
from .datasets import FEATURES, MAX_PATTERNS, NAMES, points_data

OWNER = "playground"
MAX_LAYERS = 6           # layers of weights (hidden layers + the output layer)
MAX_UNITS = 8            # units in a hidden layer
MAX_TOTAL_EPOCHS = 100_000
MAX_EPOCHS_PER_REQUEST = 500
MAX_WEIGHT = 1000.0      # |w| allowed when set by hand or sent back

HIDDEN = ("tanh", "sigmoid", "relu", "identity")
OUTPUTS = ("sigmoid", "identity", "softmax")
LOSSES = ("binary_cross_entropy", "sum_of_squares", "cross_entropy")
MODES = ("batch", "online", "minibatch")
REGULARIZERS = ("none", "l1", "weight_decay", "prior")
INITS = ("auto", "glorot", "he", "small", "zeros")

DEFAULTS = {
    "dataset": "xor", "n": 200, "noise": 0.1, "points": None,
    "features": None, "hidden": [2], "activation": "tanh", "output": "sigmoid",
    "loss": "binary_cross_entropy",
    "lr": 0.5, "mode": "batch", "batch_size": 10,
    "regularizer": "none", "lam": 0.001, "alphas": None,
    "early_stopping": False, "patience": 20, "validation": 0.3,
    "init": "auto", "seed": 1, "epochs": 200, "weights": {},
}

_CLASSIFIER = {"hidden": [2], "activation": "tanh", "output": "sigmoid",
               "loss": "binary_cross_entropy", "weights": {}}
# what choosing a data set fills in (the worked examples bring the notes' weights)
PRESETS = {
    **{gate: {**_CLASSIFIER, "lr": 0.5, "mode": "batch", "seed": 1, "epochs": 200}
       for gate in ("and", "or", "nand", "nor", "xor")},
    "circles": {**_CLASSIFIER, "hidden": [4], "lr": 0.1, "mode": "minibatch", "batch_size": 10,
                "epochs": 200},
    "moons": {**_CLASSIFIER, "hidden": [6], "lr": 0.1, "mode": "minibatch", "batch_size": 10,
              "epochs": 300},
    "gaussian": {**_CLASSIFIER, "hidden": [2], "lr": 0.1, "mode": "minibatch", "batch_size": 10,
                 "epochs": 100},
    "spirals": {**_CLASSIFIER, "hidden": [8, 8], "lr": 0.03, "mode": "minibatch", "noise": 0.02,
                "batch_size": 10, "epochs": 1000},
    "sin": {"hidden": [6], "activation": "tanh", "output": "identity", "loss": "sum_of_squares",
            "lr": 0.05, "mode": "online", "epochs": 500, "n": 40, "noise": 0.1, "weights": {}},
    "csv": {**_CLASSIFIER, "hidden": [4], "lr": 0.1, "mode": "batch", "epochs": 300},
}

_WEIGHT_NAME = re.compile(r"^w\^\((\d)\)_(\d)(\d)$")


def _example_presets() -> dict:
    """The worked examples of §2.1.3 and §3.4 with their architecture and weights."""
    from ..explain import SPECS
    from .datasets import EXAMPLES

    presets = {}
    for name, key in EXAMPLES.items():
        spec = SPECS[key]
        weights = {}
        for l, (W, b) in enumerate(spec["layers"], start=1):
            for j, (row, bias) in enumerate(zip(W, b), start=1):
                weights[f"w^({l})_{j}0"] = bias
                weights.update({f"w^({l})_{j}{i}": w for i, w in enumerate(row, start=1)})
        presets[name] = {"hidden": spec["sizes"][1:-1], "activation": spec["hidden"],
                         "output": spec["output"], "loss": spec["loss"], "lr": 0.1,
                         "mode": "batch", "epochs": 50, "weights": weights}
    return presets


PRESETS.update(_example_presets())


def parse_config(raw) -> dict:
    """The checked configuration: every field of :data:`DEFAULTS`, in its canonical form."""
    if not isinstance(raw, dict):
        raise TypeError(f"{OWNER}: config must be a JSON object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"{OWNER}: unknown config field(s) {unknown}; expected some of "
                         f"{sorted(DEFAULTS)}")
    c = {**DEFAULTS, **raw}
    out = {
        "dataset": check.choice(c["dataset"], NAMES, "dataset", OWNER, case_sensitive=True),
        "n": check.positive_int(c["n"], "n", OWNER, maximum=MAX_PATTERNS),
        "noise": check.real(c["noise"], "noise", OWNER, low=0.0, high=1.0, high_inclusive=True),
        "hidden": _hidden(c["hidden"]),
        "activation": check.choice(c["activation"], HIDDEN, "activation", OWNER),
        "output": check.choice(c["output"], OUTPUTS, "output", OWNER),
        "loss": check.choice(c["loss"], LOSSES, "loss", OWNER),
        "lr": check.real(c["lr"], "lr", OWNER, low=0.0, high=10.0, low_inclusive=False,
                         high_inclusive=True),
        "mode": check.choice(c["mode"], MODES, "mode", OWNER),
        "batch_size": check.positive_int(c["batch_size"], "batch_size", OWNER,
                                         maximum=MAX_PATTERNS),
        "regularizer": check.choice(c["regularizer"], REGULARIZERS, "regularizer", OWNER),
        "lam": check.real(c["lam"], "lam", OWNER, low=0.0, high=10.0, high_inclusive=True),
        "early_stopping": check.boolean(c["early_stopping"], "early_stopping", OWNER),
        "patience": check.positive_int(c["patience"], "patience", OWNER, maximum=1000),
        "validation": check.real(c["validation"], "validation", OWNER, low=0.0, high=0.5,
                                 high_inclusive=True),
        "init": check.choice(c["init"], INITS, "init", OWNER),
        "seed": check.seed(c["seed"], "seed", OWNER),
        "epochs": check.positive_int(c["epochs"], "epochs", OWNER, maximum=MAX_TOTAL_EPOCHS),
    }
    if out["seed"] is None or out["seed"] >= 2**32:
        raise check.InvalidArgument(OWNER, "seed", "must be an integer in [0, 2³²)", c["seed"])
    out["features"] = _features(c["features"])
    out["points"] = _points(c["points"], out["dataset"])
    out["alphas"] = _alphas(c["alphas"], len(out["hidden"]) + 1)
    _check_pairing(out)
    out["weights"] = parse_weight_overrides(c["weights"], out["hidden"])
    return out


def _hidden(value) -> list:
    if not isinstance(value, list) or len(value) > MAX_LAYERS - 1:
        raise check.InvalidArgument(OWNER, "hidden", f"must be a list of at most "
                                    f"{MAX_LAYERS - 1} layer widths", value)
    return [check.positive_int(units, f"hidden[{l}]", OWNER, maximum=MAX_UNITS)
            for l, units in enumerate(value)]


def _features(value) -> list | None:
    """The input features, in the canonical order of ``FEATURES``; None: the raw inputs."""
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise check.InvalidArgument(OWNER, "features", f"must be a non-empty list of names from "
                                    f"{list(FEATURES)} (or null: the raw inputs)", value)
    unknown = sorted(set(value) - set(FEATURES))
    if unknown or len(set(value)) != len(value):
        raise ValueError(f"{OWNER}: features {value} must name distinct features of "
                         f"{list(FEATURES)}; unknown {unknown}")
    return [name for name in FEATURES if name in value]


def _points(value, dataset: str):
    if dataset != "csv":
        if value is not None:
            raise ValueError(f"{OWNER}: points are only for the 'csv' data set")
        return None
    data = points_data(value)
    return {"X": data.X.tolist(), "t": data.targets.tolist()}


def _alphas(value, n_layers: int) -> list | None:
    """One α per layer for the consistent prior (eq. 4.10); None: λ for each."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != n_layers:
        raise check.InvalidArgument(OWNER, "alphas", f"must be a list of {n_layers} numbers "
                                    "(one per layer)", value)
    return [check.real(a, f"alphas[{k}]", OWNER, low=0.0, high=10.0, high_inclusive=True)
            for k, a in enumerate(value)]


def _check_pairing(config: dict) -> None:
    """The output units and error function must suit each other and the data (§2.1)."""
    loss, output = config["loss"], config["output"]
    if loss == "cross_entropy" and output != "softmax":
        raise ValueError(f"{OWNER}: the cross_entropy error needs a softmax output, "
                         f"got output {output!r}")
    if loss == "binary_cross_entropy" and output != "sigmoid":
        raise ValueError(f"{OWNER}: the binary_cross_entropy error needs a sigmoid output, "
                         f"got output {output!r}")


def parse_weight_overrides(value, hidden: list) -> dict:
    """``{"w^(l)_ji": value}`` weights set by hand (i = 0: the bias w_j0), names as the notes';
    each is checked against the layer sizes when the network is built."""
    if not isinstance(value, dict):
        raise check.InvalidArgument(OWNER, "weights", "must be an object {\"w^(l)_ji\": number}",
                                    value)
    out = {}
    for name, number in value.items():
        match = _WEIGHT_NAME.match(name) if isinstance(name, str) else None
        if match is None or not 1 <= int(match.group(1)) <= len(hidden) + 1:
            raise ValueError(f"{OWNER}: weights key {name!r} must name a weight as the notes "
                             f"do, w^(l)_ji with l = 1…{len(hidden) + 1} (i = 0 for the bias)")
        out[name] = check.real(number, f"weights[{name!r}]", OWNER, low=-MAX_WEIGHT,
                               high=MAX_WEIGHT, high_inclusive=True)
    return out

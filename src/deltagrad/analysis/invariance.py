"""The four roads to invariance (§4.5.2) side by side on real handwritten digits.

scikit-learn's 8×8 digits are padded to 12×12 (room to move) and six classifiers are trained
on the same training set with fixed seeds:

=============  ===============================================================================
``mlp``        a multilayer perceptron on the 144 pixels, 144-256-10 (no invariance built in)
``mlp+aug``    the same, each pattern shifted (whole pixels, ≤ 2) and rotated (≤ 10°) afresh at
               every presentation (road 1)
``mlp+tangent`` the same, with tangent propagation for shifts and rotation (road 2)
``hu``         an MLP on Hu's seven moment invariants (road 3)
``cnn``        conv → ReLU → pool, twice, then Linear (road 4, eq. 7.3)
``cnn+aug``    the CNN with the same augmentation
=============  ===============================================================================

Each is tested on the clean test set and on copies shifted by 1 and 2 pixels (the mean over
up, down, left and right) and rotated by ±10° and ±20° (the mean of both senses).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import _validate as check
from .. import nn
from ..callbacks import LearningRateScheduler
from ..data import augment, features, load_digits_split
from ..data.transforms import Standardizer
from ..regularizers import TangentProp
from ..train import accuracy, fit

MODELS = ("mlp", "mlp+aug", "mlp+tangent", "hu", "cnn", "cnn+aug")
CONDITIONS = ("clean", "shift 1", "shift 2", "rotate 10°", "rotate 20°")
PAD = 2


@dataclass
class InvarianceResult:
    """Test accuracies: ``accuracy[model][condition]``, with the trained models and the
    settings used."""

    accuracy: dict
    models: dict = field(repr=False)
    epochs: int = 0
    train_size: int = 0
    augmented_epochs: int = 0

    def table(self) -> str:
        """A Markdown table: one row per model, one column per test condition."""
        head = "| model | " + " | ".join(CONDITIONS) + " |"
        rule = "|---|" + "---:|" * len(CONDITIONS)
        rows = [f"| {name} | " + " | ".join(f"{100 * acc[c]:.1f}%" for c in CONDITIONS) + " |"
                for name, acc in self.accuracy.items()]
        return "\n".join([head, rule, *rows])

    def drop(self, model: str, condition: str) -> float:
        """How much accuracy ``model`` loses from clean to ``condition`` (a fraction)."""
        return self.accuracy[model]["clean"] - self.accuracy[model][condition]


def padded_digits(seed: int = 0) -> tuple:
    """``(X_train, y_train), (X_test, y_test)``: digits in [0, 1] as (N, 1, 12, 12)."""
    (X, y), (Xt, yt) = load_digits_split(seed=seed, shape="images", scale="unit")
    pad = ((0, 0), (0, 0), (PAD, PAD), (PAD, PAD))
    return (np.pad(X, pad), y), (np.pad(Xt, pad), yt)


def cnn(rng=0) -> nn.Sequential:
    """The small CNN for 12×12 digits: (conv 3×3 → ReLU → max-pool 2) with 8 then 16 maps,
    then Linear(16·3·3, 10) and softmax."""
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(16 * 3 * 3, 10, rng=rng), nn.Softmax())


def _mlp(rng) -> nn.Sequential:
    return nn.Sequential(nn.Flatten(), nn.MLP("144-256-10", hidden="relu", output="softmax",
                                              rng=rng))


class _HuFeatures:
    """Images → standardised log-Hu moments (the Standardizer fitted on the training set)."""

    def __init__(self, X_train):
        self.scaler = Standardizer().fit(features.hu_moments(X_train, log=True))

    def __call__(self, images):
        return self.scaler.transform(features.hu_moments(images, log=True))


def _test_copies(X) -> dict:
    """The test set under each condition: a list of transformed copies to average over."""
    moves = ((1, 0), (-1, 0), (0, 1), (0, -1))
    return {"clean": [X],
            "shift 1": [augment.shift(X, r, c) for r, c in moves],
            "shift 2": [augment.shift(X, 2 * r, 2 * c) for r, c in moves],
            "rotate 10°": [augment.rotate(X, 10), augment.rotate(X, -10)],
            "rotate 20°": [augment.rotate(X, 20), augment.rotate(X, -20)]}


def run(models=MODELS, epochs: int = 30, train_size: int | None = None, seed: int = 0,
        tangent_weight: float = 3.0, augmented_epochs: int | None = None) -> InvarianceResult:
    """Train the chosen ``models`` (names from :data:`MODELS`) and test them under every
    condition in :data:`CONDITIONS`.

    Args:
        epochs: Adam epochs for each model (minibatches of 32), the learning rate falling
            from 0.005 to 0 along a half cosine over the epochs.
        train_size: use only the first patterns of the training set (``None``: all 1,437).
        seed: the seed of every initialisation, shuffle and augmentation.
        tangent_weight: λ of the tangent-propagation model.
        augmented_epochs: epochs for the ``+aug`` models (default: ``epochs``). They see a
            new pattern at every presentation, so they need more epochs to converge.
    """
    models = [check.choice(m, MODELS, "model", "invariance.run") for m in models]
    epochs = check.positive_int(epochs, "epochs", "invariance.run")
    augmented_epochs = epochs if augmented_epochs is None else check.positive_int(
        augmented_epochs, "augmented_epochs", "invariance.run")
    (X, y), (Xt, yt) = padded_digits()
    if train_size is not None:
        train_size = check.positive_int(train_size, "train_size", "invariance.run", len(X))
        X, y = X[:train_size], y[:train_size]
    T = np.eye(10)[y]
    jitter = augment.Compose(augment.Shift(2.0, integer=True), augment.Rotate(10.0))
    hu = _HuFeatures(X) if "hu" in models else None
    copies = _test_copies(Xt)
    table, trained = {}, {}
    for name in models:
        rng = np.random.default_rng(seed)
        net = cnn(rng) if name.startswith("cnn") else _mlp(rng)
        inputs = X
        options = {}
        if name == "hu":
            net = nn.MLP("7-32-10", hidden="tanh", output="softmax", rng=rng)
            inputs = hu(X)
        count = epochs
        if name.endswith("+aug"):
            options["augment"], count = jitter, augmented_epochs
        if name == "mlp+tangent":
            options["regularizer"] = TangentProp(("shift_x", "shift_y", "rotate"),
                                                 weight=tangent_weight)
        options["callbacks"] = [_cosine(0.005, count)]
        fit(net, inputs, T, loss="cross_entropy", optimizer="adam", lr=0.005, epochs=count,
            batch_size=32, seed=seed, progress=False, **options)
        prepare = hu if name == "hu" else (lambda images: images)
        table[name] = {condition: float(np.mean([accuracy(net, prepare(c), yt) for c in cs]))
                       for condition, cs in copies.items()}
        trained[name] = net
    return InvarianceResult(table, trained, epochs, len(X), augmented_epochs)


def _cosine(lr: float, epochs: int) -> LearningRateScheduler:
    """lr · ½(1 + cos(π (e − 1)/epochs)) at epoch e = 1 … epochs: from lr down towards 0."""
    return LearningRateScheduler(lambda e, _: lr * 0.5 * (1 + np.cos(np.pi * (e - 1) / epochs)))

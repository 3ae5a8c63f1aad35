"""fit(): train a network in one call — batch, on-line or minibatch gradient descent (§2.4) or a
batch method (CG, quasi-Newton, SCG) — with validation, regularisation and early stopping (§4.4).
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from . import _validate as check
from . import losses as _losses
from ._state import no_grad
from .callbacks import Callback, ProgressBar
from .compile import compile as compile_step
from .nn.module import Module
from .nn.utils import clip_grad_norm_, clip_grad_value_, grad_norm
from .optim.minimize import METHODS, minimize
from .optim.optimizer import SGD, Adam, AdamW, Optimizer
from .tensor import Tensor

FIRST_ORDER = {"sgd": (SGD, 0.01), "adam": (Adam, 0.001), "adamw": (AdamW, 0.001)}
OPTIMIZER_NAMES = sorted(set(FIRST_ORDER) | set(METHODS))


class DivergenceError(FloatingPointError):
    """Training produced a NaN or infinite error; the model keeps the last finite weights."""


@dataclass
class History:
    """What :func:`fit` recorded, one entry per epoch (an iteration for batch methods).

    ``error`` and ``val_error`` are the data error per pattern, E/N, on the training and the
    validation set (the notes' E summed over patterns, divided by their number, so the two
    curves are comparable); ``penalty`` is the regulariser's Ω(w); ``grad_norm`` the norm of
    the last step's gradient of the training objective; ``lr`` the learning rate; ``time`` the
    seconds since training began.
    """

    error: list = field(default_factory=list)
    val_error: list = field(default_factory=list)
    penalty: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    time: list = field(default_factory=list)
    stopped_epoch: int | None = None
    restored_epoch: int | None = None
    compiled: str | None = None  # how gradient descent ran its steps (fit(compile=...))

    @property
    def epochs(self) -> int:
        return len(self.error)

    @property
    def best_epoch(self) -> int | None:
        """The epoch (from 1) of lowest validation error (training error without validation)."""
        curve = self.val_error if any(np.isfinite(self.val_error)) else self.error
        if not curve:
            return None
        return int(np.nanargmin(np.asarray(curve, dtype=float))) + 1

    def append(self, logs: dict) -> None:
        for key in ("error", "val_error", "penalty", "grad_norm", "lr", "time"):
            getattr(self, key).append(logs[key])

    def as_dict(self) -> dict:
        return {key: list(getattr(self, key)) for key in
                ("error", "val_error", "penalty", "grad_norm", "lr", "time")}

    def plot(self, path=None, title: str | None = None):
        """Learning curves with the best (early-stopping) epoch marked; saved when ``path``."""
        from .plot import plot_history

        return plot_history(self, path=path, title=title)


class Trainer:
    """The state that callbacks see: the model, optimiser, history and the ``stop`` flag."""

    def __init__(self, model, optimizer, history, epochs, has_validation):
        self.model = model
        self.optimizer = optimizer
        self.history = history
        self.epochs = epochs
        self.has_validation = has_validation
        self.stop = False


# ---- checking the arguments ----------------------------------------------------------------
def _model_dtype(model: Module, owner: str = "fit") -> np.dtype:
    params = model.parameters()
    if not params:
        raise ValueError(f"{owner}: the model {type(model).__name__} has no parameters")
    return params[0].dtype


def _outputs(y, model: Module, owner: str = "fit") -> Tensor:
    """The model's output, which must be one Tensor (a recurrent layer returns a pair)."""
    if type(y) is Tensor or isinstance(y, Tensor):
        return y
    hint = (" (a recurrent layer returns (states, last state): wrap it with an output layer, "
            "nn.RecurrentNetwork(layer, output))" if isinstance(y, tuple) else "")
    raise TypeError(f"{owner}: the model {type(model).__name__} must return one Tensor, got "
                    f"{type(y).__name__}{hint}")


def _as_inputs(X, name: str, dtype, owner: str = "fit") -> np.ndarray:
    data = X.data if isinstance(X, Tensor) else X
    try:
        array = np.asarray(data)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{owner}: {name} must be a numeric array: {err}") from err
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: {name} must be numeric, got dtype {array.dtype}")
    if array.ndim == 0:
        raise ValueError(f"{owner}: {name} must have one row per pattern, got a scalar")
    array = array.astype(dtype, copy=False)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{owner}: {name} contains NaN or infinite values")
    return array


def _as_targets(T, name: str, dtype, loss, owner: str = "fit") -> np.ndarray:
    data = T.data if isinstance(T, Tensor) else T
    array = np.asarray(data)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: {name} must be numeric, got dtype {array.dtype}")
    if array.dtype.kind == "f" or loss is not _losses.cross_entropy:
        array = array.astype(dtype, copy=False)
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise ValueError(f"{owner}: {name} contains NaN or infinite values")
    return array


def _resolve_loss(loss):
    return _losses.get(loss, owner="fit")


def _resolve_optimizer(optimizer, model: Module, lr):
    """An Optimizer instance, or the name of a batch method (returned as a string)."""
    if isinstance(optimizer, Optimizer):
        if lr is not None:
            raise ValueError("fit: lr is for optimizer names; set it on the optimizer instance")
        return optimizer
    name = check.choice(optimizer, OPTIMIZER_NAMES, "optimizer", "fit",
                        alternative="an Optimizer instance")
    if name in FIRST_ORDER:
        cls, default_lr = FIRST_ORDER[name]
        return cls(model.parameters(), lr=default_lr if lr is None else lr)
    if lr is not None:
        raise ValueError(f"fit: the batch method {optimizer!r} takes no learning rate")
    return METHODS[name]


def _split(X, T, validation_split, validation_data, seed, dtype, loss):
    """Hold out a validation set: a seeded random fraction, or the given (X_val, T_val)."""
    if validation_split is not None and validation_data is not None:
        raise ValueError("fit: give validation_split or validation_data, not both")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("fit: validation_data must be a pair (X_val, T_val)")
        Xv = _as_inputs(validation_data[0], "validation_data X", dtype)
        Tv = _as_targets(validation_data[1], "validation_data T", dtype, loss)
        if len(Xv) != len(Tv):
            raise ValueError(f"fit: validation_data has {len(Xv)} inputs but {len(Tv)} targets")
        return X, T, Xv, Tv
    if validation_split is None:
        return X, T, None, None
    train, val = _validation_rows(len(X), validation_split, seed)
    return X[train], T[train], X[val], T[val]


def _validation_rows(n: int, validation_split, seed) -> tuple:
    """``(training rows, validation rows)``: a seeded random fraction held out."""
    check.fraction(validation_split, "validation_split", "fit")
    n_val = int(round(validation_split * n))
    if n_val < 1 or n_val >= n:
        raise ValueError(f"fit: validation_split={validation_split} leaves {n_val} of "
                         f"{n} patterns for validation; both sets need at least one")
    order = np.random.default_rng(seed).permutation(n)
    return order[n_val:], order[:n_val]


def _check_weights(sample_weight, n: int, dtype):
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=dtype)
    if w.shape != (n,):
        raise ValueError(f"fit: sample_weight must have one value per pattern, shape ({n},), "
                         f"got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("fit: sample_weight must be finite and ≥ 0")
    return w


def _batch_size(batch_size, n: int) -> int:
    if batch_size is None:
        return n
    return check.positive_int(batch_size, "batch_size", "fit", maximum=n,
                              alternative="None for the full batch")


def _callbacks(callbacks, progress) -> list:
    callbacks = [callbacks] if isinstance(callbacks, Callback) else list(callbacks or ())
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"fit: callbacks must be Callback instances, got {cb!r}")
    if progress is None:
        progress = sys.stderr.isatty()
    if progress:
        callbacks.append(ProgressBar())
    return callbacks


# ---- evaluation ------------------------------------------------------------------------------
@contextlib.contextmanager
def _modes(model: Module, training: bool):
    """Every module in training (``fit``) or evaluation mode; each one's own mode comes back
    after, as Keras does with ``training=True/False``."""
    modes = [(m, m.training) for m in model.modules()]
    model.train(training)
    try:
        yield
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)


@contextlib.contextmanager
def _inference(model: Module):
    """No graph, and every module in evaluation mode (``Dropout`` passes its input through),
    as Keras does in ``predict``/``evaluate``; each module's own mode comes back after."""
    with _modes(model, False), no_grad():
        yield


def predict(model: Module, X, batch_size: int | None = None, *,
            owner: str = "predict") -> np.ndarray:
    """The model's outputs y for inputs X, without recording a graph. Shape ``(N, K)``.
    ``owner`` names the caller in error messages (``accuracy`` passes its own name)."""
    dtype = _model_dtype(model, owner)
    X = _as_inputs(X, "X", dtype, owner)
    step = max(len(X), 1) if batch_size is None else _batch_size(batch_size, max(len(X), 1))
    with _inference(model):  # no patterns: the model's (0, K) output
        return np.concatenate([_outputs(model(X[s:s + step]), model, owner).data
                               for s in range(0, max(len(X), 1), step)])


def evaluate(model: Module, X, T, loss="sum_of_squares") -> float:
    """The data error E per pattern, E/N, of the model on (X, T)."""
    loss_fn = _resolve_loss(loss)
    dtype = _model_dtype(model, "evaluate")
    X = _as_inputs(X, "X", dtype, "evaluate")
    T = _as_targets(T, "T", dtype, loss_fn, "evaluate")
    _refuse_no_patterns(X, "evaluate", "the error per pattern E/N")
    return _error_per_pattern(model, X, T, loss_fn, "evaluate")


def _refuse_no_patterns(X, owner: str, what: str) -> None:
    """A mean over no patterns is undefined: say so rather than return NaN (``predict`` on
    N = 0 patterns gives its empty (0, K) outputs, as PyTorch)."""
    if len(X) == 0:
        raise ValueError(f"{owner}: X holds no patterns (N = 0), so {what} is undefined")


def accuracy(model: Module, X, labels, mask=None) -> float:
    """The fraction of patterns classified correctly — of tokens, for a many-to-many model.

    With several outputs the class is the largest output (softmax, §1.1.1); with one output
    the class is 1 where y > 0.5 (a sigmoid's probability, §2.1.2). ``labels``: integer
    classes ``(N,)``, or 0/1 targets ``(N, 1)`` for one output. A model with outputs
    ``(N, T, K)`` (one per step) is scored per token against labels ``(N, T)``, as ``fit``
    and ``evaluate`` accept them; ``mask`` ``(N, T)`` (False at padded steps) leaves the
    padded steps out, and their labels unread (a padding label such as −100 is fine).

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> net = dg.nn.Linear(2, 2, rng=0); net.weight.data[...] = np.eye(2)
        >>> dg.accuracy(net, np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]), [0, 1, 0])
        0.6666666666666666
    """
    Y = predict(model, X, owner="accuracy")
    classes = max(Y.shape[-1], 2)
    if Y.ndim == 3:
        real = None if mask is None else \
            _losses.step_mask(mask, Tensor._wrap(Y), "accuracy") != 0
        labels = _class_labels(labels, Y.shape[:2], classes, real)
        labels, Y = (labels.ravel(), Y.reshape(-1, Y.shape[-1])) if real is None else \
            (labels[real], Y[real])
    elif mask is not None:
        raise ValueError(f"accuracy: mask (N, T) applies to a model with one output per step "
                         f"(N, T, K); this model's outputs have shape {Y.shape}")
    else:
        labels = _class_labels(labels, Y.shape[:1], classes)
    if len(Y) == 0:
        raise ValueError("accuracy: there is nothing to score (no patterns, or every step "
                         "masked), so the fraction correct is undefined")
    predicted = (Y[:, 0] > 0.5).astype(int) if Y.shape[1] == 1 else np.argmax(Y, axis=1)
    return float(np.mean(predicted == labels))


def _class_labels(labels, shape: tuple, classes: int, real=None) -> np.ndarray:
    """Integer classes of ``shape`` ((N,) or (N, T)) in 0 … classes − 1 (a trailing axis of
    1 is accepted), or a clear error: strings, fractions, ±1 or 1-based labels would
    otherwise score silently 0. Entries where ``real`` is False are not checked."""
    labels = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if labels.ndim == len(shape) + 1 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != shape:
        what = "pattern" if len(shape) == 1 else "step (N, T)"
        raise ValueError(f"accuracy: labels must hold one class per {what}, shape {shape}, "
                         f"got {labels.shape}")
    if labels.dtype.kind not in "biuf":
        raise TypeError(f"accuracy: labels must be integer classes 0 … {classes - 1}, got "
                        f"dtype {labels.dtype}")
    scored = labels if real is None else labels[real]
    if scored.dtype.kind == "f" and not np.all(np.isfinite(scored) & (scored == np.round(scored))):
        raise ValueError("accuracy: labels must be whole numbers (class indices)")
    bad = scored[(scored < 0) | (scored >= classes)]
    if bad.size:
        padding = "; padding at some steps? pass mask= (False there)" \
            if len(shape) == 2 and real is None and bad[0] < 0 else ""
        raise ValueError(f"accuracy: label {bad[0]:g} is out of range for {classes} classes "
                         f"(expected 0 … {classes - 1}){padding}")
    return labels


def _error_per_pattern(model, X, T, loss_fn, owner: str = "fit") -> float:
    if X is None:
        return float("nan")
    with _inference(model):
        return float(loss_fn(_outputs(model(X), model, owner), T).item()) / len(X)


# ---- training --------------------------------------------------------------------------------
def fit(model: Module, X, T, loss="sum_of_squares", optimizer="sgd", epochs: int = 100,
        batch_size: int | None = None, *, lr: float | None = None, shuffle: bool = True,
        seed: int | None = 0, validation_split: float | None = None, validation_data=None,
        regularizer=None, callbacks=(), clip_grad_norm: float | None = None,
        clip_grad_value: float | None = None, progress: bool | None = None,
        sample_weight=None, tol: float | None = None, augment=None, compile: bool = True,
        verbose: bool = False) -> History:
    """Train ``model`` on (X, T) and return the :class:`History`.

    Args:
        loss: ``"sum_of_squares"``, ``"binary_cross_entropy"``, ``"cross_entropy"`` or a
            callable ``loss(y, t)`` summing over patterns.
        optimizer: an Optimizer instance, or a name: ``"sgd"``, ``"adam"`` (with ``lr``) or the
            batch methods ``"cg"``, ``"bfgs"``, ``"lbfgs"``, ``"newton-cg"``, ``"trust-ncg"``,
            ``"scg"`` (then ``epochs`` counts iterations).
        epochs: passes over the training set (iterations for batch methods).
        batch_size: ``None`` = batch gradient descent (eq. 2.20), ``1`` = on-line (eq. 2.22),
            ``k`` = minibatches of k patterns.
        shuffle, seed: reshuffle the patterns every epoch, reproducibly.
        validation_split: a fraction in (0, 1) held out at random (by ``seed``), or
        validation_data: a pair (X_val, T_val).
        regularizer: e.g. ``WeightDecay(λ)`` or ``ConsistentGaussianPrior([α1, α2])``. The
            objective is Ẽ = E + Ω(w); a minibatch of B of N patterns carries (B/N) Ω.
        callbacks: e.g. ``[EarlyStopping(patience=10)]``.
        clip_grad_norm, clip_grad_value: clip each step's gradient (eq. 9.21).
        progress: a tqdm bar; by default only when stderr is a terminal.
        sample_weight: s_n ≥ 0 per pattern: the data error is Σ_n s_n E_n (the loss must
            accept ``sample_weight``); validation errors are unweighted.
        tol: for the batch methods, the gradient tolerance at which they stop (scipy's tol).
        augment: a callable ``augment(X_batch, rng) -> X_batch`` (e.g. from
            ``deltagrad.data.augment``) applied to every minibatch as it is presented, with a
            generator seeded by ``seed``: a new transformation each presentation (§4.5.2).
            Gradient descent only; validation data is never augmented.
        compile: run each gradient-descent step as a compiled step (:func:`deltagrad.compile`:
            recorded on the first step of each batch shape, then replayed as straight-line
            NumPy, equal to eager to the bit); where the model, loss or regulariser cannot be
            replayed (TangentProp differentiates twice) the steps run eagerly, silently.
            ``compile=False`` always runs eagerly.
        verbose: print how the steps ran (replayed, or eager and why); ``History.compiled``
            keeps the same line.

    Raises:
        DivergenceError: the error became NaN or infinite (naming the epoch and batch); the
            model keeps the last finite weights.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> X = np.linspace(-1, 1, 20)[:, None]; T = 2 * X + 1
        >>> net = dg.nn.MLP("1-1", rng=0)
        >>> h = dg.fit(net, X, T, optimizer="sgd", lr=0.02, epochs=200, progress=False)
        >>> round(h.error[-1], 8) < 1e-8
        True
    """
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be a deltagrad Module, got {type(model).__name__}")
    check.positive_int(epochs, "epochs", "fit")
    check.seed(seed, "seed", "fit")
    loss_fn = _resolve_loss(loss)
    dtype = _model_dtype(model)
    X = _as_inputs(X, "X", dtype)
    T = _as_targets(T, "T", dtype, loss_fn)
    if len(X) != len(T):
        raise ValueError(f"fit: X has {len(X)} patterns but T has {len(T)}")
    if len(X) == 0:
        raise ValueError("fit: X and T hold no patterns (an empty data set)")
    weights = _check_weights(sample_weight, len(X), dtype)
    if weights is not None and validation_split is not None and validation_data is None:
        weights = weights[_validation_rows(len(X), validation_split, seed)[0]]
    X, T, Xv, Tv = _split(X, T, validation_split, validation_data, seed, dtype, loss_fn)
    opt = _resolve_optimizer(optimizer, model, lr)
    if isinstance(opt, str) and batch_size not in (None, len(X)):
        raise ValueError(f"fit: the batch method {optimizer!r} uses the full batch; "
                         f"batch_size must be None, got {batch_size!r}")
    batch = _batch_size(batch_size, len(X))
    if augment is not None and (isinstance(opt, str) or not callable(augment)):
        raise ValueError("fit: augment must be a callable augment(X_batch, rng) and needs "
                         "gradient descent (sgd, adam); for a batch method enlarge the data "
                         "once, e.g. with deltagrad.data.augment.expand")
    for name, value in (("clip_grad_norm", clip_grad_norm), ("clip_grad_value", clip_grad_value)):
        if value is not None:
            check.positive(value, name, "fit")
    compile, verbose = (check.boolean(value, name, "fit") for name, value in
                        (("compile", compile), ("verbose", verbose)))
    history = History()
    trainer = Trainer(model, opt, history, int(epochs), Xv is not None)
    run = _Run(model, X, T, Xv, Tv, loss_fn, regularizer, trainer,
               _callbacks(callbacks, progress), clip_grad_norm, clip_grad_value, weights)
    run.augment = augment
    run.compile = compile
    for cb in run.callbacks:
        cb.on_train_begin(trainer)
    try:
        with _modes(model, True):  # Dropout drops, BatchNorm uses and updates batch statistics
            if isinstance(opt, str):
                run.batch_method(opt, int(epochs), tol)
            else:
                run.gradient_descent(opt, int(epochs), batch, shuffle, seed)
    finally:
        for cb in run.callbacks:
            cb.on_train_end(trainer)
        if verbose and history.compiled:
            print(f"fit: {history.compiled}")
    return history


class _Run:
    """One call of fit(): the loops, the epoch logs and the divergence guard."""

    def __init__(self, model, X, T, Xv, Tv, loss_fn, regularizer, trainer, callbacks,
                 clip_norm, clip_value, weights=None):
        self.model, self.X, self.T, self.Xv, self.Tv = model, X, T, Xv, Tv
        self.weights = weights
        self.loss_fn, self.regularizer, self.trainer = loss_fn, regularizer, trainer
        self.callbacks, self.clip_norm, self.clip_value = callbacks, clip_norm, clip_value
        self.params = model.parameters()
        self.augment = None
        self.compile = False
        self.start = time.perf_counter()
        self.batch_hooks = [cb for cb in callbacks
                            if type(cb).on_batch_begin is not Callback.on_batch_begin
                            or type(cb).on_batch_end is not Callback.on_batch_end]

    # -- shared pieces
    def _error(self, y, t, weights):
        if weights is None:
            return self.loss_fn(y, t)
        return self.loss_fn(y, t, sample_weight=weights)

    def _augmented(self, xb: np.ndarray, rng) -> np.ndarray:
        out = self.augment(xb, rng)
        out = np.asarray(out.data if isinstance(out, Tensor) else out)
        if out.shape != xb.shape or not np.all(np.isfinite(out)):
            raise ValueError(f"fit: augment must return finite inputs of the batch's shape "
                             f"{xb.shape}, got shape {out.shape}")
        return out.astype(xb.dtype, copy=False)

    def _penalty(self) -> float:
        return 0.0 if self.regularizer is None else self.regularizer.penalty(self.model, self.X)

    def _end_epoch(self, epoch: int, error: float, gnorm: float, lr) -> bool:
        logs = {"error": error, "val_error": _error_per_pattern(self.model, self.Xv, self.Tv,
                                                                  self.loss_fn),
                "penalty": self._penalty(), "grad_norm": gnorm, "lr": lr,
                "time": time.perf_counter() - self.start}
        self.trainer.history.append(logs)
        for cb in self.callbacks:
            cb.on_epoch_end(self.trainer, epoch, logs)
        return self.trainer.stop

    def _diverged(self, epoch: int, batch: int, error: float, snapshot: dict):
        weights_finite = all(np.all(np.isfinite(p.data)) for p in self.params)
        if not weights_finite:
            self.model.load_state_dict(snapshot)
        where = f"epoch {epoch}" + (f", batch {batch}" if batch is not None else "")
        return DivergenceError(
            f"fit: training diverged at {where}: the error is {error}. The model keeps the last "
            "finite weights; lower the learning rate or pass clip_grad_norm")

    # -- gradient descent: batch, on-line, minibatch
    def _step(self):
        """Forward, error and backward of one minibatch: ``step(xb, tb, sb, fraction)`` →
        (E, y), compiled (``deltagrad.compile``) unless ``fit(compile=False)``."""
        model, reg = self.model, self.regularizer

        def step(xb, tb, sb, fraction):
            y = _outputs(model(xb), model)
            E = self._error(y, tb, sb)
            (E if reg is None else E + reg.batch_term(model, xb, fraction)).backward()
            return E, y
        return compile_step(step, warn=False, check_finite=False) if self.compile else step

    def _check_labels(self, y) -> None:
        """Replayed steps run no argument checks: class labels are range-checked once, for the
        whole training and validation set, against the network's K outputs."""
        if self.loss_fn is _losses.cross_entropy and y.ndim >= 2:
            for T in (self.T, self.Tv):
                if T is not None and T.dtype.kind in "iu" and T.ndim == y.ndim - 1:
                    _losses.check_label_range(T, y.shape[-1])

    def _compiled_summary(self, step) -> None:
        if not self.compile:
            self.trainer.history.compiled = "eager (compile=False)"
        elif step.fallback_reason is not None:
            self.trainer.history.compiled = f"eager: the step cannot be compiled: " \
                                            f"{step.fallback_reason}"
        else:
            total = step.replays + step.eager_calls
            self.trainer.history.compiled = (f"compiled: {step.replays} of {total} steps "
                                             "replayed")

    def gradient_descent(self, opt: Optimizer, epochs: int, batch: int, shuffle: bool, seed):
        X, T, N, S = self.X, self.T, len(self.X), self.weights
        rng = np.random.default_rng(seed)
        step, labels_checked = self._step(), False
        try:
            for epoch in range(1, epochs + 1):
                for cb in self.callbacks:
                    cb.on_epoch_begin(self.trainer, epoch)
                snapshot = self.model.state_dict()
                if shuffle and batch < N:
                    order = rng.permutation(N)
                    Xe, Te = X[order], T[order]
                    Se = None if S is None else S[order]
                else:
                    Xe, Te, Se = X, T, S
                total, gnorm = 0.0, float("nan")
                n_batches = (N + batch - 1) // batch
                for b in range(n_batches):
                    for cb in self.batch_hooks:
                        cb.on_batch_begin(self.trainer, epoch, b + 1)
                    rows = slice(b * batch, (b + 1) * batch)
                    xb, tb = Xe[rows], Te[rows]
                    if self.augment is not None:
                        xb = self._augmented(xb, rng)
                    opt.zero_grad()
                    E, y = step(xb, tb, None if Se is None else Se[rows], len(xb) / N)
                    if not labels_checked:
                        self._check_labels(y)
                        labels_checked = True
                    error = E.item()
                    if not math.isfinite(error):
                        raise self._diverged(epoch, b + 1, error, snapshot)
                    if b == n_batches - 1 or self.clip_norm is not None:
                        gnorm = (clip_grad_norm_(self.params, self.clip_norm)
                                 if self.clip_norm is not None else grad_norm(self.params))
                    if self.clip_value is not None:
                        clip_grad_value_(self.params, self.clip_value)
                    opt.step()
                    total += error
                    for cb in self.batch_hooks:
                        cb.on_batch_end(self.trainer, epoch, b + 1, error)
                if self._end_epoch(epoch, total / N, gnorm, getattr(opt, "lr", None)):
                    break
        finally:
            self._compiled_summary(step)

    # -- batch methods on the flat weight vector
    def batch_method(self, method: str, epochs: int, tol: float | None = None):
        model, X, T, N = self.model, self.X, self.T, len(self.X)
        reg = self.regularizer

        def objective(m):
            E = self._error(_outputs(m(X), m), T, self.weights)
            return E if reg is None else E + reg.batch_term(m, X, 1.0)

        state = {"epoch": 0, "snapshot": model.state_dict()}

        def callback(m, result):
            state["epoch"] += 1
            if not np.isfinite(result.fun):
                raise self._diverged(state["epoch"], None, result.fun, state["snapshot"])
            penalty = self._penalty()
            state["snapshot"] = model.state_dict()
            if self._end_epoch(state["epoch"], (result.fun - penalty) / N,
                               float(np.linalg.norm(result.jac)), None):
                raise StopIteration

        result = minimize(model, objective, method=method, maxiter=epochs, tol=tol,
                          callback=callback)
        self.trainer.result = result

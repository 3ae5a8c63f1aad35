"""scikit-learn estimators: ``MLPClassifier`` and ``MLPRegressor`` on deltagrad's fit().

Parameter names follow scikit-learn's ``MLPClassifier`` where they mean the same thing; the
solver may also be a batch method (``"cg"``, ``"bfgs"``, ``"scg"``), and ``prior`` chooses
between weight decay and the consistent Gaussian prior of §4.3. The estimators minimise the
per-pattern error (1/N)[Σ_n s_n E_n + (α/2) Σ‖W‖²] (biases unpenalised, as scikit-learn).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import io, losses
from ._state import no_grad
from .callbacks import Callback, EarlyStopping
from .nn.container import MLP
from .optim.optimizer import SGD
from .regularizers import ConsistentGaussianPrior, WeightDecay
from .train import fit as _fit

SOLVERS = ("sgd", "adam", "lbfgs", "cg", "bfgs", "scg")
ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
PRIORS = ("weight_decay", "consistent")


class _Score(Callback):
    """Records the validation score (accuracy or R²) after every epoch."""

    def __init__(self, estimator, X_val, y_val):
        self.estimator, self.X_val, self.y_val, self.scores = estimator, X_val, y_val, []

    def on_epoch_end(self, trainer, epoch, logs):
        self.scores.append(self.estimator._score_network(trainer.model, self.X_val, self.y_val))


class _BaseMLP(BaseEstimator):
    def __init__(self, hidden_layer_sizes=(100,), activation="relu", solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate_init=0.001, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, verbose=False, prior="weight_decay"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.verbose = verbose
        self.prior = prior

    # ---- checks ------------------------------------------------------------------------
    def _check_params(self):
        hidden = self.hidden_layer_sizes
        hidden = [hidden] if isinstance(hidden, numbers.Integral) else list(hidden)
        if not all(isinstance(h, numbers.Integral) and h >= 1 for h in hidden):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got "
                             f"{self.hidden_layer_sizes!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got "
                             f"{self.activation!r}")
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}, got {self.solver!r}")
        if self.prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}, got {self.prior!r}")
        alphas = np.atleast_1d(np.asarray(self.alpha, dtype=float))
        if alphas.ndim != 1 or not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
            raise ValueError(f"alpha must be ≥ 0 (a number, or one per layer for the "
                             f"consistent prior), got {self.alpha!r}")
        if alphas.size > 1 and (self.prior != "consistent" or alphas.size != len(hidden) + 1):
            raise ValueError(f"alpha with {alphas.size} values needs prior='consistent' and one "
                             f"value per layer ({len(hidden) + 1})")
        for name in ("max_iter", "n_iter_no_change"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.momentum, numbers.Real) or not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        if not isinstance(self.tol, numbers.Real) or self.tol < 0:
            raise ValueError(f"tol must be ≥ 0, got {self.tol!r}")
        if not isinstance(self.learning_rate_init, numbers.Real) or self.learning_rate_init <= 0:
            raise ValueError(f"learning_rate_init must be > 0, got {self.learning_rate_init!r}")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got "
                             f"{self.validation_fraction!r}")
        if self.batch_size != "auto" and (not isinstance(self.batch_size, numbers.Integral)
                                          or self.batch_size < 1):
            raise ValueError(f"batch_size must be 'auto' or a positive integer, got "
                             f"{self.batch_size!r}")
        return hidden, alphas

    # ---- training ------------------------------------------------------------------------
    def _fit(self, X, targets, sample_weight, output, loss):
        hidden, alphas = self._check_params()
        seed = np.random.RandomState(self.random_state).randint(2 ** 31 - 1) \
            if not isinstance(self.random_state, numbers.Integral) else int(self.random_state)
        sizes = [X.shape[1], *hidden, targets.shape[1] if targets.ndim == 2 else
                 self._n_outputs]
        network = MLP(sizes, hidden=ACTIVATIONS[self.activation], output=output, rng=seed)
        _initialise_as_scikit_learn(network, self.activation, seed)
        X_train, t_train, w_train = X, targets, sample_weight
        callbacks, validation = [], None
        if self.early_stopping:
            stratify = targets if self._stratify() else None
            arrays = [X, targets] + ([] if sample_weight is None else [sample_weight])
            split = train_test_split(*arrays, test_size=self.validation_fraction,
                                     random_state=seed, stratify=stratify)
            X_train, X_val, t_train, t_val = split[:4]
            w_train = split[4] if sample_weight is not None else None
            validation = (X_val, t_val)
            scorer = _Score(self, X_val, self._validation_truth(t_val))
            callbacks = [scorer, EarlyStopping(patience=self.n_iter_no_change,
                                               min_delta=self.tol)]
        elif self.solver in ("sgd", "adam"):  # stop when the training error stalls
            callbacks = [EarlyStopping(monitor="error", patience=self.n_iter_no_change,
                                       min_delta=self.tol, restore_best=False)]
        n_train = len(X_train)
        if self.prior == "consistent" or alphas.size > 1:
            values = alphas if alphas.size > 1 else np.repeat(alphas, len(sizes) - 1)
            regularizer = ConsistentGaussianPrior(list(values))
        else:
            regularizer = WeightDecay(float(alphas[0]), include_biases=False)
        batch = None
        if self.solver in ("sgd", "adam"):
            batch = min(200, n_train) if self.batch_size == "auto" else \
                min(int(self.batch_size), n_train)
        optimizer, lr = self.solver, None
        if self.solver == "sgd":  # our E sums over the batch: scale η to the batch mean
            optimizer = SGD(network.parameters(), lr=self.learning_rate_init / batch,
                            momentum=self.momentum,
                            nesterov=bool(self.nesterovs_momentum and self.momentum > 0))
        elif self.solver == "adam":
            lr = self.learning_rate_init
        history = _fit(network, X_train, t_train, loss=loss, optimizer=optimizer,
                       epochs=self.max_iter, batch_size=batch, lr=lr, shuffle=self.shuffle,
                       seed=seed, validation_data=validation, regularizer=regularizer,
                       callbacks=callbacks, progress=bool(self.verbose), sample_weight=w_train,
                       tol=None if self.solver in ("sgd", "adam") else self.tol)
        self.network_ = network
        self.n_iter_ = history.epochs
        self.loss_curve_ = [e + p / n_train for e, p in zip(history.error, history.penalty)]
        self.loss_ = self.loss_curve_[-1]
        self.history_ = history
        scores = callbacks[0].scores if self.early_stopping else None
        self.validation_scores_ = scores
        self.best_validation_score_ = max(scores) if scores else None
        if self.n_iter_ == self.max_iter and not self.early_stopping:
            warnings.warn(f"{type(self).__name__}: stopped after max_iter={self.max_iter} "
                          "iterations", ConvergenceWarning, stacklevel=3)
        return self

    def _outputs(self, X) -> np.ndarray:
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        with no_grad():
            return self.network_(X).data

    # ---- saving ----------------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the fitted estimator (network, parameters, classes) with ``deltagrad.save``."""
        check_is_fitted(self, "network_")
        extra = {"estimator": type(self).__name__, "params": _jsonable(self.get_params()),
                 "n_features_in": int(self.n_features_in_), "n_iter": int(self.n_iter_),
                 "loss_curve": [float(v) for v in self.loss_curve_]}
        extra.update(self._extra_state())
        io.save(self.network_, path, extra=extra)

    @classmethod
    def load(cls, path):
        """An estimator saved by :meth:`save` (checked: no pickle, no code from the file)."""
        network, extra = io.read(path)
        if not isinstance(extra, dict) or extra.get("estimator") != cls.__name__:
            found = extra.get("estimator") if isinstance(extra, dict) else None
            raise ValueError(f"{cls.__name__}.load: {path!r} holds {found!r}, not a "
                             f"{cls.__name__}")
        params = extra.get("params", {})
        if not isinstance(params, dict):
            raise ValueError(f"{cls.__name__}.load: malformed parameters in {path!r}")
        estimator = cls(**{k: (tuple(v) if k == "hidden_layer_sizes" and isinstance(v, list)
                               else v) for k, v in params.items()
                           if k in cls().get_params()})
        estimator.network_ = network
        estimator.n_features_in_ = int(extra["n_features_in"])
        estimator.n_iter_ = int(extra["n_iter"])
        estimator.loss_curve_ = list(extra["loss_curve"])
        estimator._restore_state(extra)
        return estimator


def _initialise_as_scikit_learn(network: MLP, activation: str, seed: int) -> None:
    """scikit-learn's initialisation (Glorot and Bengio's scheme), so that hyperparameters
    tuned for its estimators transfer: every weight and bias of a layer uniform in ±√(f/(fan_in
    + fan_out)), f = 2 for logistic hidden units and 6 otherwise, drawn layer by layer (weights
    as (fan_in, fan_out), then biases) from ``RandomState(seed)``, as scikit-learn draws them
    for an integer ``random_state``."""
    state = np.random.RandomState(seed)
    factor = 2.0 if activation == "logistic" else 6.0
    for layer in network.linears:
        fan_out, fan_in = layer.weight.shape
        bound = np.sqrt(factor / (fan_in + fan_out))
        layer.weight.data = state.uniform(-bound, bound, (fan_in, fan_out)).T
        layer.bias.data = state.uniform(-bound, bound, fan_out)


def _jsonable(params: dict) -> dict:
    out = {}
    for key, value in params.items():
        if isinstance(value, (tuple, list, np.ndarray)):
            value = [v.item() if isinstance(v, np.generic) else v for v in value]
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multilayer perceptron classifier: softmax output and cross-entropy (eq. 9.2) for
    several classes, one sigmoid output and binary cross-entropy (eq. 2.10) for two.

    Example:
        >>> from sklearn.datasets import load_iris
        >>> from deltagrad.sklearn import MLPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=300,
        ...                     random_state=0).fit(X, y)
        >>> clf.score(X, y) > 0.95
        True
    """

    def fit(self, X, y, sample_weight=None):
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=False)
        check_classification_targets(y)
        if type_of_target(y) not in ("binary", "multiclass"):
            raise ValueError(f"MLPClassifier: y must hold one class label per sample, got a "
                             f"{type_of_target(y)} target")
        sample_weight = None if sample_weight is None else _check_sample_weight(sample_weight, X)
        self._encoder = LabelEncoder().fit(y)
        self.classes_ = self._encoder.classes_
        codes = self._encoder.transform(y)
        if len(self.classes_) < 2:
            raise ValueError(f"MLPClassifier needs samples of at least 2 classes; y has 1 class "
                             f"({self.classes_.tolist()[0]!r})")
        if len(self.classes_) == 2:
            self._n_outputs = 1
            return self._fit(X, codes.astype(np.float64)[:, None], sample_weight, "sigmoid",
                             "binary_cross_entropy")
        self._n_outputs = len(self.classes_)
        return self._fit(X, losses.one_hot(codes, len(self.classes_)), sample_weight,
                         "softmax", "cross_entropy")

    def _stratify(self) -> bool:
        return True

    def _validation_truth(self, t_val):
        return t_val[:, 0].astype(int) if t_val.shape[1] == 1 else t_val.argmax(axis=1)

    def _score_network(self, network, X, codes) -> float:
        with no_grad():
            out = network(X).data
        predicted = (out[:, 0] > 0.5).astype(int) if out.shape[1] == 1 else out.argmax(axis=1)
        return float(accuracy_score(codes, predicted))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (N, n_classes), columns in the order of ``classes_``."""
        out = self._outputs(X)
        if out.shape[1] == 1:
            return np.hstack([1 - out, out])
        return out

    def predict(self, X) -> np.ndarray:
        probabilities = self.predict_proba(X)
        return self.classes_[np.argmax(probabilities, axis=1)]

    def _extra_state(self) -> dict:
        return {"classes": self.classes_.tolist()}

    def _restore_state(self, extra: dict) -> None:
        self.classes_ = np.asarray(extra["classes"])
        self._encoder = LabelEncoder().fit(self.classes_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multilayer perceptron regressor: identity output and the sum-of-squares error
    (eq. 2.3, 2.5), one or several targets.

    Example:
        >>> import numpy as np
        >>> from deltagrad.sklearn import MLPRegressor
        >>> X = np.linspace(-1, 1, 50)[:, None]; y = np.sin(3 * X[:, 0])
        >>> reg = MLPRegressor((20,), activation="tanh", solver="lbfgs", max_iter=500,
        ...                    random_state=0).fit(X, y)
        >>> reg.score(X, y) > 0.99
        True
    """

    def fit(self, X, y, sample_weight=None):
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        sample_weight = None if sample_weight is None else _check_sample_weight(sample_weight, X)
        self._y_1d = y.ndim == 1
        targets = y[:, None] if y.ndim == 1 else y
        self._n_outputs = targets.shape[1]
        return self._fit(X, targets.astype(np.float64), sample_weight, "identity",
                         "sum_of_squares")

    def _stratify(self) -> bool:
        return False

    def _validation_truth(self, t_val):
        return t_val

    def _score_network(self, network, X, t) -> float:
        with no_grad():
            return float(r2_score(t, network(X).data))

    def predict(self, X) -> np.ndarray:
        out = self._outputs(X)
        return out[:, 0] if self._y_1d else out

    def _extra_state(self) -> dict:
        return {"y_1d": bool(self._y_1d)}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _restore_state(self, extra: dict) -> None:
        self._y_1d = bool(extra["y_1d"])

"""Error functions of chapter 2, summed over patterns as the notes' E (``reduction="sum"``).

The model's forward returns y (after the output activation). When y came from the output
activation of a canonical pair (identity + sum of squares, sigmoid + binary cross-entropy,
softmax + cross-entropy), the loss evaluates the stable fused form on the pre-activation ``a``
the activation recorded, so ``∂E/∂a_k = y_k − t_k`` exactly (eq. 3.9) and nothing overflows.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from . import _validate as check
from . import ops
from .tensor import Tensor

REDUCTIONS = ("sum", "mean")
_PROBABILITY_FLOOR = 1e-12


class NonCanonicalPairWarning(UserWarning):
    """The output activation is not the canonical partner of the error function."""


def _as_tensor(value, name: str, like: Tensor | None = None) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if like is not None and type(value) is np.ndarray and value.dtype == like.dtype:
        return Tensor._wrap(value)
    try:
        dtype = like.dtype if like is not None else None
        return Tensor(value, dtype=dtype)
    except TypeError as err:
        raise TypeError(f"{name}: {err}") from err


def _check_pair(y, t, loss: str, finite_checked_later: bool = False) -> tuple:
    """y and t as Tensors of one shape, t finite (unless the caller checks that afterwards
    through its result, see ``_refuse_infinite_targets``)."""
    y = _as_tensor(y, f"{loss}: y")
    t = _as_tensor(t, f"{loss}: t", like=y)
    if y.shape != t.shape:
        raise ValueError(f"{loss}: y has shape {y.shape} but t has shape {t.shape}")
    if not finite_checked_later:
        _refuse_infinite_targets(t, loss)
    return y, t


def _refuse_infinite_targets(t: Tensor, loss: str) -> None:
    if not np.isfinite(t.data).all():
        raise ValueError(f"{loss}: the target t contains NaN or infinite values")


def _reduce(E: Tensor, y: Tensor, reduction: str, loss: str) -> Tensor:
    if reduction == "sum":
        return E
    if reduction == "mean":
        n = y.shape[0] if y.ndim > 1 else 1
        return E / n
    raise ValueError(f"{loss}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _pattern_weights(sample_weight, y: Tensor, loss: str, mask=None):
    """Per-pattern weights s_n as a (N, 1) array (E = Σ_n s_n E_n), times the step mask
    m_nt as (N, T, 1) for sequence outputs (E = Σ_n Σ_t m_nt E_nt, eq. 9.3), or None."""
    m = step_mask(mask, y, loss)
    if sample_weight is None:
        return None if m is None else _weights(None, m, y.ndim, y.dtype)
    s = np.asarray(sample_weight.data if isinstance(sample_weight, Tensor) else sample_weight,
                   dtype=y.dtype)
    if y.ndim not in (2, 3) or s.shape != (y.shape[0],):
        raise ValueError(f"{loss}: sample_weight must have one value per pattern, shape "
                         f"({y.shape[0] if y.ndim in (2, 3) else 'N'},), for y of shape "
                         f"(N, K) or (N, T, K); got {s.shape} for y of shape {y.shape}")
    if not np.all(np.isfinite(s)) or np.any(s < 0):
        raise ValueError(f"{loss}: sample_weight must be finite and ≥ 0")
    return _weights(s, m, y.ndim, y.dtype)


@ops.base.recorded  # made from the step's arguments: a compiled step makes it at every replay
def _weights(s, m, ndim: int, dtype):
    """The checked weights s (N,) and mask m (N, T) as one array that broadcasts against the
    per-step errors: (N, 1), (N, T, 1), or their product."""
    steps = None if m is None else m.astype(dtype)[..., None]
    if s is None:
        return steps
    s = s.reshape((-1,) + (1,) * (ndim - 1))
    return s if steps is None else s * steps


def _padding_cleared(y, t, mask, loss: str):
    """``t`` with whatever stands at the masked (padded) steps read as 0: those steps weigh
    nothing in E, so their targets are neither used nor checked (PyTorch users pad labels
    with −100, targets with anything). Labels ``(N, T)`` or targets ``(N, T, K)``; the mask
    is checked here, any other shape of ``t`` is left to the loss's own check."""
    if mask is None:
        return t
    y = _as_tensor(y, f"{loss}: y")
    m = step_mask(mask, y, loss)
    data = t.data if isinstance(t, Tensor) else np.asarray(t)
    if data.dtype.kind not in "biuf" or data.shape not in (y.shape[:-1], y.shape):
        return t
    real = _real_steps(m, data.shape == y.shape)
    if isinstance(t, Tensor) and t.requires_grad:  # soft targets keep their gradient
        return ops.where(real, t, 0.0)
    return _cleared(data, real)


# made from the step's arguments (mask, targets): a compiled step makes them at every replay
@ops.base.recorded
def _real_steps(m, per_output: bool):
    """True at the real steps: (N, T), or (N, T, 1) against targets (N, T, K)."""
    real = m != 0
    return real[..., None] if per_output else real


@ops.base.recorded
def _cleared(data, real):
    """``data`` with 0 at the padded steps, whatever stood there (−100, NaN)."""
    with np.errstate(invalid="ignore"):
        return np.where(real, data, 0).astype(data.dtype, copy=False)


def step_mask(mask, y: Tensor, loss: str):
    """The (N, T) mask of a padded batch of sequences, checked, or None."""
    if mask is None:
        return None
    m = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if y.ndim != 3 or m.shape != y.shape[:2]:
        raise ValueError(f"{loss}: mask must have shape (N, T) for sequence outputs y of "
                         f"shape (N, T, K); got mask {m.shape} for y of shape {y.shape}")
    if m.dtype != np.bool_ and (m.dtype.kind not in "biuf" or np.any((m != 0) & (m != 1))):
        raise ValueError(f"{loss}: mask must hold booleans or 0/1 (True at real steps)")
    return m


# the canonical pairs (eq. 3.9): with this output activation, ∂E/∂a_k = y_k − t_k
CANONICAL_OUTPUT = {"sum_of_squares": "identity", "binary_cross_entropy": "sigmoid",
                    "cross_entropy": "softmax"}
# the outputs that lie strictly inside (0, 1): the only ones whose logarithms the two
# cross-entropies (eq. 2.10, 9.2) are defined on; identity, relu, tanh and step outputs reach
# 0, negative values or values above 1
PROBABILITY_OUTPUTS = ("sigmoid", "softmax")


class UndefinedPairError(ValueError):
    """The error function is undefined for the outputs the network's output activation
    can produce (cross-entropy on an unbounded output, a softmax over one unit, ...)."""


def pairing(output: str, loss: str, n_outputs: int | None = None) -> tuple:
    """``("accept" | "warn" | "refuse", reason)`` for an output activation and an error function.

    Built on :data:`CANONICAL_OUTPUT`: the canonical pair is accepted; a pair whose error is
    defined on every output the activation produces is valid but warned about (∂E/∂a is not
    y − t); a pair where the error is undefined is refused, with the fix. ``n_outputs`` (K)
    refuses a softmax over one unit (always 1) and cross-entropy over one class.

    Example:
        >>> from deltagrad.losses import pairing
        >>> pairing("identity", "cross_entropy")[0], pairing("tanh", "sum_of_squares")[0]
        ('refuse', 'warn')
    """
    loss = check.choice(loss, CANONICAL_OUTPUT, "loss", "pairing", case_sensitive=True)
    if not isinstance(output, str):
        raise TypeError(f"pairing: output must be an activation's name such as 'softmax', got "
                        f"{output!r}")
    if n_outputs is not None:
        check.positive_int(n_outputs, "n_outputs", "pairing")
    return _verdict(output, loss, n_outputs)


def _verdict(output: str, loss: str, n_outputs: int | None) -> tuple:
    """:func:`pairing` for checked arguments (the losses call it on every evaluation)."""
    canonical = CANONICAL_OUTPUT[loss]
    if output == "softmax" and n_outputs == 1:
        return "refuse", ("a softmax over a single output unit is always 1, whatever the input; "
                          "for two classes use one sigmoid output with binary_cross_entropy")
    if loss == "cross_entropy" and n_outputs == 1:
        return "refuse", ("cross_entropy over one output is a single class: every pattern is "
                          "certain; for two classes use one sigmoid output with "
                          "binary_cross_entropy, or K ≥ 2 softmax outputs")
    if output == canonical:
        return "accept", f"{output} and {loss} are a canonical pair (eq. 3.9)"
    if loss in ("binary_cross_entropy", "cross_entropy") and output not in PROBABILITY_OUTPUTS:
        return "refuse", (f"{loss} takes the logarithm of probabilities in (0, 1), but "
                          f"{_article(output)} output produces values outside (0, 1); end the "
                          f"network in a {canonical} output (e.g. MLP(..., output={canonical!r}))")
    return "warn", (f"{loss} after {_article(output)} output is not a canonical pair: ∂E/∂a is "
                    f"not y − t (the canonical output is {canonical})")


def _article(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _check_output(y: Tensor, loss: str) -> None:
    """Refuse or warn about the pair of the output activation that made ``y`` and ``loss``;
    outputs of no recorded activation that a cross-entropy cannot take are refused too."""
    n_outputs = y.shape[-1] if y.ndim >= 2 else None
    if y._activation is None:
        if loss != "sum_of_squares" and np.any((y.data < 0) | (y.data > 1)):
            raise UndefinedPairError(
                f"{loss}: y must hold probabilities in [0, 1], got values from "
                f"{float(y.data.min()):g} to {float(y.data.max()):g}; end the network in a "
                f"{CANONICAL_OUTPUT[loss]} output")
        return
    if y._activation[0] == CANONICAL_OUTPUT[loss] and n_outputs != 1:
        return  # the canonical pair: nothing to say
    verdict, reason = _verdict(y._activation[0], loss, n_outputs)
    if verdict == "refuse":
        raise UndefinedPairError(f"{loss}: cannot follow {_article(y._activation[0])} output: "
                                 f"{reason}")
    if verdict == "warn":
        warnings.warn(reason, NonCanonicalPairWarning, stacklevel=3)


def sum_of_squares(y, t, reduction: str = "sum", sample_weight=None, mask=None) -> Tensor:
    """E = ½ Σ_n ‖y_n − t_n‖² (eq. 2.3, 2.5); with ``sample_weight`` ½ Σ_n s_n ‖y_n − t_n‖².

    Shapes: ``y`` and ``t`` ``(N, K)`` (or any equal shapes). ``reduction="mean"`` divides by N.
    For sequences ``(N, T, K)`` the sum runs over every step too (eq. 9.1, 9.3); ``mask``
    ``(N, T)`` (False at padded steps) drops the padded steps from E and its gradient.

    Example:
        >>> import deltagrad as dg
        >>> float(dg.losses.sum_of_squares(dg.tensor([1.0, 3.0]), [0.0, 1.0]).item())
        2.5
    """
    t = _padding_cleared(y, t, mask, "sum_of_squares")
    y, t = _check_pair(y, t, "sum_of_squares", finite_checked_later=True)
    _check_output(y, "sum_of_squares")
    s = _pattern_weights(sample_weight, y, "sum_of_squares", mask)
    E = ops.sum_of_squares_error(*((y, t) if s is None else (y, t, s)))
    if not math.isfinite(E.data):  # E is finite unless some t_n or y_n is not: scan t only then
        _refuse_infinite_targets(t, "sum_of_squares")
    return _reduce(E, y, reduction, "sum_of_squares")


def binary_cross_entropy(y, t, reduction: str = "sum", sample_weight=None, mask=None) -> Tensor:
    """E = −Σ_n Σ_k {t_nk ln y_nk + (1 − t_nk) ln(1 − y_nk)} for K independent sigmoid outputs
    (eq. 2.9–2.10).

    After a sigmoid output the fused stable form on its pre-activation is used; bare
    probabilities from elsewhere are clipped to [1e-12, 1 − 1e-12].

    Shapes: ``y`` and ``t`` ``(N, K)``; t in [0, 1]. Sequences ``(N, T, K)`` with an optional
    ``mask`` ``(N, T)`` as in :func:`sum_of_squares`.
    """
    t = _padding_cleared(y, t, mask, "binary_cross_entropy")
    y, t = _check_pair(y, t, "binary_cross_entropy")
    if np.any((t.data < 0) | (t.data > 1)):
        raise ValueError("binary_cross_entropy: targets t must lie in [0, 1]")
    s = _pattern_weights(sample_weight, y, "binary_cross_entropy", mask)
    _check_output(y, "binary_cross_entropy")
    if y._activation is not None and y._activation[0] == "sigmoid":
        args = (y._activation[1], t, y) if s is None else (y._activation[1], t, y, s)
        E = ops.sigmoid_binary_cross_entropy(*args)
    else:
        p = ops.where(y.data < _PROBABILITY_FLOOR, _PROBABILITY_FLOOR,
                      ops.where(y.data > 1 - _PROBABILITY_FLOOR, 1 - _PROBABILITY_FLOOR, y))
        terms = -(t * ops.log(p) + (1 - t) * ops.log(1 - p))
        E = (terms if s is None else terms * s).sum()
    return _reduce(E, y, reduction, "binary_cross_entropy")


def one_hot(labels, num_classes: int, dtype=np.float64) -> np.ndarray:
    """Integer class labels ``(N,)`` → 1-of-K targets ``(N, K)``, checking the range."""
    labels = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)):
            raise ValueError("labels contain NaN or infinite values")
        if np.any(labels != np.round(labels)):
            raise ValueError("labels must be whole numbers (class indices)")
        labels = labels.astype(np.int64)
    elif labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
    check_label_range(labels, num_classes)
    return _one_hot_rows(labels, num_classes, np.dtype(dtype))


@ops.base.recorded  # made from the step's arguments: a compiled step makes it at every replay
def _one_hot_rows(labels: np.ndarray, num_classes: int, dtype) -> np.ndarray:
    """Checked integer labels → their rows of the K×K identity."""
    return ops.loss.identity_rows(num_classes, dtype)[labels]


def check_label_range(labels: np.ndarray, num_classes: int) -> None:
    """Refuse any integer label outside 0 … K−1, naming the first, in one pass: read as
    unsigned 64-bit integers (in any byte order), negative labels are huge."""
    unsigned = labels.astype(np.uint64) if labels.dtype.kind == "i" else labels
    if labels.size and unsigned.max() >= num_classes:
        bad = labels.ravel()[np.argmax(unsigned.ravel() >= num_classes)]
        padding = (f"; a padding label? cross_entropy takes ignore_index={bad}, or mask= "
                   f"(False at padded steps) for sequences") if bad < 0 else ""
        raise ValueError(f"label {bad} is out of range for {num_classes} classes "
                         f"(expected 0 … {num_classes - 1}){padding}")


def cross_entropy(y, t, reduction: str = "sum", sample_weight=None,
                  label_smoothing: float = 0.0, ignore_index: int | None = None,
                  mask=None) -> Tensor:
    """E = −Σ_n Σ_k t_nk ln y_nk for softmax outputs (eq. 9.2).

    Args:
        y: class probabilities ``(N, K)`` from a softmax output (fused, stable) or bare
            probabilities (clipped to ≥ 1e-12).
        t: integer labels ``(N,)`` in 0 … K−1, or one-hot / probability targets ``(N, K)``
            (soft targets get a gradient when they require one); for sequences y
            ``(N, T, K)``, labels ``(N, T)`` or targets ``(N, T, K)``.
        reduction: ``"sum"`` (the notes' E), ``"mean"`` (divided by the number of labels that
            count, as PyTorch: N, or N·T for sequences, less the ignored and the masked) or
            ``"none"`` (the vector of E_n, shape ``(N,)``).
        label_smoothing: ε in [0, 1]: the targets become (1 − ε) t + ε/K (as PyTorch).
        ignore_index: a label whose patterns contribute nothing (labels only, as PyTorch).
        mask: ``(N, T)`` booleans for a padded batch of sequences, False at padded steps:
            E = Σ_n Σ_t m_nt E_nt (eq. 9.2–9.3). The labels at padded steps are not read
            (a padding label such as −100 is fine there).

    With ``y = softmax(a)``, every option matches ``torch.nn.functional.cross_entropy(a, t)``
    with the same arguments (``reduction="sum"`` for the notes' E).

    Example:
        >>> import deltagrad as dg
        >>> y = dg.nn.softmax(dg.tensor([[0.0, 0.0], [0.0, 0.0]]))
        >>> dg.losses.cross_entropy(y, [0, -100], ignore_index=-100, reduction="none")
        tensor([0.69314718, 0.        ])
    """
    y = _as_tensor(y, "cross_entropy: y")
    t = _padding_cleared(y, t, mask, "cross_entropy")
    t_data = t.data if isinstance(t, Tensor) else np.asarray(t)
    if t_data.dtype.kind not in "biuf":
        raise TypeError(f"cross_entropy: t must be numeric, got dtype {t_data.dtype}")
    check.choice(reduction, REDUCTIONS + ("none",), "reduction", "cross_entropy",
                 case_sensitive=True)
    _check_output(y, "cross_entropy")
    labels = y.ndim >= 1 and t_data.shape == y.shape[:-1]
    if labels and mask is None and _plain_labels(y, t_data, reduction, sample_weight,
                                                 label_smoothing, ignore_index):
        return _reduce(_labels_cross_entropy(y, t_data), y, reduction, "cross_entropy")
    keep = None
    if labels:  # class labels, range-checked by one_hot
        t_data, keep = _drop_ignored(t_data, ignore_index, y.dtype)
        t = Tensor._wrap(one_hot(t_data, y.shape[-1], dtype=y.dtype))
    else:
        if ignore_index is not None:
            raise ValueError("cross_entropy: ignore_index applies to class labels t of shape "
                             f"{y.shape[:-1]}, not to targets of shape {t_data.shape}")
        y, t = _check_pair(y, t, "cross_entropy")
    t = _smoothed(t, label_smoothing, y.shape[-1] if y.ndim else 1)
    s = _pattern_weights(sample_weight, y, "cross_entropy", mask)
    if keep is not None:
        s = keep if s is None else s * keep
    per_pattern = reduction == "none"
    if y._activation is not None and y._activation[0] == "softmax":
        args = (y._activation[1], t, y) if s is None else (y._activation[1], t, y, s)
        E = ops.softmax_cross_entropy(*args, normalised=labels, per_pattern=per_pattern)
    else:
        p = ops.where(y.data < _PROBABILITY_FLOOR, _PROBABILITY_FLOOR, y)
        terms = -(t * ops.log(p))
        E = (terms if s is None else terms * s).sum(axis=-1 if per_pattern else None)
    if reduction == "mean" and labels and (keep is not None or mask is not None or y.ndim > 2):
        m = None if mask is None else step_mask(mask, y, "cross_entropy")
        return E / Tensor._wrap(_labels_counted(t_data.shape, keep, m, y.dtype))
    return E if per_pattern else _reduce(E, y, reduction, "cross_entropy")


def _plain_labels(y: Tensor, labels: np.ndarray, reduction, sample_weight, label_smoothing,
                  ignore_index) -> bool:
    """Whether the labels-only fused primitive applies: a softmax output (N, K), integer
    labels (N,), and no option that reweights patterns or classes."""
    return (y.ndim == 2 and labels.dtype.kind in "iu" and reduction != "none"
            and sample_weight is None and label_smoothing == 0 and ignore_index is None
            and y._activation is not None and y._activation[0] == "softmax")


def _labels_cross_entropy(y: Tensor, labels: np.ndarray) -> Tensor:
    """E by ``ops.softmax_cross_entropy_labels``, the labels' range checked first."""
    check_label_range(labels, y.shape[1])
    return ops.softmax_cross_entropy_labels(y._activation[1], Tensor._wrap(labels), y)


def _drop_ignored(labels: np.ndarray, ignore_index, dtype):
    """Labels with ``ignore_index`` replaced by 0, and the (…, 1) weights that drop them."""
    if ignore_index is None:
        return labels, None
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"cross_entropy: ignore_index must be an int, got {ignore_index!r}")
    return _ignored_cleared(labels, ignore_index), _kept(labels, ignore_index, dtype)


# made from the step's labels: a compiled step makes them at every replay (ops.base.recorded)
@ops.base.recorded
def _ignored_cleared(labels, ignore_index):
    return np.where(labels == ignore_index, 0, labels)


@ops.base.recorded
def _kept(labels, ignore_index, dtype):
    return (labels != ignore_index).astype(dtype)[..., None]


@ops.base.recorded
def _labels_counted(shape: tuple, keep, m, dtype) -> np.ndarray:
    """How many labels a mean divides by, as PyTorch's: every label of ``shape`` ((N,) or
    (N, T)) less the ignored (``keep``) and the padded (``m``) ones; 1 when none counts (E is
    then 0; PyTorch gives NaN)."""
    counted = np.ones(shape, dtype=bool)
    if keep is not None:
        counted &= keep[..., 0] != 0
    if m is not None:
        counted &= m != 0
    return np.array(max(int(counted.sum()), 1), dtype=dtype)


def _smoothed(t: Tensor, label_smoothing, num_classes: int) -> Tensor:
    """(1 − ε) t + ε / K: label smoothing as PyTorch's."""
    check.real(label_smoothing, "label_smoothing", "cross_entropy", low=0.0, high=1.0,
               high_inclusive=True)
    if label_smoothing == 0:
        return t
    return t * (1 - label_smoothing) + label_smoothing / num_classes


def noise_precision(y, t) -> float:
    """β_ML of the Gaussian noise: 1/β = (1/NK) Σ_n ‖y_n − t_n‖² (eq. 2.6)."""
    y, t = _check_pair(y, t, "noise_precision")
    residual = y.data - t.data
    mean_square = float(np.mean(residual * residual))
    if mean_square == 0:
        return float("inf")
    return 1.0 / mean_square


LOSSES = {"sum_of_squares": sum_of_squares, "binary_cross_entropy": binary_cross_entropy,
          "cross_entropy": cross_entropy}


def get(name_or_fn, owner: str = "losses.get"):
    """A loss function by name (``"sum_of_squares"``, ...) or the callable itself."""
    if callable(name_or_fn):
        return name_or_fn
    return LOSSES[check.choice(name_or_fn, LOSSES, "loss", owner, case_sensitive=True,
                               alternative="a callable loss(y, t)")]

"""Training and measuring transformers on token sequences (chapter 11): a token-labelling
training loop, token accuracy, the digit tasks (reversal, sorting) and a character-level
language model reported in bits per character and seconds per epoch."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import _state, losses, nn, optim
from .. import _validate as check
from ..data import digit_tasks
from ..nn.embedding import token_ids
from ..tensor import Tensor

__all__ = ["TaskResult", "TextResult", "char_transformer", "digit_task", "token_accuracy",
           "token_loss", "train_tokens"]


def token_loss(model: nn.Module, X: np.ndarray, T: np.ndarray, ignore_index=None) -> Tensor:
    """Mean cross-entropy (eq. 9.2) of the model's logits ``(N, L, V)`` against the targets
    ``T`` ``(N, L)``, leaving out every target equal to ``ignore_index``."""
    logits = model(X)
    vocab = logits.shape[-1]
    labels = token_ids(T, vocab, "token_loss: T").reshape(-1)
    flat = logits.reshape(-1, vocab)
    if ignore_index is not None:
        keep = labels != ignore_index
        flat, labels = flat[np.flatnonzero(keep)], labels[keep]
    return losses.cross_entropy(nn.softmax(flat), labels, reduction="mean")


def _check_pair(X, T, owner: str) -> tuple:
    X, T = np.asarray(X), np.asarray(T)
    if X.ndim != 2 or X.shape != T.shape:
        raise ValueError(f"{owner}: X and T must be token ids of one shape (N, L), got shapes "
                         f"{X.shape} and {T.shape}")
    return X, T


def train_tokens(model: nn.Module, X, T, epochs: int = 10, batch_size: int = 64,
                 lr: float = 3e-3, ignore_index=None, clip: float = 1.0, seed=0) -> list:
    """Adam on :func:`token_loss` in shuffled minibatches, the gradient clipped to norm
    ``clip`` (eq. 9.21). Returns the mean training loss of each epoch."""
    owner = "train_tokens"
    X, T = _check_pair(X, T, owner)
    epochs = check.positive_int(epochs, "epochs", owner)
    batch_size = check.positive_int(batch_size, "batch_size", owner)
    clip = check.positive(clip, "clip", owner)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(check.seed(seed, "seed", owner))
    model.train()
    history = []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            rows = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = token_loss(model, X[rows], T[rows], ignore_index)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            total += loss.item() * len(rows)
        history.append(total / len(X))
    model.eval()
    return history


def token_accuracy(model: nn.Module, X, T, ignore_index=None, batch_size: int = 512) -> float:
    """The fraction of target tokens (those ≠ ``ignore_index``) whose arg-max logit is right."""
    X, T = _check_pair(X, T, "token_accuracy")
    right = counted = 0
    with _state.no_grad():
        for start in range(0, len(X), batch_size):
            predicted = model(X[start:start + batch_size]).data.argmax(axis=-1)
            target = T[start:start + batch_size]
            keep = np.ones(target.shape, bool) if ignore_index is None else target != ignore_index
            right += int(np.sum((predicted == target) & keep))
            counted += int(np.sum(keep))
    return right / counted


@dataclass
class TaskResult:
    """A model trained on a digit task and its held-out token accuracy."""

    task: str
    model: nn.TransformerLM
    accuracy: float
    history: list = field(default_factory=list)
    seconds: float = 0.0
    X_test: np.ndarray | None = None
    T_test: np.ndarray | None = None


def digit_task(task: str = "reversal", n_train: int = 2000, n_test: int = 500,
               epochs: int = 12, embed_dim: int = 32, num_heads: int = 2, num_layers: int = 1,
               min_len: int = 10, max_len: int = 20, lr: float = 3e-3, seed: int = 0
               ) -> TaskResult:
    """Train a bidirectional transformer (``TransformerLM(causal=False)``) on a task of
    :mod:`deltagrad.data.digit_tasks` and measure its token accuracy on ``n_test`` held-out
    sequences (drawn with another seed)."""
    owner = "digit_task"
    task = check.choice(task, tuple(digit_tasks.TASKS), "task", owner)
    seed = check.seed(seed, "seed", owner)
    X, T = digit_tasks.make(task, n_train, min_len, max_len, seed=seed)
    X_test, T_test = digit_tasks.make(task, n_test, min_len, max_len, seed=seed + 1)
    model = nn.TransformerLM(digit_tasks.VOCAB_SIZE, embed_dim, num_heads, num_layers,
                             max_len=max_len, dim_feedforward=2 * embed_dim, causal=False,
                             rng=seed)
    start = time.perf_counter()
    history = train_tokens(model, X, T, epochs=epochs, lr=lr, ignore_index=digit_tasks.PAD,
                           seed=seed)
    seconds = time.perf_counter() - start
    accuracy = token_accuracy(model, X_test, T_test, ignore_index=digit_tasks.PAD)
    return TaskResult(task, model, accuracy, history, seconds, X_test, T_test)


@dataclass
class TextResult:
    """A character-level model's held-out bits per character and training speed."""

    model: nn.Module
    bits_per_char: float
    seconds_per_epoch: float
    parameters: int
    history: list = field(default_factory=list)


def _windows(ids: np.ndarray, context: int, stride: int) -> tuple:
    """Inputs ``ids[s : s + context]`` and targets shifted by one, every ``stride`` chars."""
    starts = np.arange(0, len(ids) - context - 1 + 1, stride)
    index = starts[:, None] + np.arange(context)
    return ids[index], ids[index + 1]


def char_transformer(train_ids, heldout_ids, vocab_size: int | None = None, context: int = 64,
                     embed_dim: int = 32, num_heads: int = 2, num_layers: int = 2,
                     epochs: int = 3, batch_size: int = 32, lr: float = 3e-3, seed: int = 0
                     ) -> TextResult:
    """A causal ``TransformerLM`` trained on integer-encoded text (any vocabulary), reporting
    the held-out cross-entropy in bits per character, −(1/N) Σ log₂ p(c_t | c_<t), and the
    seconds one training epoch takes.

    Args:
        train_ids, heldout_ids: 1-D integer arrays of character ids (each ≥ context + 1 long).
        vocab_size: the number of distinct ids (default: 1 + the largest id seen).
        context: the window length (training windows overlap by half; every held-out
            character after the first is predicted once, from up to ``context`` before it).
    """
    owner = "char_transformer"
    train_ids = np.asarray(train_ids)
    heldout_ids = np.asarray(heldout_ids)
    context = check.positive_int(context, "context", owner)
    for name, ids in (("train_ids", train_ids), ("heldout_ids", heldout_ids)):
        if ids.ndim != 1 or len(ids) < context + 1:
            raise ValueError(f"{owner}: {name} must be a 1-D array of at least context + 1 = "
                             f"{context + 1} ids, got shape {ids.shape}")
    if vocab_size is None:
        vocab_size = int(max(train_ids.max(), heldout_ids.max())) + 1
    vocab_size = check.positive_int(vocab_size, "vocab_size", owner)
    token_ids(train_ids, vocab_size, owner)
    token_ids(heldout_ids, vocab_size, owner)
    model = nn.TransformerLM(vocab_size, embed_dim, num_heads, num_layers, max_len=context,
                             rng=seed)
    X, T = _windows(train_ids, context, max(1, context // 2))
    start = time.perf_counter()
    history = train_tokens(model, X, T, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    seconds = (time.perf_counter() - start) / epochs
    X_held, T_held = _windows(heldout_ids, context, context)
    with _state.no_grad():
        nats = float(token_loss(model, X_held, T_held).item())
    return TextResult(model, nats / np.log(2.0), seconds, model.num_parameters(), history)

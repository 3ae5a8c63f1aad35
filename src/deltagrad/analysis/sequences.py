"""Training and measuring transformers on token sequences (chapter 11): a token-labelling
training loop, token accuracy, the digit tasks (reversal, sorting) and character-level
language models (a transformer, and the LSTM of chapters 9–10 at a matching parameter count)
reported in bits per character and seconds per epoch."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import _state, losses, nn, optim
from .. import _validate as check
from ..data import digit_tasks
from ..data import text as char_text
from ..nn.embedding import token_ids
from ..tensor import Tensor

__all__ = ["TaskResult", "TextResult", "char_lstm", "char_transformer", "compare_char_models",
           "digit_task", "lstm_hidden_size_for", "token_accuracy", "token_loss", "train_tokens"]


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


def _training_windows(train_ids: np.ndarray, context: int) -> tuple:
    """One epoch's training windows: ``context`` long, overlapping by half."""
    return _windows(train_ids, context, max(1, context // 2))


def _check_text(train_ids, heldout_ids, vocab_size, context, owner: str) -> tuple:
    """``(train_ids, heldout_ids, vocab_size, context)`` checked: 1-D id arrays of at least
    context + 1 ids inside the vocabulary (default size: 1 + the largest id seen)."""
    for name, ids in (("train_ids", train_ids), ("heldout_ids", heldout_ids)):
        if isinstance(ids, str):
            raise TypeError(f"{owner}: {name} must be integer ids, got a string; encode it "
                            "first (data.text.CharVocabulary.from_text(text).encode(text))")
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
    return train_ids, heldout_ids, vocab_size, context


def char_transformer(train_ids, heldout_ids, vocab_size: int | None = None, context: int = 64,
                     embed_dim: int = 32, num_heads: int = 2, num_layers: int = 2,
                     epochs: int = 3, batch_size: int = 32, lr: float = 3e-3, seed: int = 0
                     ) -> TextResult:
    """A causal ``TransformerLM`` trained on integer-encoded text (any vocabulary), reporting
    the held-out cross-entropy in bits per character, −(1/N) Σ log₂ p(c_t | c_<t) (the mean
    of eq. 9.2's nats divided by ln 2), and the seconds one training epoch takes.

    Args:
        train_ids, heldout_ids: 1-D integer arrays of character ids (each ≥ context + 1 long).
        vocab_size: the number of distinct ids (default: 1 + the largest id seen).
        context: the window length. An epoch is one pass over the training windows (they
            overlap by half); the held-out text is cut into consecutive windows of
            ``context`` and every character after the first of the first
            ``context · ⌊(n − 1)/context⌋ + 1`` is predicted once, from up to ``context``
            before it.
    """
    owner = "char_transformer"
    train_ids, heldout_ids, vocab_size, context = _check_text(train_ids, heldout_ids,
                                                              vocab_size, context, owner)
    model = nn.TransformerLM(vocab_size, embed_dim, num_heads, num_layers, max_len=context,
                             rng=seed)
    X, T = _training_windows(train_ids, context)
    start = time.perf_counter()
    history = train_tokens(model, X, T, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    seconds = (time.perf_counter() - start) / epochs
    X_held, T_held = _windows(heldout_ids, context, context)
    with _state.no_grad():
        nats = float(token_loss(model, X_held, T_held).item())
    return TextResult(model, nats / np.log(2.0), seconds, model.num_parameters(), history)


def lstm_hidden_size_for(parameters: int, vocab_size: int, num_layers: int = 1) -> int:
    """The hidden size H whose ``data.text.char_model(vocab_size, H, num_layers)`` has the
    parameter count nearest ``parameters`` (the count grows with H: found by bisection over
    built models, so it is the model's own count, not a formula's)."""
    owner = "lstm_hidden_size_for"
    parameters = check.positive_int(parameters, "parameters", owner)
    vocab_size = check.positive_int(vocab_size, "vocab_size", owner)
    num_layers = check.positive_int(num_layers, "num_layers", owner)

    def count(hidden: int) -> int:
        return char_text.char_model(vocab_size, hidden, num_layers, rng=0).num_parameters()

    low, high = 1, 2
    while count(high) < parameters:
        low, high = high, 2 * high
    while high - low > 1:  # count(low) < parameters ≤ count(high), or low = 1
        middle = (low + high) // 2
        low, high = (middle, high) if count(middle) < parameters else (low, middle)
    return min((low, high), key=lambda hidden: abs(count(hidden) - parameters))


def char_lstm(train_ids, heldout_ids, vocab_size: int | None = None, hidden_size: int = 64,
              num_layers: int = 1, context: int = 64, epochs: int = 3, batch_size: int = 32,
              lr: float = 5e-3, seed: int = 0) -> TextResult:
    """The character-level LSTM of chapters 9–10 (``data.text.char_model``, trained by
    ``data.text.fit_char_model``: Adam, gradients clipped at norm 5) measured exactly as
    :func:`char_transformer` measures a transformer, on the same integer-encoded text.

    An epoch is as many updates of ``batch_size`` random windows of ``context`` characters
    as :func:`char_transformer`'s epoch has windows, so both predict the same number of
    training characters per epoch. Held out: the same consecutive windows of ``context``
    (the state restarts at zero in each, so each character is predicted from up to
    ``context`` before it, as in the transformer); bits per character = the mean
    cross-entropy in nats (eq. 9.2) over those same characters, divided by ln 2.
    """
    owner = "char_lstm"
    train_ids, heldout_ids, vocab_size, context = _check_text(train_ids, heldout_ids,
                                                              vocab_size, context, owner)
    epochs = check.positive_int(epochs, "epochs", owner)
    batch_size = check.positive_int(batch_size, "batch_size", owner)
    ids = char_text.CharVocabulary(range(vocab_size))  # the ids stand for themselves: one-hot
    model = char_text.char_model(vocab_size, check.positive_int(hidden_size, "hidden_size",
                                                                owner), num_layers, rng=seed)
    steps_per_epoch = -(-len(_training_windows(train_ids, context)[0]) // batch_size)
    start = time.perf_counter()
    history = char_text.fit_char_model(model, ids, train_ids, steps=epochs * steps_per_epoch,
                                       T=context, batch_size=batch_size, lr=lr, seed=seed)
    seconds = (time.perf_counter() - start) / epochs
    bits = char_text.bits_per_char(model, ids, heldout_ids, T=context)
    return TextResult(model, bits, seconds, model.num_parameters(), history)


def compare_char_models(train_ids, heldout_ids, vocab_size: int | None = None,
                        context: int = 64, embed_dim: int = 32, num_heads: int = 2,
                        num_layers: int = 2, epochs: int = 3, seed: int = 0) -> dict:
    """§11.1.1 measured: a causal transformer (:func:`char_transformer`) and a one-layer LSTM
    whose hidden size makes its parameter count nearest the transformer's
    (:func:`lstm_hidden_size_for`, :func:`char_lstm`), trained for the same epochs on the
    same ids and scored on the same held-out characters.

    Returns ``{"transformer": TextResult, "lstm": TextResult}``.
    """
    train_ids, heldout_ids, vocab_size, context = _check_text(
        train_ids, heldout_ids, vocab_size, context, "compare_char_models")
    transformer = char_transformer(train_ids, heldout_ids, vocab_size, context, embed_dim,
                                   num_heads, num_layers, epochs, seed=seed)
    hidden = lstm_hidden_size_for(transformer.parameters, vocab_size)
    lstm = char_lstm(train_ids, heldout_ids, vocab_size, hidden, context=context,
                     epochs=epochs, seed=seed)
    return {"transformer": transformer, "lstm": lstm}

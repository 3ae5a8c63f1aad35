"""Character-level text: a real English corpus that ships with Python, its vocabulary, windows
for training, the unigram baseline, and a character-level LSTM language model (train it,
measure held-out bits per character, sample text with a temperature).

The corpus is ``pydoc_data.topics``: the topics of the Python Language Reference that
``help()`` shows (≈ 465,000 characters of English prose with code examples), part of every
CPython installation, so nothing is downloaded.

Example:
    >>> import deltagrad as dg
    >>> text = dg.data.text.load_corpus()
    >>> vocab = dg.data.text.CharVocabulary.from_text(text)
    >>> vocab.decode(vocab.encode("assert"))
    'assert'
"""

from __future__ import annotations

import time

import numpy as np

from .. import _validate as check
from .. import losses, nn, optim
from .._state import no_grad
from ..nn.utils import clip_grad_norm_
from ..tensor import Tensor
from ._loads import note_load

CORPORA = ("python_reference",)


def load_corpus(name: str = "python_reference") -> str:
    """The whole corpus as one string: the topics of ``pydoc_data.topics`` in sorted order,
    separated by blank lines."""
    check.choice(name, CORPORA, "name", "load_corpus", case_sensitive=True)
    from pydoc_data.topics import topics

    note_load("English text of Python's own documentation (pydoc_data)", "python")

    return "\n\n".join(topics[key].strip("\n") for key in sorted(topics)) + "\n"


class CharVocabulary:
    """The characters of a text, each with an id 0 … V − 1 (sorted by code point).

    ``encode`` maps a string to ids (an unknown character is an error naming it), ``decode``
    maps ids back, ``one_hot`` turns ids (any shape) into one-hot vectors (…, V).
    """

    def __init__(self, characters):
        self.characters = list(characters)
        if not self.characters or len(set(self.characters)) != len(self.characters):
            raise ValueError("CharVocabulary: characters must be distinct and not empty")
        self._ids = {c: i for i, c in enumerate(self.characters)}

    @classmethod
    def from_text(cls, text: str) -> CharVocabulary:
        return cls(sorted(set(text)))

    @property
    def size(self) -> int:
        return len(self.characters)

    def encode(self, text: str) -> np.ndarray:
        try:
            return np.fromiter((self._ids[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as err:
            raise ValueError(f"CharVocabulary.encode: character {err.args[0]!r} is not in the "
                             f"vocabulary of {self.size}") from None

    def decode(self, ids) -> str:
        ids = np.asarray(ids)
        if ids.size and (ids.min() < 0 or ids.max() >= self.size):
            raise ValueError(f"CharVocabulary.decode: ids must lie in 0 … {self.size - 1}")
        return "".join(self.characters[i] for i in ids.ravel())

    def one_hot(self, ids, dtype=np.float64) -> np.ndarray:
        return np.eye(self.size, dtype=dtype)[np.asarray(ids)]


def split_corpus(text: str, test_fraction: float = 0.1) -> tuple:
    """``(vocabulary, train ids, test ids)``: the last ``test_fraction`` of the text is held
    out (a contiguous block, so no test window overlaps a training one)."""
    test_fraction = check.fraction(test_fraction, "test_fraction", "split_corpus")
    vocab = CharVocabulary.from_text(text)
    ids = vocab.encode(text)
    cut = int(round(len(ids) * (1 - test_fraction)))
    return vocab, ids[:cut], ids[cut:]


def windows(ids, T: int, starts) -> tuple:
    """Inputs ``ids[s : s+T]`` and next-character targets ``ids[s+1 : s+T+1]`` for each start
    s: two int arrays (n, T)."""
    ids = np.asarray(ids)
    starts = np.asarray(starts)
    offsets = starts[:, None] + np.arange(T)[None, :]
    return ids[offsets], ids[offsets + 1]


def unigram_bits_per_char(train_ids, test_ids, vocab_size: int) -> float:
    """The baseline: −(1/n) Σ log₂ p(c) on the test text, with p the training text's character
    frequencies (add-one smoothed so an unseen character has p > 0)."""
    counts = np.bincount(np.asarray(train_ids), minlength=vocab_size) + 1.0
    p = counts / counts.sum()
    return float(-np.mean(np.log2(p[np.asarray(test_ids)])))


def char_model(vocab_size: int, hidden_size: int = 128, num_layers: int = 1,
               rng=0) -> nn.RecurrentNetwork:
    """A character-level LSTM language model: one-hot characters (N, T, V) → LSTM →
    softmax over the next character at every step (eq. 8.8–8.9, 9.2)."""
    return nn.RecurrentNetwork(
        nn.LSTM(vocab_size, hidden_size, num_layers=num_layers, rng=rng),
        nn.Sequential(nn.Linear(hidden_size, vocab_size, rng=rng), nn.Softmax()))


def fit_char_model(model: nn.RecurrentNetwork, vocab: CharVocabulary, train_ids, steps: int,
                   T: int = 50, batch_size: int = 32, lr: float = 0.005, clip: float = 5.0,
                   seed: int = 0, time_budget: float | None = None) -> list:
    """Train on random windows of the training text with Adam, the per-step cross-entropy
    summed over the window and averaged over the batch (eq. 9.2–9.3), gradients clipped at
    ``clip`` (eq. 9.21). Stops after ``steps`` updates or ``time_budget`` seconds.

    Returns the training bits per character of every update.
    """
    steps = check.positive_int(steps, "steps", "fit_char_model")
    T = check.positive_int(T, "T", "fit_char_model")
    batch_size = check.positive_int(batch_size, "batch_size", "fit_char_model")
    train_ids = np.asarray(train_ids)
    if len(train_ids) <= T + 1:
        raise ValueError(f"fit_char_model: the training text ({len(train_ids)} characters) "
                         f"must be longer than a window of T + 1 = {T + 1}")
    rng = np.random.default_rng(check.seed(seed, "seed", "fit_char_model"))
    opt = optim.Adam(model.parameters(), lr=lr)
    start, curve = time.perf_counter(), []
    for _ in range(steps):
        x, t = windows(train_ids, T, rng.integers(0, len(train_ids) - T - 1, size=batch_size))
        model.zero_grad()
        E = losses.cross_entropy(model(vocab.one_hot(x, model.recurrent.dtype)), t) / len(x)
        E.backward()
        clip_grad_norm_(model.parameters(), clip)
        opt.step()
        curve.append(E.item() / (T * np.log(2)))
        if time_budget is not None and time.perf_counter() - start > time_budget:
            break
    return curve


def bits_per_char(model: nn.RecurrentNetwork, vocab: CharVocabulary, ids, T: int = 200) -> float:
    """Held-out bits per character: −(1/n) Σ log₂ p(next character), the text read in
    consecutive windows of T (the state restarts at 0 in each window)."""
    ids = np.asarray(ids)
    n = (len(ids) - 1) // T
    if n < 1:
        raise ValueError(f"bits_per_char: needs more than T + 1 = {T + 1} characters")
    x, t = windows(ids, T, np.arange(n) * T)
    with no_grad():
        E = losses.cross_entropy(model(vocab.one_hot(x, model.recurrent.dtype)), t).item()
    return E / (n * T * np.log(2))


def sample(model: nn.RecurrentNetwork, vocab: CharVocabulary, prime: str, length: int,
           temperature: float = 1.0, seed: int = 0) -> str:
    """Generate ``length`` characters after ``prime``: each drawn from softmax(ln p / τ) of the
    model's prediction, then fed back in (τ → 0 is greedy, τ = 1 the model's distribution)."""
    length = check.positive_int(length, "length", "sample")
    temperature = check.positive(temperature, "temperature", "sample")
    if not prime:
        raise ValueError("sample: prime must hold at least one character")
    rng = np.random.default_rng(check.seed(seed, "seed", "sample"))
    ids = list(vocab.encode(prime))
    lstm, head = model.recurrent, model.output
    state = None
    with no_grad():
        x = vocab.one_hot(np.array(ids)[None], lstm.dtype)
        for _ in range(length):
            H, state = lstm(Tensor(x), state)
            p = head(H[:, -1]).data[0]
            logits = np.log(np.maximum(p, 1e-300)) / temperature
            q = np.exp(logits - logits.max())
            ids.append(int(rng.choice(vocab.size, p=q / q.sum())))
            x = vocab.one_hot(np.array([[ids[-1]]]), lstm.dtype)
    return vocab.decode(ids[len(prime):])

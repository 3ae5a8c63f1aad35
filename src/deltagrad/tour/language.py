"""Character-level English for the tour (chapters 8–11): an LSTM and a causal transformer,
each trained by Adam until its validation curve has flattened (one stopping rule for both),
scored in bits per character on held-out text, and sampled.

The rule, checked every ``CHECK`` updates on a validation slice cut from the end of the
training text: when the validation bits per character fell by less than ``TOL`` since the last
check, the learning rate drops tenfold the first time and training stops the second time (or
at the step cap of the budget). The chapter 8–10 section trains the LSTM; chapter 11 trains the
transformer and reuses that LSTM when it is in the report's cache.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import numpy as np

import deltagrad as dg
from deltagrad import losses, nn, optim
from deltagrad.data import text as corpus

CONTEXT, BATCH, CHECK, TOL = 64, 32, 100, 0.05
DTYPE = "float32"  # the bits per character agree with float64 to ~1e-4 (measured): float32
STEP_CAP = {True: 60, False: 2000}  # quick: far from converged, and the page says so


@dataclass
class LanguageRun:
    """One trained character model: its learning curve and held-out numbers."""

    kind: str
    model: nn.Module
    steps: list = field(default_factory=list)  # the update count at each check
    validation: list = field(default_factory=list)  # validation bits/char at each check
    training: list = field(default_factory=list)  # training bits/char of every update
    test_bits: float = float("nan")
    cpu_seconds: float = 0.0
    stopped: str = ""  # why training ended
    parameters: int = 0

    def sample(self, data, prompt: str, length: int, temperature: float = 0.6, seed: int = 0):
        """``length`` characters continuing ``prompt``."""
        if self.kind == "LSTM":
            return corpus.sample(self.model, data.vocab, prompt, length, temperature, seed)
        ids = self.model.generate(data.vocab.encode(prompt), length, temperature=temperature,
                                  seed=seed)
        return data.vocab.decode(ids[len(prompt):])


@dataclass
class Corpus:
    vocab: corpus.CharVocabulary
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    words: set

    def word_fraction(self, text: str) -> tuple:
        """``(fraction, count)`` of the whole words in ``text`` (letters only, the first and
        last cut off as they may be partial) that occur as words in the corpus."""
        found = re.findall(r"[A-Za-z]+", text)[1:-1]
        if not found:
            return 0.0, 0
        return sum(w in self.words for w in found) / len(found), len(found)


def load(quick: bool = False) -> Corpus:
    """Python's reference manual (``data.text``): the last 10% held out for the test, the last
    20,000 characters before it for validation (``quick``: the first 8,000 and 4,000 of them)."""
    text = corpus.load_corpus()
    vocab, train, test = corpus.split_corpus(text)
    validation = train[-20_000:]
    if quick:
        validation, test = validation[:4_000], test[:8_000]
    return Corpus(vocab, train[:-20_000], validation, test, set(re.findall(r"[A-Za-z]+", text)))


def lstm(data: Corpus, hidden: int = 128) -> nn.RecurrentNetwork:
    V = data.vocab.size
    return nn.RecurrentNetwork(nn.LSTM(V, hidden, rng=0, dtype=DTYPE),
                               nn.Sequential(nn.Linear(hidden, V, rng=0, dtype=DTYPE),
                                             nn.Softmax()))


def transformer(data: Corpus, embed: int = 64, layers: int = 2) -> nn.TransformerLM:
    return nn.TransformerLM(data.vocab.size, embed, 4, layers, max_len=CONTEXT,
                            dim_feedforward=2 * embed, activation="relu", rng=0, dtype=DTYPE)


def _nats(kind: str, model, data: Corpus, x, t):
    """The mean cross-entropy per character (eq. 9.2) of windows x → next characters t."""
    if kind == "LSTM":
        onehot = np.eye(data.vocab.size, dtype=DTYPE)[x]
        return losses.cross_entropy(model(onehot), t, reduction="mean")  # per character
    logits = model(x)
    V = logits.shape[-1]
    return losses.cross_entropy(nn.softmax(logits.reshape(-1, V)), t.reshape(-1),
                                reduction="mean")


def bits(kind: str, model, data: Corpus, ids) -> float:
    """Bits per character on ``ids`` read in consecutive windows of CONTEXT (each character
    predicted from up to CONTEXT before it, the same for both models)."""
    n = (len(ids) - 1) // CONTEXT
    x, t = corpus.windows(ids, CONTEXT, np.arange(n) * CONTEXT)
    with dg.no_grad():
        total = sum(float(_nats(kind, model, data, x[i:i + 256], t[i:i + 256]).item())
                    * len(x[i:i + 256]) for i in range(0, n, 256))
    return total / n / np.log(2)


def train(kind: str, data: Corpus, quick: bool, lr: float) -> LanguageRun:
    """Adam from ``lr`` on random windows, to the stopping rule above."""
    model = lstm(data) if kind == "LSTM" else transformer(data)
    run = LanguageRun(kind, model, parameters=model.num_parameters())
    opt = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(0)
    start, decayed, cap = time.process_time(), False, STEP_CAP[quick]
    for step in range(1, cap + 1):
        x, t = corpus.windows(data.train, CONTEXT,
                              rng.integers(0, len(data.train) - CONTEXT - 1, size=BATCH))
        opt.zero_grad()
        E = _nats(kind, model, data, x, t)
        E.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        run.training.append(E.item() / np.log(2))
        if step % CHECK and step != cap:
            continue
        run.steps.append(step)
        run.validation.append(bits(kind, model, data, data.validation))
        if len(run.validation) > 1 and run.validation[-2] - run.validation[-1] < TOL:
            if decayed:
                run.stopped = (f"the rule: validation gained less than {TOL} bits over the "
                               f"last {CHECK} updates, after the learning-rate drop")
                break
            decayed, opt.lr = True, opt.lr / 10
    else:
        run.stopped = f"the step cap of {cap} updates (not flattened)"
    run.cpu_seconds = time.process_time() - start
    run.test_bits = bits(kind, model, data, data.test)
    return run


def lstm_run(report) -> LanguageRun:
    """The LSTM of chapters 8–10, trained once per report (cached for chapter 11)."""
    cache = report.cache
    if "lstm" not in cache:
        cache["lstm"] = train("LSTM", corpus_of(report), report.quick, lr=0.01)
    return cache["lstm"]


def corpus_of(report) -> Corpus:
    if "corpus" not in report.cache:
        report.cache["corpus"] = load(report.quick)
    return report.cache["corpus"]


def curve_figure(runs: list, baseline: float):
    """Training (mean over blocks of 20 updates) and validation bits per character against
    the updates, one colour per model."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4))
    block = 20
    for run in runs:
        colour = {"LSTM": "tab:green", "transformer": "tab:purple"}[run.kind]
        n = len(run.training) // block * block
        if n:
            means = np.asarray(run.training[:n]).reshape(-1, block).mean(axis=1)
            ax.plot(np.arange(1, len(means) + 1) * block, means, ":", color=colour,
                    label=f"{run.kind}: training (mean of {block} updates)")
        ax.plot(run.steps, run.validation, "o-", color=colour, ms=4,
                label=f"{run.kind}: validation")
    ax.axhline(baseline, color="0.5", ls="--", label=f"character frequencies ({baseline:.2f})")
    ax.set_xlabel("Adam updates (32 windows of 64 characters)")
    ax.set_ylabel("bits per character")
    ax.set_ylim(1.5, max(baseline + 0.5, 3.0))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def rule(run: LanguageRun) -> str:
    """The stopping rule's verdict with the last check's gain, for a caption."""
    gain = run.validation[-2] - run.validation[-1] if len(run.validation) > 1 else float("nan")
    return (f"stopped by {run.stopped} (the last check gained {gain:.3f} bits per "
            "character)")


def describe(run: LanguageRun, data: Corpus) -> str:
    """One sentence: updates, CPU time, held-out bits, why it stopped."""
    return (f"{run.kind} ({run.parameters:,} parameters): {run.steps[-1]} updates, "
            f"{run.cpu_seconds:.0f} s of CPU time, {run.test_bits:.3f} bits per character on "
            f"the {len(data.test):,} held-out characters; stopped by {run.stopped}")

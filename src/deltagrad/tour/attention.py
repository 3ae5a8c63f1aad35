"""The tour's section for chapter 11: the attention weights' constraints shown numerically, one
head worked out forward and backward, transformers trained to reverse and sort digit sequences
with their attention heat maps, and a small transformer against the LSTM of chapters 9–10
on real English text."""

from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits

import deltagrad as dg
from deltagrad.analysis import sequences
from deltagrad.data import digit_tasks
from deltagrad.data import text as corpus
from deltagrad.nn import functional as F
from deltagrad.plot import plot_attention

def section(report) -> None:
    s = report.section("Attention and transformers", "chapter 11")
    _constraints(s)
    _one_head(s)
    with threadpool_limits(1):  # small matrix products: one BLAS thread is the fastest
        results = [sequences.digit_task("reversal", n_train=2000, epochs=6, seed=0)]
        if not report.quick:
            results.append(sequences.digit_task("sorting", n_train=4000, epochs=15,
                                                num_layers=2, seed=0))
        _tasks(s, results, report.quick)
        _text(s, report.quick)


def _constraints(s) -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(scale=3.0, size=(5, 6))
    mask = rng.random((5, 6)) < 0.6
    mask[np.arange(5), rng.integers(0, 6, size=5)] = True  # every row may attend somewhere
    mask[0] = False
    mask[0, 2] = True  # a row with one allowed input
    a = F.attention_weights(scores, mask=mask).data
    s.text("§11.2: y_n = Σ_m a_nm x_m (eq. 11.1) with a_nm ≥ 0 (eq. 11.2) and Σ_m a_nm = 1 "
           "(eq. 11.3). `dg.nn.functional.attention_weights` makes such rows from any scores "
           "by a softmax over the inputs each output may attend to (a boolean mask, True = "
           "may attend); masked weights are exactly 0. Five rows from random scores and a "
           "random mask, row 1 allowed a single input:")
    s.table(["row n", "inputs allowed", "smallest allowed a_nm", "largest a_nm", "Σ_m a_nm",
             "largest masked a_nm"],
            [[n + 1, int(mask[n].sum()), f"{a[n][mask[n]].min():.4f}", f"{a[n].max():.4f}",
              f"{a[n].sum():.15f}", f"{a[n][~mask[n]].max(initial=0.0):.1f}"] for n in range(5)],
            caption="The constraints hold to the last digit, whatever the scores")


def _one_head(s) -> None:
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    v = np.array([[1.0, 2.0], [0.0, -1.0], [2.0, 0.5]])
    g = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, -0.5]])
    s.text("One head on three tokens, q = k = x (d = 2) and values v, with ∂E/∂y given: the "
           "scores, each softmax row summing to 1, the weighted sums of eq. 11.1 and the "
           "backward pass through the softmax (every number from the engine; "
           "`dg.explain.attention_head`):")
    s.code(dg.explain.attention_head(x, x, v, grad_output=g).to_text(precision=4))


def _tasks(s, results, quick: bool) -> None:
    s.text("Transformers trained on digit sequences of lengths 10–20 (Adam, gradient clipped "
           "at norm 1). The input is right-aligned after padding and the answer left-aligned, so "
           "that the answer at position p is the input at position 19 − p (reversal) or the "
           "p-th smallest digit (sorting); the model is bidirectional (`TransformerLM(..., "
           "causal=False)`) and labels every position.")
    s.table(["task", "layers", "training sequences", "epochs", "held-out token accuracy",
             "training time"],
            [[r.task, len(r.model.layers), 2000 if r.task == "reversal" else 4000,
              len(r.history), f"{100 * r.accuracy:.2f}%", f"{r.seconds:.1f} s"] for r in results],
            caption="Token accuracy on 500 held-out sequences" + (
                " (the full tour adds sorting)" if quick else ""))
    X_test = results[0].X_test  # the same held-out digits for every task
    ids = X_test[int(np.argmax((X_test != digit_tasks.PAD).sum(axis=1) < 17))][None]
    labels = ["·" if t == digit_tasks.PAD else int(t) for t in ids[0]]
    maps = {}
    for r in results:
        layers = len(r.model.layers)
        for h, head in enumerate(r.model.attention_maps(ids)[-1][0]):
            maps[f"{r.task}, head {h + 1}" + (", last layer" if layers > 1 else "")] = head
    s.figure(plot_attention(maps, labels, list(range(ids.shape[1]))), "attention_maps",
             "Attention weights a_nm of the trained models on a held-out sequence (· = "
             "padding): reversal attends along the anti-diagonal, output n to input 19 − n"
             + ("" if quick else "; sorting's heads pick inputs by their digit, not their place"))


def _text(s, quick: bool) -> None:
    vocab, train, heldout = corpus.split_corpus(corpus.load_corpus())
    train, heldout = (train[:27_000], heldout[:3_000]) if quick else (train[:64_000],
                                                                         heldout[:8_000])
    context, layers, epochs = 64, 2, 1 if quick else 2
    start = time.perf_counter()
    runs = sequences.compare_char_models(train, heldout, vocab.size, context=context,
                                         embed_dim=32, num_heads=2, num_layers=layers,
                                         epochs=epochs, seed=0)
    elapsed = time.perf_counter() - start
    transformer, lstm = runs["transformer"], runs["lstm"]
    scored = context * ((len(heldout) - 1) // context)
    hidden = lstm.model.recurrent.hidden_size
    s.text(f"§11.1.1's claim, measured: a causal transformer (`TransformerLM`, {layers} "
           f"layers, E = 32) against the LSTM of chapters 9–10 (`data.text.char_model`, "
           f"H = {hidden} units, chosen by `lstm_hidden_size_for` so that the parameter counts "
           f"match), trained for {epochs} epoch{'s' * (epochs > 1)} each on the same "
           f"{len(train):,} characters of the Python Language Reference (`data.text`, the "
           f"recurrent section's corpus and encoding, {vocab.size} distinct characters) and "
           f"scored on the same {scored:,} held-out characters, each predicted from up to "
           f"{context} before it (`analysis.sequences.compare_char_models`). The transformer "
           f"computes all {context} positions of a window at once, one matrix product per "
           f"layer: {layers} steps that must follow one another. The LSTM must take {context} "
           f"steps one after another, each waiting for the state before it.")
    faster, slower = sorted([transformer, lstm], key=lambda r: r.seconds_per_epoch)
    better = "transformer" if transformer.bits_per_char < lstm.bits_per_char else "LSTM"
    gap = abs(transformer.bits_per_char - lstm.bits_per_char)
    why = ("on one CPU thread the transformer's parallel positions still run one after "
           "another, and its few sequential steps would pay on hardware that runs them at "
           "once (a GPU)" if faster is lstm else
           f"its positions run as one matrix product where the LSTM loops over {context} steps")
    s.table(["model", "parameters", "sequential steps per window",
             "held-out bits per character", "seconds per epoch"],
            [[f"transformer ({layers} layers, E = 32)", f"{transformer.parameters:,}", layers,
              f"{transformer.bits_per_char:.3f}", f"{transformer.seconds_per_epoch:.1f}"],
             [f"LSTM (H = {hidden})", f"{lstm.parameters:,}", context,
              f"{lstm.bits_per_char:.3f}", f"{lstm.seconds_per_epoch:.1f}"],
             ["uniform guess", "0", "—", f"{np.log2(vocab.size):.3f}", "—"]],
            caption=f"Character-level English, {elapsed:.1f} s in all: the {better} is "
                    f"{gap:.2f} bits per character better after {epochs} epoch"
                    f"{'s' * (epochs > 1)}, a small budget that leaves both far from "
                    f"converged. The {'LSTM' if faster is lstm else 'transformer'} trains "
                    f"{slower.seconds_per_epoch / faster.seconds_per_epoch:.1f}× faster here: "
                    + why)
    prompt = heldout[:32]
    continued = transformer.model.generate(prompt, 120, temperature=0.8, seed=0)[len(prompt):]
    s.text("Samples (temperature 0.8), each model continuing the same 32 held-out characters:")
    s.code(f"held-out text:\n{vocab.decode(prompt)}\n\ntransformer continues:\n"
           f"{vocab.decode(continued)}\n\nLSTM continues:\n"
           + corpus.sample(lstm.model, vocab, vocab.decode(prompt), 120, temperature=0.8,
                           seed=0))

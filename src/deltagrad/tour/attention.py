"""Chapter 11, attention: the attention weights' constraints shown numerically, one head
worked out forward and backward, transformers trained to reverse and sort digit sequences with
their attention heat maps, and a causal transformer against the LSTM of chapters 8–10 on real
English text, both trained to the same stopping rule."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

import deltagrad as dg
from deltagrad.analysis import sequences
from deltagrad.data import digit_tasks
from deltagrad.data import text as corpus
from deltagrad.nn import functional as F
from deltagrad.plot import plot_attention

from deltagrad.tour import curves, language

TITLE = "11 Attention and transformers"


def section(report) -> None:
    s = report.section(TITLE, "chapter 11")
    s.heading("11.2 Attention weights")
    _constraints(s)
    _one_head(s)
    s.heading("Transformers on digit sequences (§11.2 at work)")
    with threadpool_limits(1):  # small matrix products: one BLAS thread is the fastest
        results = [sequences.digit_task("reversal", n_train=2000, epochs=8, seed=0)]
        if not report.quick:
            results.append(sequences.digit_task("sorting", n_train=4000, epochs=15,
                                                num_layers=2, seed=0))
        _tasks(s, results, report.quick)
        s.heading("Transformer against LSTM on English text (§11.1.1's claim)")
        _text(s, report)


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
             "training time", "training loss curve"],
            [[r.task, len(r.model.layers), 2000 if r.task == "reversal" else 4000,
              len(r.history), f"{100 * r.accuracy:.2f}%", f"{r.seconds:.1f} s",
              curves.note(r.history)] for r in results],
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


def _text(s, report) -> None:
    data = language.corpus_of(report)
    lstm = language.lstm_run(report)
    transformer = language.train("transformer", data, report.quick, lr=0.003)
    runs = [transformer, lstm]
    s.text(f"§11.1.1's claim, measured: a causal transformer (`TransformerLM`, 2 layers, "
           f"E = 64, 4 heads, ReLU feed-forward of 128, float32) against the LSTM of "
           f"chapters 8–10 on the same characters, windows, batches and stopping rule "
           f"(Adam from 0.003 for the transformer, 0.01 for the LSTM; the rate drops "
           f"tenfold at the first flat check, training stops at the second), scored on the "
           f"same held-out characters, each "
           f"predicted from up to {language.CONTEXT} before it. The transformer computes all "
           f"{language.CONTEXT} positions of a window at once, one matrix product per layer; "
           f"the LSTM takes {language.CONTEXT} steps one after another.")
    baseline = corpus.unigram_bits_per_char(data.train, data.test, data.vocab.size)
    better = min(runs, key=lambda r: r.test_bits)
    s.table(["model", "parameters", "sequential steps per window", "updates",
             "CPU seconds", "held-out bits per character", "stopped by"],
            [[r.kind, f"{r.parameters:,}", 2 if r.kind == "transformer" else language.CONTEXT,
              r.steps[-1], f"{r.cpu_seconds:.0f}", f"{r.test_bits:.3f}", r.stopped]
             for r in runs] +
            [["character frequencies", "—", "—", "—", "—", f"{baseline:.3f}", "—"]],
            caption=f"Character-level English: the {better.kind} is "
                    f"{abs(runs[0].test_bits - runs[1].test_bits):.2f} bits per character "
                    "better, both trained to the same stopping rule")
    s.figure(language.curve_figure(runs, baseline), "char_models_curves",
             "Learning curves of both models under the same stopping rule: transformer "
             f"{language.rule(transformer)}; LSTM {language.rule(lstm)}.")
    prompt = "The "
    lines, tables = [], []
    for run in runs:
        sample = run.sample(data, prompt, 200 if report.quick else 400, temperature=0.6,
                            seed=0)
        fraction, count = data.word_fraction(sample)
        lines.append(f"{run.kind} ({fraction:.0%} of {count} words occur in the corpus):\n"
                     f"{prompt}{sample}")
        if count < len(sample) / 20 and "|" in sample:  # fewer than 5 words per 100 chars
            tables.append(f"the {run.kind}'s sample has drifted into the layout of the "
                          f"manual's ASCII tables (|, spaces and line breaks), which leaves only "
                          f"{count} words in its {len(sample)} characters")
    s.text("Samples at temperature 0.6 after the same prompt, with the fraction of their words "
           "(the first and last, possibly cut, not counted) that occur in the corpus"
           + ("; " + "; ".join(tables) if tables else "") + ":")
    s.code("\n\n".join(lines))

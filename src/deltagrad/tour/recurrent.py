"""Chapters 8–10, recurrent networks: the §9.3 BPTT solution, the unfolded graph, vanishing
and exploding Jacobian products, an LSTM against a plain RNN on the adding problem, and a
character-level LSTM trained on Python's own reference manual until its curve flattens."""

from __future__ import annotations

import numpy as np

import deltagrad as dg
from deltagrad import nn
from deltagrad.analysis import state_jacobians
from deltagrad.data import adding_problem
from deltagrad.data import text as corpus
from deltagrad.exercises import pretty

from deltagrad.tour import curves as curve_notes
from deltagrad.tour import language


TITLE = "8–10 Recurrent networks: BPTT, vanishing gradients, LSTM"


def section(report) -> None:
    s = report.section(TITLE, "chapters 8–10")
    s.heading("8.3 and 9.3 Backpropagation through time")
    rnn, out = _notes_rnn()
    xs, ys = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[0.5], [0.9]])
    sol = dg.explain.bptt(rnn, out, xs, ys, lr=0.1)
    keys = ["h^(1)[1]", "h^(1)[2]", "h^(2)[1]", "h^(2)[2]", "yhat^(1)[1]", "yhat^(2)[1]", "E",
            "delta_h^(2)[1]", "delta_h^(2)[2]", "delta_h^(1)[1]", "delta_h^(1)[2]",
            "dE/dW_hh[1,1]", "dE/dW_hh[1,2]", "dE/dW_hy[1,1]", "dE/db_y[1]",
            "W_hh[1,1] new", "W_hy[1,2] new"]
    s.table(["quantity", "value"], [[pretty(k), f"{sol[k]:.6f}"] for k in keys],
            caption="§9.3 by dg.explain.bptt (deltagrad explain rnn-spec.json prints every "
                    "line with its working). The notes print E = 0.025348 from rounded "
                    "intermediates; unrounded it is 0.025396.")
    s.figure(_unfolded_graph(rnn, out), "unfolded_graph",
             "§8.3.2: the 2-2-1 RNN of §9.3 unfolded for T = 3 (a third step x⁽³⁾ = [1, 1], "
             "y⁽³⁾ = 0.7 added). Every value is the engine's; the same W_xh, W_hh, W_hy "
             "serve every step, so their gradients are sums over t (eq. 8.10).")
    s.heading("9.4–10.1 Vanishing gradients and the gated cell")
    trained = _adding(s, report.quick)
    figure, kept, lost, T = _jacobian_figure(trained)
    s.figure(figure, "jacobian_norms",
             "§9.4–10.1: ‖∂h⁽ᵀ⁾/∂h⁽ᵏ⁾‖₂ = ‖∏ diag(f′(a⁽ⁱ⁾)) W_hh‖ (eq. 9.18) for tanh RNNs "
             "with every singular value of W_hh equal to γ₁ on tiny random inputs (so f′ ≈ 1): "
             "exponential decay for γ₁ = 0.9, growth for γ₁ = 1.1 (fitted rates in the "
             "legend). The LSTM trained on the adding problem carries its state (h, C) "
             "mostly along the cell path (eq. 10.6–10.7, forget gates near 1, no W_hh in it): "
             f"the true Jacobian of its state after all {T} steps with respect to the initial "
             f"state, through h and C, still has norm {kept:.2g} (dotted: the forget-gate product "
             f"alone); for the tanh RNN trained alongside it on the same data it is {lost:.2g}. "
             "A GRU at initialisation, for comparison, on the same sequence.")
    s.heading("A character-level language model (chapters 9–10 at work)")
    _char_model(s, report)


def _notes_rnn():
    rnn, out = nn.RNN(2, 2, rng=0), nn.Linear(2, 1, rng=0)
    rnn.W_xh.data[:] = [[0.5, 0.1], [0.2, 0.4]]
    rnn.W_hh.data[:] = [[0.3, 0.6], [0.7, 0.1]]
    rnn.b_h.data[:] = [0.1, 0.1]
    out.weight.data[:] = [[0.8, 0.4]]
    out.bias.data[:] = [0.0]
    return rnn, out


def _unfolded_graph(rnn, out):
    import matplotlib.pyplot as plt

    xs = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
    ys = np.array([[[0.5], [0.9], [0.7]]])
    H, _ = rnn(xs)
    y_hat = out(H)
    E = 0.5 * (y_hat.data - ys) ** 2
    fig, ax = plt.subplots(figsize=(11, 5.2))
    rows = {"x": 0.0, "h": 1.0, "o": 2.0, "E": 3.0}
    colours = {"W_xh": "tab:blue", "W_hh": "tab:red", "W_hy": "tab:green"}

    def node(x, y, label, value, face):
        ax.text(x, y, f"{label}\n{value}", ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round,pad=0.45", fc=face, ec="0.3"))

    def arrow(x, y0, y1, colour, label):
        ax.annotate("", xy=(x, y1 - 0.27), xytext=(x, y0 + 0.27),
                    arrowprops=dict(arrowstyle="-|>", color=colour, lw=2))
        ax.text(x + 0.07, (y0 + y1) / 2, label, color=colour, fontsize=8.5, va="center")

    node(-0.1, rows["h"], "h⁽⁰⁾", "[0, 0]", "white")
    for t in range(3):
        x = 1.4 * (t + 1)
        node(x, rows["x"], f"x⁽{t + 1}⁾", np.array2string(xs[0, t], precision=0), "#e8f0fb")
        node(x, rows["h"], f"h⁽{t + 1}⁾", np.array2string(H.data[0, t], precision=3), "#fbe8e8")
        node(x, rows["o"], f"ŷ⁽{t + 1}⁾", f"{y_hat.data[0, t, 0]:.4f}", "#e8f6ea")
        node(x, rows["E"], f"E⁽{t + 1}⁾", f"{E[0, t, 0]:.5f}", "#f4f4f4")
        arrow(x, rows["x"], rows["h"], colours["W_xh"], "W_xh")
        arrow(x, rows["h"], rows["o"], colours["W_hy"], "W_hy")
        arrow(x, rows["o"], rows["E"], "0.4", f"½(ŷ − {ys[0, t, 0]:g})²")
        start = x - 1.4 + 0.5 if t else 0.25
        ax.annotate("", xy=(x - 0.5, rows["h"]), xytext=(start, rows["h"]),
                    arrowprops=dict(arrowstyle="-|>", color=colours["W_hh"], lw=2))
        ax.text((x - 0.5 + start) / 2, rows["h"] + 0.12, "W_hh", color=colours["W_hh"],
                fontsize=8.5, ha="center")
    weights = (f"W_xh = {rnn.W_xh.data.tolist()}\nW_hh = {rnn.W_hh.data.tolist()}\n"
               f"b_h = {rnn.b_h.data.tolist()}\nW_hy = {out.weight.data.tolist()}, "
               f"b_y = {out.bias.data.tolist()}")
    ax.text(4.9, 1.0, weights, fontsize=8.5, va="center", family="monospace",
            bbox=dict(boxstyle="round", fc="white", ec="0.7"))
    ax.text(4.9, 3.0, f"E = Σ E⁽ᵗ⁾ = {E.sum():.5f}", fontsize=10, va="center")
    ax.set_xlim(-0.6, 7.4)
    ax.set_ylim(-0.5, 3.5)
    ax.axis("off")
    ax.set_title("The unfolded graph for T = 3: shared W_xh (blue), W_hh (red), W_hy (green)")
    fig.tight_layout()
    return fig


def _adding(s, quick: bool):
    """An LSTM and a tanh RNN with the same budget on the adding problem."""
    import matplotlib.pyplot as plt

    T, n, epochs = (20, 1280, 10) if quick else (100, 1600, 14)
    train, test = adding_problem(n, T, seed=0), adding_problem(500, T, seed=1)
    curves, models = {}, {}
    for kind in ("LSTM", "RNN"):
        layer = nn.LSTM(2, 16, rng=0) if kind == "LSTM" else nn.RNN(2, 16, rng=0)
        net = nn.RecurrentNetwork(layer, nn.Linear(16, 1, rng=1), many_to_one=True)
        tested = _TestError(net, test.X, test.y)
        decay = dg.callbacks.LearningRateScheduler(
            lambda epoch, lr: 0.01 if epoch <= epochs - 4 else 0.002)
        dg.fit(net, train.X, train.y, optimizer="adam", lr=0.01, epochs=epochs, batch_size=32,
               seed=0, progress=False, clip_grad_norm=1.0, callbacks=[tested, decay])
        curves[kind], models[kind] = tested.errors, layer
    fig, ax = plt.subplots(figsize=(7, 4))
    steps = np.arange(1, epochs + 1) * (n // 32)
    for kind, colour in (("LSTM", "tab:green"), ("RNN", "tab:red")):
        ax.semilogy(steps, curves[kind], "o-", color=colour, label=f"{kind} (16 units)")
    ax.axhline(test.baseline, color="0.4", ls="--", label=f"predict the mean ({test.baseline:.3f})")
    ax.set_xlabel("Adam steps (batches of 32)")
    ax.set_ylabel("test mean squared error")
    ax.set_title(f"The adding problem, T = {T}")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    shortened = " (--quick: T = 20; the full tour uses T = 100)" if quick else ""
    s.figure(fig, "adding_problem",
             f"Hochreiter & Schmidhuber's adding problem{shortened}: sum the two marked "
             f"numbers of a sequence of {T}. Same data, budget and optimiser (Adam, clipping "
             f"at θ = 1, eq. 9.21, the rate cut fivefold for the last 4 epochs): the LSTM "
             f"reaches test MSE {curves['LSTM'][-1]:.4f} "
             f"({curve_notes.note(curves['LSTM'])}), the plain RNN {curves['RNN'][-1]:.4f} "
             f"({curve_notes.note(curves['RNN'])}).")
    return models["LSTM"], test.X[0], models["RNN"]


class _TestError(dg.callbacks.Callback):
    """The test mean squared error after every epoch."""

    def __init__(self, net, X, y):
        self.net, self.X, self.y, self.errors = net, X, y, []

    def on_epoch_end(self, trainer, epoch, logs):
        with dg.no_grad():
            self.errors.append(float(np.mean((self.net(self.X).data - self.y) ** 2)))


def _jacobian_figure(trained):
    import matplotlib.pyplot as plt

    lstm, sequence, trained_rnn = trained
    fig, ax = plt.subplots(figsize=(7.5, 5.6))
    x = np.random.default_rng(0).normal(scale=1e-6, size=(len(sequence), 1))
    for gamma1, colour in ((0.9, "tab:blue"), (1.1, "tab:red")):
        rnn = nn.RNN(1, 16, rng=0)
        Q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(16, 16)))
        rnn.W_hh.data = gamma1 * Q
        rnn.b_h.data[:] = 0.0
        J = state_jacobians(rnn, x)
        ax.semilogy(J.gaps, J.norms, color=colour,
                    label=f"RNN, γ₁ = {gamma1} (fitted ρ = {J.rate():.3f} per step)")
    rnn = state_jacobians(trained_rnn, sequence)
    ax.semilogy(rnn.gaps, rnn.norms, color="tab:orange", lw=2.2,
                label="trained tanh RNN: ‖∂h⁽ᵀ⁾/∂h⁽ᵏ⁾‖₂ on the same sequence")
    J = state_jacobians(lstm, sequence)  # the true ∂(h, C)⁽ᵀ⁾/∂(h, C)⁽ᵏ⁾, both paths
    ax.semilogy(J.gaps, J.norms, color="tab:green", lw=2.2,
                label="trained LSTM: ‖∂(h, C)⁽ᵀ⁾/∂(h, C)⁽ᵏ⁾‖₂, through h and C")
    cells = J.cell_path
    ax.semilogy(J.gaps, cells.max(axis=1), color="tab:green", ls=":",
                label="trained LSTM: cell path alone, ∏ f⁽ⁱ⁾ of its most persistent unit")
    gru = state_jacobians(nn.GRU(2, 16, rng=0), sequence)
    ax.semilogy(gru.gaps, gru.norms, color="tab:purple", ls="--",
                label="GRU at initialisation: ‖∂h⁽ᵀ⁾/∂h⁽ᵏ⁾‖₂ on the same sequence")
    ax.set_xlabel("T − k (steps back in time)")
    ax.set_ylabel("‖∂s⁽ᵀ⁾/∂s⁽ᵏ⁾‖₂   or   ∏ f⁽ⁱ⁾")
    ax.set_title("How far back a gradient reaches")
    ax.legend(fontsize=8.5, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=1)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig, float(J.norms[0]), float(rnn.norms[0]), len(cells)


def _char_model(s, report) -> None:
    data = language.corpus_of(report)
    run = language.lstm_run(report)
    baseline = corpus.unigram_bits_per_char(data.train, data.test, data.vocab.size)
    shortened = (f"; --quick stops after {language.STEP_CAP[True]} updates, far from "
                 "converged" if report.quick
                 else "")
    s.text(f"A character-level LSTM (`data.text.char_model`'s architecture, 128 units, "
           f"float32) on the Python Language Reference topics that ship with Python "
           f"({len(data.train):,} training characters, {data.vocab.size} distinct), trained by "
           f"Adam (learning rate 0.01, gradients clipped at norm 1, eq. 9.21) on random "
           f"windows of {language.CONTEXT} characters until its validation curve flattens: "
           f"every {language.CHECK} updates it is scored on {len(data.validation):,} "
           f"validation characters; the first time the gain is under {language.TOL} bits the "
           f"learning rate drops tenfold, the second time training stops{shortened}. "
           f"{language.describe(run, data)}; character frequencies alone give "
           f"{baseline:.3f}.")
    s.figure(language.curve_figure([run], baseline), "char_lstm_curve",
             f"The LSTM's learning curve in bits per character, {language.rule(run)}.")
    sample = run.sample(data, "The ", 200 if report.quick else 600, temperature=0.6, seed=0)
    fraction, count = data.word_fraction(sample)
    s.text(f"Sampled at temperature 0.6 after the prompt “The ”: {fraction:.0%} of its "
           f"{count} words occur in the corpus (the first and last, possibly cut, not "
           "counted):")
    s.code("The " + sample)

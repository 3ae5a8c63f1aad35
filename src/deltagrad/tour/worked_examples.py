"""Chapter 3, error backpropagation: the practice questions of §3.4 solved by the tracer,
one worked in full, then backpropagation at work on real digits in float64 and float32."""

from __future__ import annotations

import deltagrad as dg
from deltagrad.data import load_digits_split
from deltagrad.exercises import pretty
from deltagrad.explain import backprop_program, question

from deltagrad.tour import curves

TITLE = "3 Error backpropagation"


def section(report) -> None:
    s = report.section(TITLE, "chapter 3")
    s.heading("3.1–3.4 The rules at work: the practice questions")
    s.text("The tracer `deltagrad.explain` shows every a, z, δ and gradient the way the notes "
           "do (δ^(l)_j = ∂E/∂a^(l)_j, Rules 1–3 of §3.3), with the engine's own numbers "
           "(retained gradients of the pre-activations).")
    rows = []
    for number, keys in ((1, ["y_1", "E", "delta^(2)_1", "delta^(1)_1", "delta^(1)_2",
                              "dE/dw^(2)_11", "dE/dw^(1)_11"]),
                         (2, ["y_1", "E", "delta^(1)_1", "delta^(1)_2", "dE/dw^(1)_11",
                              "dE/dw^(1)_12", "dE/dw^(1)_21", "dE/dw^(1)_22"]),
                         (3, ["delta^(1)_2", "dE/dw^(1)_21"])):
        values = question(number).to_dict()
        rows += [[f"Q{number}", pretty(key), values[key]] for key in keys]
    s.table(["question", "quantity", "value"], rows,
            caption="§3.4 practice questions, answered (the notes leave them 'to be compiled')")
    s.text("The full working of practice question 1, with one gradient-descent step "
           "(η = 0.1), as `deltagrad explain --question 1 --lr 0.1` prints it:")
    s.code(pretty(question(1, lr=0.1).to_text()))
    s.text("To step through these numbers unit by unit on a network diagram, and train it live, "
           "run `deltagrad playground` and open the address it prints (a static page cannot "
           "run it).")
    backprop_as_code(s)
    s.heading("Backpropagation on real data (chapter 3 at work)")
    _digits(s, report.quick)


def backprop_as_code(s) -> None:
    """The same rules as a program: the compiled step of the notes' 2-3-2-1 network (tanh,
    sigmoid, linear output, one pattern) printed as the NumPy it replays (``step.source()``)."""
    net = dg.nn.MLP("2-3-2-1", hidden=["tanh", "sigmoid"], output="identity", rng=0)
    s.text("The same backward pass as a program: `dg.compile` records one training step of the "
           "notes' 2-3-2-1 network and replays it as straight-line NumPy, equal to the eager "
           "step to the bit. `step.source()` prints it with the notes' names — the forward pass "
           "(eq. 1.2–1.3), the output δ (eq. 3.9), each hidden δ (eq. 3.10) and each gradient "
           "(eq. 3.11); `deltagrad explain --program SPEC.json` prints it for any MLP spec:")
    s.code(backprop_program(net, [[0.5, -1.0]], [[0.3]]))


def _digits(s, quick: bool) -> None:
    epochs = 10 if quick else 60
    rows = []
    (X, labels), (X_test, labels_test) = load_digits_split()
    for dtype in ("float64", "float32"):
        net = dg.nn.MLP("64-128-10", hidden="tanh", output="softmax", rng=0, dtype=dtype)
        h = dg.fit(net, X, labels, loss="cross_entropy", optimizer="sgd", lr=0.01,
                   epochs=epochs, batch_size=32, seed=0, progress=False)
        rows.append([dtype, epochs, f"{dg.accuracy(net, X_test, labels_test):.4f}",
                     curves.note(h.error)])
    s.table(["dtype", "epochs", "test accuracy", "training error curve"], rows,
            caption="Backpropagation on real data: a 64-128-10 tanh MLP with softmax "
                    "cross-entropy on scikit-learn's digits (1,437 / 360), minibatch SGD "
                    "(batch 32, η = 0.01)")
    s.text(f"Both precisions reach {min(float(r[2]) for r in rows):.1%} or better; float32 "
           "stays float32 through forward, backward and update.")

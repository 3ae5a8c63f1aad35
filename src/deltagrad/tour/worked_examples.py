"""The tour's section for chapters 2–3: the worked example of §2.1.3 and the practice
questions of §3.4, solved by the tracer; then backpropagation at work on real data."""

from __future__ import annotations

import deltagrad as dg
from deltagrad.data import load_digits_split
from deltagrad.explain import backprop_program, question


def section(report) -> None:
    s = report.section("Worked examples: forward pass, backpropagation, practice questions",
                       "chapters 2–3")
    s.text("The tracer `deltagrad.explain` shows every a, z, δ and gradient the way the notes "
           "do, with the engine's own numbers (retained gradients of the pre-activations).")
    example = question("2.1.3").to_dict()
    s.table(["quantity", "deltagrad", "notes"],
            [["a^(1)_1", example["a^(1)_1"], "0.1"], ["z^(1)_1", example["z^(1)_1"], "0.09967"],
             ["y_1", example["y_1"], "0.450"],
             ["E", example["E"], "0.7985 (from y rounded to 0.450)"]],
            caption="§2.1.3: binary classification, one pattern")
    rows = []
    for number, keys in ((1, ["y_1", "E", "delta^(2)_1", "delta^(1)_1", "delta^(1)_2",
                              "dE/dw^(2)_11", "dE/dw^(1)_11"]),
                         (2, ["y_1", "E", "delta^(1)_1", "delta^(1)_2", "dE/dw^(1)_11",
                              "dE/dw^(1)_12", "dE/dw^(1)_21", "dE/dw^(1)_22"]),
                         (3, ["delta^(1)_2", "dE/dw^(1)_21"])):
        values = question(number).to_dict()
        rows += [[f"Q{number}", key, values[key]] for key in keys]
    s.table(["question", "quantity", "value"], rows,
            caption="§3.4 practice questions, answered (the notes leave them 'to be compiled')")
    s.text("The full working of practice question 1, with one gradient-descent step "
           "(η = 0.1), as `deltagrad explain --question 1 --lr 0.1` prints it:")
    s.code(question(1, lr=0.1).to_text())
    backprop_as_code(s)
    s.text("To step through these numbers unit by unit on a network diagram, and train it live, "
           "run `deltagrad playground` and open the address it prints (a static page cannot "
           "run it).")
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
    epochs = 10 if quick else 30
    rows = []
    (X, labels), (X_test, labels_test) = load_digits_split()
    for dtype in ("float64", "float32"):
        net = dg.nn.MLP("64-128-10", hidden="tanh", output="softmax", rng=0, dtype=dtype)
        dg.fit(net, X, labels, loss="cross_entropy", optimizer="sgd", lr=0.01, epochs=epochs,
               batch_size=32, seed=0, progress=False)
        rows.append([dtype, epochs, f"{dg.accuracy(net, X_test, labels_test):.4f}"])
    s.table(["dtype", "epochs", "test accuracy"], rows,
            caption="Backpropagation on real data: a 64-128-10 tanh MLP with softmax "
                    "cross-entropy on scikit-learn's digits (1,437 / 360), minibatch SGD "
                    "(batch 32, η = 0.01)")
    s.text(f"Both precisions reach {min(float(r[2]) for r in rows):.1%} or better; float32 "
           "stays float32 through forward, backward and update.")

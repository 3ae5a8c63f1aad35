"""The kinds solved by the chapter 7–11 tracers: one BPTT step of a small RNN (§9.3, solved by
:func:`deltagrad.explain.bptt`), convolutional units (eq. 7.3–7.4, by
:func:`deltagrad.explain.conv_unit`) and one attention head (eq. 11.1–11.3 and its backward
pass, by :func:`deltagrad.explain.attention_head`).

The given numbers have one or two decimals and are redrawn until the exercise is fit for
working by hand: no saturated unit (|a| ≤ 2 for tanh, softmax weights in [0.05, 0.95]), no
ReLU unit off or at its kink, no two units or weights of a row within 0.02 of each other, and
no asked quantity within 0.005 of zero. Every answer is a number of the tracer's solution.
"""

from __future__ import annotations

import numpy as np

from ..explain import attention_head, bptt, conv_unit
from ..nn.conv import Conv2d
from ..nn.linear import Linear
from ..nn.recurrent import RNN
from ..explain.solution import Solution
from .exercise import DECIMALS, Exercise, grouped_tasks
from .numbers import decimals

MAX_TRIES = 2000
NEAR_ZERO = 0.005
GAP = 0.02


def _search(rng, difficulty: int, build) -> Exercise:
    """``build(rng, difficulty)`` → ``(exercise, fit)`` until a draw is fit for working by
    hand."""
    for _ in range(MAX_TRIES):
        exercise, fit = build(rng, difficulty)
        values = exercise.solution.to_dict()
        if fit and all(abs(values[key]) >= NEAR_ZERO for key in exercise.asked):
            return exercise
    raise RuntimeError("exercises: no draw fit for working by hand was found; "
                       "this is a bug, please report the kind, seed and difficulty")


def _exercise(difficulty, title, statement, given, solution, asked, groups, data) -> Exercise:
    solution.precision = DECIMALS  # the answer key shows what the answers are asked to
    keys = [k for k in solution.to_dict() if k in asked]  # in the order of the solution
    return Exercise(kind="", seed=0, number=0, difficulty=difficulty, title=title,
                    statement=statement, given=given, tasks=grouped_tasks(keys, groups),
                    asked=keys, solution=solution, data=data)


def _tied(values, gap: float = GAP) -> bool:
    ordered = np.sort(np.ravel(values))
    return bool(np.any(np.diff(ordered) < gap))


def _named(prefix: str, matrix) -> list:
    """``[(prefix[1,2], value), ...]`` for a matrix, 1-based, row by row."""
    return [(f"{prefix}[{','.join(str(i + 1) for i in index)}]", float(matrix[index]))
            for index in np.ndindex(np.shape(matrix))]


# ---- one BPTT step (§9.3) ---------------------------------------------------------------------
BPTT_SIZES = {1: [(1, 2, 1)], 2: [(1, 2, 1), (2, 2, 1)], 3: [(2, 2, 1)]}
STEPS = 2


def make_bptt(rng: np.random.Generator, difficulty: int) -> Exercise:
    """A 1-2-1 or 2-2-1 tanh RNN over two steps, §9.3: forward, δ's, gradients (and, at
    difficulty 3, every pre-activation and the updated weights)."""
    return _search(rng, difficulty, _bptt_draw)


def _bptt_draw(rng, difficulty: int):
    options = BPTT_SIZES[difficulty]
    D_x, D_h, D_y = options[rng.integers(len(options))]
    step = 0.1 if difficulty < 3 else 0.05
    rnn, out = RNN(D_x, D_h, rng=0), Linear(D_h, D_y, rng=0)
    for param in (rnn.W_xh, rnn.W_hh, rnn.b_h, out.weight, out.bias):
        param.data = decimals(rng, param.shape, step)
    xs = decimals(rng, (STEPS, D_x), 0.5 if difficulty < 3 else 0.1)
    ys = decimals(rng, (STEPS, D_y), 0.1)
    lr = 0.1 if difficulty == 3 else None
    size = f"{D_x}-{D_h}-{D_y}"
    solution = bptt(rnn, out, xs, ys, lr=lr, title=f"Backpropagation through time: a {size} "
                    f"RNN over T = {STEPS} steps")
    values = solution.to_dict()
    a = np.array([[values[f"a^({t})[{j}]"] for j in range(1, D_h + 1)]
                  for t in range(1, STEPS + 1)])
    fit = bool(np.all(np.abs(a) >= 0.1) and np.all(np.abs(a) <= 2.0)) and \
        not any(_tied(np.tanh(row)) for row in a)
    asked = _bptt_asked(list(values), difficulty)
    statement = [
        f"A recurrent network with {D_x} input{'s' * (D_x > 1)}, {D_h} tanh hidden units and "
        f"{D_y} linear output, run over T = {STEPS} steps from $h^(0) = 0$: "
        "$a^(t) = W_hh h^(t−1) + W_xh x^(t) + b_h$ (eq. 9.8), $h^(t) = tanh(a^(t))$ (eq. 9.9), "
        "$yhat^(t) = o^(t) = W_hy h^(t) + b_y$ (eq. 9.10–9.11).",
        "Error $E = Σ_t ½ (yhat^(t) − y^(t))²$ (eq. 9.12–9.13); "
        "$delta_o^(t) = yhat^(t) − y^(t)$ and $delta_h^(t) = ((W_hy)ᵀ delta_o^(t) + "
        "(W_hh)ᵀ delta_h^(t+1)) ⊙ (1 − (h^(t))²)$ with $delta_h^(3) = 0$ (eq. 9.14); each gradient "
        "is summed over the steps (eq. 9.7)." + (f" Learning rate $η = {lr:g}$." if lr else ""),
        "A weight $W[j,i]$ goes from unit i to unit j (rows are the receiving units)."]
    given = []
    for t in range(STEPS):
        given += _named(f"x^({t + 1})", xs[t]) + _named(f"y^({t + 1})", ys[t])
    for name, param in (("W_xh", rnn.W_xh), ("W_hh", rnn.W_hh), ("b_h", rnn.b_h),
                        ("W_hy", out.weight), ("b_y", out.bias)):
        given += _named(name, param.data)
    groups = [("Forward pass (eq. 9.8–9.11): ", lambda k: k[0] in "ahy"),
              ("The error (eq. 9.13): ", lambda k: k == "E"),
              ("Backward through time (eq. 9.14): ", lambda k: k.startswith("delta")),
              ("Gradients summed over time (eq. 9.7): ", lambda k: k.startswith("dE/d")),
              ("One step of gradient descent, the new weights: ", lambda k: k.endswith(" new"))]
    return _exercise(difficulty, f"A {size} RNN over two steps", statement, given, solution,
                     asked, groups, {"sizes": [D_x, D_h, D_y], "xs": xs.tolist(),
                                     "ys": ys.tolist(), "lr": lr}), fit


def _bptt_asked(keys: list, difficulty: int) -> set:
    wanted = ("h^(", "yhat^(", "delta_h^(")
    if difficulty == 1:
        return {k for k in keys if k.startswith(wanted)} | {
            "E", "dE/dW_hy[1,1]", "dE/dW_hh[1,1]", "dE/dW_xh[1,1]"}
    if difficulty == 2:
        wanted += ("delta_o^(", "dE/dW_")
    else:
        wanted += ("a^(", "delta_o^(", "dE/d")
    return {k for k in keys if k.startswith(wanted) or k == "E" or
            (difficulty == 3 and k.endswith(" new"))}


# ---- convolutional units (eq. 7.3–7.4) --------------------------------------------------------
CONV_SETUPS = {1: (2, 3, 1), 2: (3, 4, 2), 3: (3, 5, 3)}  # kernel M, image side, units asked


def make_conv(rng: np.random.Generator, difficulty: int) -> Exercise:
    """a_jk and z_jk of one unit (difficulty 1, a 2×2 kernel) or of two or three units of a
    3×3 kernel. The tracer shows the forward pass only, so difficulty adds units, not the
    kernel's gradient."""
    return _search(rng, difficulty, _conv_draw)


def _conv_draw(rng, difficulty: int):
    M, side, count = CONV_SETUPS[difficulty]
    function = "relu" if difficulty < 3 else ("relu", "tanh")[rng.integers(2)]
    conv = Conv2d(1, 1, M, rng=0)
    conv.weight.data = decimals(rng, conv.weight.shape, 0.5 if difficulty == 1 else 0.1)
    conv.bias.data = decimals(rng, 1, 0.1, -0.5, 0.5)
    image = decimals(rng, (side, side), 0.1, 0.0, 1.0)
    positions = side - M + 1
    chosen = sorted(rng.choice(positions * positions, size=count, replace=False).tolist())
    units = [divmod(int(p), positions) for p in chosen]
    solution = Solution(f"Convolutional unit{'s' * (count > 1)} "
                        f"{', '.join(f'({j}, {k})' for j, k in units)} (eq. 7.3–7.4)")
    for number, (j, k) in enumerate(units):
        _append_unit(solution, conv_unit(conv, image, j, k, activation=function), j, k,
                     first=number == 0)
    values = solution.to_dict()
    a = np.array([values[f"a_{j}{k}"] for j, k in units])
    if function == "relu":
        fit = bool(np.all(a >= 0.1))
    else:
        fit = bool(np.all(np.abs(a) >= 0.1) and np.all(np.abs(a) <= 2.0))
    fit = fit and not (len(a) > 1 and _tied(a))
    unit = "$z_jk = max(0, a_jk)$ (ReLU)" if function == "relu" else "$z_jk = tanh(a_jk)$"
    statement = [
        f"A convolutional layer with one {M}×{M} kernel K, stride 1, no padding and bias "
        f"$w_0$, on a {side}×{side} image I: $a_jk = Σ_l Σ_m I(j+l, k+m) K(l, m) + w_0$ "
        f"(eq. 7.3), {unit} (eq. 7.4).",
        f"l and m run from 1 to {M}; the image is indexed from 1 and the units from 0, so "
        f"unit (0, 0) sees rows and columns 1 to {M}."]
    given = [(f"I({r},{c})", float(image[r - 1, c - 1]))
             for r in range(1, side + 1) for c in range(1, side + 1)]
    given += [(f"K({l},{m})", float(conv.weight.data[0, 0, l - 1, m - 1]))
              for l in range(1, M + 1) for m in range(1, M + 1)]
    given.append(("w_0", float(conv.bias.data[0])))
    asked = {f"{name}_{j}{k}" for j, k in units for name in "az"}
    groups = [("The unit's pre-activation (eq. 7.3): ", lambda k: k.startswith("a_")),
              ("Its output (eq. 7.4): ", lambda k: k.startswith("z_"))]
    return _exercise(difficulty, f"A {M}×{M} kernel on a {side}×{side} image", statement,
                     given, solution, asked, groups,
                     {"units": units, "activation": function}), fit


def _append_unit(solution: Solution, unit: Solution, j: int, k: int, first: bool) -> None:
    """The unit's sections under a heading naming it; its sum is called Σ_jk so that units
    do not share a name (the kernel, the same for every unit, is shown once)."""
    for section in unit.sections:
        if section.title.startswith("Kernel") and not first:
            continue
        section.title = f"Unit ({j}, {k}): {section.title}"
        for line in section.lines:
            if line.key == "Σ":
                line.key = f"Σ_{j}{k}"
        solution.sections.append(section)


# ---- one attention head (eq. 11.1–11.3) -------------------------------------------------------
def make_attention(rng: np.random.Generator, difficulty: int) -> Exercise:
    """One head, d = 2: scores, softmax rows, outputs for 2 (difficulty 1) or 3 tokens, and at
    difficulty 3 the backward pass for a given ∂E/∂y."""
    return _search(rng, difficulty, _attention_draw)


def _attention_draw(rng, difficulty: int):
    tokens = 2 if difficulty == 1 else 3 if difficulty == 2 else int(rng.integers(2, 4))
    step = 0.5 if difficulty == 1 else 0.1
    q, k, v = (decimals(rng, (tokens, 2), step) for _ in range(3))
    backward = difficulty == 3
    g = decimals(rng, (tokens, 2), 0.5) if backward else None
    solution = attention_head(q, k, v, grad_output=g)
    values = solution.to_dict()
    a = np.array([[values[f"a_{n}{m}"] for m in range(1, tokens + 1)]
                  for n in range(1, tokens + 1)])
    fit = bool(np.all(a >= 0.05) and np.all(a <= 0.95)) and not any(_tied(row) for row in a)
    prefixes = ("s_", "a_", "y_") + (("dE/ds_", "dE/dq_", "dE/dk_", "dE/dv_") if backward
                                     else ())
    asked = {key for key in values if key.startswith(prefixes)}
    statement = [
        f"One attention head on {tokens} tokens with queries $q_n$, keys $k_m$ and values "
        "$v_m$ of d = 2 features: scores $s_nm = q_n · k_m / √d$, weights "
        "$a_nm = exp(s_nm) / Σ_m' exp(s_nm')$, row by row (eq. 11.2–11.3), and outputs "
        "$y_n = Σ_m a_nm v_m$ (eq. 11.1). Vectors are written $q_1 = (q_1[1], q_1[2])$."]
    if backward:
        statement.append(
            "For the backward pass $∂E/∂y_n[i]$ is given as $g_n[i]$: "
            "$∂E/∂a_nm = Σ_i g_n[i] v_m[i]$, $∂E/∂s_nm = a_nm (∂E/∂a_nm − Σ_m' a_nm' "
            "∂E/∂a_nm')$, $∂E/∂q_n = Σ_m ∂E/∂s_nm k_m / √d$, $∂E/∂k_m = Σ_n ∂E/∂s_nm q_n / √d$, "
            "$∂E/∂v_m = Σ_n a_nm g_n$.")
    given = []
    for name, matrix in (("q", q), ("k", k), ("v", v)) + ((("g", g),) if backward else ()):
        given += [(f"{name}_{n}[{i}]", float(matrix[n - 1, i - 1]))
                  for n in range(1, tokens + 1) for i in (1, 2)]
    groups = [("Scores (eq. 11.2): ", lambda key: key.startswith("s_")),
              ("Softmax, row by row (eq. 11.2–11.3): ", lambda key: key.startswith("a_")),
              ("Outputs (eq. 11.1): ", lambda key: key.startswith("y_")),
              ("Backward through the softmax: ", lambda key: key.startswith("dE/ds_")),
              ("Gradients of the queries, keys and values: ",
               lambda key: key.startswith(("dE/dq_", "dE/dk_", "dE/dv_")))]
    return _exercise(difficulty, f"One attention head on {tokens} tokens", statement, given,
                     solution, asked, groups, {"tokens": tokens, "backward": backward}), fit

"""The network kinds: a forward pass (eq. 1.2–1.3, 2.5–2.10) and backpropagation of one
pattern with one gradient-descent step (Rules 1–3, eq. 3.8–3.11, eq. 2.20), solved by the
tracer :func:`deltagrad.explain.backprop`.

Sizes go up to 3-3-2; weights are multiples of 0.1 (difficulty 1) or 0.05, inputs multiples of
0.5 or 0.1. A draw is kept only when it is fit for working by hand: no saturated unit, no relu
at its kink or switched off, no δ that is (nearly) zero, no tied softmax outputs, and every
common mistake (see :mod:`.marking`) changes an asked answer by more than the rounding.
"""

from __future__ import annotations

import numpy as np

from ..explain import backprop, network as build_network
from .exercise import DECIMALS, Exercise, grouped_tasks
from .numbers import decimals

SIZES = {1: [(2, 2, 1)],
         2: [(2, 2, 1), (2, 3, 1), (3, 2, 1), (2, 2, 2)],
         3: [(3, 3, 2), (3, 2, 2), (2, 3, 2), (3, 3, 1)]}
HIDDEN = {1: ["tanh", "sigmoid"], 2: ["tanh", "sigmoid", "relu"], 3: ["tanh", "sigmoid", "relu"]}
# the canonical pairs (eq. 3.9): task -> (loss, output activation)
SETUPS = {"regression": ("sum_of_squares", "identity"),
          "binary classification": ("binary_cross_entropy", "sigmoid"),
          "multiclass classification": ("cross_entropy", "softmax")}
ERROR = {"sum_of_squares": "$E = ½ Σ_k (y_k − t_k)²$ (eq. 2.5)",
         "binary_cross_entropy": "$E = −Σ_k [t_k ln y_k + (1 − t_k) ln(1 − y_k)]$ (eq. 2.10)",
         "cross_entropy": "$E = −Σ_k t_k ln y_k$ with a one-hot target t (eq. 9.2)"}
UNIT = {"tanh": "${z} = tanh({a})$", "sigmoid": "${z} = σ({a})$ (the logistic sigmoid)",
        "relu": "${z} = max(0, {a})$", "identity": "${z} = {a}$ (identity)",
        "softmax": "${z} = exp({a}) / Σ_m exp(a_m)$ (softmax)"}
MAX_TRIES = 2000


def make_forward(rng: np.random.Generator, difficulty: int) -> Exercise:
    """A forward pass: every a and z of the hidden layer, the outputs and the error."""
    return _make(rng, difficulty, with_backward=False)


def make_backprop(rng: np.random.Generator, difficulty: int) -> Exercise:
    """Backpropagation of one pattern and one update: the §3.4 practice questions, fresh."""
    return _make(rng, difficulty, with_backward=True)


def _make(rng, difficulty: int, with_backward: bool) -> Exercise:
    from .marking import candidates  # the mistakes an exercise must tell apart

    for _ in range(MAX_TRIES):
        spec = _draw(rng, difficulty, with_backward)
        solution = _solve(spec, with_backward)
        exercise = Exercise(kind="", seed=0, number=0, difficulty=difficulty,
                            title=_title(spec), statement=_statement(spec, with_backward),
                            given=_given(spec, with_backward), tasks=[],
                            asked=_asked(solution, spec, difficulty, with_backward),
                            solution=solution, network=spec)
        if _fit_for_hand(exercise) and _mistakes_show(exercise, candidates):
            exercise.tasks = _tasks(exercise.asked, with_backward)
            return exercise
    raise RuntimeError("exercises: no draw fit for working by hand was found; "
                       "this is a bug, please report the kind, seed and difficulty")


# ---- drawing the numbers ---------------------------------------------------------------------
def _draw(rng, difficulty: int, with_backward: bool) -> dict:
    options = SIZES[difficulty]
    sizes = list(options[rng.integers(len(options))])
    tasks = [t for t in SETUPS if sizes[-1] >= 2 or t != "multiclass classification"]
    task = tasks[rng.integers(len(tasks))]
    loss, output = SETUPS[task]
    hidden = HIDDEN[difficulty][rng.integers(len(HIDDEN[difficulty]))]
    step = 0.1 if difficulty == 1 else 0.05
    layers = [(decimals(rng, (n_out, n_in), step).tolist(), decimals(rng, n_out, step).tolist())
              for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    x = decimals(rng, sizes[0], 0.5 if difficulty == 1 else 0.1, -2.0, 2.0).tolist()
    K = sizes[-1]
    if loss == "sum_of_squares":
        t = decimals(rng, K, 0.1).tolist()
    elif loss == "binary_cross_entropy":
        t = rng.integers(0, 2, K).astype(float).tolist()
    else:
        t = np.eye(K)[rng.integers(K)].tolist()
    lr = [0.1, 0.2, 0.5][rng.integers(3)] if difficulty > 1 else 0.1
    return dict(sizes=sizes, hidden=hidden, output=output, layers=layers, x=x, t=t, loss=loss,
                lr=lr if with_backward else None, task=task)


def _solve(spec: dict, with_backward: bool):
    solution = backprop(build_network(spec), spec["x"], spec["t"], loss=spec["loss"],
                        lr=spec["lr"], precision=DECIMALS, title=_title(spec))
    if not with_backward:  # the forward sections: inputs, each layer, the error
        solution.sections = [s for s in solution.sections
                             if s.title.startswith(("Inputs", "Layer", "Error"))]
    return solution


# ---- what is asked ---------------------------------------------------------------------------
def _asked(solution, spec: dict, difficulty: int, with_backward: bool) -> list:
    keys = list(solution.to_dict())
    hidden_a = [k for k in keys if k.startswith("a^(1)_")]
    hidden_z = [k for k in keys if k.startswith("z^(1)_")]
    outputs = [k for k in keys if k.startswith("y_")]
    output_a = [k for k in keys if k.startswith("a^(2)_")]
    if not with_backward:
        chosen = hidden_z + outputs if difficulty == 1 else hidden_a + hidden_z + output_a + outputs
        return chosen + ["E"]
    deltas = [k for k in keys if k.startswith("delta^")]
    grads = [k for k in keys if k.startswith("dE/dw")]
    updates = [k for k in keys if k.endswith(" new")]
    if difficulty == 1:
        chosen = outputs + ["E"] + deltas + ["dE/dw^(2)_11", "dE/dw^(1)_11", "w^(2)_11 new"]
    elif difficulty == 2:
        chosen = outputs + ["E"] + deltas + [k for k in grads if k.startswith("dE/dw^(1)")] + \
            [k for k in updates if k.startswith("w^(2)")]
    else:
        chosen = hidden_a + hidden_z + outputs + ["E"] + deltas + grads + updates
    return [k for k in keys if k in chosen]  # in the order of the solution


def _tasks(asked: list, with_backward: bool) -> list:
    groups = [("Forward pass (eq. 1.2–1.3): ", lambda k: k[0] in "azy"),
              ("The error: ", lambda k: k == "E"),
              ("Backward pass (Rules 1–2, eq. 3.8–3.10): ", lambda k: k.startswith("delta")),
              ("Gradients (Rule 3, eq. 3.11): ", lambda k: k.startswith("dE/dw")),
              ("One step of gradient descent (eq. 2.20), the new weights: ",
               lambda k: k.endswith(" new"))]
    return grouped_tasks(asked, groups)


# ---- the question in words ---------------------------------------------------------------------
def _title(spec: dict) -> str:
    return f"A {'-'.join(map(str, spec['sizes']))} {spec['task']} network"


def _statement(spec: dict, with_backward: bool) -> list:
    sizes = spec["sizes"]
    net = (f"A {'-'.join(map(str, sizes))} network for {spec['task']}: {sizes[0]} inputs; "
           f"{sizes[1]} hidden units $a^(1)_j = Σ_i w^(1)_ji x_i + w^(1)_j0$, "
           f"{UNIT[spec['hidden']].format(z='z_j', a='a_j')}; {sizes[2]} output "
           f"unit{'s' * (sizes[2] > 1)} $a^(2)_k = Σ_j w^(2)_kj z_j + w^(2)_k0$, "
           f"{UNIT[spec['output']].format(z='y_k', a='a_k')}.")
    error = f"Error function: {ERROR[spec['loss']]}."
    paragraphs = [net, error]
    if with_backward:
        paragraphs.append(f"Learning rate $η = {spec['lr']:g}$.")
    paragraphs.append("Weights $w_ji$ go from unit i to unit j; $w_j0$ is the bias.")
    return paragraphs


def _given(spec: dict, with_backward: bool) -> list:
    given = [(f"x_{i}", v) for i, v in enumerate(spec["x"], start=1)]
    given += [(f"t_{k}", v) for k, v in enumerate(spec["t"], start=1)]
    for l, (W, b) in enumerate(spec["layers"], start=1):
        for j, (row, bias) in enumerate(zip(W, b), start=1):
            given += [(f"w^({l})_{j}{i}", w) for i, w in enumerate(row, start=1)]
            given.append((f"w^({l})_{j}0", bias))
    return given


# ---- fit for working by hand -------------------------------------------------------------------
def _fit_for_hand(exercise: Exercise) -> bool:
    """No saturated or switched-off unit, no (near-)zero δ or asked gradient, no ties."""
    spec, values = exercise.network, exercise.solution.to_dict()
    hidden_a = np.array([values[f"a^(1)_{j}"] for j in range(1, spec["sizes"][1] + 1)])
    output_a = np.array([values[f"a^(2)_{k}"] for k in range(1, spec["sizes"][2] + 1)])
    y = np.array([values[f"y_{k}"] for k in range(1, spec["sizes"][2] + 1)])
    if spec["hidden"] == "relu":
        if np.any(hidden_a < 0.1):  # off (δ = 0) or at the kink
            return False
    elif np.any(np.abs(hidden_a) > 2.0) or np.any(np.abs(hidden_a) < 0.1):
        return False
    if spec["output"] == "sigmoid" and np.any(np.abs(output_a) > 2.5):
        return False
    if spec["output"] == "softmax" and (y.min() < 0.05 or _tied(y)):
        return False
    if len(y) > 1 and _tied(y):
        return False
    for key in exercise.asked:
        if key.startswith("delta") and abs(values[key]) < 0.01:
            return False
        if key.startswith("dE/dw") and abs(values[key]) < 0.005:
            return False
    return True


def _tied(values: np.ndarray, gap: float = 0.02) -> bool:
    ordered = np.sort(values)
    return bool(np.any(np.diff(ordered) < gap))


def _mistakes_show(exercise: Exercise, candidates) -> bool:
    """Every common mistake at an asked quantity moves it by more than three times the
    tolerance, and two different mistakes never give the same number: the check mode can
    name the mistake."""
    margin = 3 * exercise.tolerance
    values = exercise.solution.to_dict()
    for key in exercise.asked:
        found = [c.value for c in candidates(exercise, key, values)]
        if any(abs(v - values[key]) < margin for v in found):
            return False
        if _tied(np.array(found), margin) if len(found) > 1 else False:
            return False
    return True

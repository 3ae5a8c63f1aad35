"""The logic kind (chapters 5–6): for a boolean function given as an expression or a truth
table — its truth table, whether one perceptron computes it (Remark 5.1: if so with which w and
b; if not, why not), and a network of perceptrons that does, verified row by row (§5.3).

"Why one perceptron cannot" is answered by a certificate: rows where f = 1 and as many rows
where f = 0 with the same average. z = w·x + b is linear, so its average over the first rows
would be ≥ 0 and over the second < 0 at one and the same point.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..explain import logic as trace
from ..explain.solution import Line, Solution
from ..logic import (LogicNetwork, compile, evaluate, from_truth_table, is_linearly_separable,
                     parse, truth_table_inputs, verify)
from .exercise import Exercise
from .marking import Mark, Marking, check_keys

OPERATORS = ["and", "or", "xor", "nand", "nor"]
FIELDS = ("truth_table", "separable", "perceptron", "certificate", "network")
MAX_TRIES = 500


def make(rng: np.random.Generator, difficulty: int) -> Exercise:
    """Difficulty 1: two inputs and one operator; 2: three inputs and two operators; 3: three
    inputs given by the truth table alone. About half of the functions are separable."""
    n = 2 if difficulty == 1 else 3
    want_separable = bool(rng.integers(2))
    names = [f"x{i}" for i in range(1, n + 1)]
    for _ in range(MAX_TRIES):
        expression = _expression(rng, names) if difficulty < 3 else None
        table = _table(expression, n) if expression else rng.integers(0, 2, 2 ** n)
        if _uses_every_input(table, n) and bool(is_linearly_separable(table)) == want_separable:
            return _exercise(expression, table, n, difficulty)
    raise RuntimeError("exercises: no boolean function was found; this is a bug")


def _expression(rng, names) -> str:
    literals = [f"not {v}" if rng.random() < 0.25 else v for v in rng.permutation(names)]
    text = literals[0]
    for count, literal in enumerate(literals[1:]):
        op = OPERATORS[rng.integers(len(OPERATORS))]
        text = f"({text}) {op} {literal}" if count else f"{text} {op} {literal}"
    return text


def _table(expression: str, n: int) -> np.ndarray:
    X = truth_table_inputs(n).astype(bool)
    columns = {f"x{i + 1}": X[:, i] for i in range(n)}
    return np.broadcast_to(evaluate(parse(expression), columns), (len(X),)).astype(np.int64)


def _uses_every_input(table, n: int) -> bool:
    """Non-constant, and flipping each input changes f somewhere."""
    table = np.asarray(table)
    rows = np.arange(2 ** n)
    return all(np.any(table != table[rows ^ (1 << (n - 1 - i))]) for i in range(n))


def _linear_text(w, b) -> str:
    """``x1 + x2 − 1.5`` for w = (1, 1), b = −1.5: the perceptron's z as one writes it."""
    text = ""
    for i, v in enumerate(w, start=1):
        if v == 0:
            continue
        size = "" if abs(v) == 1 else f"{abs(v):g}"
        text += (" − " if v < 0 else " + " if text else "") + f"{size}x{i}"
    text = text.replace(" − ", "−", 1) if text.startswith(" − ") else text
    return (text or "0") + (f" − {-b:g}" if b < 0 else f" + {b:g}")


def _row(bits) -> str:
    return "(" + ", ".join(str(int(b)) for b in bits) + ")"


# ---- the answer ------------------------------------------------------------------------------
def nice_perceptron(table, n: int) -> tuple:
    """The perceptron with the smallest integer weights (|w_i| ≤ 2) and a bias ending in .5
    that computes the table, as the notes write gates; the LP's when none is that small."""
    X = truth_table_inputs(n)
    biases = np.arange(-3.5, 4.0, 1.0)
    best = None
    for w in itertools.product(range(-2, 3), repeat=n):
        w = np.array(w, dtype=float)
        for b in biases:
            if np.array_equal((X @ w + b >= 0).astype(int), table):
                size = (np.abs(w).sum(), abs(b))
                if best is None or size < best[0]:
                    best = (size, w, float(b))
    if best is not None:
        return best[1], best[2]
    found = is_linearly_separable(table)
    return np.round(found.weights, 4), round(float(found.bias), 4)


def certificate(table, n: int) -> dict:
    """k rows where f = 1 and k rows where f = 0 with the same average (k = 2, 3, …)."""
    X = truth_table_inputs(n).astype(int)
    true_rows, false_rows = X[table == 1], X[table == 0]
    for k in range(2, 2 ** n + 1):
        sums = {}
        for combo in itertools.combinations_with_replacement(range(len(false_rows)), k):
            sums.setdefault(tuple(false_rows[list(combo)].sum(axis=0)), combo)
        for combo in itertools.combinations_with_replacement(range(len(true_rows)), k):
            key = tuple(true_rows[list(combo)].sum(axis=0))
            if key in sums:
                return {"true": true_rows[list(combo)].tolist(),
                        "false": false_rows[list(sums[key])].tolist()}
    raise RuntimeError("certificate: the function is linearly separable")


def _network(expression, table, n: int) -> LogicNetwork:
    if expression is not None:
        return compile(expression, "structure")
    return from_truth_table(table, n)


def _layers(network: LogicNetwork) -> list:
    return [{"weights": linear.weight.data.tolist(), "biases": linear.bias.data.tolist()}
            for linear in network.linears]


def _exercise(expression, table, n: int, difficulty: int) -> Exercise:
    table = np.asarray(table, dtype=np.int64)
    separable = bool(is_linearly_separable(table))
    net = _network(expression, table, n)
    answers = {"truth_table": table.tolist(), "separable": separable, "network": _layers(net)}
    if separable:
        w, b = nice_perceptron(table, n)
        answers["perceptron"] = {"weights": w.tolist(), "bias": b}
    else:
        answers["certificate"] = certificate(table, n)
    names = ", ".join(f"x{i}" for i in range(1, n + 1))
    given = f"f({names}) = `{expression}`" if expression else \
        f"f({names}) is given by its truth table (x1 the most significant bit, as in the notes)"
    statement = [f"{given}. A perceptron outputs 1 if $z = Σ_i w_i x_i + b ≥ 0$ and 0 "
                 "otherwise (eq. 5.1–5.2)."]
    tasks = []
    if expression:
        tasks.append("Write the truth table of f (`truth_table`: the outputs for rows "
                     f"{', '.join(_row(r) for r in truth_table_inputs(n)[:3])}, …).")
    tasks += ["Can one perceptron compute f (`separable`: true or false)? If it can, give its "
              "weights and bias (`perceptron`: weights, bias). If it cannot, show why (Remark "
              "5.1): give rows where f = 1 and as many rows where f = 0 with the same average "
              "(`certificate`: true, false).",
              "Build a network of perceptrons that computes f (`network`: per layer the "
              "weights w_ji and biases) and verify it on every row (§5.3)."]
    asked = (["truth_table"] if expression else []) + ["separable"] + \
        (["perceptron"] if separable else ["certificate"]) + ["network"]
    title = f"f = {expression}" if expression else f"A function of {n} inputs from its truth table"
    return Exercise(kind="", seed=0, number=0, difficulty=difficulty, title=title,
                    statement=statement, given=[], tasks=tasks, asked=asked,
                    solution=_solution(title, table, n, net, answers),
                    data={"table": table.tolist(), "expression": expression, "n": n,
                          "answers": answers})


def _solution(title: str, table, n: int, net: LogicNetwork, answers: dict) -> Solution:
    sol = Solution(title, precision=1)
    rows = truth_table_inputs(n)
    section = sol.section("Truth table (x1 the most significant bit)")
    for row, value in zip(rows, table):
        section.lines.append(Line(f"f{_row(row)}", float(value)))
    if answers["separable"]:
        w, b = answers["perceptron"]["weights"], answers["perceptron"]["bias"]
        z = _linear_text(w, b)
        section = sol.section("One perceptron? (Remark 5.1)", note=(
            f"Yes: z = {z} is ≥ 0 exactly on the rows where f = 1."))
        section.lines.append(Line("separable", 1.0))
        section.lines += [Line(f"w_{i}", v) for i, v in enumerate(w, start=1)]
        section.lines.append(Line("b", b))
    else:
        cert = answers["certificate"]
        point = np.mean(cert["true"], axis=0)
        section = sol.section("One perceptron? (Remark 5.1)", note=(
            f"No: the rows {', '.join(map(_row, cert['true']))} where f = 1 and the rows "
            f"{', '.join(map(_row, cert['false']))} where f = 0 have the same average "
            f"({', '.join(f'{v:g}' for v in point)}). z = w·x + b is linear, so its average "
            "over the first rows would be ≥ 0 and over the second < 0 at one and the same "
            "point: no w and b exist."))
        section.lines.append(Line("separable", 0.0))
    sol.section("A network of perceptrons (§6.1, §6.3)",
                note="; ".join(line.strip() for line in net.describe().splitlines()[1:]))
    check = sol.section("Verification on every row (§5.3): each neuron's f(z)")
    for row in rows:
        values = trace(net, row).to_dict()
        units = [k for k in values if k.startswith("z(")]
        working = ", ".join(f"{k[2:-1]} = f({values[k]:+g}) = {values[k[2:-1]]:g}"
                            for k in units)
        check.lines.append(Line(f"y{_row(row)}", values["y"], working=working))
    return sol


# ---- marking ---------------------------------------------------------------------------------
def mark(exercise: Exercise, answers: dict) -> Marking:
    """Mark the fields of a logic answer: the truth table and ``separable`` exactly, a
    perceptron, a certificate and a network by checking them against f on every row."""
    number = exercise.number
    check_keys(answers, FIELDS, number, f"with {list(FIELDS)}",
               f"a logic exercise has {list(FIELDS)}")
    n, table = exercise.data["n"], np.asarray(exercise.data["table"])
    expected = exercise.data["answers"]
    marking = Marking(number)
    for key in FIELDS:
        if answers.get(key) is None:
            continue
        problem = _MARKERS[key](answers[key], table, n, number)
        marking.marks.append(Mark(key, answers[key], expected.get(key), problem is None))
        if problem is not None and marking.first_wrong is None:
            marking.first_wrong, marking.mistake = key, key
            marking.diagnosis = f"{key}: {problem}"
    marking.missing = [k for k in exercise.asked if answers.get(k) is None]
    return marking


def _bits(value, n: int, what: str, number: int) -> np.ndarray:
    array = np.asarray(value, dtype=object)
    if array.shape != (n,) or not all(v in (0, 1) and not isinstance(v, float) or v in (0.0, 1.0)
                                      for v in array.tolist()):
        raise ValueError(f"exercise {number}: {what} must be {n} values 0/1, got {value!r}")
    return np.asarray(array.tolist(), dtype=np.int64)


def _numbers(value, shape: tuple, what: str, number: int) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or array.shape != shape or not np.all(np.isfinite(array)):
        raise ValueError(f"exercise {number}: {what} must be numbers of shape {shape}, got "
                         f"{value!r}")
    return array


def _mark_table(value, table, n, number):
    got = _bits(value, 2 ** n, "truth_table", number)
    wrong = np.flatnonzero(got != table)
    if wrong.size == 0:
        return None
    row = truth_table_inputs(n)[wrong[0]]
    return f"at x = {_row(row)} you have {got[wrong[0]]}, f is {table[wrong[0]]}"


def _mark_separable(value, table, n, number):
    if not isinstance(value, bool):
        raise ValueError(f"exercise {number}: separable must be true or false, got {value!r}")
    if value == bool(is_linearly_separable(table)):
        return None
    if value:
        cert = certificate(table, n)
        return (f"no single perceptron computes f: the rows {', '.join(map(_row, cert['true']))} "
                f"(f = 1) and {', '.join(map(_row, cert['false']))} (f = 0) have the same average")
    w, b = nice_perceptron(table, n)
    return f"one perceptron does: w = {w.tolist()}, b = {b:g}"


def _mark_perceptron(value, table, n, number):
    if not isinstance(value, dict) or set(value) != {"weights", "bias"}:
        raise ValueError(f"exercise {number}: perceptron must be {{\"weights\": [{n} numbers], "
                         f"\"bias\": number}}, got {value!r}")
    w = _numbers(value["weights"], (n,), "perceptron weights", number)
    b = float(_numbers(value["bias"], (), "perceptron bias", number))
    X = truth_table_inputs(n)
    z = X @ w + b
    out = (z >= 0).astype(int)
    wrong = np.flatnonzero(out != table)
    if wrong.size == 0:
        return None
    r = wrong[0]
    return (f"at x = {_row(X[r])}: z = w·x + b = {z[r]:g} {'≥' if out[r] else '<'} 0 gives "
            f"{out[r]}, but f = {table[r]}")


def _mark_certificate(value, table, n, number):
    if not isinstance(value, dict) or set(value) != {"true", "false"}:
        raise ValueError(f"exercise {number}: certificate must be {{\"true\": [rows], "
                         f"\"false\": [rows]}}, got {value!r}")
    sides = {}
    for side, wanted in (("true", 1), ("false", 0)):
        rows = value[side]
        if not isinstance(rows, list) or not rows:
            raise ValueError(f"exercise {number}: certificate {side} must be a list of rows")
        bits = np.array([_bits(r, n, "a certificate row", number) for r in rows])
        index = bits @ (1 << np.arange(n - 1, -1, -1))
        bad = [r for r, i in zip(bits, index) if table[i] != wanted]
        if bad:
            return f"f{_row(bad[0])} = {1 - wanted}, so that row does not belong to '{side}'"
        sides[side] = bits.mean(axis=0)
    if np.allclose(sides["true"], sides["false"]):
        return None
    return (f"the averages differ: {_row_float(sides['true'])} for the rows where f = 1, "
            f"{_row_float(sides['false'])} for those where f = 0")


def _row_float(values) -> str:
    return "(" + ", ".join(f"{v:g}" for v in values) + ")"


def _mark_network(value, table, n, number):
    if not isinstance(value, list) or not value:
        raise ValueError(f"exercise {number}: network must be a list of layers "
                         "{\"weights\": [[...]], \"biases\": [...]}")
    layers, inputs = [], n
    for l, layer in enumerate(value, start=1):
        if not isinstance(layer, dict) or set(layer) != {"weights", "biases"}:
            raise ValueError(f"exercise {number}: network layer {l} must be "
                             "{\"weights\": [[...]], \"biases\": [...]}")
        biases = _numbers(layer["biases"], (len(np.ravel(layer["biases"])),),
                          f"network layer {l} biases", number)
        weights = _numbers(layer["weights"], (len(biases), inputs),
                           f"network layer {l} weights", number)
        layers.append((weights, biases, [f"unit {j + 1}" for j in range(len(biases))]))
        inputs = len(biases)
    if inputs != 1:
        raise ValueError(f"exercise {number}: the network's last layer must have one unit, "
                         f"got {inputs}")
    result = verify(LogicNetwork(layers, [f"x{i}" for i in range(1, n + 1)]), table)
    if result:
        return None
    bad = result.counterexample
    row = [bad[f"x{i}"] for i in range(1, n + 1)]
    return f"at x = {_row(row)} the network outputs {bad['network']}, f is {bad['expected']}"


_MARKERS = {"truth_table": _mark_table, "separable": _mark_separable,
            "perceptron": _mark_perceptron, "certificate": _mark_certificate,
            "network": _mark_network}

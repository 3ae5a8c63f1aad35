"""Marking answers: right or wrong within the stated rounding, and for the first wrong one the
step where it diverges, named as one of the common mistakes when one explains it.

A common mistake is recomputed *locally*: the quantity from the right values it depends on,
with one slip — a wrong derivative (z(1 − z) for tanh, h′ at a instead of z, h′ left out), a
sign error in δ, a forgotten bias, a transposed weight index, the ½ of eq. 2.5 left out, the
pre-activation in place of z, η left out or the step taken uphill. The student's number is
matched against these within the tolerance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..nn.activation import ACTIVATIONS
from ..tensor import Tensor
from .exercise import pretty

_UNIT = re.compile(r"^(a|z|delta)\^\((\d+)\)_(\d+)$")
_WEIGHT = re.compile(r"^(dE/dw|w)\^\((\d+)\)_(\d)(\d)( new)?$")
_OUTPUT = re.compile(r"^y_(\d+)$")
DERIVATIVES = {  # activation -> [(formula, h' from (a, z)), ...]: the right one first
    "tanh": [("1 − z²", lambda a, z: 1 - z * z), ("z(1 − z)", lambda a, z: z * (1 - z)),
             ("1 − a²", lambda a, z: 1 - a * a), ("1 (left out)", lambda a, z: 1.0)],
    "sigmoid": [("z(1 − z)", lambda a, z: z * (1 - z)), ("1 − z²", lambda a, z: 1 - z * z),
                ("a(1 − a)", lambda a, z: a * (1 - a)), ("1 (left out)", lambda a, z: 1.0)],
}
SWAPPED = {"tanh": "sigmoid", "sigmoid": "tanh"}


@dataclass
class Candidate:
    """One common mistake at one quantity: what it gives and how to say it."""

    mistake: str   # "derivative", "sign", "bias", "transposed", "half", "eta", ...
    value: float
    message: str


@dataclass
class Mark:
    key: str
    given: object
    expected: object
    right: bool


@dataclass
class Marking:
    """The marks of one exercise; ``first_wrong`` and ``diagnosis`` name where and how the
    first wrong answer (in the order of the solution) went astray."""

    number: int
    marks: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    first_wrong: str | None = None
    mistake: str | None = None
    diagnosis: str = ""

    @property
    def right(self) -> int:
        return sum(m.right for m in self.marks)

    @property
    def ok(self) -> bool:
        return self.first_wrong is None and not self.missing

    def to_dict(self) -> dict:
        return {"number": self.number, "right": self.right, "answered": len(self.marks),
                "marks": {m.key: m.right for m in self.marks}, "missing": self.missing,
                "first_wrong": self.first_wrong, "mistake": self.mistake,
                "diagnosis": self.diagnosis}

    def to_text(self) -> str:
        head = f"Exercise {self.number}: {self.right} of {len(self.marks)} answers right"
        lines = [head + (f", {len(self.missing)} not answered ({', '.join(self.missing)})"
                         if self.missing else "")]
        lines += [f"  {'✓' if m.right else '✗'} {pretty(m.key)} = {_show(m.given)}" +
                  ("" if m.right else f"   (expected {_show(m.expected)})") for m in self.marks]
        if self.first_wrong is not None:
            lines.append(f"  first wrong step: {self.diagnosis}")
        return "\n".join(lines)


def _show(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


# ---- the network kinds ----------------------------------------------------------------------
def mark_numbers(exercise, answers: dict) -> Marking:
    """Mark numeric answers ``{quantity name: number}`` against the solution; any quantity of
    the solution may be given (intermediate ones such as ``sum^(1)_2`` help the diagnosis)."""
    values = exercise.solution.to_dict()
    given = _numbers(answers, values, exercise.number)
    marking = Marking(exercise.number)
    for key in values:  # the solution's order is the order of working
        if key in given:
            right = abs(given[key] - values[key]) <= exercise.tolerance
            marking.marks.append(Mark(key, given[key], values[key], right))
            if not right and marking.first_wrong is None:
                marking.first_wrong = key
                marking.mistake, marking.diagnosis = _diagnose(exercise, key, given, values)
    marking.missing = [k for k in exercise.asked if k not in given]
    return marking


def check_keys(answers, known, number: int, form: str, names: str) -> None:
    """``answers`` must be an object whose keys are all in ``known``; the errors say ``form``
    (what an answer looks like) and ``names`` (what the exercise has)."""
    if not isinstance(answers, dict):
        raise ValueError(f"exercise {number}: answers must be an object {form}, "
                         f"got {type(answers).__name__}")
    unknown = [k for k in answers if k not in known]
    if unknown:
        raise ValueError(f"exercise {number}: unknown quantity {unknown[0]!r}; {names}")


def _numbers(answers: dict, values: dict, number: int) -> dict:
    check_keys(answers, values, number, "{quantity: number}",
               f"this exercise has {', '.join(list(values)[:6])}, … (the names in its "
               "answer key)")
    out = {}
    for key, value in answers.items():
        if value is None:  # left blank
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not np.isfinite(value):
            raise ValueError(f"exercise {number}: the answer for {key!r} must be a number, "
                             f"got {value!r}")
        out[key] = float(value)
    return out


def _diagnose(exercise, key: str, given: dict, values: dict) -> tuple:
    answer, exact = given[key], values[key]
    head = f"{pretty(key)}: you have {answer:.4f}, the answer is {exact:.4f}; "
    for candidate in candidates(exercise, key, values):
        if abs(candidate.value - answer) <= exercise.tolerance:
            return candidate.mistake, head + candidate.message
    parts = _parts_given(key, given, values, exercise.tolerance)
    line = _line(exercise.solution, key)
    working = exercise.solution._fill(line.working or line.formula, 4) if line else ""
    return None, head + (parts or "it is not one of the common mistakes with the right values "
                         "before it") + (f"; the working is {working}" if working else "")


def _parts_given(key: str, given: dict, values: dict, tol: float) -> str:
    """For a hidden δ whose h′ or Σ the student also gave: which of the two is wrong."""
    match = _UNIT.match(key)
    if not match or match.group(1) != "delta":
        return ""
    l, j = match.group(2), match.group(3)
    said = []
    for part, name in ((f"h'(a^({l})_{j})", "the derivative h′(a)"),
                       (f"sum^({l})_{j}", "the sum Σ_k w_kj δ_k")):
        if part in given:
            ok = abs(given[part] - values[part]) <= tol
            said.append(f"{name} is {'right' if ok else 'wrong'}")
    return ", ".join(said)


def _line(solution, key: str):
    for section in solution.sections:
        for line in section.lines:
            if line.key == key:
                return line
    return None


# ---- the common mistakes, one quantity at a time ------------------------------------------------
def candidates(exercise, key: str, values: dict) -> list:
    """The values the common mistakes give for ``key``, each computed from the right values
    it depends on (a list of :class:`Candidate`; empty when no common mistake applies)."""
    spec = exercise.network
    if spec is None:
        return []
    found = _local_mistakes(_Net(spec, values), key)
    return [c for c in found if abs(c.value - values[key]) > 1e-12]  # a slip that changes it


def _local_mistakes(net, key: str) -> list:
    if key == "E":
        return net.error_mistakes()
    match = _OUTPUT.match(key)
    if match:
        return net.output_mistakes(net.L, int(match.group(1)))
    match = _UNIT.match(key)
    if match:
        kind, l, j = match.group(1), int(match.group(2)), int(match.group(3))
        return {"a": net.a_mistakes, "z": net.output_mistakes,
                "delta": net.delta_mistakes}[kind](l, j)
    match = _WEIGHT.match(key)
    if match:
        kind, l, j, i = match.group(1), int(match.group(2)), int(match.group(3)), \
            int(match.group(4))
        return net.gradient_mistakes(l, j, i) if kind == "dE/dw" else net.update_mistakes(l, j, i)
    return []


class _Net:
    """The question's weights and the solution's right values, indexed the notes' way."""

    def __init__(self, spec: dict, values: dict):
        self.spec, self.values = spec, values
        self.W = [np.asarray(W, dtype=float) for W, _ in spec["layers"]]
        self.b = [np.asarray(b, dtype=float) for _, b in spec["layers"]]
        self.L = len(self.W)

    def activation(self, l: int) -> str:
        return self.spec["output"] if l == self.L else self.spec["hidden"]

    def name(self, kind: str, l: int, j: int) -> str:
        return f"y_{j}" if kind == "z" and l == self.L else f"{kind}^({l})_{j}"

    def vector(self, kind: str, l: int) -> np.ndarray:
        if kind == "z" and l == 0:
            return np.asarray(self.spec["x"], dtype=float)
        return np.array([self.values[self.name(kind, l, j)]
                         for j in range(1, self.W[l - 1].shape[0] + 1)])

    def source_name(self, l: int, i: int) -> str:
        return f"x_{i}" if l == 1 else self.name("z", l - 1, i)

    def apply(self, l: int, a: np.ndarray, name: str | None = None) -> np.ndarray:
        return ACTIVATIONS[name or self.activation(l)].function(Tensor(a[None, :])).data[0]

    # a^(l)_j = Σ_i w_ji z_i + w_j0 (eq. 1.2)
    def a_mistakes(self, l: int, j: int) -> list:
        W, b, source = self.W[l - 1], self.b[l - 1], self.vector("z", l - 1)
        a = self.values[f"a^({l})_{j}"]
        out = [Candidate("bias", a - b[j - 1],
                         f"the bias w^({l})_{j}0 = {b[j - 1]:g} was left out of a^({l})_{j}")]
        if W.shape[0] == W.shape[1]:
            swapped = float(W[:, j - 1] @ source + b[j - 1])
            if abs(swapped - a) > 1e-12:
                out.append(Candidate("transposed", swapped,
                                     f"the weights were read as w^({l})_i{j} (from unit {j} to "
                                     f"unit i) instead of w^({l})_{j}i (from i to {j})"))
        return out

    # z^(l)_j = h(a^(l)_j), y_k = g(a_k) (eq. 1.3): the slips of a, and the wrong function
    def output_mistakes(self, l: int, j: int) -> list:
        a = self.vector("a", l)
        out = []
        for slip in self.a_mistakes(l, j):
            wrong = a.copy()
            wrong[j - 1] = slip.value
            out.append(Candidate(slip.mistake, float(self.apply(l, wrong)[j - 1]),
                                 f"{slip.message}, so {self.name('z', l, j)} is "
                                 f"{self.activation(l)} of a wrong a"))
        other = SWAPPED.get(self.activation(l))
        if other:
            out.append(Candidate("activation", float(self.apply(l, a, other)[j - 1]),
                                 f"{other} was used in place of {self.activation(l)}"))
        return out

    def error_mistakes(self) -> list:
        E = self.values["E"]
        if self.spec["loss"] == "sum_of_squares":
            return [Candidate("half", 2 * E, "the ½ of E = ½ Σ_k (y_k − t_k)² (eq. 2.5) was "
                                             "left out")]
        return [Candidate("sign", -E, "the minus sign of the cross-entropy was left out "
                                      "(E ≥ 0: it is −Σ t ln y)")]

    # Rule 1: δ_k = y_k − t_k (canonical pairs, eq. 3.9); Rule 2: δ_j = h′(a_j) Σ_k w_kj δ_k
    def delta_mistakes(self, l: int, j: int) -> list:
        key = f"delta^({l})_{j}"
        delta = self.values[key]
        out = [Candidate("sign", -delta, "a sign error in δ: the output δ is y − t, not t − y "
                                         "(eq. 3.9), and Rule 2 keeps its sign")]
        if l == self.L:
            return out
        name = self.activation(l)
        total = self.values[f"sum^({l})_{j}"]
        a, z = self.values[f"a^({l})_{j}"], self.values[f"z^({l})_{j}"]
        if name in DERIVATIVES:
            (right, h_right), *wrong = DERIVATIVES[name]
            for formula, h in wrong:
                out.append(Candidate(
                    "derivative", h(a, z) * total,
                    f"the sum Σ_k w_kj δ_k = {total:.4f} is right, the derivative "
                    f"h′(a) = {right} = {h_right(a, z):.4f} was taken as {formula} = "
                    f"{h(a, z):.4f}"))
        W_next, delta_next = self.W[l], self.vector("delta", l + 1)
        if W_next.shape[0] == W_next.shape[1]:
            swapped = float(W_next[j - 1] @ delta_next)
            if abs(swapped - total) > 1e-12:
                h_prime = self.values[f"h'(a^({l})_{j})"]
                out.append(Candidate(
                    "transposed", h_prime * swapped,
                    f"the derivative is right, the sum took w^({l + 1})_{j}k (out of unit {j} "
                    f"of layer {l + 1}) for w^({l + 1})_k{j} (from unit {j} to unit k): "
                    f"{swapped:.4f} instead of {total:.4f}"))
        return out

    # Rule 3: ∂E/∂w_ji = δ_j z_i, ∂E/∂w_j0 = δ_j (eq. 3.11)
    def gradient_mistakes(self, l: int, j: int, i: int) -> list:
        g = self.values[f"dE/dw^({l})_{j}{i}"]
        out = [Candidate("sign", -g, "a sign error: ∂E/∂w_ji = δ_j z_i with δ = y − t")]
        if i == 0:
            return out
        deltas, source = self.vector("delta", l), self.vector("z", l - 1)
        if i != j and i <= len(deltas) and j <= len(source):
            out.append(Candidate("transposed", float(deltas[i - 1] * source[j - 1]),
                                 f"the indices were swapped: ∂E/∂w^({l})_{j}{i} = "
                                 f"δ^({l})_{j} {self.source_name(l, i)}, not "
                                 f"δ^({l})_{i} {self.source_name(l, j)}"))
        if l > 1 and self.activation(l - 1) != "identity":
            pre = self.values[f"a^({l - 1})_{i}"]
            out.append(Candidate("pre-activation", float(deltas[j - 1] * pre),
                                 f"the input of the weight is z^({l - 1})_{i} = "
                                 f"{source[i - 1]:.4f}, not a^({l - 1})_{i} = {pre:.4f}"))
        return out

    # eq. 2.20: w ← w − η ∂E/∂w
    def update_mistakes(self, l: int, j: int, i: int) -> list:
        w = self.W[l - 1][j - 1, i - 1] if i else self.b[l - 1][j - 1]
        g, eta = self.values[f"dE/dw^({l})_{j}{i}"], self.spec["lr"]
        return [Candidate("sign", w + eta * g, "the step went uphill: w ← w − η ∂E/∂w "
                                               "(eq. 2.20), not w + η ∂E/∂w"),
                Candidate("eta", w - g, f"the learning rate η = {eta:g} was left out")]

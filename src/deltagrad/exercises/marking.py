"""Marking answers: right or wrong within the stated rounding, and for the first wrong one the
step where it diverges, named as one of the common mistakes when one explains it.

A common mistake is recomputed *locally*: the quantity from the right values it depends on,
with one slip — a wrong derivative (z(1 − z) for tanh, h′ at a instead of z, h′ left out), a
sign error in δ, a forgotten bias (the unit's own, or a hidden unit's bias carried forward
into every later a, z, y and E), a transposed weight index, the ½ of eq. 2.5 left out, the
pre-activation in place of z, η left out or the step taken uphill. The student's number is
matched against these within the tolerance.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import numpy as np

from .. import losses as _losses
from ..nn.activation import ACTIVATIONS
from ..tensor import Tensor
from .exercise import plain, pretty

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
        if not self.marks and self.missing:
            return (f"Exercise {self.number}: not answered ({len(self.missing)} answers "
                    f"missing: {', '.join(map(pretty, self.missing))})")
        head = f"Exercise {self.number}: {self.right} of {len(self.marks)} answers right"
        lines = [head + (f", {len(self.missing)} not answered "
                         f"({', '.join(map(pretty, self.missing))})" if self.missing else "")]
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
    the solution may be given (intermediate ones such as ``sum^(1)_2`` help the diagnosis),
    named as in the answer key (``delta^(2)_1``) or as the sheet prints it (``δ^(2)_1``);
    a number may be written as text (``"0.7219"``), and ``null`` or ``""`` is left blank."""
    values = exercise.solution.to_dict()
    given = _numbers(answers, values, exercise)
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


def _numbers(answers, values: dict, exercise) -> dict:
    """``{answer-key name: float}`` of the answers given (blanks left out)."""
    number = exercise.number
    if not isinstance(answers, dict):
        raise ValueError(f"exercise {number}: answers must be an object {{quantity: number}}, "
                         f"got {type(answers).__name__}")
    out, written = {}, {}
    for key, value in answers.items():
        name = key if key in values else plain(str(key))
        if name not in values:
            raise ValueError(_unknown(str(key), values, exercise))
        if name in written:
            raise ValueError(f"exercise {number}: {written[name]!r} and {key!r} both answer "
                             f"{pretty(name)}; give it once")
        written[name] = key
        answer = _answer_number(value, key, number)
        if answer is not None:
            out[name] = answer
    return out


def _answer_number(value, key, number: int) -> float | None:
    """An answer as a float: a number, or text holding one; None or blank text: unanswered."""
    if value is None or isinstance(value, str) and not value.strip():
        return None
    number_value = value
    if isinstance(value, str):
        try:
            number_value = float(value.strip())
        except ValueError:
            number_value = None
    if isinstance(number_value, bool) or not isinstance(number_value, (int, float)) \
            or not np.isfinite(number_value):
        hint = " (write decimals with a point: 0.7219)" \
            if isinstance(value, str) and "," in value else ""
        raise ValueError(f"exercise {number}: the answer for {key!r} must be a number, "
                         f"got {value!r}{hint}")
    return float(number_value)


def _shape(name: str) -> str:
    """A quantity's name with its indices blanked: ``w^(1)_31`` → ``w^(#)_#``."""
    return re.sub(r"\d+", "#", name)


def _unknown(key: str, values: dict, exercise) -> str:
    """Why ``key`` is not a quantity of this exercise: another exercise's (wrong seed or
    difficulty), a near miss, or a name this kind does not have — with the names it has."""
    number, name = exercise.number, plain(key)
    if _shape(name) in {_shape(k) for k in values}:
        return (f"exercise {number}: {key!r} is a kind of quantity these exercises have, but "
                f"exercise {number} of seed {exercise.seed} (difficulty {exercise.difficulty}: "
                f"{exercise.title}) has no {pretty(name)}: these answers do not fit seed "
                f"{exercise.seed} — wrong seed? (the sheet prints its kind, seed and "
                "difficulty at the top; give them with --seed and --difficulty)")
    close = difflib.get_close_matches(name, list(values), n=1)
    hint = f"; did you mean {pretty(close[0])!r}?" if close else "."
    asked = ", ".join(pretty(k) for k in exercise.asked)
    others = [pretty(k) for k in values if k not in exercise.asked][:8]
    return (f"exercise {number}: unknown quantity {key!r}{hint} This exercise asks for "
            f"{asked}; any other quantity of its worked solution may be given too ("
            f"{', '.join(others)}, …). Names as the sheet prints them (δ^(2)_1, ∂E/∂w^(1)_11, "
            "w^(2)_11 (new)) or as the answer key writes them (delta^(2)_1, dE/dw^(1)_11, "
            "w^(2)_11 new).")


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

    # a^(l)_j = Σ_i w_ji z_i + w_j0 (eq. 1.2): the unit's own slips, or an earlier bias's
    def a_mistakes(self, l: int, j: int) -> list:
        return self.own_a_mistakes(l, j) + [
            Candidate("bias", float(passes[l][0][j - 1]), message)
            for message, passes in self.hidden_bias_slips(l)]

    def own_a_mistakes(self, l: int, j: int) -> list:
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

    def without_bias(self, m: int, unit: int | None) -> dict:
        """The forward pass with layer m's biases (or only unit ``unit``'s) left out:
        ``{l: (a^(l), z^(l))}`` for l = m … L, every later layer right given its input."""
        z, passes = self.vector("z", m - 1), {}
        for l in range(m, self.L + 1):
            b = self.b[l - 1].copy()
            if l == m:
                b[slice(None) if unit is None else unit - 1] = 0.0
            a = self.W[l - 1] @ z + b
            z = self.apply(l, a)
            passes[l] = (a, z)
        return passes

    def hidden_bias_slips(self, l: int) -> list:
        """``(message, {layer: (a, z)})`` for each hidden bias forgotten at a layer
        m < l: all of layer m's, or one unit's (when the layer has several)."""
        slips = []
        for m in range(1, min(l, self.L)):
            units = len(self.b[m - 1])
            if not np.any(self.b[m - 1]):
                continue
            slips.append((f"the hidden biases w^({m})_j0 were left out of layer {m}, and "
                          f"every later value followed from the wrong z^({m})",
                          self.without_bias(m, None)))
            for u in range(1, units + 1 if units > 1 else 1):
                if self.b[m - 1][u - 1]:
                    slips.append((f"the hidden bias w^({m})_{u}0 = {self.b[m - 1][u - 1]:g} "
                                  f"was left out of a^({m})_{u}, and every later value "
                                  f"followed from the wrong z^({m})_{u}",
                                  self.without_bias(m, u)))
        return slips

    # z^(l)_j = h(a^(l)_j), y_k = g(a_k) (eq. 1.3): the slips of a, and the wrong function
    def output_mistakes(self, l: int, j: int) -> list:
        a = self.vector("a", l)
        out = [Candidate("bias", float(passes[l][1][j - 1]), message)
               for message, passes in self.hidden_bias_slips(l)]
        for slip in self.own_a_mistakes(l, j):
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
        error = _losses.get(self.spec["loss"])
        t = np.asarray(self.spec["t"], dtype=float)[None]
        out = [Candidate("bias", error(Tensor(passes[self.L][1][None]), t).item(), message)
               for message, passes in self.hidden_bias_slips(self.L + 1)]
        if self.spec["loss"] == "sum_of_squares":
            return [Candidate("half", 2 * E, "the ½ of E = ½ Σ_k (y_k − t_k)² (eq. 2.5) was "
                                             "left out")] + out
        return [Candidate("sign", -E, "the minus sign of the cross-entropy was left out "
                                      "(E ≥ 0: it is −Σ t ln y)")] + out

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

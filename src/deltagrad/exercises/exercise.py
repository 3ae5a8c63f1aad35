"""Exercise: one question (statement, the numbers given, the quantities asked) and its
worked :class:`~deltagrad.explain.Solution`."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..explain.solution import Solution

DECIMALS = 4  # answers are asked to 4 decimal places
TOLERANCE = 5e-4  # and marked right within ±0.0005 of the exact value


def pretty(name: str) -> str:
    """A quantity's name for people: ``delta^(1)_2`` → ``δ^(1)_2``, ``dE/dw`` → ``∂E/∂w``.

    Example:
        >>> pretty("dE/dw^(1)_11 = x_1 · delta^(1)_1")
        '∂E/∂w^(1)_11 = x_1 · δ^(1)_1'
    """
    if not isinstance(name, str):
        raise TypeError(f"pretty: name must be a string, got {type(name).__name__}")
    return name.replace("dE/d", "∂E/∂").replace("delta", "δ").replace(" new", " (new)") \
        .replace("yhat", "ŷ")


def plain(name: str) -> str:
    """A quantity's name as a sheet prints it back to the answer key's: ``δ^(1)_2`` →
    ``delta^(1)_2``, ``∂E/∂w^(1)_11`` → ``dE/dw^(1)_11``, ``w^(2)_11 (new)`` → ``w^(2)_11
    new`` (the inverse of :func:`pretty`; ``$`` signs and spaces around it dropped).

    Example:
        >>> plain("$δ^(2)_1$"), plain("∂E/∂w^(1)_21"), plain("w^(2)_10 (new)")
        ('delta^(2)_1', 'dE/dw^(1)_21', 'w^(2)_10 new')
    """
    name = name.strip().strip("$").strip()
    return name.replace("∂E/∂", "dE/d").replace("δ", "delta").replace(" (new)", " new") \
        .replace("ŷ", "yhat").replace("′", "'")


def grouped_tasks(asked: list, groups: list) -> list:
    """One task per group ``(text, belongs)`` that has asked quantities: the text, then those
    quantities as ``$name$`` in the order asked."""
    tasks = []
    for text, belongs in groups:
        keys = [k for k in asked if belongs(k)]
        if keys:
            tasks.append(text + ", ".join(f"${k}$" for k in keys) + ".")
    return tasks


@dataclass
class Exercise:
    """A generated question with its solution.

    Attributes:
        kind, seed, number, difficulty: what regenerates it (``generate(kind, seed,
            difficulty, number)``).
        title: one line, e.g. ``"A 2-3-1 regression network"``.
        statement: paragraphs; text between ``$`` signs is mathematics written as the notes'
            quantity names (``"z_j = tanh(a_j)"``), rendered per format.
        given: the question's numbers in reading order, ``[(name, value), ...]``.
        tasks: what to do, one paragraph per task (same markup as ``statement``).
        asked: the names of the quantities the answer must give, in the order of the
            solution (for a network: keys of ``solution.to_dict()``).
        solution: the worked solution (:class:`~deltagrad.explain.Solution`).
        network: for the network kinds, the spec the question is built from (sizes, hidden,
            output, layers ``[(W, b), ...]`` with ``W[j][i] = w_ji``, x, t, loss, lr).
        data: anything else a kind keeps (the logic kind: its truth table and expression).
    """

    kind: str
    seed: int
    number: int
    difficulty: int
    title: str
    statement: list
    given: list
    tasks: list
    asked: list
    solution: Solution
    network: dict | None = None
    data: dict = field(default_factory=dict)
    decimals: int = DECIMALS
    tolerance: float = TOLERANCE

    def answers(self) -> dict:
        """The exact value of every asked quantity (the answer key as numbers)."""
        values = self.solution.to_dict()
        return {key: self.data["answers"][key] if key in self.data.get("answers", {})
                else values[key] for key in self.asked}

    def to_dict(self, solution: bool = True) -> dict:
        """JSON-able: the question, and unless ``solution=False`` the exact answers and every
        number of the worked solution."""
        out = {"kind": self.kind, "seed": self.seed, "number": self.number,
               "difficulty": self.difficulty, "title": self.title,
               "statement": self.statement, "given": {k: v for k, v in self.given},
               "tasks": self.tasks, "asked": self.asked, "decimals": self.decimals,
               "tolerance": self.tolerance}
        if self.network is not None:
            out["network"] = self.network
        if "table" in self.data:
            out["truth_table"] = self.data["table"]
        if solution:
            out["answers"] = self.answers()
            out["solution"] = self.solution.to_dict()
        return out

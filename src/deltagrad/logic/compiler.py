"""From boolean functions to perceptron networks: the DNF construction of §6.3, the
expression-structure construction of Example 6.1, and minimal sums of products."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from . import parser
from .gates import gate_weights
from .._naming import input_names
from .network import MAX_EXHAUSTIVE, LogicNetwork, truth_table_inputs

STRATEGIES = ("structure", "dnf", "minimal")


# ---- truth tables ----------------------------------------------------------------------------
def as_truth_table(f_or_table, n: int | None = None) -> tuple:
    """``(table, n)``: a 0/1 vector of length 2^n in the notes' row order, from a sequence of
    0/1 values or a function of n bits (``f(x1, ..., xn)``)."""
    if callable(f_or_table):
        if n is None:
            raise ValueError("from_truth_table: give n, the number of inputs of the function")
        _check_n(n)
        rows = truth_table_inputs(n).astype(np.int64)
        table = np.array([int(bool(f_or_table(*row))) for row in rows], dtype=np.int64)
        return table, n
    table = np.asarray(f_or_table).ravel()
    if table.dtype.kind not in "biuf":
        raise ValueError(f"truth table values must be 0 or 1, got dtype {table.dtype}")
    size = table.size
    guessed = size.bit_length() - 1
    if size < 2 or 2 ** guessed != size:
        raise ValueError(f"a truth table needs 2^n values (2, 4, 8, ...); got {size}")
    if n is not None and n != guessed:
        raise ValueError(f"a truth table for n = {n} inputs needs {2 ** n} values; got {size}")
    if not np.all((table == 0) | (table == 1)):
        bad = table[(table != 0) & (table != 1)][0]
        raise ValueError(f"truth table values must be 0 or 1; found {bad.item()!r}")
    return table.astype(np.int64), guessed


def _check_n(n):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if n > MAX_EXHAUSTIVE:
        raise ValueError(f"a truth table over n = {n} inputs has 2^{n} rows; the limit is "
                         f"n ≤ {MAX_EXHAUSTIVE}")


def _literal_label(pattern, names) -> str:
    """A product term from a pattern of 1 (x_i), 0 (¬x_i) and None (absent)."""
    parts = [name if bit == 1 else f"¬{name}" for bit, name in zip(pattern, names)
             if bit is not None]
    return " ∧ ".join(parts) if parts else "1"


def _term_neuron(pattern) -> tuple:
    """Minterm / implicant neuron (§6.3.2): +1 for x_i, −1 for ¬x_i, 0 when absent; bias
    −(number of un-negated literals) + 0.5."""
    w = np.array([0.0 if bit is None else (1.0 if bit == 1 else -1.0) for bit in pattern])
    return w, -float(sum(bit == 1 for bit in pattern)) + 0.5


def _sum_of_products(patterns, names, expression) -> LogicNetwork:
    """Two layers: one AND neuron per product term, then an m-input OR (§6.3.1). No terms
    (the all-false function, which the notes exclude) gives one neuron that never fires and
    an OR over it, so the network outputs 0 everywhere."""
    if not patterns:
        hidden = (np.zeros((1, len(names))), [-0.5], ["0 (no true row)"])
    else:
        weights, biases = zip(*[_term_neuron(p) for p in patterns])
        hidden = (np.stack(weights), list(biases),
                  [_literal_label(p, names) for p in patterns])
    m = len(hidden[1])
    w_or, b_or = gate_weights("or", m)
    return LogicNetwork([hidden, (w_or[None, :], [b_or], [f"OR of the {m} terms"])], names,
                        expression=expression)


def from_truth_table(f_or_table, n: int | None = None, variables=None,
                     expression: str | None = None) -> LogicNetwork:
    """The DNF network of §6.3: one minterm neuron per true row, then an n-input OR.

    Args:
        f_or_table: 2^n values 0/1 in the notes' row order (x1 most significant), or a
            function ``f(x1, ..., xn)``.
        n: the number of inputs (needed for a function).
        variables: input names (default ``x1 … xn``).
    """
    table, n = as_truth_table(f_or_table, n)
    names = list(variables) if variables is not None else input_names(n)
    if len(names) != n:
        raise ValueError(f"from_truth_table: {len(names)} variable names for {n} inputs")
    rows = truth_table_inputs(n).astype(np.int64)
    patterns = [tuple(int(b) for b in rows[r]) for r in np.flatnonzero(table)]
    return _sum_of_products(patterns, names, expression or "DNF of the truth table")


# ---- minimal sums of products (Quine–McCluskey) -----------------------------------------------
def prime_implicants(minterms, n: int) -> list:
    """All prime implicants as patterns (tuples of 1, 0 or None) by Quine–McCluskey merging."""
    current = {tuple(int(b) for b in format(m, f"0{n}b")) for m in minterms}
    primes = set()
    while current:
        merged, used = set(), set()
        groups = {}
        for term in current:
            groups.setdefault(sum(b == 1 for b in term), []).append(term)
        for ones, terms in groups.items():
            for a in terms:
                for b in groups.get(ones + 1, ()):
                    diff = [i for i in range(n) if a[i] != b[i]]
                    if len(diff) == 1 and a[diff[0]] is not None and b[diff[0]] is not None:
                        merged.add(a[:diff[0]] + (None,) + a[diff[0] + 1:])
                        used.update((a, b))
        primes |= current - used
        current = merged
    return sorted(primes, key=lambda p: [(-1 if b is None else b) for b in p])


def _covers(pattern, minterm: int, n: int) -> bool:
    bits = format(minterm, f"0{n}b")
    return all(p is None or int(bits[i]) == p for i, p in enumerate(pattern))


def minimal_cover(minterms, n: int) -> list:
    """Prime implicants covering every minterm: the essential ones, then greedily the prime
    covering most uncovered minterms. At most one term per minterm, so never more neurons than
    the DNF."""
    remaining = set(int(m) for m in minterms)
    primes = prime_implicants(remaining, n)
    covers = {p: {m for m in remaining if _covers(p, m, n)} for p in primes}
    chosen = []
    for m in sorted(remaining):
        owners = [p for p in primes if m in covers[p]]
        if len(owners) == 1 and owners[0] not in chosen:
            chosen.append(owners[0])
    for p in chosen:
        remaining -= covers[p]
    while remaining:
        best = max(primes, key=lambda p: (len(covers[p] & remaining), -sum(
            b is not None for b in p)))
        chosen.append(best)
        remaining -= covers[best]
    return chosen


# ---- structure: the expression tree as layers (Example 6.1) -----------------------------------
def _fold_constants(tree):
    """Remove constants: x AND 1 → x, x AND 0 → 0, x XOR 1 → NOT x, ... (bottom-up)."""
    if isinstance(tree, (parser.Var, parser.Const)):
        return tree
    args = tuple(_fold_constants(a) for a in tree.args)
    if tree.op == "not":
        (a,) = args
        return parser.Const(1 - a.value) if isinstance(a, parser.Const) else parser.Op("not", args)
    consts = [a for a in args if isinstance(a, parser.Const)]
    if not consts:
        return parser.Op(tree.op, args)
    if len(consts) == 2:
        values = {"x" + str(i): np.array(c.value, bool) for i, c in enumerate(args)}
        folded = parser.evaluate(parser.Op(tree.op, (parser.Var("x0"), parser.Var("x1"))),
                                 values)
        return parser.Const(int(folded))
    c = consts[0].value
    other = args[1] if isinstance(args[0], parser.Const) else args[0]
    negate = parser.Op("not", (other,))
    table = {("and", 1): other, ("and", 0): parser.Const(0), ("or", 1): parser.Const(1),
             ("or", 0): other, ("xor", 0): other, ("xor", 1): negate,
             ("nand", 1): negate, ("nand", 0): parser.Const(1), ("nor", 1): parser.Const(0),
             ("nor", 0): negate}
    return table[(tree.op, c)]


def _flatten(tree, op):
    """The operands of a chain of the associative ``op`` (and/or): a ∧ (b ∧ c) → [a, b, c]."""
    if isinstance(tree, parser.Op) and tree.op == op:
        return [x for arg in tree.args for x in _flatten(arg, op)]
    return [tree]


@dataclass(eq=False)
class _Neuron:
    layer: int
    inputs: list  # [(source, weight)], source = variable index (int) or _Neuron
    bias: float
    label: str


class _StructureBuilder:
    """One neuron per gate; a neuron's layer is one more than its deepest input; signals that
    skip layers travel through pass-through neurons (w = 1, b = −0.5)."""

    def __init__(self, names):
        self.index = {name: i for i, name in enumerate(names)}
        self.names = names
        self.neurons = []
        self.relays = {}
        self.carried = {}  # a relay's id → the signal it carries, for its label

    def neuron(self, gate_name, sources, label):
        layer = 1 + max(self._layer(s) for s in sources)
        w, b = gate_weights(gate_name, len(sources))
        unit = _Neuron(layer, list(zip(sources, w)), b, label)
        self.neurons.append(unit)
        return unit

    def _layer(self, source) -> int:
        return 0 if isinstance(source, int) else source.layer

    def _describe(self, source) -> str:
        return self.names[source] if isinstance(source, int) else source.label

    def build(self, tree):
        """Returns a source (variable index or neuron) computing ``tree``."""
        if isinstance(tree, parser.Var):
            return self.index[tree.name]
        if tree.op == "not":
            inner = self.build(tree.args[0])
            return self.neuron("not", [inner], f"NOT {self._describe(inner)}")
        if tree.op in ("and", "or"):
            sources = [self.build(a) for a in _flatten(tree, tree.op)]
            label = f" {tree.op.upper()} ".join(self._describe(s) for s in sources)
            return self.neuron(tree.op, sources, f"({label})" if len(sources) > 1 else label)
        a, b = self.build(tree.args[0]), self.build(tree.args[1])
        text = f"{self._describe(a)}, {self._describe(b)}"
        if tree.op in ("nand", "nor"):
            return self.neuron(tree.op, [a, b], f"{tree.op.upper()}({text})")
        h_or = self.neuron("or", [a, b], f"OR({text})")  # XOR as in §5.3
        h_nand = self.neuron("nand", [a, b], f"NAND({text})")
        return self.neuron("and", [h_or, h_nand], f"XOR({text})")

    def relay(self, source, layer: int):
        """``source`` made available at ``layer`` through pass-through neurons."""
        while self._layer(source) < layer:
            key = (id(source) if not isinstance(source, int) else source,
                   self._layer(source) + 1)
            if key not in self.relays:  # a one-input gate whose output is its input
                carried = self.carried.get(id(source), self._describe(source))
                unit = _Neuron(self._layer(source) + 1, [(source, 1.0)], -0.5,
                               f"PASS({carried.removeprefix('(').removesuffix(')')})"
                               if carried.startswith("(") and carried.endswith(")")
                               and carried.count("(") == 1 else f"PASS({carried})")
                self.carried[id(unit)] = carried
                self.neurons.append(unit)
                self.relays[key] = unit
            source = self.relays[key]
        return source

    def layers(self, root) -> list:
        """Weight matrices, with relays inserted so every neuron reads the previous layer."""
        if isinstance(root, int):  # a bare variable: one pass-through neuron
            root = self.relay(root, 1)
        for unit in list(self.neurons):
            unit.inputs = [(self.relay(s, unit.layer - 1), w) for s, w in unit.inputs]
        depth = root.layer
        by_layer = [[u for u in self.neurons if u.layer == l and (l < depth or u is root)]
                    for l in range(1, depth + 1)]
        result = []
        for l, units in enumerate(by_layer, start=1):
            previous = list(range(len(self.names))) if l == 1 else by_layer[l - 2]
            position = {(s if isinstance(s, int) else id(s)): i for i, s in enumerate(previous)}
            W = np.zeros((len(units), len(previous)))
            for j, unit in enumerate(units):
                for source, w in unit.inputs:
                    W[j, position[source if isinstance(source, int) else id(source)]] += w
            result.append((W, [u.bias for u in units], [u.label for u in units]))
        return result


def _structure(tree, names, text) -> LogicNetwork:
    folded = _fold_constants(tree)
    if isinstance(folded, parser.Const):  # constant function: one neuron, zero weights
        return LogicNetwork([(np.zeros((1, len(names))), [0.5 if folded.value else -0.5],
                              [f"constant {folded.value}"])], names, expression=text)
    builder = _StructureBuilder(names)
    root = builder.build(folded)
    return LogicNetwork(builder.layers(root), names, expression=text)


def compile(expr: str, strategy: str = "structure", variables=None) -> LogicNetwork:  # noqa: A001
    """Compile a boolean expression into a network of perceptrons.

    Args:
        expr: e.g. ``"(x1 and x2) or not x3"``; operators ``and or not xor nand nor`` and
            ``& | ~ ^``, parentheses, constants 0 and 1, any identifiers as variables.
        strategy: ``"structure"`` (the expression tree as layers, Example 6.1), ``"dnf"`` (the
            minterm network of §6.3) or ``"minimal"`` (one neuron per prime implicant of a
            minimal sum of products, Quine–McCluskey).
        variables: the input order (default: the expression's variables, naturally sorted).

    Example:
        >>> net = compile("(x1 or x2) and not (x1 and x2)", strategy="minimal")
        >>> net.truth_table()[:, -1].tolist()
        [0, 1, 1, 0]
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"compile: unknown strategy {strategy!r}; expected one of {STRATEGIES}")
    tree = parser.parse(expr)
    names = parser.variables(tree)
    if variables is not None:
        variables = list(variables)
        missing = [v for v in names if v not in variables]
        if missing:
            raise ValueError(f"compile: the expression uses {missing}, not in variables")
        names = variables
    if not names:
        raise ValueError(f"compile: {expr!r} has no variables; a network needs an input")
    if strategy == "structure":
        return _structure(tree, names, expr)
    _check_n(len(names))
    X = truth_table_inputs(len(names)).astype(bool)
    columns = {name: X[:, i] for i, name in enumerate(names)}
    table = np.broadcast_to(parser.evaluate(tree, columns), (len(X),)).astype(np.int64)
    if strategy == "dnf":
        return from_truth_table(table, len(names), variables=names, expression=expr)
    patterns = minimal_cover(np.flatnonzero(table), len(names))
    return _sum_of_products(patterns, names, expr)


def all_functions(n: int):
    """Every boolean function of n inputs as a truth table (2^(2^n) of them)."""
    for values in itertools.product((0, 1), repeat=2 ** n):
        yield np.array(values)

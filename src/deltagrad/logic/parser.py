"""Boolean expressions: a tokenizer, a recursive-descent parser and vectorised evaluation.

Grammar (lowest precedence first; binary operators are left-associative)::

    expr    := or_expr
    or_expr := xor_expr (("or" | "|" | "nor") xor_expr)*
    xor_expr:= and_expr (("xor" | "^") and_expr)*
    and_expr:= not_expr (("and" | "&" | "nand") not_expr)*
    not_expr:= ("not" | "~") not_expr | atom
    atom    := identifier | "0" | "1" | "(" expr ")"

``nand`` binds like ``and`` and ``nor`` like ``or``: ``a nand b`` is ``not (a and b)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .._naming import natural_key

_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z_][A-Za-z_0-9]*)|(?P<const>[01])(?![0-9])"
                    r"|(?P<op>[&|~^()]))")
_WORD_OPS = {"and", "or", "not", "xor", "nand", "nor"}
_SYMBOLS = {"&": "and", "|": "or", "~": "not", "^": "xor"}


class ExpressionError(ValueError):
    """A malformed expression; the message shows the position with a caret."""

    def __init__(self, message: str, text: str, position: int):
        super().__init__(f"{message} at position {position}:\n  {text}\n  {' ' * position}^")
        self.position = position


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Const:
    value: int


@dataclass(frozen=True)
class Op:
    """An operator node: ``op`` in and, or, xor, nand, nor (binary) or not (unary)."""

    op: str
    args: tuple


def tokenize(text: str) -> list:
    """``[(kind, value, position), ...]`` with kind in name, const, op, end."""
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            bad = len(text[pos:]) - len(text[pos:].lstrip()) + pos
            raise ExpressionError(f"unknown token {text[bad]!r}", text, bad)
        start = match.start(match.lastgroup)
        value = match.group(match.lastgroup)
        if match.lastgroup == "name" and value.lower() in _WORD_OPS:
            tokens.append(("op", value.lower(), start))
        elif match.lastgroup == "op":
            tokens.append(("op", _SYMBOLS.get(value, value), start))
        else:
            tokens.append((match.lastgroup, value, start))
        pos = match.end()
    tokens.append(("end", None, len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self):
        return self.tokens[self.i]

    def take(self):
        token = self.tokens[self.i]
        self.i += 1
        return token

    def error(self, message: str, token):
        raise ExpressionError(message, self.text, token[2])

    def binary(self, operators, operand):
        left = operand()
        while self.peek()[0] == "op" and self.peek()[1] in operators:
            op = self.take()[1]
            left = Op(op, (left, operand()))
        return left

    def expr(self):
        return self.binary(("or", "nor"), self.xor_expr)

    def xor_expr(self):
        return self.binary(("xor",), self.and_expr)

    def and_expr(self):
        return self.binary(("and", "nand"), self.not_expr)

    def not_expr(self):
        if self.peek()[:2] == ("op", "not"):
            self.take()
            return Op("not", (self.not_expr(),))
        return self.atom()

    def atom(self):
        token = self.take()
        kind, value, _ = token
        if kind == "name":
            return Var(value)
        if kind == "const":
            return Const(int(value))
        if (kind, value) == ("op", "("):
            inner = self.expr()
            if self.peek()[:2] != ("op", ")"):
                self.error("unbalanced parentheses: expected ')'", self.peek())
            self.take()
            return inner
        if kind == "end":
            self.error("unexpected end of the expression", token)
        if (kind, value) == ("op", ")"):
            self.error("unbalanced parentheses: ')' without '('", token)
        self.error(f"expected a variable, 0, 1 or '(' but found {value!r}", token)


def parse(text: str):
    """Parse a boolean expression into a tree of :class:`Var`, :class:`Const`, :class:`Op`.

    Example:
        >>> parse("x1 and not x2")
        Op(op='and', args=(Var(name='x1'), Op(op='not', args=(Var(name='x2'),))))
    """
    if not isinstance(text, str):
        raise TypeError(f"expected an expression string, got {type(text).__name__}")
    if not text.strip():
        raise ExpressionError("empty expression", text, 0)
    parser = _Parser(text)
    tree = parser.expr()
    if parser.peek()[0] != "end":
        token = parser.peek()
        if token[:2] == ("op", ")"):
            parser.error("unbalanced parentheses: ')' without '('", token)
        parser.error(f"unexpected {token[1]!r}", token)
    return tree


def variables(tree) -> list:
    """The variable names in natural order (x2 before x10)."""
    found = set()

    def walk(node):
        if isinstance(node, Var):
            found.add(node.name)
        elif isinstance(node, Op):
            for arg in node.args:
                walk(arg)

    walk(tree)
    return sorted(found, key=natural_key)


_EVAL = {
    "and": lambda a, b: a & b, "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b,
    "nand": lambda a, b: ~(a & b), "nor": lambda a, b: ~(a | b),
}


def evaluate(tree, values: dict):
    """Evaluate on boolean arrays (one per variable, broadcastable) → a boolean array."""
    if isinstance(tree, Var):
        return np.asarray(values[tree.name], dtype=bool)
    if isinstance(tree, Const):
        return np.asarray(bool(tree.value))
    if tree.op == "not":
        return ~evaluate(tree.args[0], values)
    return _EVAL[tree.op](evaluate(tree.args[0], values), evaluate(tree.args[1], values))


def to_string(tree) -> str:
    """The expression written back, fully parenthesised below the top level."""
    if isinstance(tree, Var):
        return tree.name
    if isinstance(tree, Const):
        return str(tree.value)
    if tree.op == "not":
        inner = to_string(tree.args[0])
        return f"not {inner}" if isinstance(tree.args[0], (Var, Const)) else f"not ({inner})"
    parts = [to_string(a) if isinstance(a, (Var, Const)) or (isinstance(a, Op) and a.op == "not")
             else f"({to_string(a)})" for a in tree.args]
    return f" {tree.op} ".join(parts)

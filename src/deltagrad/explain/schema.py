"""The one schema mechanism behind every kind of ``deltagrad explain SPEC.json``.

A kind of spec is a table of :class:`Field` s. :func:`check` reads a spec against its table:
an unknown field is refused with "did you mean", a missing required field is named, every
value goes through its field's reader (type, finiteness, range), and every array's shape is
matched against symbolic dimensions shared across fields (``W_hh`` is ``("H", "H")`` where
``W_xh`` fixed ``H``), so a mismatch names both the field and where the size came from.

Example:
    >>> from deltagrad.explain.schema import Field, Kind, check, numbers
    >>> kind = Kind("pair", "a pair of vectors", (Field("a", numbers(1), ("D",)),
    ...                                           Field("b", numbers(1), ("D",))), {"D": "size"})
    >>> try:
    ...     check({"a": [1, 2], "bb": [3, 4]}, kind)
    ... except ValueError as err:
    ...     print(err)
    spec: unknown field 'bb'; did you mean 'b'? (a pair spec has: kind, a, b)
"""

from __future__ import annotations

import difflib
import numbers as _numbers
from collections.abc import Callable
from dataclasses import dataclass, field as _field
from typing import Any

import numpy as np

from .. import _validate as check_value
from ..tensor import Tensor

OWNER = "spec"
REQUIRED = object()  # the default of a field the spec must give


@dataclass(frozen=True)
class Field:
    """One field of a spec: its reader (value → checked value, raising with the field's name),
    its symbolic shape (one tuple, or a dict ndim → tuple for arrays of several ranks), its
    default (``REQUIRED`` when the spec must give it) and a few words for the documentation."""

    name: str
    read: Callable[[Any, str], Any]
    shape: tuple | dict | None = None
    default: Any = REQUIRED
    doc: str = ""


@dataclass(frozen=True)
class Kind:
    """A kind of spec: its name, one line saying what it solves, its fields, the meaning of its
    symbolic dimensions, and pairs of alternatives (tuples of fields) not to be given
    together."""

    name: str
    summary: str
    fields: tuple
    dims: dict = _field(default_factory=dict)
    exclusive: tuple = ()

    def names(self) -> list:
        return [f.name for f in self.fields]


def refuse_unknown(spec: dict, known: list, what: str) -> None:
    """A field not in ``known`` (a typo such as ``nonlinearty``) is an error with the closest
    known name, never ignored."""
    for name in spec:
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"{OWNER}: unknown field {name!r}{hint} ({what} has: "
                             f"{', '.join(known)})")


def check(spec: dict, kind: Kind, known_dims: dict | None = None) -> dict:
    """The spec's values, read and shape-checked, with defaults filled in (``REQUIRED``
    fields must be present). ``known_dims`` seeds dimensions fixed elsewhere:
    ``{"D": (2, "sizes")}``."""
    article = "an" if kind.name[0] in "aeiomr" else "a"
    refuse_unknown(spec, ["kind"] + kind.names(), f"{article} {kind.name} spec")
    missing = [f.name for f in kind.fields if f.default is REQUIRED and f.name not in spec]
    if missing:
        needed = [f.name for f in kind.fields if f.default is REQUIRED]
        optional = [f.name for f in kind.fields if f.default is not REQUIRED]
        raise ValueError(f"{OWNER}: missing field(s) {missing}; {article} {kind.name} spec needs "
                         f"{needed}" + (f" and optionally {', '.join(optional)}"
                                        if optional else ""))
    for one, other in kind.exclusive:
        if any(name in spec for name in one) and any(name in spec for name in other):
            raise ValueError(f"{OWNER}: give {' and '.join(one)}, or {' and '.join(other)}, "
                             f"not both")
    bound = dict(known_dims or {})
    values = {}
    for f in kind.fields:
        if f.name not in spec:
            values[f.name] = f.default
            continue
        values[f.name] = f.read(spec[f.name], f.name)
        if f.shape is not None and values[f.name] is not None:
            match_shape(values[f.name], f.name, f.shape, bound, kind.dims)
    return values


def match_shape(array: np.ndarray, name: str, shape, bound: dict, dims: dict) -> None:
    """Bind ``array``'s shape to the symbolic ``shape``; a size that contradicts an earlier
    field is an error naming both."""
    if isinstance(shape, dict):
        if array.ndim not in shape:
            ranks = " or ".join(f"({', '.join(map(str, s))})" for s in shape.values())
            raise ValueError(f"{OWNER}: {name} must have shape {ranks}, got shape "
                             f"{array.shape}")
        shape = shape[array.ndim]
    if array.ndim != len(shape):
        raise ValueError(f"{OWNER}: {name} must have shape ({', '.join(map(str, shape))}), got "
                         f"shape {array.shape}")
    expected, sources = [], []
    for symbol, size in zip(shape, array.shape):
        if isinstance(symbol, int) or symbol not in bound:
            expected.append(symbol if isinstance(symbol, int) else size)
        else:
            expected.append(bound[symbol][0])
            sources.append(f"{symbol} = {bound[symbol][0]} {dims.get(symbol, '')} from "
                           f"{bound[symbol][1]}".replace("  ", " "))
    if tuple(expected) != array.shape:
        symbols = f"({', '.join(map(str, shape))}{',' * (len(shape) == 1)})"
        raise ValueError(f"{OWNER}: {name} has shape {array.shape}; expected {tuple(expected)} "
                         f"= {symbols}, " + "; ".join(dict.fromkeys(sources)))
    for symbol, size in zip(shape, array.shape):
        if not isinstance(symbol, int):
            bound.setdefault(symbol, (size, name))


# ---- readers: each returns the checked value or raises naming the field ----------------------

def numbers(*ranks: int) -> Callable:
    """A reader of a number or nested lists of numbers of one of ``ranks`` dimensions (any
    when none), as :func:`numbers_of` reads them."""
    def read(value, name: str) -> np.ndarray:
        return numbers_of(value, name, OWNER, ranks)
    return read


def numbers_of(value, name: str, owner: str = OWNER, ranks: tuple = ()) -> np.ndarray:
    """A number or nested lists of numbers with rows of equal length as a float64 array;
    text, booleans, ragged rows and NaN/∞ are refused, naming the field and the entry
    (``"spec: x contains NaN or infinite values (x[0] is nan)..."``)."""
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
        array = value.astype(np.float64)
    else:
        value = value.tolist() if isinstance(value, np.ndarray) else value
        shape = _nested_shape(value, name, owner)  # first: names a ragged row or text
        array = np.array(value, dtype=np.float64).reshape(shape)
    if ranks and array.ndim not in ranks:
        wanted = " or ".join({0: "a number", 1: "a list of numbers",
                              2: "a matrix (a list of rows)"}.get(r, f"a {r}-D array")
                             for r in ranks)
        raise ValueError(f"{owner}: {name} must be {wanted}, got {value!r}")
    if not np.all(np.isfinite(array)):
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        entry = name + "".join(f"[{i}]" for i in where)
        raise ValueError(f"{owner}: {name} contains NaN or infinite values ({entry} is "
                         f"{array[where]}); every value must be a finite number")
    return array


def _nested_shape(value, path: str, owner: str = OWNER) -> tuple:
    """The shape of a number or rectangular nested lists of numbers, or an error naming the
    entry that is not a number or the row of another length."""
    if isinstance(value, _numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return ()
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"{owner}: {path} is an empty list; expected numbers")
        shapes = [_nested_shape(v, f"{path}[{i}]", owner) for i, v in enumerate(value)]
        for i, s in enumerate(shapes[1:], start=1):
            if s != shapes[0]:
                raise ValueError(f"{owner}: {path} must be a number or a list of numbers with "
                                 f"rows of equal length: {path}[{i}] has shape {s}, "
                                 f"{path}[0] has shape {shapes[0]}")
        return (len(value),) + shapes[0]
    what = "a number" if path.endswith("]") else "numbers"
    raise ValueError(f"{owner}: {path} must be {what}, got {value!r}")


def integer(low: int = 0, high: int | None = None) -> Callable:
    """A reader of an integer in [low, high]."""
    def read(value, name: str) -> int:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= low \
            and (high is None or value <= high)
        if not ok:
            bound = f"[{low}, {high}]" if high is not None else f"≥ {low}"
            raise check_value.InvalidArgument(OWNER, name, f"must be an integer {bound}", value)
        return value
    return read


def int_or_pair(low: int) -> Callable:
    """A reader of an integer ≥ low, or a pair [rows, columns] of them (stride, padding)."""
    one = integer(low)

    def read(value, name: str):
        if isinstance(value, list) and len(value) == 2:
            return tuple(one(v, f"{name}[{i}]") for i, v in enumerate(value))
        if isinstance(value, list):
            raise ValueError(f"{OWNER}: {name} must be an integer or a pair [rows, columns], "
                             f"got {value!r}")
        return one(value, name)
    return read


def choice(options) -> Callable:
    """A reader of one of ``options`` (case as listed)."""
    def read(value, name: str) -> str:
        if not isinstance(value, str):
            raise ValueError(f"{OWNER}: {name} must be one of {list(options)}, got {value!r}")
        found = [o for o in options if o.lower() == value.lower()]
        if not found:
            close = difflib.get_close_matches(value.lower(), list(options), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"{OWNER}: unknown {name} {value!r}{hint} (one of "
                             f"{list(options)})")
        return found[0]
    return read


def positive(value, name: str) -> float:
    """A reader of a finite number > 0."""
    return check_value.positive(value, name, OWNER)


def boolean(value, name: str) -> bool:
    """A reader of ``true`` or ``false``."""
    if not isinstance(value, bool):
        raise ValueError(f"{OWNER}: {name} must be true or false, got {value!r}")
    return value


def mask(value, name: str) -> np.ndarray:
    """A reader of a matrix of ``true``/``false`` (or 1/0)."""
    rows = value if isinstance(value, list) else None
    if rows is None or not all(isinstance(r, list) for r in rows) or not all(
            isinstance(v, bool) or v in (0, 1) for r in rows for v in r):
        raise ValueError(f"{OWNER}: {name} must be a matrix of true/false (true = may attend), "
                         f"got {value!r}")
    _nested_shape([[int(v) for v in r] for r in rows], name)
    return np.array(rows, dtype=bool)

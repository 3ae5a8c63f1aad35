"""Argument checks shared by layers, optimisers, regularisers, ``fit`` and the command line.

Each check returns the value in its canonical form or raises with a message that names the
owner (``"SGD"``, ``"fit"``, ``"Linear(3, 2)"``) and the argument, says what was expected and
shows what came. The command line catches these and prints them in its own words.

Example:
    >>> from deltagrad import _validate as check
    >>> check.positive_int(3, "epochs", "fit")
    3
    >>> try:
    ...     check.real(-0.1, "lr", "SGD", low=0.0)
    ... except ValueError as err:
    ...     print(err)
    SGD: lr must lie in [0.0, ∞), got -0.1
"""

from __future__ import annotations

import numbers

import numpy as np


class InvalidArgument(ValueError):
    """A value outside what the argument admits: ``"<owner>: <name> <requirement>, got <value>"``.
    The parts stay available, so the command line can say it in its own words."""

    def __init__(self, owner: str, name: str, requirement: str, value):
        self.owner, self.name, self.requirement, self.value = owner, name, requirement, value
        shown = value.item() if isinstance(value, np.generic) else value  # 3, not np.int64(3)
        super().__init__(f"{owner}: {name} {requirement}, got {shown!r}")


def _is_integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) \
        and bool(np.isfinite(value))


def positive_int(value, name: str, owner: str, maximum: int | None = None,
                 alternative: str = "") -> int:
    """``value`` as an ``int`` ≥ 1 (and ≤ ``maximum`` when given); ``alternative`` names what
    else the caller accepts (``"None for the full batch"``)."""
    if not _is_integer(value) or value < 1 or (maximum is not None and value > maximum):
        bound = f"an integer in [1, {maximum}]" if maximum is not None else "a positive integer"
        other = f" or {alternative}" if alternative else ""
        raise InvalidArgument(owner, name, f"must be {bound}{other}", value)
    return int(value)


def real(value, name: str, owner: str, low: float | None = None, high: float | None = None,
         low_inclusive: bool = True, high_inclusive: bool = False) -> float:
    """A finite real number in the interval given by ``low``/``high`` (None: unbounded)."""
    if not _is_real(value):
        raise InvalidArgument(owner, name, "must be a finite number", value)
    too_low = low is not None and (value < low if low_inclusive else value <= low)
    too_high = high is not None and (value > high if high_inclusive else value >= high)
    if too_low or too_high:
        lo = ("[" if low_inclusive else "(") + ("−∞" if low is None else str(low))
        hi = ("∞" if high is None else str(high)) + ("]" if high_inclusive else ")")
        raise InvalidArgument(owner, name, f"must lie in {lo}, {hi}", value)
    return float(value)


def positive(value, name: str, owner: str) -> float:
    """A finite real number > 0."""
    if not _is_real(value) or value <= 0:
        raise InvalidArgument(owner, name, "must be a finite number > 0", value)
    return float(value)


def non_negative(value, name: str, owner: str) -> float:
    """A finite real number ≥ 0."""
    if not _is_real(value) or value < 0:
        raise InvalidArgument(owner, name, "must be a finite number ≥ 0", value)
    return float(value)


def fraction(value, name: str, owner: str) -> float:
    """A real number strictly between 0 and 1."""
    if not _is_real(value) or not 0 < value < 1:
        raise InvalidArgument(owner, name, "must be a fraction in (0, 1)", value)
    return float(value)


def choice(value, choices, name: str, owner: str, case_sensitive: bool = False,
           alternative: str = "") -> str:
    """One of ``choices`` (strings); case-insensitive by default, returned as listed.
    ``alternative`` names what else is accepted (``"an Optimizer instance"``)."""
    if isinstance(value, str):
        for option in choices:
            if value == option or (not case_sensitive and value.lower() == option.lower()):
                return option
    other = f" or {alternative}" if alternative else ""
    raise ValueError(f"{owner}: unknown {name} {value!r}; expected one of {sorted(choices)}"
                     f"{other}")


def float_dtype(dtype, owner: str, default=None) -> np.dtype:
    """``dtype`` as a NumPy float dtype (``None`` → ``default``, the library's default)."""
    if dtype is None:
        if default is None:
            from ._state import default_dtype
            return default_dtype
        return np.dtype(default)
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved.kind != "f":
        raise TypeError(f"{owner}: dtype must be a float dtype ('float32' or 'float64'), "
                        f"got {dtype!r}")
    return resolved


def boolean(value, name: str, owner: str) -> bool:
    """``True`` or ``False`` (NumPy booleans too); anything else is an error."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, got {value!r}")
    return bool(value)


def seed(value, name: str, owner: str) -> int | None:
    """``None`` or an integer seed ≥ 0."""
    if value is not None and (not _is_integer(value) or value < 0):
        raise InvalidArgument(owner, name, "must be None or an integer ≥ 0", value)
    return None if value is None else int(value)


def generator(rng, owner: str | None = None) -> np.random.Generator | None:
    """``None`` (kept: the caller's default), an integer seed → a new generator, or a
    ``numpy.random.Generator`` as it is."""
    if rng is None or isinstance(rng, np.random.Generator):
        return rng
    if _is_integer(rng) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise TypeError(f"{owner + ': ' if owner else ''}rng must be None, an integer seed ≥ 0 or "
                    f"a numpy.random.Generator, got {rng!r}")

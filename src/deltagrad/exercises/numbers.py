"""Numbers for working by hand: multiples of 0.1, 0.05 or 0.5, never zero, reproducible."""

from __future__ import annotations

import numpy as np


def decimals(rng: np.random.Generator, size, step: float, low: float = -1.0,
             high: float = 1.0) -> np.ndarray:
    """Non-zero multiples of ``step`` in [low, high], rounded to two decimals so that each
    prints as written (``0.35``, not ``0.35000000000000003``); shape ``size``."""
    lo, hi = int(np.ceil(low / step - 1e-9)), int(np.floor(high / step + 1e-9))
    choices = np.array([k for k in range(lo, hi + 1) if k != 0])
    return np.round(rng.choice(choices, size=size) * step, 2)


def places(value: float) -> int:
    """How many decimals ``value`` needs when printed (``0.35`` → 2, ``1.0`` → 0)."""
    text = repr(float(value))
    if "e" in text:
        return 99
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    return len(fraction)

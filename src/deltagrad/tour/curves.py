"""Whether a learning curve has flattened, said in words for a caption."""

from __future__ import annotations

import numpy as np

TAIL, TOL = 0.2, 0.02  # the last 20% of the run lowered the error by less than 2%: flattened


def flattened(curve) -> bool:
    """True when the last fifth of ``curve`` (errors, lower is better) lowered its minimum by
    less than 2% of the minimum before it."""
    return _gain(curve) < TOL


def _gain(curve) -> float:
    curve = np.asarray(curve, dtype=float)
    tail = max(1, int(round(TAIL * len(curve))))
    if len(curve) <= tail:
        return float("inf")
    before, after = curve[:-tail].min(), curve[-tail:].min()
    return float((before - after) / max(abs(before), 1e-300))


def note(curve, unit: str = "epochs") -> str:
    """``"flattened: the last 20% of the epochs lowered it by 0.4%"`` or ``"not flattened:
    …"``, for a caption."""
    gain = _gain(curve)
    if not np.isfinite(gain):
        return "too short to judge whether it has flattened"
    word = "flattened" if gain < TOL else "not flattened"
    return f"{word}: the last {TAIL:.0%} of the {unit} lowered it by {max(gain, 0.0):.1%}"

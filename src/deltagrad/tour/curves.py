"""Whether a learning curve has flattened, said in words for a caption.

A curve of errors (lower is better) has flattened when the last fifth of its run gave less
than 2% of its whole fall: min(before) − min(last fifth) < 0.02 · (first − min). On the
curve's own plot that is a line gone level; a curve still falling on a log scale can be flat
by this rule, and the captions show the numbers.
"""

from __future__ import annotations

import numpy as np

TAIL, TOL = 0.2, 0.02
RULE = ("a curve has flattened when the last fifth of its run gave less than 2% of its whole "
        "fall")


def flattened(curve) -> bool:
    """True when the last fifth of ``curve`` gave less than 2% of its whole fall.

    Example:
        >>> flattened([4.0, 2.0, 1.0, 0.5, 0.49])
        True
        >>> flattened([4.0, 3.0, 2.0, 1.0, 0.5])
        False
    """
    return _share(curve) < TOL


def _share(curve) -> float:
    """The last fifth's share of the whole fall (inf for a curve too short or never falling)."""
    curve = np.asarray(curve, dtype=float)
    tail = max(1, int(round(TAIL * len(curve))))
    if len(curve) <= tail:
        return float("inf")
    fall = curve[0] - curve.min()
    if not fall > 0:
        return float("inf")
    return float((curve[:-tail].min() - curve[-tail:].min()) / fall)


def note(curve, unit: str = "epochs") -> str:
    """``"flattened: the last 20% of the epochs gave 0.4% of its fall"`` or ``"not flattened:
    …"``, for a caption."""
    share = _share(curve)
    if not np.isfinite(share):
        return "too short, or never falling, to judge whether it has flattened"
    word = "flattened" if share < TOL else "not flattened"
    return f"{word}: the last {TAIL:.0%} of the {unit} gave {max(share, 0.0):.1%} of its fall"

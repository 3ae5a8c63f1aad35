"""Names shared by networks, the logic compiler and the tracer."""

from __future__ import annotations

import re


def natural_key(name) -> list:
    """Sort key putting x2 before x10.

    Example:
        >>> sorted(["x10", "x2", "h1"], key=natural_key)
        ['h1', 'x2', 'x10']
    """
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(name))]


def input_names(n: int) -> list:
    """``["x1", …, "xn"]``, the notes' names for the inputs."""
    return [f"x{i}" for i in range(1, n + 1)]

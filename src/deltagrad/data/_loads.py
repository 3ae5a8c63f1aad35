"""Which data sets a piece of work loaded, for reports that name only what they used."""

from __future__ import annotations

import contextlib

_RECORDERS: list = []


@contextlib.contextmanager
def record_loads():
    """Collect ``(name, source)`` of the data sets loaded inside the ``with`` block, in order,
    each once (``("digits", "scikit-learn")``)."""
    loads: list = []
    _RECORDERS.append(loads)
    try:
        yield loads
    finally:
        _RECORDERS.remove(loads)


def note_load(name: str, source: str) -> None:
    """Record that data set ``name`` from ``source`` was loaded (called by the loaders)."""
    for loads in _RECORDERS:
        if (name, source) not in loads:
            loads.append((name, source))

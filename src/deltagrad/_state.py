"""Switches: gradient recording (per thread, as PyTorch's grad mode), the default dtype and
the default random generator."""

from __future__ import annotations

import contextlib
import threading

import numpy as np

from . import _validate as check


class _GradMode(threading.local):
    """Whether operations are recorded for backward, one flag per thread: ``no_grad`` in one
    thread (a server computing a surface) must not stop another thread's training step."""

    enabled = True


grad_mode = _GradMode()
default_dtype = np.dtype(np.float64)
default_rng = np.random.default_rng(0)
tracer = None  # the recorder of deltagrad.compile while it records a step, else None


def is_grad_enabled() -> bool:
    """Whether operations on tensors that require grad are recorded for backward."""
    return grad_mode.enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager (and decorator) that switches operation recording on or off."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)

    def __enter__(self):
        self._previous = grad_mode.enabled
        grad_mode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        grad_mode.enabled = self._previous
        return False


class no_grad(set_grad_enabled):
    """Context manager (and decorator) in which no operation is recorded for backward.

    Example:
        >>> import deltagrad as dg
        >>> w = dg.tensor([1.0], requires_grad=True)
        >>> with dg.no_grad():
        ...     y = w * 2
        >>> y.requires_grad
        False
    """

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Context manager in which operations are recorded again (inside ``no_grad``)."""

    def __init__(self):
        super().__init__(True)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the generator used when a layer is given ``rng=None``; returns it."""
    global default_rng
    default_rng = np.random.default_rng(check.seed(seed, "seed", "manual_seed"))
    return default_rng


def get_rng(rng=None, owner: str | None = None) -> np.random.Generator:
    """Resolve ``rng``: ``None`` → the global generator, an int → a new seeded generator;
    ``owner`` names the caller in the error for anything else."""
    resolved = check.generator(rng, owner)
    return default_rng if resolved is None else resolved

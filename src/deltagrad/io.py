"""Saving and loading networks: weights in safetensors, the architecture as JSON in its
metadata. No pickle, no eval, no import of a name read from a file: the type names in a file are
looked up in ``nn.registry.SAVABLE``, which the savable classes fill themselves (``@savable()``,
``config()``, ``from_config()``), and everything read is checked before use.

Writes are atomic (a temporary file in the same folder, fsync, rename), so a crash during a
save leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from .nn.module import Module
from .nn.registry import Budget, build, config_of

FORMAT = "deltagrad.safetensors/1"


def architecture(module: Module) -> dict:
    """The JSON-able description of ``module`` (weights excluded): its registered type name
    and its ``config()``."""
    return config_of(module)


# ---- files ---------------------------------------------------------------------------------------
def check_destination(path, owner: str = "save", example: str = "model.safetensors") -> str:
    """``path`` as a string, after checking a file can be written there: its folder exists and
    it is not a folder itself. The messages name the caller's path (the command line checks
    this before training)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"{owner}: {path!r} is a folder; give a file name inside it, "
                                f"e.g. {os.path.join(path, example)!r}")
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{owner}: cannot write {path!r}: the folder {folder!r} does "
                                "not exist")
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"{owner}: cannot write {path!r}: the folder {folder!r} is not "
                              "writable")
    return path


def _new_file_mode(path: str) -> int:
    """An existing file's mode (kept on overwrite), else that of an ordinary new file: 0o666
    less the umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _write_atomically(path: str, payload: bytes) -> None:
    path = check_destination(path)
    folder = os.path.dirname(os.path.abspath(path))
    mode = _new_file_mode(path)
    handle, temporary = tempfile.mkstemp(prefix=".deltagrad-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)  # mkstemp makes it 0o600
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    try:  # make the rename itself durable
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError:
        pass


def save(model: Module, path, extra: dict | None = None) -> None:
    """Write ``model`` to ``path`` (safetensors): its state_dict as tensors and its
    architecture (plus ``extra``, a JSON-able dict) in the metadata. Atomic.

    Example:
        >>> import deltagrad as dg, tempfile, os, numpy as np
        >>> net = dg.nn.MLP("2-3-1", rng=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "net.safetensors")
        >>> dg.save(net, path); again = dg.load(path)
        >>> bool(np.array_equal(again(np.ones((1, 2))).data, net(np.ones((1, 2))).data))
        True
    """
    from safetensors.numpy import save as to_bytes

    if not isinstance(model, Module):
        how = (f"; a {type(model).__name__} saves itself: estimator.save(path)"
               if callable(getattr(model, "save", None)) else "")
        raise TypeError(f"save: expected a deltagrad Module, got {type(model).__name__}{how}")
    metadata = {"format": FORMAT, "architecture": json.dumps(architecture(model))}
    if extra is not None:
        metadata["extra"] = json.dumps(extra)
    tensors = {name: np.require(value, requirements="C")  # 0-d buffers stay 0-d
               for name, value in model.state_dict().items()}
    _write_atomically(os.fspath(path), to_bytes(tensors, metadata=metadata))


def read(path) -> tuple:
    """``(module, extra)`` from a file written by :func:`save`; ValueError if malformed."""
    from safetensors import safe_open

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: no such file {path!r}")
    try:
        with safe_open(path, framework="numpy") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except Exception as err:  # safetensors reports malformed files with its own types
        raise ValueError(f"load: {path!r} is not a valid safetensors file ({err})") from None
    if metadata.get("format") != FORMAT:
        raise ValueError(f"load: {path!r} was not written by deltagrad (format "
                         f"{metadata.get('format')!r}, expected {FORMAT!r})")
    try:
        description = json.loads(metadata["architecture"])
        extra = json.loads(metadata["extra"]) if "extra" in metadata else None
    except (KeyError, json.JSONDecodeError, RecursionError) as err:
        raise ValueError(f"load: {path!r} has a malformed architecture ({err})") from None
    module = build(description, budget=Budget(sum(t.size for t in tensors.values())))
    _load_weights(module, tensors, path)
    return module, extra


def _load_weights(module: Module, tensors: dict, path: str) -> None:
    expected = {**dict(module.named_parameters()), **dict(module.named_buffers())}
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise ValueError(f"load: {path!r}: tensors do not match the architecture: missing "
                         f"{missing}, unexpected {unexpected}")
    for name, p in expected.items():
        value = tensors[name]
        if value.shape != p.shape or value.dtype != p.dtype:
            raise ValueError(f"load: {path!r}: {name} has shape {value.shape} and dtype "
                             f"{value.dtype}; the architecture needs {p.shape} {p.dtype}")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"load: {path!r}: {name} contains NaN or infinite values")
    module.load_state_dict(tensors)


def load(path) -> Module:
    """The module saved at ``path``: same class, weights and outputs."""
    return read(path)[0]

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
from .nn.recurrent import _Recurrent
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


# ---- PyTorch weights -----------------------------------------------------------------------------
# A port is checked number by number by loading the PyTorch model's state_dict into the equal
# deltagrad model (or the other way). Keys keep the module path (``0.weight``, ``conv1.bias``);
# only the recurrent layers name and lay out their weights differently.

def _recurrent_to_torch(layer, local: dict) -> dict:
    """RNN/LSTM/GRU: W_xh, W_hh, b_h(, b_hn) of layer k ↔ torch's weight_ih_lk, weight_hh_lk,
    bias_ih_lk, bias_hh_lk (the same gate order, i f g o and r z n). torch keeps two biases
    that always add, so b_h is exported as bias_ih and bias_hh is 0 — except GRU's candidate
    bias b_hn, which sits inside the reset gate and is bias_hh's third block."""
    out, used = {}, set()
    for k, direction in _layers_and_directions(layer):
        suffix = layer._suffix(k, direction)
        p = {name: local[name + suffix] for name in layer._parameter_shapes(1, 1)}
        used.update(name + suffix for name in p)
        key = _torch_suffix(k, direction)
        out[f"weight_ih{key}"], out[f"weight_hh{key}"] = p["W_xh"], p["W_hh"]
        out[f"bias_ih{key}"] = p["b_h"]
        hh = np.zeros_like(p["b_h"])
        if "b_hn" in p:
            hh[2 * layer.hidden_size:] = p["b_hn"]
        out[f"bias_hh{key}"] = hh
    if set(local) - used:  # a weight this converter does not know
        raise ValueError(f"PyTorch interop: {type(layer).__name__} holds weights it cannot "
                         f"name for PyTorch: {sorted(set(local) - used)}")
    return out


def _recurrent_from_torch(layer, torch_local: dict) -> dict:
    """The inverse of :func:`_recurrent_to_torch`: b_h = bias_ih + bias_hh (GRU: its r, z
    blocks), b_hn = GRU's bias_hh n block; a layer built with ``bias=False`` has neither."""
    out = {}
    D = layer.hidden_size
    for k, direction in _layers_and_directions(layer):
        key, suffix = _torch_suffix(k, direction), layer._suffix(k, direction)
        for ours, theirs in (("W_xh", "weight_ih"), ("W_hh", "weight_hh")):
            if theirs + key in torch_local:  # absent only with strict=False: left as it is
                out[ours + suffix] = torch_local[theirs + key]
        ih = torch_local.get(f"bias_ih{key}", 0.0)
        hh = np.asarray(torch_local.get(f"bias_hh{key}", np.zeros(layer.gates * D)))
        if layer.gates == 3:  # GRU
            out["b_hn" + suffix] = hh[2 * D:]
            hh = np.concatenate([hh[:2 * D], np.zeros(D, dtype=hh.dtype)])
        out["b_h" + suffix] = ih + hh
    return out


def _layers_and_directions(layer) -> list:
    """(layer index, direction) pairs in PyTorch's order: l0, l0 reverse, l1, …"""
    return [(k, d) for k in range(layer.num_layers) for d in range(layer.directions)]


def _torch_suffix(k: int, direction: int) -> str:
    return f"_l{k}" + ("_reverse" if direction else "")


def _optional_torch_keys(module) -> set:
    """Keys that a PyTorch file may lack: recurrent biases (``bias=False``) and BatchNorm's
    ``num_batches_tracked`` (files from before PyTorch 0.4.1)."""
    if _is_recurrent(module):
        return {b + _torch_suffix(k, direction) for k, direction in _layers_and_directions(module)
                for b in ("bias_ih", "bias_hh")}
    return {"num_batches_tracked"}


def _is_recurrent(module) -> bool:
    return isinstance(module, _Recurrent)


def _local_state(module) -> dict:
    return {**{name: p.data for name, p in module._parameters.items()}, **module._buffers}


def _torch_groups(model: Module) -> list:
    """``(prefix, module, {torch local name: array})`` for every module holding weights."""
    groups = []
    for name, module in model.named_modules():
        local = _local_state(module)
        if local:
            torch_local = _recurrent_to_torch(module, local) if _is_recurrent(module) else local
            groups.append((f"{name}." if name else "", module, torch_local))
    return groups


def to_torch_state_dict(model: Module) -> dict:
    """``model``'s weights and buffers as PyTorch names them for the equal ``torch.nn`` model
    (copies, as ndarrays): ``torch_model.load_state_dict({k: torch.tensor(v) ...})`` takes
    them.

    Example:
        >>> import deltagrad as dg
        >>> sorted(dg.io.to_torch_state_dict(dg.nn.GRU(2, 3)))
        ['bias_hh_l0', 'bias_ih_l0', 'weight_hh_l0', 'weight_ih_l0']
    """
    if not isinstance(model, Module):
        raise TypeError(f"to_torch_state_dict: expected a deltagrad Module, got "
                        f"{type(model).__name__}")
    return {prefix + key: np.array(value) for prefix, _, local in _torch_groups(model)
            for key, value in local.items()}


def load_torch_state_dict(model: Module, state, strict: bool = True) -> Module:
    """Copy a PyTorch ``state_dict`` into the equal deltagrad ``model`` and return it.

    ``state`` is a dict of arrays (``{k: v.numpy() for k, v in torch_model.state_dict()
    .items()}``) or the path of a safetensors file of one (``safetensors.torch.save_file``),
    read with safetensors' NumPy API. Module paths must match (``Sequential`` names its
    layers 0, 1, … as ``torch.nn.Sequential``); values are converted to the model's dtypes.

    ``strict=False`` ignores missing and unexpected keys, as PyTorch's: the weights it names
    are copied, the others left as they are.

    Raises:
        ValueError: naming every missing and unexpected (``strict``) and every mis-shaped key,
            or a key holding NaN or infinite values; nothing is copied then.
    """
    if not isinstance(model, Module):
        raise TypeError(f"load_torch_state_dict: expected a deltagrad Module, got "
                        f"{type(model).__name__}")
    state = _read_torch_state(state)
    _check_torch_state(model, state, strict)
    for prefix, module, torch_local in _torch_groups(model):
        given = {key: state[prefix + key] for key in torch_local if prefix + key in state}
        values = _recurrent_from_torch(module, given) if _is_recurrent(module) else given
        module.load_state_dict(values, strict=False)
    return model


def _read_torch_state(state) -> dict:
    if isinstance(state, (str, os.PathLike)):
        from safetensors import safe_open

        path = os.fspath(state)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"load_torch_state_dict: no such file {path!r}")
        try:
            with safe_open(path, framework="numpy") as handle:
                return {key: handle.get_tensor(key) for key in handle.keys()}
        except Exception as err:  # safetensors reports malformed files with its own types
            raise ValueError(f"load_torch_state_dict: {path!r} is not a safetensors file "
                             f"readable by NumPy ({err})") from None
    if not isinstance(state, dict):
        raise TypeError(f"load_torch_state_dict: state must be a dict of arrays or a "
                        f"safetensors path, got {type(state).__name__}")
    out = {}
    for key, value in state.items():
        array = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"load_torch_state_dict: {key!r} holds {array.dtype}, not numbers")
        out[key] = array
    return out


def _check_torch_state(model: Module, state: dict, strict: bool) -> None:
    expected, optional = {}, set()
    for prefix, module, torch_local in _torch_groups(model):
        expected.update({prefix + key: np.shape(v) for key, v in torch_local.items()})
        optional.update(prefix + key for key in _optional_torch_keys(module))
    problems = []
    missing = sorted(k for k in expected if k not in state and k not in optional)
    unexpected = sorted(k for k in state if k not in expected)
    if missing and strict:
        problems.append(f"missing keys {missing}")
    if unexpected and strict:
        problems.append(f"unexpected keys {unexpected}")
    problems += [f"{k}: expected shape {expected[k]}, got {state[k].shape}"
                 for k in expected if k in state and state[k].shape != expected[k]]
    problems += [f"{k} contains NaN or infinite values" for k in expected
                 if k in state and not np.all(np.isfinite(state[k]))]
    if problems:
        raise ValueError(f"load_torch_state_dict into {type(model).__name__}: "
                         + "; ".join(problems) + f". The model expects {sorted(expected)}")


def save_torch_state_dict(model: Module, path) -> None:
    """Write ``model``'s weights under PyTorch's names (:func:`to_torch_state_dict`) as a
    safetensors file: ``torch_model.load_state_dict(safetensors.torch.load_file(path))``.
    Atomic.

    Example:
        >>> import deltagrad as dg, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "weights.safetensors")
        >>> dg.io.save_torch_state_dict(dg.nn.Linear(3, 2, rng=0), path)
        >>> sorted(dg.io.load_torch_state_dict(dg.nn.Linear(3, 2), path).state_dict())
        ['bias', 'weight']
    """
    from safetensors.numpy import save as to_bytes

    if not isinstance(model, Module):
        raise TypeError(f"save_torch_state_dict: expected a deltagrad Module, got "
                        f"{type(model).__name__}")
    path = check_destination(path, "save_torch_state_dict", "weights.safetensors")
    tensors = {key: np.require(value, requirements="C")
               for key, value in to_torch_state_dict(model).items()}
    _write_atomically(path, to_bytes(tensors, metadata={"format": "pt"}))

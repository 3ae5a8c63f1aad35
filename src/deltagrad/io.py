"""Saving and loading networks: weights in safetensors, the architecture as JSON in its
metadata. No pickle, no eval, no import of a name read from a file: a fixed registry maps the
type names written here to deltagrad classes, and everything read is checked before use.

Writes are atomic (a temporary file in the same folder, fsync, rename), so a crash during a
save leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from .nn.activation import ACTIVATIONS, Identity, ReLU, Sigmoid, Softmax, Step, Tanh
from .nn.container import MLP, Sequential
from .nn.feedforward import FeedForward
from .nn.linear import INITS, Linear
from .nn.module import Module

FORMAT = "deltagrad.safetensors/1"
_ACTIVATIONS = {"Identity": Identity, "Sigmoid": Sigmoid, "Tanh": Tanh, "ReLU": ReLU,
                "Step": Step}
_FLOAT_DTYPES = ("float32", "float64")


class _Spec:
    """Checked access to a JSON object read from a file: every failure is a ValueError."""

    def __init__(self, data, where: str):
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected a JSON object, got {type(data).__name__}")
        self.data, self.where = data, where

    def get(self, key, kind, check=None, default=...):
        if key not in self.data:
            if default is not ...:
                return default
            raise ValueError(f"{self.where}: missing field {key!r}")
        value = self.data[key]
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            raise ValueError(f"{self.where}.{key}: expected {_kind_name(kind)}, got {value!r}")
        if check is not None and not check(value):
            raise ValueError(f"{self.where}.{key}: invalid value {value!r}")
        return value


def _kind_name(kind) -> str:
    names = {int: "an integer", str: "a string", list: "a list", dict: "an object",
             bool: "true/false"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def _positive(v) -> bool:
    return isinstance(v, int) and 1 <= v <= 1_000_000


def _dtype_name(module: Module) -> str:
    params = module.parameters()
    return str(params[0].dtype) if params else "float64"


# ---- architecture → JSON ----------------------------------------------------------------------
def architecture(module: Module) -> dict:
    """The JSON-able description of ``module`` (weights excluded)."""
    from .logic.network import LogicNetwork

    kind = type(module)
    if kind is LogicNetwork:
        return {"type": "LogicNetwork", "sizes": module.sizes, "variables": module.variables,
                "labels": module.labels, "expression": module.expression}
    if kind is MLP:
        return {"type": "MLP", "sizes": module.sizes, "activations": module.activations,
                "dtype": _dtype_name(module)}
    if kind is Linear:
        return {"type": "Linear", "in_features": module.in_features,
                "out_features": module.out_features, "bias": module.bias is not None,
                "init": module.init, "dtype": str(module.weight.dtype)}
    if kind in _ACTIVATIONS.values():
        return {"type": kind.__name__}
    if kind is Softmax:
        return {"type": "Softmax", "axis": module.axis}
    if kind is Sequential:
        return {"type": "Sequential", "children": [
            {"name": name, "module": architecture(child)} for name, child in
            module.named_children()]}
    if kind is FeedForward:
        return {"type": "FeedForward", "units": module.units, "inputs": module.inputs,
                "outputs": module.outputs,
                "edges": [[s, u] for u in module.order for s in module.sources[u]],
                "bias": getattr(module, f"b_{module.order[0]}") is not None,
                "dtype": _dtype_name(module)}
    raise TypeError(f"save: {kind.__name__} is not one of the saveable types "
                    f"{sorted(BUILDERS)}")


# ---- JSON → architecture (checked, no imports, no eval) ------------------------------------
class _Budget:
    """The parameters a file's tensors can fill: an architecture claiming more is malformed
    (and is refused before anything that large is allocated)."""

    def __init__(self, elements: int):
        self.left = elements

    def take(self, count: int, where: str) -> None:
        if count > self.left:
            raise ValueError(f"{where}: the architecture needs more weights than the file holds")
        self.left -= count


def _layers_count(sizes) -> int:
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def _build_linear(spec: _Spec, budget: _Budget) -> Linear:
    n_in, n_out = spec.get("in_features", int, _positive), spec.get("out_features", int, _positive)
    budget.take(n_in * n_out + (n_out if spec.get("bias", bool) else 0), spec.where)
    return Linear(spec.get("in_features", int, _positive), spec.get("out_features", int, _positive),
                  bias=spec.get("bias", bool), init=spec.get("init", str, INITS.__contains__),
                  dtype=spec.get("dtype", str, _FLOAT_DTYPES.__contains__), rng=0)


def _build_mlp(spec: _Spec, budget: _Budget) -> MLP:
    sizes = spec.get("sizes", list, lambda v: 2 <= len(v) <= 1000 and all(map(_positive, v)))
    budget.take(_layers_count(sizes), spec.where)
    acts = spec.get("activations", list, lambda v: len(v) == len(sizes) - 1 and all(
        isinstance(a, str) and a in ACTIVATIONS for a in v))
    return MLP(sizes, hidden=acts[:-1], output=acts[-1], rng=0,
               dtype=spec.get("dtype", str, _FLOAT_DTYPES.__contains__))


def _build_sequential(spec: _Spec, budget: _Budget, depth: int) -> Sequential:
    children = spec.get("children", list, lambda v: 1 <= len(v) <= 10_000)
    modules = {}
    for i, child in enumerate(children):
        item = _Spec(child, f"{spec.where}.children[{i}]")
        name = item.get("name", str, lambda v: v.isidentifier() or v.isdigit())
        if name in modules:
            raise ValueError(f"{item.where}: repeated child name {name!r}")
        modules[name] = build(item.get("module", dict), f"{item.where}.module", budget,
                              depth + 1)
    return Sequential(modules)


def _build_feedforward(spec: _Spec, budget: _Budget) -> FeedForward:
    units = spec.get("units", dict, lambda v: 1 <= len(v) <= 100_000)
    for name, act in units.items():
        if not isinstance(act, str):
            raise ValueError(f"{spec.where}.units[{name!r}]: expected a string")
    edges = spec.get("edges", list)
    if not all(isinstance(e, list) and len(e) == 2 and all(isinstance(x, str) for x in e)
               for e in edges):
        raise ValueError(f"{spec.where}.edges: expected a list of [source, target] pairs")
    inputs = spec.get("inputs", list, lambda v: all(isinstance(x, str) for x in v))
    outputs = spec.get("outputs", list, lambda v: all(isinstance(x, str) for x in v))
    budget.take(len(edges) + len(units), spec.where)
    return FeedForward(units, [tuple(e) for e in edges], inputs=inputs, outputs=outputs,
                       bias=spec.get("bias", bool), rng=0,
                       dtype=spec.get("dtype", str, _FLOAT_DTYPES.__contains__))


def _build_logic(spec: _Spec, budget: _Budget):
    from .logic.network import LogicNetwork

    sizes = spec.get("sizes", list, lambda v: 2 <= len(v) <= 1000 and all(map(_positive, v)))
    budget.take(_layers_count(sizes), spec.where)
    variables = spec.get("variables", list, lambda v: len(v) == sizes[0] and all(
        isinstance(x, str) for x in v))
    labels = spec.get("labels", list, lambda v: len(v) == len(sizes) - 1 and all(
        isinstance(ls, list) and len(ls) == n and all(isinstance(x, str) for x in ls)
        for ls, n in zip(v, sizes[1:])))
    expression = spec.get("expression", (str, type(None)))
    layers = [(np.zeros((n_out, n_in)), np.zeros(n_out), lab)
              for n_in, n_out, lab in zip(sizes[:-1], sizes[1:], labels)]
    return LogicNetwork(layers, variables, expression=expression)


BUILDERS = {"Linear": _build_linear, "MLP": _build_mlp, "Sequential": _build_sequential,
            "FeedForward": _build_feedforward, "LogicNetwork": _build_logic,
            "Softmax": None, **{name: None for name in _ACTIVATIONS}}


def build(data, where: str = "architecture", budget: _Budget | None = None,
          depth: int = 0) -> Module:
    """A module from its architecture JSON, through the fixed registry only. ``budget``: the
    number of weights available (from the file's tensors)."""
    budget = budget if budget is not None else _Budget(10 ** 9)
    if depth > 50:
        raise ValueError(f"{where}: modules nested too deeply")
    spec = _Spec(data, where)
    kind = spec.get("type", str)
    if kind not in BUILDERS:
        raise ValueError(f"{where}: unknown module type {kind!r}; this version knows "
                         f"{sorted(BUILDERS)}")
    try:
        if kind == "Sequential":
            return _build_sequential(spec, budget, depth)
        if kind == "Softmax":
            return Softmax(axis=spec.get("axis", int, lambda v: -8 <= v <= 8, default=-1))
        if kind in _ACTIVATIONS:
            return _ACTIVATIONS[kind]()
        return BUILDERS[kind](spec, budget)
    except (TypeError, KeyError, OverflowError) as err:
        raise ValueError(f"{where}: invalid {kind} description: {err}") from err


# ---- files ---------------------------------------------------------------------------------------
def _write_atomically(path: str, payload: bytes) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".deltagrad-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
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

    metadata = {"format": FORMAT, "architecture": json.dumps(architecture(model))}
    if extra is not None:
        metadata["extra"] = json.dumps(extra)
    tensors = {name: np.ascontiguousarray(value) for name, value in model.state_dict().items()}
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
    module = build(description, budget=_Budget(sum(t.size for t in tensors.values())))
    _load_weights(module, tensors, path)
    return module, extra


def _load_weights(module: Module, tensors: dict, path: str) -> None:
    expected = dict(module.named_parameters())
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

"""Reading a network and one pattern from a JSON spec, for ``deltagrad explain SPEC.json``.

A spec::

    {"sizes": [2, 2, 1],                 # or "2-2-1"
     "activations": ["tanh", "identity"], # one per layer (or "hidden" and "output")
     "weights": [[[0.5, 0.2], [-0.3, 0.8]], [[1.0, -0.5]]],   # W^(l)[j][i] = w_ji
     "biases": [[0.1, 0.0], [0.2]],
     "x": [1.0, 0.5], "t": [1.0], "loss": "sum_of_squares", "lr": 0.1}
"""

from __future__ import annotations

import json

import numpy as np

from ..nn.container import MLP, parse_sizes

REQUIRED = ("sizes", "weights", "biases", "x", "t")


def load_spec(source) -> dict:
    """Parse a spec from a path, a JSON string or a dict, checking every field."""
    if isinstance(source, dict):
        spec = dict(source)
    else:
        text = str(source)
        if not text.lstrip().startswith("{"):
            with open(text, encoding="utf-8") as handle:
                text = handle.read()
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"spec: not valid JSON ({err})") from err
    missing = [field for field in REQUIRED if field not in spec]
    if missing:
        raise ValueError(f"spec: missing field(s) {missing}; a spec needs {list(REQUIRED)} "
                         "and optionally activations (or hidden/output), loss, lr")
    return spec


def build(spec: dict):
    """``(model, x, t, loss, lr)`` from a checked spec."""
    sizes = parse_sizes(spec["sizes"])
    n_layers = len(sizes) - 1
    if "activations" in spec:
        acts = list(spec["activations"])
        if len(acts) != n_layers:
            raise ValueError(f"spec: activations has {len(acts)} entries for {n_layers} layers")
        hidden, output = acts[:-1], acts[-1]
    else:
        hidden, output = spec.get("hidden", "tanh"), spec.get("output", "identity")
    model = MLP(sizes, hidden=hidden, output=output, rng=0)
    for field in ("weights", "biases"):
        if len(spec[field]) != n_layers:
            raise ValueError(f"spec: {field} has {len(spec[field])} entries for {n_layers} layers")
    for l, linear in enumerate(model.linears, start=1):
        for field, param in (("weights", linear.weight), ("biases", linear.bias)):
            value = np.asarray(spec[field][l - 1], dtype=np.float64)
            if value.shape != param.shape:
                raise ValueError(f"spec: {field}[{l - 1}] (layer {l}) has shape {value.shape}; "
                                 f"expected {param.shape}")
            param.data[...] = value
    x = np.asarray(spec["x"], dtype=np.float64)
    if x.shape[-1:] != (sizes[0],):
        raise ValueError(f"spec: x has shape {x.shape}; expected ({sizes[0]},) or (N, {sizes[0]})")
    loss = spec.get("loss", "sum_of_squares")
    lr = spec.get("lr")
    return model, x, spec["t"], loss, lr

"""Reading a network and one pattern from a JSON spec, for ``deltagrad explain SPEC.json``.

A spec::

    {"sizes": [2, 2, 1],                 # or "2-2-1"
     "activations": ["tanh", "identity"], # one per layer (or "hidden" and "output")
     "weights": [[[0.5, 0.2], [-0.3, 0.8]], [[1.0, -0.5]]],   # W^(l)[j][i] = w_ji
     "biases": [[0.1, 0.0], [0.2]],
     "x": [1.0, 0.5], "t": [1.0], "loss": "sum_of_squares", "lr": 0.1}

or, for backpropagation through time (§9.3), an RNN with its output layer (eq. 8.6–8.9)::

    {"W_xh": [[0.5, 0.1], [0.2, 0.4]], "W_hh": [[0.3, 0.6], [0.7, 0.1]], "b_h": [0.1, 0.1],
     "W_hy": [[0.8, 0.4]], "b_y": [0.0], "nonlinearity": "tanh",
     "xs": [[1, 0], [0, 1]], "ys": [[0.5], [0.9]], "lr": 0.1}
"""

from __future__ import annotations

import json

import numpy as np

from ..nn.container import MLP, parse_sizes
from ..nn.linear import Linear
from ..nn.recurrent import RNN

REQUIRED = ("sizes", "weights", "biases", "x", "t")
RECURRENT_REQUIRED = ("W_xh", "W_hh", "b_h", "W_hy", "b_y", "xs", "ys")


def is_recurrent(spec: dict) -> bool:
    """A spec of an RNN (it names W_hh) rather than a feed-forward network."""
    return "W_hh" in spec


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
    if is_recurrent(spec):
        missing = [field for field in RECURRENT_REQUIRED if field not in spec]
        if missing:
            raise ValueError(f"spec: missing field(s) {missing}; an RNN spec needs "
                             f"{list(RECURRENT_REQUIRED)} and optionally nonlinearity, lr")
        return spec
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


def build_recurrent(spec: dict):
    """``(rnn, output_layer, xs, ys, lr)`` from a checked RNN spec."""
    W_xh = np.asarray(spec["W_xh"], dtype=np.float64)
    W_hy = np.asarray(spec["W_hy"], dtype=np.float64)
    if W_xh.ndim != 2 or W_hy.ndim != 2:
        raise ValueError(f"spec: W_xh and W_hy must be matrices (D_h × D_x, D_y × D_h), got "
                         f"shapes {W_xh.shape} and {W_hy.shape}")
    rnn = RNN(W_xh.shape[1], W_xh.shape[0], nonlinearity=spec.get("nonlinearity", "tanh"),
              rng=0)
    out = Linear(W_hy.shape[1], W_hy.shape[0], rng=0)
    for field, param in (("W_xh", rnn.W_xh), ("W_hh", rnn.W_hh), ("b_h", rnn.b_h),
                         ("W_hy", out.weight), ("b_y", out.bias)):
        value = np.asarray(spec[field], dtype=np.float64)
        if value.shape != param.shape:
            raise ValueError(f"spec: {field} has shape {value.shape}; expected {param.shape}")
        param.data[...] = value
    return rnn, out, spec["xs"], spec["ys"], spec.get("lr")

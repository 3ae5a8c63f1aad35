"""Weight-space symmetries (§1.3): sign flips (odd activations), interchanges, all M!·2^M
equivalent networks of a hidden layer, and a canonical form for deciding equivalence."""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np

from ..nn.activation import Identity, Tanh
from ..nn.container import MLP

ODD = (Tanh, Identity)  # h(−a) = −h(a)
MAX_ENUMERATION = 5_000_000


def _check_layer(model: MLP, layer: int):
    """The hidden layer l (1-based): (incoming Linear, its activation, outgoing Linear)."""
    if not isinstance(model, MLP):
        raise TypeError(f"expected an nn.MLP, got {type(model).__name__}")
    hidden = len(model.linears) - 1
    if not isinstance(layer, (int, np.integer)) or not 1 <= layer <= hidden:
        raise ValueError(f"layer must be a hidden layer 1 … {hidden}, got {layer!r}")
    activation = getattr(model, f"act{layer}")
    return model.linears[layer - 1], activation, model.linears[layer]


def _check_unit(linear, unit: int, name: str = "unit") -> int:
    M = linear.out_features
    if not isinstance(unit, (int, np.integer)) or not 0 <= unit < M:
        raise ValueError(f"{name} must be a unit index 0 … {M - 1} of the layer, got {unit!r}")
    return int(unit)


def _flip_in_place(model: MLP, layer: int, unit: int) -> None:
    incoming, activation, outgoing = _check_layer(model, layer)
    if not isinstance(activation, ODD):
        raise ValueError(
            f"sign_flip: layer {layer} uses {type(activation).__name__}, which is not odd; "
            "Remark 1.10: the sign-flip symmetry (the 2^M factor) is specific to odd activation "
            "functions such as tanh(a), where h(−a) = −h(a)")
    incoming.weight.data[unit] *= -1
    if incoming.bias is not None:
        incoming.bias.data[unit] *= -1
    outgoing.weight.data[:, unit] *= -1


def _swap_in_place(model: MLP, layer: int, i: int, j: int) -> None:
    incoming, _, outgoing = _check_layer(model, layer)
    incoming.weight.data[[i, j]] = incoming.weight.data[[j, i]]
    if incoming.bias is not None:
        incoming.bias.data[[i, j]] = incoming.bias.data[[j, i]]
    outgoing.weight.data[:, [i, j]] = outgoing.weight.data[:, [j, i]]


def sign_flip(model: MLP, layer: int, unit: int) -> MLP:
    """Negate every weight and the bias into hidden unit ``unit`` of ``layer`` and every weight
    out of it (§1.3.2): the same function when h is odd. Units count from 0, layers from 1."""
    incoming, _, _ = _check_layer(model, layer)
    unit = _check_unit(incoming, unit)
    new = copy.deepcopy(model)
    _flip_in_place(new, layer, unit)
    return new


def interchange(model: MLP, layer: int, i: int, j: int) -> MLP:
    """Swap hidden units i and j of ``layer`` with all their weights (§1.3.3)."""
    incoming, _, _ = _check_layer(model, layer)
    i, j = _check_unit(incoming, i, "i"), _check_unit(incoming, j, "j")
    if i == j:
        raise ValueError(f"interchange: i and j must differ, got i = j = {i}")
    new = copy.deepcopy(model)
    _swap_in_place(new, layer, i, j)
    return new


def equivalent_networks(model: MLP, layer: int = 1):
    """Yield every network equivalent to ``model`` by permuting and (for odd h) sign-flipping
    the units of one hidden layer: M!·2^M networks for tanh (Corollary 1.9), M! otherwise
    (Remark 1.10). The first one yielded is the model itself."""
    incoming, activation, outgoing = _check_layer(model, layer)
    M = incoming.out_features
    odd = isinstance(activation, ODD)
    count = math.factorial(M) * (2 ** M if odd else 1)
    if count > MAX_ENUMERATION:
        raise ValueError(f"equivalent_networks: M = {M} gives {count:,} networks; the limit is "
                         f"{MAX_ENUMERATION:,}")
    W_in = incoming.weight.data.copy()
    b_in = None if incoming.bias is None else incoming.bias.data.copy()
    W_out = outgoing.weight.data.copy()
    signs_list = itertools.product((1.0, -1.0), repeat=M) if odd else [(1.0,) * M]
    for signs in signs_list:
        s = np.array(signs)
        for perm in itertools.permutations(range(M)):
            p = list(perm)
            new = copy.deepcopy(model)
            new_in, _, new_out = _check_layer(new, layer)
            new_in.weight.data[...] = (W_in * s[:, None])[p]
            if b_in is not None:
                new_in.bias.data[...] = (b_in * s)[p]
            new_out.weight.data[...] = (W_out * s[None, :])[:, p]
            yield new


def canonical_form(model: MLP, decimals: int = 12) -> MLP:
    """One representative of the model's equivalence class, layer by layer from the first:
    for odd h each unit's sign is fixed so that the first non-zero of (bias, incoming weights)
    is positive; then the units are sorted by (bias, incoming weights). Two networks are
    equivalent (by these symmetries) iff their canonical forms are equal."""
    new = copy.deepcopy(model)
    for layer in range(1, len(new.linears)):
        incoming, activation, _ = _check_layer(new, layer)
        rows = _unit_keys(incoming)
        if isinstance(activation, ODD):
            for unit, row in enumerate(rows):
                nonzero = row[np.abs(row) > 10.0 ** -decimals]
                if nonzero.size and nonzero[0] < 0:
                    _flip_in_place(new, layer, unit)
            rows = _unit_keys(incoming)
        order = sorted(range(len(rows)), key=lambda u: tuple(np.round(rows[u], decimals)))
        _permute_in_place(new, layer, order)
    return new


def _unit_keys(linear) -> np.ndarray:
    bias = np.zeros(linear.out_features) if linear.bias is None else linear.bias.data
    return np.hstack([bias[:, None], linear.weight.data]).astype(np.float64)


def _permute_in_place(model: MLP, layer: int, order: list) -> None:
    incoming, _, outgoing = _check_layer(model, layer)
    incoming.weight.data[...] = incoming.weight.data[order]
    if incoming.bias is not None:
        incoming.bias.data[...] = incoming.bias.data[order]
    outgoing.weight.data[...] = outgoing.weight.data[:, order]


def are_equivalent(a: MLP, b: MLP, atol: float = 1e-9) -> bool:
    """Whether two networks of the same architecture have equal canonical forms."""
    ca, cb = canonical_form(a), canonical_form(b)
    pa, pb = ca.parameters(), cb.parameters()
    return len(pa) == len(pb) and all(
        p.shape == q.shape and np.allclose(p.data, q.data, rtol=0, atol=atol)
        for p, q in zip(pa, pb))

"""torch.nn twins of our recurrent layers (a helper for the tests, not a test module)."""

import numpy as np
import torch


def _tails(ours):
    """(layer, direction, our suffix, torch's suffix) for every layer and direction."""
    for layer in range(ours.num_layers):
        for direction in range(ours.directions):
            yield (layer, direction, ours._suffix(layer, direction),
                   f"l{layer}" + ("_reverse" if direction else ""))


def torch_twin(ours, kind, **kwargs):
    """The torch.nn layer with our weights: torch's weight_ih_l{k}[_reverse] is our
    W_xh[_l{k}][_reverse], bias_ih our b_h, bias_hh zero (GRU: our b_hn in its n-part)."""
    cls = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[kind]
    if kind == "RNN":
        kwargs["nonlinearity"] = ours.nonlinearity
    twin = cls(ours.input_size, ours.hidden_size, num_layers=ours.num_layers, batch_first=True,
               bidirectional=ours.bidirectional, dtype=torch.float64, **kwargs)
    D = ours.hidden_size
    with torch.no_grad():
        for layer, direction, _, tail in _tails(ours):
            p = ours.layer_parameters(layer, direction)
            getattr(twin, f"weight_ih_{tail}").copy_(torch.tensor(p["W_xh"].data))
            getattr(twin, f"weight_hh_{tail}").copy_(torch.tensor(p["W_hh"].data))
            getattr(twin, f"bias_ih_{tail}").copy_(torch.tensor(p["b_h"].data))
            b_hh = np.zeros_like(p["b_h"].data)
            if kind == "GRU":
                b_hh[2 * D:] = p["b_hn"].data
            getattr(twin, f"bias_hh_{tail}").copy_(torch.tensor(b_hh))
    return twin


def torch_gradients(twin, ours, kind):
    """Our parameter names → torch's gradients (b_h gets b_ih's; GRU b_hn the n-part of
    b_hh), in torch's parameter order."""
    D = ours.hidden_size
    grads = {}
    for _, _, s, tail in _tails(ours):
        grads["W_xh" + s] = getattr(twin, f"weight_ih_{tail}").grad.numpy()
        grads["W_hh" + s] = getattr(twin, f"weight_hh_{tail}").grad.numpy()
        grads["b_h" + s] = getattr(twin, f"bias_ih_{tail}").grad.numpy()
        if kind == "GRU":
            grads["b_hn" + s] = getattr(twin, f"bias_hh_{tail}").grad.numpy()[2 * D:]
    return grads

"""Recurrent layers (chapters 8–10): RNN (eq. 8.6–8.7), LSTM (eq. 10.4–10.6) and GRU.

Each layer runs the whole sequence as one fused primitive of ``ops.recurrent`` whose VJP is
backpropagation through time. Inputs are batch-first ``(N, T, D_x)``; an output layer
(``nn.Linear``, eq. 8.8) applies to every step of the returned states ``(N, T, D_h)``.
A bidirectional layer runs a second set of weights over the time-reversed sequence and
concatenates the two directions' states, ``(N, T, 2·D_h)``, as ``torch.nn`` does.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _state, ops
from .. import _validate as check
from ..ops import recurrent as fused
from ..tensor import Tensor
from .conv import Dropout
from .module import Module, Parameter, layer_input
from .registry import config_of, positive, savable

NONLINEARITIES = ("tanh", "relu")
_BACKWARDS = (slice(None), slice(None, None, -1))  # (N, T, …) read from the last step


class _Recurrent(Module):
    """What RNN, LSTM and GRU share: sizes, stacked layers, directions, initial states, masks,
    dropout between layers, saving.

    Layer ℓ's parameters are ``W_xh``, ``W_hh``, ``b_h`` (eq. 8.6) for ℓ = 0 and
    ``W_xh_l1``, ``W_hh_l1``, ``b_h_l1``, … above it; layer ℓ + 1 reads layer ℓ's states.
    A bidirectional layer adds the reverse direction's ``W_xh_reverse``, ``W_xh_l1_reverse``,
    … (PyTorch's ``weight_ih_l0_reverse``, ``weight_ih_l1_reverse``, …).
    """

    gates = 1  # G: the blocks of D_h rows stacked in W_xh, W_hh, b_h

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, rng=None,
                 dtype=None, bidirectional: bool = False, dropout: float = 0.0):
        super().__init__()
        owner = type(self).__name__
        self.input_size = check.positive_int(input_size, "input_size", owner)
        self.hidden_size = check.positive_int(hidden_size, "hidden_size", owner)
        self.num_layers = check.positive_int(num_layers, "num_layers", owner)
        self.bidirectional = check.boolean(bidirectional, "bidirectional", owner)
        self.dropout = check.real(dropout, "dropout", owner, low=0.0, high=1.0)
        dtype = check.float_dtype(dtype, owner)
        rng = _state.get_rng(rng, owner)
        for layer in range(self.num_layers):
            width = self.input_size if layer == 0 else self.directions * self.hidden_size
            for direction in range(self.directions):
                for name, shape in self._parameter_shapes(width, self.hidden_size).items():
                    setattr(self, name + self._suffix(layer, direction),
                            Parameter(np.zeros(shape, dtype=dtype)))
        if self.dropout > 0 and self.num_layers > 1:
            self.layer_dropout = Dropout(self.dropout, rng=rng)
        elif self.dropout > 0:  # as PyTorch: it acts between stacked layers only
            warnings.warn(f"{owner}: dropout={self.dropout} acts between stacked layers and "
                          "this layer has one (num_layers=1), so it does nothing; drop the "
                          "outputs with nn.Dropout instead", UserWarning, stacklevel=3)
        self.reset_parameters(rng)

    @property
    def directions(self) -> int:
        """2 for a bidirectional layer, else 1."""
        return 2 if self.bidirectional else 1

    @classmethod
    def _parameter_shapes(cls, width: int, hidden: int) -> dict:
        """Each layer's parameters: W_xh (G·D_h, width), W_hh (G·D_h, D_h), b_h (G·D_h,)."""
        return {"W_xh": (cls.gates * hidden, width), "W_hh": (cls.gates * hidden, hidden),
                "b_h": (cls.gates * hidden,)}

    @staticmethod
    def _suffix(layer: int, direction: int = 0) -> str:
        """"" for layer 0, "_l1" for layer 1, …; "_reverse" appended for the reverse direction."""
        return ("" if layer == 0 else f"_l{layer}") + ("_reverse" if direction else "")

    def layer_parameters(self, layer: int, direction: int = 0) -> dict:
        """Layer ``layer``'s parameters by their names without the suffix: W_xh, W_hh, b_h…
        (``direction=1``: the reverse direction's, of a bidirectional layer)."""
        suffix = self._suffix(layer, direction)
        return {name: getattr(self, name + suffix)
                for name in self._parameter_shapes(1, self.hidden_size)}

    def reset_parameters(self, rng=None) -> None:
        """Every weight and bias Uniform(−k, k) with k = 1/√D_h (as ``torch.nn``)."""
        rng = _state.get_rng(rng)
        limit = 1.0 / np.sqrt(self.hidden_size)
        for p in self.parameters():
            p.data = rng.uniform(-limit, limit, size=p.shape).astype(p.dtype)

    @property
    def dtype(self) -> np.dtype:
        return self.W_xh.dtype

    # -------------------------------------------------------------------- checking inputs

    def _name(self) -> str:
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"

    def _sequence(self, x) -> Tensor:
        """x as a Tensor (N, T, D_x) of the layer's dtype, or a clear error."""
        name = self._name()
        x = layer_input(name, x, self.dtype)
        if x.ndim != 3:
            raise ValueError(f"{name}: x must have shape (N, T, D_x) = (batch, time, "
                             f"{self.input_size}), got rank {x.ndim} shape {x.shape}")
        if x.shape[1] == 0:  # an empty batch (N = 0) gives empty states, as PyTorch
            raise ValueError(f"{name}: x has shape {x.shape}: an empty sequence (T = 0) has "
                             "no states; give at least one step")
        if x.shape[2] != self.input_size:
            raise ValueError(f"{name}: expected {self.input_size} input features per step, "
                             f"got shape {x.shape}")
        return x

    def _state_shape(self, N: int) -> tuple:
        count = self.num_layers * self.directions
        return (N, self.hidden_size) if count == 1 else (count, N, self.hidden_size)

    def _initial(self, h0, N: int, what: str = "h0") -> list:
        """One (N, D_h) initial state per layer and direction (PyTorch's order: layer 0,
        layer 0 reverse, layer 1, …): zeros (the notes' h⁽⁰⁾ = 0) or ``h0``."""
        shape = self._state_shape(N)
        count = self.num_layers * self.directions
        if h0 is None:
            zeros = Tensor._wrap(np.zeros((N, self.hidden_size), dtype=self.dtype))
            return [zeros] * count
        if not isinstance(h0, Tensor):
            h0 = Tensor(np.asarray(h0, dtype=self.dtype))
        if h0.shape != shape:
            layers = "" if count == 1 else " (num_layers · directions, N, D_h)"
            raise ValueError(f"{self._name()}: {what} must have shape {shape}{layers} for a "
                             f"batch of {N}, got {h0.shape}")
        if h0.dtype != self.dtype:
            raise TypeError(f"{self._name()}: {what} dtype {h0.dtype} does not match the "
                            f"layer's dtype {self.dtype}")
        return [h0] if count == 1 else [h0[k] for k in range(count)]

    def _initial_states(self, h0, N: int) -> list:
        """The initial states of each layer and direction, one tuple each: (h⁽⁰⁾,)."""
        return [(h,) for h in self._initial(h0, N)]

    def _mask(self, mask, x: Tensor):
        """A boolean (N, T) array, or None."""
        return None if mask is None else step_mask(mask, x.shape, self._name())

    def forward(self, x, h0=None, mask=None):
        """All states of the last layer (N, T, D·D_h) and the last states of each layer and
        direction (D = 2 when bidirectional, else 1)."""
        x = self._sequence(x)
        mask = self._mask(mask, x)
        initial = self._initial_states(h0, x.shape[0])
        if x.shape[0] == 0:
            return self._empty_batch(x, initial)
        last = []
        for layer in range(self.num_layers):
            if layer and self.dropout:  # between stacked layers, never after the last
                x = self.layer_dropout(x)
            outputs = []
            for direction in range(self.directions):
                k = layer * self.directions + direction
                H, states = self._direction(x, initial[k], layer, direction, mask)
                outputs.append(H)
                last.append(states)
            x = outputs[0] if len(outputs) == 1 else ops.concatenate(outputs, axis=-1)
        return x, self._final(last)

    def _direction(self, x, states: tuple, layer: int, direction: int, mask):
        """One direction of one layer: its states (N, T, D_h) and its last states. The
        reverse direction runs on the time-reversed sequence, so a padded sequence (mask
        False at its end) starts from h⁽⁰⁾ at its own last real step, as PyTorch's packed
        sequences do; its states are returned in the original time order."""
        p = self.layer_parameters(layer, direction)
        if not direction:
            return self._run(x, states, p, mask)
        backwards = None if mask is None else reversed_steps(mask)
        H, last = self._run(ops.getitem(x, _BACKWARDS), states, p, backwards)
        return ops.getitem(H, _BACKWARDS), last

    def _run(self, x, states: tuple, p: dict, mask):
        """The fused sequence of one direction: (all states (N, T, D_h), (last h,))."""
        H = self._layer(x, states[0], p, mask)
        return H, (H[:, -1],)

    def _final(self, last: list):
        """The last states in PyTorch's layout: (N, D_h) for one layer and direction, else
        (num_layers · directions, N, D_h); a pair (h, C) for the LSTM."""
        parts = [[states[i] for states in last] for i in range(len(last[0]))]
        packed = [part[0] if len(part) == 1 else ops.stack(part, axis=0) for part in parts]
        return packed[0] if len(packed) == 1 else tuple(packed)

    def top_state(self, last) -> Tensor:
        """The top layer's last hidden state from ``forward``'s second result: (N, D_h), or
        (N, 2·D_h) for a bidirectional layer (forward direction first)."""
        h = last[0] if isinstance(last, tuple) else last
        if self.num_layers * self.directions == 1:
            return h
        if not self.bidirectional:
            return h[-1]
        return ops.concatenate([h[-2], h[-1]], axis=-1)

    def _empty_batch(self, x: Tensor, initial: list) -> tuple:
        """A batch of N = 0 sequences, as PyTorch: the states (0, T, D·D_h) and the last
        states in ``_final``'s layout, empty but in the graph of x and W_xh (so that a loss
        over them backpropagates, with zero gradients)."""
        H = ops.linear(x, self.W_xh)[..., :self.hidden_size]
        last = [tuple(H[:, -1] for _ in states) for states in initial]
        if self.bidirectional:
            H = ops.concatenate([H, H], axis=-1)
        return H, self._final(last)

    # -------------------------------------------------------------------------- saving

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers > 1:
            text += f", num_layers={self.num_layers}"
        if self.bidirectional:
            text += ", bidirectional=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        return text

    def config(self) -> dict:
        return {"input_size": self.input_size, "hidden_size": self.hidden_size,
                "num_layers": self.num_layers, "bidirectional": self.bidirectional,
                "dropout": self.dropout, "dtype": str(self.dtype)}

    @classmethod
    def _from_spec(cls, spec, **extra):
        D_x = spec.get("input_size", int, positive)
        D_h = spec.get("hidden_size", int, positive)
        layers = spec.get("num_layers", int, positive)
        bidirectional = spec.get("bidirectional", bool, default=False)
        dropout = spec.get("dropout", float, lambda p: 0 <= p < 1, default=0.0)
        directions = 2 if bidirectional else 1
        sizes = [cls._parameter_shapes(D_x if k == 0 else directions * D_h, D_h)
                 for k in range(layers)]
        spec.reserve(directions * sum(int(np.prod(shape)) for layer in sizes
                                      for shape in layer.values()))
        return cls(D_x, D_h, num_layers=layers, dtype=spec.dtype(), rng=0,
                   bidirectional=bidirectional, dropout=dropout, **extra)

    @classmethod
    def from_config(cls, spec):
        return cls._from_spec(spec)


# made from the step's arguments (ops.base.recorded): a compiled step makes them at every replay
@ops.base.recorded
def step_mask(mask, shape: tuple, owner: str) -> np.ndarray:
    """``mask`` as a boolean (N, T) array for x of ``shape`` (N, T, D), or a clear error."""
    mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if mask.shape != shape[:2]:
        raise ValueError(f"{owner}: mask must have shape (N, T) = {shape[:2]} for x of shape "
                         f"{shape}, got {mask.shape}")
    if mask.dtype != np.bool_:
        if mask.dtype.kind not in "biuf" or not np.all((mask == 0) | (mask == 1)):
            raise ValueError(f"{owner}: mask must hold booleans or 0/1 (True where a step is "
                             f"real, False where it is padding)")
        mask = mask.astype(bool)
    return mask


@ops.base.recorded
def reversed_steps(mask: np.ndarray) -> np.ndarray:
    """The (N, T) mask read from the last step to the first (the reverse direction's)."""
    return np.ascontiguousarray(mask[:, ::-1])


@savable()
class RNN(_Recurrent):
    """The recurrent layer of eq. 8.6–8.7: a⁽ᵗ⁾ = W_hh h⁽ᵗ⁻¹⁾ + W_xh x⁽ᵗ⁾ + b_h, h⁽ᵗ⁾ = f(a⁽ᵗ⁾).

    Args:
        input_size: D_x.
        hidden_size: D_h.
        nonlinearity: f, ``"tanh"`` (the notes') or ``"relu"``.
        num_layers: stacked layers, each reading the states of the one below.
        rng, dtype: initial weights (Uniform(±1/√D_h)) and float dtype.
        bidirectional: run a second layer (``W_xh_reverse``, …) from the last step to the
            first and concatenate the states of both directions (forward first), as
            ``torch.nn.RNN(bidirectional=True)``.
        dropout: the probability of dropping each state passed from one stacked layer to the
            next, in training mode only; not after the last layer (as ``torch.nn``).

    Shape:
        ``x`` (N, T, D_x); ``h0`` (N, D_h), or (num_layers · D, N, D_h) with D = 2 when
        bidirectional (layer 0, layer 0 reverse, layer 1, …), zeros when omitted; ``mask``
        (N, T) booleans, False at padded steps (their state is carried over, so they change
        nothing; the reverse direction starts at each sequence's last real step). Returns
        (all states of the last layer (N, T, D · D_h), the last states (N, D_h) or
        (num_layers · D, N, D_h), PyTorch's h_n). ``W_xh`` is (D_h, D_x), ``W_hh`` (D_h, D_h);
        a layer above the first reads D · D_h features.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> rnn = dg.nn.RNN(2, 3, rng=0)
        >>> H, h_last = rnn(np.ones((4, 5, 2)))
        >>> H.shape, h_last.shape
        ((4, 5, 3), (4, 3))
        >>> H, h_n = dg.nn.RNN(2, 3, num_layers=2, bidirectional=True, rng=0)(np.ones((4, 5, 2)))
        >>> H.shape, h_n.shape
        ((4, 5, 6), (4, 4, 3))
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh",
                 num_layers: int = 1, rng=None, dtype=None, bidirectional: bool = False,
                 dropout: float = 0.0):
        nonlinearity = check.choice(nonlinearity, NONLINEARITIES, "nonlinearity", "RNN")
        super().__init__(input_size, hidden_size, num_layers, rng=rng, dtype=dtype,
                         bidirectional=bidirectional, dropout=dropout)
        self.nonlinearity = nonlinearity

    def _layer(self, x, h0, p, mask) -> Tensor:
        return fused.rnn_sequence(x, h0, p["W_xh"], p["W_hh"], p["b_h"],
                                  nonlinearity=self.nonlinearity, mask=mask)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"

    def config(self) -> dict:
        return {**super().config(), "nonlinearity": self.nonlinearity}

    @classmethod
    def from_config(cls, spec):
        return cls._from_spec(spec, nonlinearity=spec.get("nonlinearity", str,
                                                          NONLINEARITIES.__contains__))


@savable()
class LSTM(_Recurrent):
    """Long short-term memory (chapter 10): gates i, f, o and the candidate C̃ from
    z = W_xh x⁽ᵗ⁾ + W_hh h⁽ᵗ⁻¹⁾ + b_h (eq. 10.4), the additive cell
    C⁽ᵗ⁾ = f ⊙ C⁽ᵗ⁻¹⁾ + i ⊙ C̃ (eq. 10.6) and h⁽ᵗ⁾ = o ⊙ tanh C⁽ᵗ⁾.

    ``W_xh`` (4D_h, D_x), ``W_hh`` (4D_h, D_h) and ``b_h`` (4D_h,) stack the rows of the gates
    in the order i, f, C̃, o (as ``torch.nn.LSTM``). The forget-gate bias starts at 1, so the
    cell path ∏ f⁽ⁱ⁾ (eq. 10.7) starts open.

    Args and shapes as :class:`RNN` (``bidirectional``, ``dropout`` too), except:
        ``h0`` is a pair (h⁽⁰⁾, C⁽⁰⁾) of (N, D_h) (or (num_layers · D, N, D_h)) arrays, zeros
        when omitted. Returns (all hidden states (N, T, D · D_h), (the last h, the last C)),
        PyTorch's (output, (h_n, c_n)).

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> lstm = dg.nn.LSTM(2, 3, rng=0)
        >>> H, (h, c) = lstm(np.ones((4, 5, 2)))
        >>> H.shape, c.shape
        ((4, 5, 3), (4, 3))
    """

    gates = 4

    def reset_parameters(self, rng=None) -> None:
        """Uniform(±1/√D_h) as ``torch.nn.LSTM``, then forget-gate biases set to 1."""
        super().reset_parameters(rng)
        D = self.hidden_size
        for layer in range(self.num_layers):
            for direction in range(self.directions):
                self.layer_parameters(layer, direction)["b_h"].data[D:2 * D] = 1.0

    def _initial_states(self, h0, N: int) -> list:
        """(h⁽⁰⁾, C⁽⁰⁾) of each layer and direction."""
        if h0 is None:
            return [(h, h) for h in self._initial(None, N)]
        if not isinstance(h0, (tuple, list)) or len(h0) != 2:
            raise TypeError(f"{self._name()}: h0 must be a pair (h0, c0) of initial "
                            f"hidden and cell states, got {type(h0).__name__}")
        return list(zip(self._initial(h0[0], N, "h0"), self._initial(h0[1], N, "c0")))

    def _run(self, x, states: tuple, p: dict, mask):
        """(hidden states (N, T, D_h), (last h, last C)) from the fused sequence, which
        returns the T hidden states followed by the last cell state."""
        T = x.shape[1]
        out = fused.lstm_sequence(x, states[0], states[1], p["W_xh"], p["W_hh"], p["b_h"],
                                  mask=mask)
        return out[:, :T], (out[:, T - 1], out[:, T])


@savable()
class GRU(_Recurrent):
    """Gated recurrent unit (as ``torch.nn.GRU``): reset r = σ(z_r), update u = σ(z_u),
    candidate n = tanh(W_xn x⁽ᵗ⁾ + b_n + r ⊙ (W_hn h⁽ᵗ⁻¹⁾ + b_hn)),
    h⁽ᵗ⁾ = (1 − u) ⊙ n + u ⊙ h⁽ᵗ⁻¹⁾, with z_r, z_u from W_xh x⁽ᵗ⁾ + W_hh h⁽ᵗ⁻¹⁾ + b_h.

    ``W_xh`` (3D_h, D_x), ``W_hh`` (3D_h, D_h), ``b_h`` (3D_h,) stack r, u, n; ``b_hn`` (D_h,)
    is the recurrent bias inside the reset gate (torch's b_hn; torch's b_hr, b_hz add into
    ``b_h``). Shapes and returns as :class:`RNN`.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> H, h = dg.nn.GRU(2, 3, rng=0)(np.ones((4, 5, 2)))
        >>> H.shape
        (4, 5, 3)
    """

    gates = 3

    @classmethod
    def _parameter_shapes(cls, width: int, hidden: int) -> dict:
        return {**super()._parameter_shapes(width, hidden), "b_hn": (hidden,)}

    def _layer(self, x, h0, p, mask) -> Tensor:
        return fused.gru_sequence(x, h0, p["W_xh"], p["W_hh"], p["b_h"], p["b_hn"], mask=mask)


@savable()
class RecurrentNetwork(Module):
    """A recurrent layer with an output layer (eq. 8.8–8.9): o⁽ᵗ⁾ = W_hy h⁽ᵗ⁾ + b_y at every step
    (many-to-many), or only at the last step (``many_to_one=True``).

    Args:
        recurrent: an ``RNN``, ``LSTM`` or ``GRU``.
        output: the output layer, applied to each state: ``Linear(D_h, D_y)``, or a
            ``Sequential(Linear, Softmax())`` for classification (eq. 9.2).
        many_to_one: predict from the last state h⁽ᵀ⁾ only (of the top layer; for a
            bidirectional layer the forward direction's h⁽ᵀ⁾ and the reverse direction's
            h⁽¹⁾ concatenated, (N, 2·D_h)).

    Shape:
        ``x`` (N, T, D_x) → (N, T, D_y), or (N, D_y) when many-to-one. ``forward(x, h0=None,
        mask=None)`` as the recurrent layer's; ``fit`` can train it like any model.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> net = dg.nn.RecurrentNetwork(dg.nn.LSTM(2, 8, rng=0), dg.nn.Linear(8, 1, rng=1),
        ...                              many_to_one=True)
        >>> net(np.ones((5, 20, 2))).shape
        (5, 1)
    """

    def __init__(self, recurrent: _Recurrent, output: Module, many_to_one: bool = False):
        super().__init__()
        if not isinstance(recurrent, _Recurrent):
            raise TypeError(f"RecurrentNetwork: recurrent must be an RNN, LSTM or GRU, got "
                            f"{type(recurrent).__name__}")
        if not isinstance(output, Module):
            raise TypeError(f"RecurrentNetwork: output must be a Module, got "
                            f"{type(output).__name__}")
        self.recurrent = recurrent
        self.output = output
        self.many_to_one = check.boolean(many_to_one, "many_to_one", "RecurrentNetwork")

    def forward(self, x, h0=None, mask=None) -> Tensor:
        H, last = self.recurrent(x, h0, mask)
        if not self.many_to_one:
            return self.output(H)
        return self.output(self.recurrent.top_state(last))

    def extra_repr(self) -> str:
        return f"many_to_one={self.many_to_one}"

    def config(self) -> dict:
        return {"recurrent": config_of(self.recurrent), "output": config_of(self.output),
                "many_to_one": self.many_to_one}

    @classmethod
    def from_config(cls, spec):
        recurrent = spec.module(spec.get("recurrent", dict), f"{spec.where}.recurrent")
        output = spec.module(spec.get("output", dict), f"{spec.where}.output")
        return cls(recurrent, output, many_to_one=spec.get("many_to_one", bool))

"""Sequential and the multilayer perceptron MLP (eq. 1.5, generalised to any depth)."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .. import _state, ops
from .activation import ACTIVATIONS, Identity, ReLU, Sigmoid, Step, Tanh, activation
from .linear import Linear
from .module import Module
from .module import structure as module_structure
from .registry import config_of, dense_weights, layer_sizes, savable


@savable()
class Sequential(Module):
    """Modules applied one after another.

    ``Sequential(m1, m2, ...)`` names them ``"0"``, ``"1"``, ...;
    ``Sequential(OrderedDict(name=module, ...))`` keeps the given names.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            items = list(modules[0].items())
        else:
            items = [(str(i), m) for i, m in enumerate(modules)]
        for name, module in items:
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: item {name!r} is a {type(module).__name__}, "
                                "not a Module")
            setattr(self, name, module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]

    def config(self) -> dict:
        return {"children": [{"name": name, "module": config_of(child)}
                             for name, child in self.named_children()]}

    @classmethod
    def from_config(cls, spec):
        modules = {}
        for i, child in enumerate(spec.get("children", list, lambda v: 1 <= len(v) <= 10_000)):
            item = spec.item(child, f"{spec.where}.children[{i}]")
            name = item.get("name", str, lambda v: v.isidentifier() or v.isdigit())
            if name in modules:
                raise ValueError(f"{item.where}: repeated child name {name!r}")
            modules[name] = item.module(item.get("module", dict), f"{item.where}.module")
        return cls(modules)


_FUSED = (Identity, Tanh, Sigmoid, ReLU, Step)  # the activations ops.dense applies itself


def parse_sizes(sizes) -> list:
    """``"2-3-2-1"`` or ``[2, 3, 2, 1]`` → ``[2, 3, 2, 1]`` (inputs, hidden..., outputs)."""
    if isinstance(sizes, str):
        try:
            sizes = [int(s) for s in sizes.strip().split("-")]
        except ValueError as err:
            raise ValueError(f"MLP: sizes {sizes!r} must look like '2-3-2-1'") from err
    sizes = list(sizes)
    if len(sizes) < 2 or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in sizes):
        raise ValueError(f"MLP: sizes must be at least two positive integers, got {sizes!r}")
    return [int(s) for s in sizes]


@savable()
class MLP(Sequential):
    """A feed-forward network of fully connected layers (eq. 1.5, any depth).

    Args:
        sizes: ``"2-3-2-1"`` or ``[2, 3, 2, 1]``: inputs, hidden layer widths, outputs.
        hidden: the hidden activation h, one name or one per hidden layer.
        output: the output activation: ``"identity"`` (regression), ``"sigmoid"``
            (independent binary outputs) or ``"softmax"`` (classes).
        rng, dtype: as :class:`Linear`. ReLU layers get He initialisation, others Glorot.

    Layer l (1-based, as the notes' superscript) is ``net.linears[l - 1]``, named
    ``linear{l}``; its activation is ``act{l}``.

    Example:
        >>> import deltagrad as dg
        >>> net = dg.nn.MLP("2-3-2-1", hidden=["tanh", "sigmoid"], rng=0)
        >>> [name for name, _ in net.named_parameters()][:2]
        ['linear1.weight', 'linear1.bias']
    """

    def __init__(self, sizes, hidden="tanh", output: str = "identity", rng=None, dtype=None):
        sizes = parse_sizes(sizes)
        n_hidden = len(sizes) - 2
        hidden = [hidden] * n_hidden if isinstance(hidden, str) else list(hidden)
        if len(hidden) != n_hidden:
            raise ValueError(f"MLP: {n_hidden} hidden layers but {len(hidden)} hidden "
                             f"activations {hidden!r}")
        for name in hidden + [output]:
            if not isinstance(name, str) or name.lower() not in ACTIVATIONS:
                raise ValueError(f"MLP: unknown activation {name!r}; expected one of "
                                 f"{sorted(ACTIVATIONS)}")
        rng = _state.get_rng(rng, "MLP")
        layers = OrderedDict()
        for l, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            act = hidden[l - 1] if l <= n_hidden else output
            init = "he" if act.lower() == "relu" else "glorot"
            layers[f"linear{l}"] = Linear(d_in, d_out, rng=rng, dtype=dtype, init=init)
            layers[f"act{l}"] = activation(act)
        super().__init__(layers)
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "activations", [a.lower() for a in hidden + [output]])

    def forward(self, x):
        """Layer by layer as ``Sequential``, run as one fused node ``ops.dense_stack`` when
        every hidden layer is a ``Linear`` followed by a plain tanh, sigmoid, ReLU, step or
        identity (the network as built): the same numbers and gradients as the layer-by-layer
        graph (tests compare, second derivatives included), one node for the backward pass
        instead of two per layer. The output activation stays a node of its own, so it records
        ``a`` for the canonical pair (eq. 3.9); ``explain`` traces layer by layer and sees
        every a^(l)."""
        plan = self.__dict__.get("_plan")
        if plan is None or plan[0] is not module_structure():
            plan = self._make_plan()
        _, first, layers, output = plan
        if layers is None:  # a layer was replaced by one dense_stack cannot run
            return super().forward(x)
        return output(ops.dense_stack(first.checked_input(x), layers))

    def _make_plan(self) -> tuple:
        """(the structure token it is valid for, the first Linear, the layers'
        ``ops.linalg.StackLayout`` or None when they cannot run as one stack, the output
        activation module). Kept on the network, never pickled or copied with it."""
        modules = tuple(self._modules.values())
        plan = (module_structure(), modules[0] if modules else None, self._stack_layout(modules),
                modules[-1] if modules else None)
        object.__setattr__(self, "_plan", plan)
        return plan

    @staticmethod
    def _stack_layout(modules: tuple):
        """The StackLayout of (Linear, activation) pairs, or None: an odd module left after a
        deletion, a layer or activation replaced by one the stack cannot run, or weights of
        different dtypes (which ``Sequential`` refuses with the layer's own error)."""
        if not modules or len(modules) % 2:
            return None
        layers = []
        for i in range(0, len(modules), 2):
            linear, act = modules[i], modules[i + 1]
            hidden = i < len(modules) - 2
            if type(linear) is not Linear or (hidden and type(act) not in _FUSED):
                return None
            layers.append((linear.weight, linear.bias, act.name if hidden else "identity"))
        try:
            return ops.linalg.StackLayout(layers)
        except TypeError:  # mixed dtypes: the only check StackLayout can fail on pairs built here
            return None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_plan", None)
        return state

    @property
    def linears(self) -> list:
        """The Linear layers in order: ``linears[l - 1]`` holds w^(l)."""
        return [m for m in self._modules.values() if isinstance(m, Linear)]

    def extra_repr(self) -> str:
        return "-".join(map(str, self.sizes))

    def config(self) -> dict:
        return {"sizes": self.sizes, "activations": self.activations,
                "dtype": str(self.linears[0].weight.dtype)}

    @classmethod
    def from_config(cls, spec):
        sizes = spec.get("sizes", list, layer_sizes)
        spec.reserve(dense_weights(sizes))
        acts = spec.get("activations", list, lambda v: len(v) == len(sizes) - 1 and all(
            isinstance(a, str) and a in ACTIVATIONS for a in v))
        return cls(sizes, hidden=acts[:-1], output=acts[-1], rng=0, dtype=spec.dtype())

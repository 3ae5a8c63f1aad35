"""Module and Parameter: containers of weights that register themselves on assignment."""

from __future__ import annotations

import abc
from collections import OrderedDict

import numpy as np

from .. import _state
from ..tensor import Tensor


_DATA = Tensor.data  # the slot that holds a tensor's values
_structure = object()  # replaced at every assignment to a module's attributes


def structure() -> object:
    """A token replaced whenever any module's attribute is assigned or deleted: a forward plan
    built under one token is still valid while ``structure()`` is that same object (see
    ``MLP.forward``)."""
    return _structure


def layer_name(module) -> str:
    """The module's name for error messages, on one line: ``"MultiHeadAttention(embed_dim=8,
    num_heads=2)"`` (its ``repr`` spans a line per sub-module)."""
    return f"{type(module).__name__}({module.extra_repr()})"


def layer_input(name: str, x, dtype=None) -> Tensor:
    """The one input policy of the layers: ``x`` as a Tensor of floats, or a clear error that
    names the layer (``name``). Every layer computes in floating point, as every primitive
    does (``ops.base.FLOAT``):

    - arrays, lists and numbers take the layer's ``dtype``;
    - integer and boolean data (Tensors included: they carry no gradient) take it too;
    - a float Tensor of another dtype is refused (:func:`refuse_other_dtype`), as PyTorch.

    A layer without weights (``dtype=None``) keeps float data as it comes and converts integer
    and boolean data to the default float dtype (float64).
    """
    if isinstance(x, Tensor):
        if x.data.dtype.kind in "biu":
            x = Tensor._wrap(x.data.astype(dtype or _state.default_dtype))
    else:
        try:
            array = np.asarray(x)
        except (ValueError, TypeError):  # ragged nested lists
            raise ValueError(f"{name}: the input must be a rectangular array of numbers "
                             f"(nested lists of different lengths?)") from None
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{name}: the input must hold numbers (bool, int or float), got "
                            f"dtype {array.dtype}")
        if array.dtype.kind != "f" or dtype is not None:
            array = array.astype(dtype or _state.default_dtype, copy=False)
        x = Tensor._wrap(array)
    if dtype is not None:
        refuse_other_dtype(name, x, dtype)
    return x


def refuse_other_dtype(name: str, x: Tensor, dtype) -> None:
    """The one check that a layer's input has the layer's dtype, naming the layer (``name``)
    and the conversion that fixes it."""
    if x.dtype != dtype:
        raise TypeError(f"{name}: input dtype {x.dtype} does not match the layer's dtype "
                        f"{dtype}; convert with x.astype({str(dtype)!r})")


class Parameter(Tensor):
    """A leaf tensor that a :class:`Module` registers as one of its weights.

    Assigning ``p.data = values`` (a list, an integer or float array, a Tensor) converts the
    values to the parameter's float dtype and refuses a different shape, naming the parameter
    (``"Linear.weight"``), so that a hand-set weight never fails later inside ``step()``.
    """

    __slots__ = ("_name",)

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def _set_data(self, values) -> None:
        try:
            current = _DATA.__get__(self)
        except AttributeError:  # the first assignment, by Tensor.__init__
            _DATA.__set__(self, values)
            return
        _DATA.__set__(self, self._conformed(values, current))

    # reading is the slot's own C getter (the hot path: no Python call); assigning is checked
    data = property(_DATA.__get__, _set_data, doc="The parameter's values (an ndarray).")

    def _conformed(self, values, current: np.ndarray) -> np.ndarray:
        name = getattr(self, "_name", None) or "Parameter"
        values = values.data if isinstance(values, Tensor) else values
        try:
            array = np.asarray(values)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name}.data must be numeric values of shape {current.shape}: "
                            f"{err}") from None
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{name}.data must be numeric, got values of dtype {array.dtype}")
        if array.shape != current.shape:
            raise ValueError(f"{name}.data must have the parameter's shape {current.shape}, "
                             f"got shape {array.shape}")
        return array if array.dtype == current.dtype else array.astype(current.dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module(abc.ABC):
    """Base class of layers and networks.

    Assigning a :class:`Parameter` or a :class:`Module` to an attribute registers it, so
    ``named_parameters()`` finds it under a dotted name (``"linear1.weight"``).
    Subclasses implement ``forward``; calling the module calls it.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value) -> None:
        global _structure
        _structure = object()
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before "
                               "assigning attributes")
        # a replacement keeps its place (layer order, parameter order), as in PyTorch
        if name in self._buffers:
            value = self._conformed_buffer(name, value)
            self._buffers[name] = value
        elif isinstance(value, Parameter):
            self._modules.pop(name, None)
            self._parameters[name] = value
            value._name = f"{type(self).__name__}.{name}"
        elif isinstance(value, Module):
            self._parameters.pop(name, None)
            self._modules[name] = value
        else:
            self._parameters.pop(name, None)
            self._modules.pop(name, None)
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, value) -> None:
        """Keep ``value`` (an ndarray) as state that is not a weight — BatchNorm's running
        statistics: in ``state_dict()``, saved and loaded, never trained. Assigning to the
        attribute later keeps it a buffer of the same shape and dtype."""
        if not isinstance(name, str) or not name.isidentifier() or hasattr(type(self), name):
            raise ValueError(f"{type(self).__name__}.register_buffer: {name!r} is not a free "
                             "attribute name")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers[name] = np.asarray(value)
        object.__setattr__(self, name, self._buffers[name])

    def _conformed_buffer(self, name: str, value) -> np.ndarray:
        current = self._buffers[name]
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.shape != current.shape or array.dtype.kind not in "biuf":
            raise ValueError(f"{type(self).__name__}.{name} must be numeric values of shape "
                             f"{current.shape}, got shape {array.shape} dtype {array.dtype}")
        return array.astype(current.dtype)

    def __delattr__(self, name: str) -> None:
        global _structure
        _structure = object()
        self._buffers.pop(name, None)
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    @abc.abstractmethod
    def forward(self, *args, **kwargs):
        """The module's computation; every subclass defines it."""

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---- traversal ----------------------------------------------------------------------
    def named_children(self):
        return iter(self._modules.items())

    def children(self):
        return iter(self._modules.values())

    def named_modules(self, prefix: str = ""):
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_parameters(self, prefix: str = ""):
        """Yield ``(dotted name, Parameter)`` pairs, each parameter once, in definition order."""
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{module_name}.{name}" if module_name else name), p

    def named_buffers(self, prefix: str = ""):
        """Yield ``(dotted name, ndarray)`` for every buffer (running statistics)."""
        for module_name, module in self.named_modules(prefix):
            for name, b in module._buffers.items():
                yield (f"{module_name}.{name}" if module_name else name), b

    def parameters(self) -> list:
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """The number W of adaptive weights and biases."""
        return sum(p.size for p in self.parameters())

    # ---- modes and gradients ----------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    # ---- state ----------------------------------------------------------------------
    def state_dict(self) -> OrderedDict:
        """Copies of every parameter's values, then of every buffer's, by dotted name."""
        state = OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())
        state.update((name, b.copy()) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state: dict, strict: bool = True) -> None:
        """Copy values into the parameters and buffers, checking names and shapes first.

        Raises:
            ValueError: listing every missing, unexpected and mis-shaped key (with
                ``strict=False`` only mis-shaped keys are errors).
        """
        own = {**dict(self.named_parameters()), **dict(self.named_buffers())}
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        misshaped = [f"{k}: expected shape {own[k].shape}, got {np.shape(state[k])}"
                     for k in own if k in state and np.shape(state[k]) != own[k].shape]
        problems = []
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        if misshaped:
            problems.append("mis-shaped " + "; ".join(misshaped))
        if problems:
            raise ValueError(f"load_state_dict() for {type(self).__name__}: "
                             + "; ".join(problems))
        for name, p in own.items():
            if name in state:
                value = state[name]
                value = value.data if isinstance(value, Tensor) else np.asarray(value)
                if isinstance(p, np.ndarray):  # a buffer: in place, keeping its dtype
                    p[...] = value
                    continue
                new = np.empty_like(p.data)  # keeps the parameter's dtype and memory layout
                new[...] = value
                p.data = new

    # ---- printing -------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"

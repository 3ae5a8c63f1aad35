"""Recording one eager run of a training step (the program is made by ``compile_replay``).

:class:`ProgramRecorder` watches one call of the step: ``ops.base.apply`` reports every
primitive (inputs, parameters, output), ``autograd.backward`` every backward pass, recorded
sources (``ops.base.recorded``: Dropout's random mask) their calls, and a profiler the calls of
optimisers' and modules' ``step``/``zero_grad`` and of the modules themselves. Every array gets
a name: ``argK`` (an argument), ``pK`` (a leaf tensor such as a Parameter, read through its
``.data`` at each replay), ``cK`` (a constant), ``vK`` (a primitive's output), ``gK`` (∂E/∂vK).
"""

from __future__ import annotations

import sys

import numpy as np

from . import _state
from .nn import utils as nn_utils
from .nn.module import Module
from .ops.base import Saved
from .optim.lr_scheduler import LRScheduler
from .optim.optimizer import Optimizer
from .tensor import Tensor

_READS = ("__bool__", "item", "__float__", "__int__", "tolist", "numpy")  # Tensor methods
_CALLS = ("step", "zero_grad")  # optimiser and module methods replayed as calls
# work on the gradients outside the primitives that a replay would skip: refused while recording
_SKIPPED = {nn_utils.clip_grad_norm_.__code__: "it clips gradients (nn.utils.clip_grad_norm_)",
            nn_utils.clip_grad_value_.__code__: "it clips gradients (nn.utils.clip_grad_value_)"}


class Forward:
    """One primitive call: ``out = prim.forward(*inputs, **params)``."""

    def __init__(self, prim, inputs, params, out, tensor):
        self.prim, self.inputs, self.params, self.out, self.tensor = (prim, inputs, params,
                                                                        out, tensor)

    def same(self, other) -> bool:
        return (type(other) is Forward and self.prim is other.prim and self.inputs ==
                other.inputs and self.params.keys() == other.params.keys() and
                all(_same_param(self.params[k], other.params[k]) for k in self.params))


class Source:
    """A recorded source of arrays (random numbers), called again at each replay."""

    def __init__(self, function, args, kwargs, out):
        self.function, self.args, self.kwargs, self.out = function, args, kwargs, out

    def same(self, other) -> bool:
        return (type(other) is Source and self.function is other.function and
                _same_param(self.args, other.args) and self.kwargs.keys() ==
                other.kwargs.keys() and all(_same_param(v, other.kwargs[k])
                                            for k, v in self.kwargs.items()))


class Call:
    """``owner.method()``: an optimiser's step or zero_grad, called at each replay."""

    def __init__(self, owner, method):
        self.owner, self.method = owner, method

    def same(self, other) -> bool:
        return type(other) is Call and self.owner is other.owner and self.method == other.method


class Backward:
    """One ``backward()`` from the scalar ``root``: ``steps`` in the engine's order, each
    ``(forward entry, needed, deliveries)``, a delivery ``(input i, target, shape)`` with
    target a node's name or a leaf's name."""

    def __init__(self, root, dtype, ndim, steps):
        self.root, self.dtype, self.ndim, self.steps = root, dtype, ndim, steps

    def same(self, other) -> bool:
        return (type(other) is Backward and self.root == other.root and
                [(s[0].out, s[1], s[2]) for s in self.steps] ==
                [(s[0].out, s[1], s[2]) for s in other.steps])


class Ref:
    """A named array inside a primitive's parameters (an index array, a mask)."""

    def __init__(self, name):
        self.name = name

    def __eq__(self, other):
        return type(other) is Ref and other.name == self.name

    __hash__ = None


def _same_param(a, b) -> bool:
    if isinstance(a, Saved) or isinstance(b, Saved):
        return isinstance(a, Saved) and isinstance(b, Saved)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return (type(a) is type(b) and len(a) == len(b) and
                all(_same_param(x, y) for x, y in zip(a, b)))
    if isinstance(a, (np.ndarray, np.generic)) or isinstance(b, (np.ndarray, np.generic)):
        return (type(a) is type(b) and np.shape(a) == np.shape(b) and
                np.asarray(a).dtype == np.asarray(b).dtype and
                np.array_equal(a, b, equal_nan=True))
    if isinstance(a, (Ref, bool, int, float, str, type(None))):
        return type(a) is type(b) and a == b
    return a is b or (type(a) is type(b) and a == b)


class ProgramRecorder:
    """One eager call of ``fn`` with everything it ran recorded (see the module docstring)."""

    def __init__(self, fn, args, kwargs):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.values = list(args) + [kwargs[k] for k in sorted(kwargs)]
        self.kw_names = sorted(kwargs)
        self.names, self.keep = {}, []  # id(array or tensor) -> name; what keeps ids unique
        self.entries, self.leaves, self.constants, self.modules = [], {}, {}, []
        self.refusal, self.result, self.returns = None, None, None
        self._inside, self._count = None, 0
        self.arg_tensors = {}  # name -> index of a Tensor argument that requires grad
        for k, value in enumerate(self.values):
            if isinstance(value, Tensor):
                self._name(value, f"arg{k}")
                self._name(value.data, f"arg{k}")
                if value.requires_grad:
                    self.arg_tensors[f"arg{k}"] = k
            elif isinstance(value, np.ndarray):
                self._name(value, f"arg{k}")
        self.scope = _scope(fn)

    # ---- running -------------------------------------------------------------------------
    def run(self):
        """Call ``fn`` eagerly, recording; returns what it returns."""
        before = [(holder, key, _read(holder, key)) for holder, key in self.scope]
        self.settings = {id(v): (v, _settings(v)) for _, _, v in before
                         if isinstance(v, Optimizer)}
        if sys.getprofile() is not None:  # a profiler (cProfile) is running: it keeps the hook
            self.refuse("a profiler is running (the recorder needs sys.setprofile)")
            self.result = self.fn(*self.args, **self.kwargs)
            return self.result
        previous_tracer = _state.tracer
        _state.tracer = self
        sys.setprofile(self._profile)
        try:
            self.result = self.fn(*self.args, **self.kwargs)
        finally:
            sys.setprofile(None)
            _state.tracer = previous_tracer
        for holder, key, value in before:
            if _read(holder, key) is not value:
                self.refuse(f"it assigns {key!r} of its enclosing scope, which a replay would "
                            "not do")
        for opt, settings in self.settings.values():
            changed = sorted(k for k, v in _settings(opt).items() if settings.get(k) != v)
            if changed:
                self.refuse(f"it changes the optimiser's {', '.join(changed)} while it runs (a "
                            "schedule stepped inside the step?), which a replay would not do: "
                            "change it outside the step (a replay reads it at every call)")
        self.guards = [(holder, key, value) for holder, key, value in before
                       if _guarded(value)]
        if self.refusal is None:
            self.returns = self._template(self.result)
        return self.result

    def refuse(self, reason: str) -> None:
        if self.refusal is None:
            self.refusal = reason

    def _profile(self, frame, event, arg) -> None:
        if event == "return":
            if frame is self._inside:
                self._inside = None
            return
        if event != "call" or self._inside is not None:
            return
        if frame.f_code in _SKIPPED:
            return self.refuse(_SKIPPED[frame.f_code] + " inside the step, which a replay would "
                               "skip: clip outside it, or use fit(clip_grad_norm=)")
        method = frame.f_code.co_name
        if method not in _CALLS and method not in _READS and method != "__call__":
            return
        owner = frame.f_locals.get("self")
        if method == "step" and isinstance(owner, LRScheduler):
            return self.refuse("it steps a learning-rate schedule inside the step, which a "
                               "replay would not do: step it outside (a replay reads the "
                               "optimiser's lr at every call)")
        if isinstance(owner, Optimizer) and id(owner) not in self.settings:
            self.settings[id(owner)] = (owner, _settings(owner))
        if method in _CALLS and isinstance(owner, (Optimizer, Module)):
            self.entries.append(Call(owner, method))
            self._inside = frame  # what it does inside is its own business at each replay
        elif method == "__call__" and isinstance(owner, Module):
            if not any(m is owner for m in self.modules):
                self.modules.append(owner)
        elif method in _READS and isinstance(owner, Tensor):
            self.refuse(f"it reads a tensor's value ({method}()) while it runs, perhaps to "
                        "branch on it: return the tensor and read it outside the step")

    # ---- what the hooks report -------------------------------------------------------------
    def forward(self, prim, args, params, out: Tensor) -> None:
        """``ops.base.apply`` ran ``prim``."""
        if self._inside is not None:
            return
        inputs = tuple(self._input(a) for a in args)
        recorded = {key: self._param(value) for key, value in params.items()}
        name = self._new("v")
        self._name(out, name)
        self._name(out.data, name)
        self.entries.append(Forward(prim, inputs, recorded, name, out))

    def source(self, function, args, kwargs, out) -> None:
        """A recorded source (``ops.base.recorded``) made ``out`` from ``args``."""
        if self._inside is not None:
            return
        args = tuple(self._param(a) for a in args)
        kwargs = {key: self._param(value) for key, value in kwargs.items()}
        name = None if out is None else self._name(out, self._new("v"))  # None: an update
        self.entries.append(Source(function, args, kwargs, name))

    def backward(self, root: Tensor, grad, create_graph: bool) -> None:
        """``autograd.backward`` is about to run from ``root``."""
        if self._inside is not None:
            return
        if create_graph:
            return self.refuse("it differentiates twice (create_graph=True)")
        if grad is not None:
            return self.refuse("it calls backward(grad=...) (only a scalar's backward() is "
                               "replayed)")
        if root._op is None or self.names.get(id(root)) is None:
            return self.refuse("it backpropagates from a tensor made outside the step")
        self.entries.append(Backward(self.names[id(root)], root.dtype, root.ndim,
                                     self._backward_steps(root)))

    def refuse_grad(self) -> None:
        """``autograd.grad`` was called."""
        if self._inside is None:
            self.refuse("it calls dg.grad() (only backward() is replayed)")

    # ---- naming ------------------------------------------------------------------------------
    def _new(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def _name(self, obj, name: str) -> str:
        self.names[id(obj)] = name
        self.keep.append(obj)
        return name

    def _input(self, a: Tensor) -> str:
        name = self.names.get(id(a)) or self.names.get(id(a.data))
        if name is not None:
            return name
        if a._op is not None:
            self.refuse("it uses a tensor computed before the step with its graph")
        if a.requires_grad:
            name = self._name(a, self._new("p"))
            self.leaves[name] = a
            return name
        return self._constant(a.data)

    def _constant(self, array) -> str:
        name = self.names.get(id(array))
        if name is None:
            name = self._name(array, self._new("c"))
            self.constants[name] = array
        return name

    def _param(self, value):
        if isinstance(value, Saved):
            return Saved()
        if isinstance(value, Tensor):
            return Ref(self._input(value))
        if isinstance(value, np.ndarray):
            return Ref(self.names.get(id(value)) or self._constant(value))
        if isinstance(value, (tuple, list)) and any(isinstance(v, (np.ndarray, Tensor))
                                                    for v in value):
            return type(value)(self._param(v) for v in value)
        return value

    def _template(self, result):
        """The returned structure with each Tensor or array replaced by its name."""
        if result is None:
            return None
        if isinstance(result, (Tensor, np.ndarray)):
            name = self.names.get(id(result))
            if name is None:
                self.refuse("it returns a tensor the program does not make")
            return Ref(name)
        if isinstance(result, (tuple, list)):
            return type(result)(self._template(r) for r in result)
        if isinstance(result, dict):
            return {k: self._template(v) for k, v in result.items()}
        self.refuse(f"it returns a {type(result).__name__} (a replay returns Tensors, "
                    "tuples, lists or dicts of them, or None)")
        return None

    # ---- the backward pass, as the engine runs it -----------------------------------------
    def _backward_steps(self, root: Tensor) -> list:
        """The nodes the engine visits from ``root``, latest-made first (its heap order), and
        where each sends its input gradients (the same rules as ``autograd._propagate``)."""
        pending, steps = {id(root)}, []
        for entry in reversed([e for e in self.entries if type(e) is Forward]):
            node = entry.tensor
            if id(node) not in pending:
                continue
            if node._retain:
                self.refuse("it calls retain_grad() (a replay makes no intermediate tensors)")
            op = node._op
            needed = tuple(p.requires_grad for p in node._parents)
            deliveries = []
            for i, parent in enumerate(node._parents):
                if not parent.requires_grad or (op.joint_vjp is None and op.vjp(i) is None):
                    continue
                if parent._op is not None:
                    pending.add(id(parent))
                deliveries.append((i, self._input(parent), parent.shape))
            steps.append((entry, needed, tuple(deliveries)))
        return steps

    # ---- comparing two recordings, making the program ---------------------------------------
    def _source_arrays(self) -> set:
        """The names of the arrays passed to recorded functions (``ops.base.recorded``)."""
        names = set()
        for entry in self.entries:
            if type(entry) is Source:
                for value in list(entry.args) + list(entry.kwargs.values()):
                    if isinstance(value, Ref):
                        names.add(value.name)
        return names

    def difference(self, other: ProgramRecorder) -> str | None:
        """How ``other`` (the same step's next recording) differs from this one, or None."""
        if len(self.entries) != len(other.entries):
            return f"{len(self.entries)} vs {len(other.entries)} operations"
        for k, (a, b) in enumerate(zip(self.entries, other.entries)):
            if not a.same(b):
                what = a.prim.name if type(a) is Forward else type(a).__name__.lower()
                return f"operation {k + 1} ({what})"
        state = self._source_arrays()  # a recorded function's own buffers: read live
        for name, array in self.constants.items():
            same_buffer = name in state and array is other.constants.get(name)
            if not same_buffer and not _same_param(array, other.constants.get(name)):
                return f"the constant {name} of shape {np.shape(array)}"
        if self.leaves.keys() != other.leaves.keys() or any(
                t is not other.leaves[n] for n, t in self.leaves.items()):
            return "the tensors it reads"
        if [id(m) for m in self.modules] != [id(m) for m in other.modules]:
            return "the modules it calls"
        if not _same_param(self.returns, other.returns):
            return "what it returns"
        return None



def _scope(fn) -> list:
    """``(holder, key)`` for each variable ``fn`` names in its enclosing scope: closure cells
    and module globals."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    scope = list(zip(fn.__closure__ or (), [None] * len(code.co_freevars)))
    scope = [(cell, "cell_contents") for cell, _ in scope]
    scope += [(fn.__globals__, name) for name in code.co_names if name in fn.__globals__]
    return scope


def _settings(opt: Optimizer) -> dict:
    """An optimiser's hyperparameters (lr, momentum, betas, …): its numbers and tuples."""
    return {k: v for k, v in vars(opt).items()
            if isinstance(v, (int, float, tuple)) and not isinstance(v, bool)}


def _read(holder, key):
    try:
        return holder[key] if isinstance(holder, dict) else getattr(holder, key)
    except (KeyError, ValueError):  # an empty cell
        return None


def _guarded(value) -> bool:
    """Whether a replay depends on this variable still holding the same object."""
    return isinstance(value, (Module, Optimizer, Tensor, np.ndarray, np.random.Generator,
                              bool, int, float))

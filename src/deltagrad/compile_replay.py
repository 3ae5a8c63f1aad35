"""The straight-line program that replays a recorded training step (``compile_program``).

:class:`Program` generates one Python function from a :class:`ProgramRecorder`: the same
primitives' forward functions on the same named arrays; for each backward pass the engine's own
order (the latest-made node first), each node's VJPs (``joint_vjp`` where the engine uses it),
gradients summed in the order the engine sums them and stored by the engine's ``_store_grad``;
the optimiser's own ``step()`` where the step called it. So a replay equals the eager step to
the bit.
"""

from __future__ import annotations

import math

import numpy as np

from . import _state
from .autograd import _store_grad, sum_to_shape
from .compile_program import Backward, Call, Forward, ProgramRecorder, Ref, Source
from .optim.optimizer import Optimizer
from .tensor import Tensor


class Program:
    """A recorded step as one generated Python function (see the module docstring)."""

    def __init__(self, recorder: ProgramRecorder, check_finite: bool = True):
        self.recorder, self.check_finite = recorder, check_finite
        self.entries = recorder.entries
        self.namespace = {"array": np.array, "ones_like": np.ones_like, "ndarray": np.ndarray,
                          "conform": _conform, "store_grad": _store_grad, "wrap": Tensor._wrap,
                          "isfinite": math.isfinite, "not_finite": _not_finite}
        lines = [f"def run({', '.join(f'A{k}' for k in range(len(recorder.values)))}):"]
        lines += self._arguments()
        for k, entry in enumerate(self.entries):
            lines += getattr(self, "_" + type(entry).__name__.lower())(entry, k)
        lines.append(f"    return {self._returned(recorder.returns)}")
        self.code = "\n".join(lines)
        exec(_compiled(self.code), self.namespace)
        self._run = self.namespace["run"]
        self._guards = self._guard_function()
        self._kw_names = recorder.kw_names

    def run(self, args, kwargs):
        if kwargs:
            args = tuple(args) + tuple(kwargs[k] for k in self._kw_names)
        return self._run(*args)

    def guards_hold(self) -> bool:
        return self._guards()

    def leaf_tensors(self) -> list:
        return list(self.recorder.leaves.values())

    def optimizers(self) -> list:
        seen = []
        for entry in self.entries:
            if type(entry) is Call and isinstance(entry.owner, Optimizer) and not any(
                    o is entry.owner for o in seen):
                seen.append(entry.owner)
        return seen

    def generators(self) -> list:
        """The random generators the recorded sources draw from (for ``verify``)."""
        found = [_state.default_rng]
        for entry in self.entries:
            if type(entry) is Source:
                found += [a for a in entry.args if isinstance(a, np.random.Generator)]
        return list({id(g): g for g in found}.values())

    # ---- generating the code -----------------------------------------------------------------
    def _bind(self, name: str, value) -> str:
        self.namespace[name] = value
        return name

    def _arguments(self) -> list:
        lines = []
        for k, value in enumerate(self.recorder.values):
            if isinstance(value, Tensor):
                lines.append(f"    arg{k} = A{k}.data")
            elif isinstance(value, np.ndarray):
                lines.append(f"    arg{k} = A{k}")
        for name, array in self.recorder.constants.items():
            self._bind(name, array)
        return lines

    def _array(self, name: str) -> str:
        """The expression for a named array: a leaf is read through ``.data`` where used."""
        if name in self.recorder.leaves:
            return f"{self._bind('T' + name, self.recorder.leaves[name])}.data"
        return name

    def _expr(self, value, name: str) -> str:
        """Code for a primitive's parameter or a source's argument: a named array where it is
        one (an argument's, an output's), else the value bound once as ``name``."""
        if isinstance(value, Ref):
            return self._array(value.name)
        if isinstance(value, (tuple, list)) and any(isinstance(v, Ref) for v in value):
            items = "".join(self._expr(v, f"{name}_{i}") + ", " for i, v in enumerate(value))
            return f"({items})" if isinstance(value, tuple) else f"[{items}]"
        return self._bind(name, value)

    def _keywords(self, params: dict, k) -> str:
        return "".join(f", {key}={self._expr(value, f'K{k}_{key}')}"
                       for key, value in params.items())

    def _forward(self, entry: Forward, k: int) -> list:
        forward = self._bind(f"F{k}", entry.prim.forward)
        inputs = ", ".join(self._array(n) for n in entry.inputs)
        entry.keywords = self._keywords(entry.params, k)  # the backward passes the same
        return [f"    {entry.out} = {forward}({inputs}{entry.keywords})"]

    def _source(self, entry: Source, k: int) -> list:
        function = self._bind(f"S{k}", entry.function)
        args = ", ".join(self._expr(a, f"K{k}_{i}") for i, a in enumerate(entry.args))
        target = "" if entry.out is None else f"{entry.out} = "
        return [f"    {target}{function}({args}{self._keywords(entry.kwargs, k)})"]

    def _call(self, entry: Call, k: int) -> list:
        return [f"    {self._bind(f'C{k}', getattr(entry.owner, entry.method))}()"]

    def _backward(self, entry: Backward, k: int) -> list:
        root = entry.root
        start = (f"ones_like({root})" if entry.ndim else
                 f"array(1, {self._bind(f'D{k}', np.dtype(entry.dtype))})")
        lines = ["    handed = set()", f"    g{root[1:]} = {start}"]
        if self.check_finite:  # replays run no argument checks: a NaN stops before any update
            lines.insert(0, f"    if not isfinite({root}): not_finite({root})")
        arrived = {root}
        for j, (node, needed, deliveries) in enumerate(entry.steps):
            lines += self._node_vjps(node, needed, deliveries, f"{k}_{j}", arrived)
        return lines

    def _node_vjps(self, node: Forward, needed, deliveries, tag: str, arrived: set) -> list:
        op, g = node.prim, "g" + node.out[1:]
        inputs = ", ".join(self._array(n) for n in node.inputs)
        params = node.keywords  # the forward's own parameters (its Saved among them)
        lines = []
        if op.joint_vjp is not None:
            joint = self._bind(f"J{tag}", op.joint_vjp)
            lines.append(f"    r = {joint}({g}, {node.out}, {needed!r}, {inputs}{params})")
            results = {i: f"r[{i}]" for i, _, _ in deliveries}
        else:
            results = {}
            for i, _, _ in deliveries:
                vjp = self._bind(f"V{tag}_{i}", op.vjp(i))
                lines.append(f"    r{i} = {vjp}({g}, {node.out}, {inputs}{params})")
                results[i] = f"r{i}"
        for i, target, shape in deliveries:
            shape = self._bind(f"S{tag}_{i}", shape)  # bound: one code text for every shape
            lines.append(f"    t = {results[i]}")
            lines.append(f"    if type(t) is not ndarray or t.shape != {shape}: "
                         f"t = conform(t, {shape})")
            if target in self.recorder.leaves:
                lines.append(f"    store_grad(T{target}, t, handed)")
            elif target in self.recorder.arg_tensors:
                lines.append(f"    store_grad(A{self.recorder.arg_tensors[target]}, t, handed)")
            elif target in arrived:
                lines.append(f"    g{target[1:]} = g{target[1:]} + t")
            else:
                arrived.add(target)
                lines.append(f"    g{target[1:]} = t")
        return lines

    def _returned(self, template) -> str:
        if template is None:
            return "None"
        if isinstance(template, Ref):
            name = template.name
            if name.startswith("arg"):
                return f"A{name[3:]}"
            return f"T{name}" if name in self.recorder.leaves else f"wrap({name})"
        if isinstance(template, tuple):
            return "(" + "".join(self._returned(t) + ", " for t in template) + ")"
        if isinstance(template, list):
            return "[" + ", ".join(self._returned(t) for t in template) + "]"
        return "{" + ", ".join(f"{self._bind(f'K{id(k)}', k)}: {self._returned(v)}"
                               for k, v in template.items()) + "}"

    def _guard_function(self):
        checks = [f"M{k}.training is {m.training}" for k, m in enumerate(self.recorder.modules)]
        for k, m in enumerate(self.recorder.modules):
            self._bind(f"M{k}", m)
        for k, (holder, key, value) in enumerate(self.recorder.guards):
            self._bind(f"H{k}", holder)
            self._bind(f"O{k}", value)
            read = f"H{k}[{key!r}]" if isinstance(holder, dict) else f"H{k}.{key}"
            checks.append(f"{read} is O{k}")
        code = "def guards():\n    return " + (" and ".join(checks) or "True")
        exec(_compiled(code), self.namespace)
        return self.namespace["guards"]


_CODE = {}  # generated text -> code object: the same step at another batch size, or in the
# next fit(), is compiled by Python once


def _compiled(text: str):
    code = _CODE.get(text)
    if code is None:
        if len(_CODE) > 256:
            _CODE.clear()
        code = _CODE[text] = compile(text, "<deltagrad.compile program>", "exec")
    return code


def _not_finite(E) -> None:
    raise FloatingPointError(
        f"compile: a replayed step's error is {float(E)}, before its backward pass and any "
        "update; replays run no argument checks (NaN or infinite inputs or targets?). Check the "
        "data, or run the step without compile to see eager's own error")


def _conform(g, shape: tuple):
    """A VJP's result as the engine takes it: an ndarray, summed back to its input's shape."""
    if type(g) is not np.ndarray:
        g = g.data if isinstance(g, Tensor) else np.asarray(g)
    return g if g.shape == shape else sum_to_shape(g, shape)

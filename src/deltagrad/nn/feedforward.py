"""FeedForward: any acyclic network of units (§1.2.2): z_k = h(Σ_j w_kj z_j + w_k0) (eq. 1.8),
skip-layer connections included, evaluated in topological order and trained by the same
autodiff. A closed directed cycle is refused (Definition 1.5)."""

from __future__ import annotations

import numpy as np

from .. import _state, ops
from .. import _validate as check
from .._naming import natural_key
from ..tensor import Tensor
from .activation import ACTIVATIONS
from .module import Module, Parameter, layer_input
from .registry import savable

_ELEMENTWISE = {name for name in ACTIVATIONS if name != "softmax"}  # units are scalar


def _find_cycle(nodes, edges) -> list | None:
    """A closed directed cycle as a list of units (first repeated at the end), or None."""
    successors = {n: [] for n in nodes}
    for source, target in edges:
        successors[source].append(target)
    state, stack_path = {}, []

    for start in nodes:
        if state.get(start):
            continue
        stack = [(start, iter(successors[start]))]
        state[start] = 1
        stack_path.append(start)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                stack_path.pop()
            elif state.get(child) == 1:
                return stack_path[stack_path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                stack_path.append(child)
                stack.append((child, iter(successors[child])))
    return None


@savable()
class FeedForward(Module):
    """A feed-forward network given as a directed acyclic graph of units.

    Args:
        units: ``{name: activation}`` for every hidden and output unit (``"tanh"``,
            ``"sigmoid"``, ``"relu"``, ``"identity"``, ``"step"``), in any order.
        edges: ``[(source, target), ...]`` or ``(source, target, weight)``; a source is an input
            or a unit, a target a unit. Unweighted edges get Glorot-uniform initial weights.
        inputs: the input names in order (default: every source that is not a unit, naturally
            sorted, e.g. x1, x2).
        outputs: the output units in order (default: the units that feed no other unit).
        bias: whether every unit has a bias w_k0.

    Each unit k has a Parameter ``w_<k>`` (its incoming weights, in the order of ``sources[k]``)
    and ``b_<k>``. Forward input ``(N, D)`` → output ``(N, K)``.

    Example:
        >>> import deltagrad as dg
        >>> net = dg.nn.FeedForward({"h": "tanh", "y": "identity"},
        ...                         [("x1", "h"), ("h", "y"), ("x1", "y")], rng=0)
        >>> net.order, net.sources["y"]
        (['h', 'y'], ['h', 'x1'])
    """

    def __init__(self, units: dict, edges, inputs=None, outputs=None, bias: bool = True,
                 rng=None, dtype=None):
        super().__init__()
        if not isinstance(units, dict) or not units:
            raise ValueError("FeedForward: units must be a non-empty dict {name: activation}")
        for name, act in units.items():
            if not isinstance(act, str) or act.lower() not in _ELEMENTWISE:
                raise ValueError(f"FeedForward: unit {name!r} has activation {act!r}; expected "
                                 f"one of {sorted(_ELEMENTWISE)} (units are scalar)")
        edges = [tuple(e) for e in edges]
        for e in edges:
            if len(e) not in (2, 3):
                raise ValueError(f"FeedForward: an edge is (source, target) or (source, target, "
                                 f"weight), got {e!r}")
            if e[1] not in units:
                raise ValueError(f"FeedForward: edge {e[:2]} ends at {e[1]!r}, which is not a "
                                 f"unit {sorted(units, key=natural_key)}")
        sources_all = {e[0] for e in edges}
        inputs = list(inputs) if inputs is not None else sorted(sources_all - set(units),
                                                                key=natural_key)
        unknown = sorted(sources_all - set(units) - set(inputs), key=natural_key)
        if unknown:
            raise ValueError(f"FeedForward: edges start at {unknown}, neither inputs nor units")
        clash = set(inputs) & set(units)
        if clash:
            raise ValueError(f"FeedForward: {sorted(clash)} are both inputs and units")
        cycle = _find_cycle(list(units) + inputs, [e[:2] for e in edges])
        if cycle:
            raise ValueError("FeedForward: the graph has a closed directed cycle "
                             f"{' → '.join(map(str, cycle))}; a feed-forward network has none "
                             "(Definition 1.5)")
        self._set("units", {k: v.lower() for k, v in units.items()})
        self._set("inputs", inputs)
        self._set("sources", {u: [] for u in units})
        for e in edges:
            self.sources[e[1]].append(e[0])
        for u, srcs in self.sources.items():
            if not srcs:
                raise ValueError(f"FeedForward: unit {u!r} has no incoming edge")
            if len(set(srcs)) != len(srcs):
                raise ValueError(f"FeedForward: unit {u!r} has a repeated incoming edge")
        fed = {e[0] for e in edges}
        outputs = list(outputs) if outputs is not None else [u for u in units if u not in fed]
        for o in outputs:
            if o not in units:
                raise ValueError(f"FeedForward: output {o!r} is not a unit")
        self._set("outputs", outputs)
        self._set("order", self._topological_order())
        self._init_parameters(edges, bias, rng, dtype)

    def _set(self, name, value):
        object.__setattr__(self, name, value)

    def _topological_order(self) -> list:
        """Units in an order where every unit comes after all its sources (Kahn)."""
        remaining = {u: {s for s in srcs if s in self.units} for u, srcs in self.sources.items()}
        order = []
        while remaining:
            ready = sorted((u for u, deps in remaining.items() if not deps), key=natural_key)
            order += ready
            for u in ready:
                del remaining[u]
            for deps in remaining.values():
                deps.difference_update(ready)
        return order

    def _init_parameters(self, edges, bias, rng, dtype):
        rng = _state.get_rng(rng, "FeedForward")
        dtype = check.float_dtype(dtype, "FeedForward")
        given = {(e[0], e[1]): e[2] for e in edges if len(e) == 3}
        fan_out = {}
        for e in edges:
            fan_out[e[0]] = fan_out.get(e[0], 0) + 1
        for u in self.order:
            srcs = self.sources[u]
            limit = np.sqrt(6.0 / (len(srcs) + 1))
            w = rng.uniform(-limit, limit, size=len(srcs))
            for i, s in enumerate(srcs):
                if (s, u) in given:
                    w[i] = given[(s, u)]
            setattr(self, f"w_{u}", Parameter(w.astype(dtype)))
            setattr(self, f"b_{u}", Parameter(np.zeros(1, dtype=dtype)) if bias else None)

    def weight(self, source, target) -> float:
        """w_kj of the edge source → target."""
        return float(getattr(self, f"w_{target}").data[self.sources[target].index(source)])

    def forward(self, x) -> Tensor:
        x = layer_input("FeedForward", x, getattr(self, f"w_{self.order[0]}").dtype)
        if x.ndim != 2 or x.shape[1] != len(self.inputs):
            raise ValueError(f"FeedForward: expected input of shape (N, {len(self.inputs)}) "
                             f"for inputs {self.inputs}, got {x.shape}")
        z = {name: x[:, i] for i, name in enumerate(self.inputs)}
        for u in self.order:  # eq. 1.8 in topological order
            incoming = ops.stack([z[s] for s in self.sources[u]], axis=1)
            a = incoming @ getattr(self, f"w_{u}")
            b = getattr(self, f"b_{u}")
            if b is not None:
                a = a + b
            z[u] = ACTIVATIONS[self.units[u]].function(a)
        return ops.stack([z[o] for o in self.outputs], axis=1)

    @classmethod
    def from_mlp(cls, mlp) -> FeedForward:
        """The same network as a graph: unit h{l}_{j} for hidden unit j of layer l, y{k} for
        output k, inputs x1 … xD; identical outputs and gradients."""
        acts = getattr(mlp, "activations", None)
        if acts is None or "softmax" in acts:
            raise ValueError("FeedForward.from_mlp: needs an nn.MLP with elementwise "
                             "activations (softmax couples the outputs; units are scalar)")
        sizes = mlp.sizes
        names = [[f"x{i + 1}" for i in range(sizes[0])]]
        for l, width in enumerate(sizes[1:], start=1):
            prefix = "y" if l == len(sizes) - 1 else f"h{l}_"
            names.append([f"{prefix}{j + 1}" for j in range(width)])
        units, edges = {}, []
        for l, linear in enumerate(mlp.linears, start=1):
            for j, target in enumerate(names[l]):
                units[target] = acts[l - 1]
                for i, source in enumerate(names[l - 1]):
                    edges.append((source, target, float(linear.weight.data[j, i])))
        net = cls(units, edges, inputs=names[0], outputs=names[-1],
                  bias=all(lin.bias is not None for lin in mlp.linears),
                  dtype=mlp.linears[0].weight.dtype)
        for l, linear in enumerate(mlp.linears, start=1):
            if linear.bias is not None:
                for j, target in enumerate(names[l]):
                    getattr(net, f"b_{target}").data[...] = linear.bias.data[j]
        return net

    def config(self) -> dict:
        first = self.order[0]
        return {"units": self.units, "inputs": self.inputs, "outputs": self.outputs,
                "edges": [[s, u] for u in self.order for s in self.sources[u]],
                "bias": getattr(self, f"b_{first}") is not None,
                "dtype": str(getattr(self, f"w_{first}").dtype)}

    @classmethod
    def from_config(cls, spec):
        names = lambda v: all(isinstance(x, str) for x in v)  # noqa: E731
        units = spec.get("units", dict, lambda v: 1 <= len(v) <= 100_000 and names(v.values()))
        edges = spec.get("edges", list, lambda v: all(
            isinstance(e, list) and len(e) == 2 and names(e) for e in v))
        inputs, outputs = spec.get("inputs", list, names), spec.get("outputs", list, names)
        spec.reserve(len(edges) + len(units))
        return cls(units, [tuple(e) for e in edges], inputs=inputs, outputs=outputs,
                   bias=spec.get("bias", bool), rng=0, dtype=spec.dtype())

    def extra_repr(self) -> str:
        edges = sum(len(s) for s in self.sources.values())
        return f"inputs={self.inputs}, units={len(self.units)}, edges={edges}, " \
               f"outputs={self.outputs}"

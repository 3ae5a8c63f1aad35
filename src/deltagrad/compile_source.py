"""A compiled step's program as straight-line NumPy source with the notes' names.

``program_source(program)`` renders a :class:`~deltagrad.compile_program.Program` as a
function ``backprop(<the step's arguments>, <the weights>)`` that returns ``E`` and the
gradients ``{"W1": dW1, ...}`` it stores in ``.grad``: the fully connected layers of a
``dense_stack`` written out (``a1 = x @ W1.T + b1``, ``z1 = np.tanh(a1)``, ``delta1 = …``,
``dW1 = …``), every other primitive as a call of its own forward or VJP function from
``deltagrad.ops.REGISTRY`` with a comment naming the equation. It computes exactly what the
program computes, so its gradients equal the eager ones to the bit (a test ``exec``s it).
"""

from __future__ import annotations

import numpy as np

from .compile_program import Backward, Call, Forward, Source

EQUATIONS = {  # the comment beside a primitive's call: what it is in the notes
    "softmax": "y_k = exp(a_k) / Σ_j exp(a_j), the softmax output (eq. 1.5 with σ = softmax)",
    "softmax_cross_entropy_labels": "E = −Σ_n ln y_{n,t_n} (eq. 9.2), fused with the softmax",
    "softmax_cross_entropy": "E = −Σ_n Σ_k t_nk ln y_nk (eq. 9.2), fused with the softmax",
    "sigmoid_binary_cross_entropy": "E = −Σ {t ln y + (1 − t) ln(1 − y)} (eq. 2.10), fused",
    "sum_of_squares_error": "E = ½ Σ_n ‖y_n − t_n‖² (eq. 2.5)",
}
OUTPUT_DELTA = {  # the output layer's δ from ∂E/∂E = 1 (eq. 3.9, 2.7)
    "sum_of_squares_error": "delta{L} = y - t  # δ_k = y_k − t_k (eq. 2.7, 3.9)",
}
ACTIVATION_SOURCE = {  # z = h(a) as NumPy (eq. 1.3), and δ = h'(a) ∂E/∂z from z (eq. 3.10)
    "identity": ("{a}", "{g}"),
    "tanh": ("np.tanh({a})", "{g} * (1 - {z} * {z})"),
    "sigmoid": ("expit({a})", "{g} * {z} * (1 - {z})"),
    "relu": ("np.maximum({a}, 0)", "{g} * ({z} > 0)"),
}


def program_source(program, with_call: bool = False) -> str:
    """The program as runnable source (see the module docstring); ``with_call`` appends a
    ``__main__`` block that calls it on the recorded numbers and prints E and the gradients."""
    renderer = _Renderer(program)
    text = renderer.text()
    return text + renderer.call_block() if with_call else text


def _literal(value) -> str:
    """An array or number as exact NumPy source (Python's float repr round-trips)."""
    array = np.asarray(value)
    return f"np.array({array.tolist()!r}, dtype=np.{array.dtype})"


class _Renderer:
    def __init__(self, program):
        self.program, self.recorder = program, program.recorder
        self.names, self.lines, self.grads = {}, [], {}
        self.header = {"import numpy as np", "from deltagrad.ops import REGISTRY"}
        self.gradient_of_leaf = {}  # leaf name -> expression of its gradient variable
        self.layer = 0
        self._argument_names()

    # ---- names ---------------------------------------------------------------------------
    def _argument_names(self) -> None:
        code = getattr(self.recorder.fn, "__code__", None)
        given = list(code.co_varnames[:code.co_argcount]) if code else []
        given += self.recorder.kw_names
        for k, value in enumerate(self.recorder.values):
            if isinstance(value, np.ndarray) or hasattr(value, "data"):
                self.names[f"arg{k}"] = given[k] if k < len(given) else f"x{k}"

    def name(self, slot: str) -> str:
        return self.names.get(slot) or self.names.setdefault(slot, _default_name(slot))

    def leaf(self, slot: str, wanted: str) -> str:
        if slot not in self.names:
            taken = set(self.names.values())
            self.names[slot] = wanted if wanted not in taken else f"{wanted}_{slot[1:]}"
        return self.names[slot]

    def grad_var(self, slot: str) -> str:
        name = self.name(slot)
        return ("delta" + name[1:]) if name.startswith("a") and name[1:].isdigit() else \
            f"dE_d{name}"

    # ---- the text ------------------------------------------------------------------------
    def text(self) -> str:
        for entry in self.program.entries:
            if type(entry) is Forward:
                self._forward(entry)
            elif type(entry) is Source:
                self._source(entry)
            elif type(entry) is Backward:
                self._backward(entry)
            elif type(entry) is Call:
                what = ("forgets the gradients" if entry.method == "zero_grad" else
                        "updates the weights by its own rule, from the gradients returned")
                self.lines.append(f"# here {type(entry.owner).__name__}.{entry.method}() {what}")
        leaves = [self.names[s] for s in self.recorder.leaves if s in self.names]
        arguments = [self.names[f"arg{k}"] for k in range(len(self.recorder.values))
                     if f"arg{k}" in self.names]
        constants = [self.name(c) for c in self.recorder.constants]
        signature = ", ".join(arguments + leaves + constants)
        returned = self.names.get(_returned_slot(self.recorder.returns), "None")
        order = [s for s in self.recorder.leaves if s in self.gradient_of_leaf]
        order += [s for s in self.gradient_of_leaf if s not in order]
        grads = ", ".join(f"{self.names[s]!r}: {self.gradient_of_leaf[s]}" for s in order)
        body = "\n".join("    " + line for line in self.lines)
        if not any("REGISTRY[" in line for line in self.header):
            self.header.discard("from deltagrad.ops import REGISTRY")
        return ("\n".join(sorted(self.header)) + "\n\n\n"
                f"def backprop({signature}):\n"
                '    """The recorded step: the forward pass, E and the backward pass; returns E\n'
                '    and ∂E/∂w for every weight (what backward() stores in .grad)."""\n'
                f"{body}\n    return {returned}, {{{grads}}}\n")

    def call_block(self) -> str:
        """``if __name__ == "__main__":`` the recorded arguments, weights and constants as
        literals, the call, and E and each gradient printed (after :meth:`text`)."""
        values = {f"arg{k}": v for k, v in enumerate(self.recorder.values)}
        values.update({name: leaf.data for name, leaf in self.recorder.leaves.items()})
        values.update(self.recorder.constants)
        slots = [s for s in values if s in self.names or s in self.recorder.constants]
        lines = [f"    {self.name(s) if s in self.recorder.constants else self.names[s]} = "
                 f"{_literal(getattr(values[s], 'data', values[s]))}" for s in slots]
        arguments = [f"arg{k}" for k in range(len(self.recorder.values))
                     if f"arg{k}" in self.names]
        order = [self.names[a] for a in arguments]
        order += [self.names[s] for s in self.recorder.leaves if s in self.names]
        order += [self.name(c) for c in self.recorder.constants]
        return ("\n\nif __name__ == \"__main__\":  # the numbers it was recorded with\n"
                + "\n".join(lines) + f"\n    E, gradients = backprop({', '.join(order)})\n"
                "    print('E =', E)\n    for name, gradient in gradients.items():\n"
                "        print(f'dE/d{name} =', gradient)\n")

    def _forward(self, entry: Forward) -> None:
        if entry.prim.name == "dense_stack":
            return self._stack_forward(entry)
        if entry.prim.name == "sum_of_squares_error" and len(entry.inputs) == 2:
            y, t = (self.name(n) for n in entry.inputs)
            self.names[entry.out] = "E"
            self.lines += [f"d = ({y} - {t}).ravel()",
                           f"E = 0.5 * np.dot(d, d)  # {EQUATIONS['sum_of_squares_error']}"]
            return
        prim = entry.prim.name
        inputs = [self.name(n) for n in entry.inputs]
        out = self.name(entry.out)
        if prim == "softmax":
            out = self.names[entry.out] = "y"
        elif prim in EQUATIONS:
            out = self.names[entry.out] = "E"
        self.header.add(f"{prim} = REGISTRY[{prim!r}].forward")
        comment = f"  # {EQUATIONS[prim]}" if prim in EQUATIONS else ""
        self.lines.append(f"{out} = {prim}({', '.join(inputs)}{self._params(entry)}){comment}")

    def _params(self, entry) -> str:
        parts = []
        for key, value in entry.params.items():
            if type(value).__name__ == "Saved":
                self.header.add("from deltagrad.ops.base import Saved")
                holder = f"saved_{self.name(entry.out)}"
                if not any(line.startswith(holder + " =") for line in self.lines):
                    self.lines.append(f"{holder} = Saved()")
                parts.append(f"{key}={holder}")
            elif hasattr(value, "name") and type(value).__name__ == "Ref":
                parts.append(f"{key}={self.name(value.name)}")
            else:
                parts.append(f"{key}={value!r}")
        return "".join(", " + p for p in parts)

    def _source(self, entry: Source) -> None:
        function = entry.function
        self.header.add(f"from {function.__module__} import {function.__name__}")
        args = [self.name(a.name) if type(a).__name__ == "Ref" else repr(a) for a in entry.args]
        target = "" if entry.out is None else f"{self.name(entry.out)} = "
        self.lines.append(f"{target}{function.__name__}({', '.join(args)})"
                          "  # called afresh at every replay")

    # ---- dense_stack written out ----------------------------------------------------------
    def _stack_forward(self, entry: Forward) -> None:
        z = self.name(entry.inputs[0])
        layout = entry.params["layout"]
        entry.rendered = [z]  # each layer's input z^(l−1), for the backward pass
        self.lines.append(f"# forward pass, layer by layer (eq. 1.2–1.5): {len(layout)} layers")
        for activation, w, b in layout:
            self.layer += 1
            l = self.layer
            W = self.leaf(entry.inputs[w], f"W{l}")
            bias = "" if b is None else f" + {self.leaf(entry.inputs[b], f'b{l}')}"
            self.lines.append(f"a{l} = {z} @ {W}.T{bias}  # a_j = Σ_i w_ji z_i + w_j0 (eq. 1.2)")
            if activation == "sigmoid":
                self.header.add("from scipy.special import expit")
            if activation == "identity":
                z = f"a{l}"
            else:
                z = f"z{l}"
                form = ACTIVATION_SOURCE[activation][0].format(a=f"a{l}")
                self.lines.append(f"{z} = {form}  # z_j = h(a_j) (eq. 1.3)")
            entry.rendered.append(z)
        self.names[entry.out] = z

    def _stack_backward(self, entry: Forward, needed, deliveries) -> None:
        layout = entry.params["layout"]
        g = self.grads[entry.out]
        top = len(entry.rendered) - 1
        first = self.layer - top + 1
        self.lines.append("# backward pass, layer L down to 1 (eq. 3.10–3.11)")
        for l in range(top, 0, -1):
            activation, w, b = layout[l - 1]
            number = first + l - 1
            z, z_in = entry.rendered[l], entry.rendered[l - 1]
            delta = f"delta{number}"
            if activation == "identity":
                if g != delta:
                    self.lines.append(f"{delta} = {g}")
            else:
                form = ACTIVATION_SOURCE[activation][1].format(g=g, z=z)
                self.lines.append(f"{delta} = {form}  # δ_j = h'(a_j) Σ_k w_kj δ_k (eq. 3.10)")
            W = self.names[entry.inputs[w]]
            if needed[w]:
                weight = self.recorder.leaves.get(entry.inputs[w])
                column_major = weight is not None and weight.data.strides[0] < \
                    weight.data.strides[1]
                product = (f"({z_in}.T @ {delta}).T" if column_major else
                           f"{delta}.T @ {z_in}")
                self._store(entry.inputs[w], product, f"d{W}",
                            "∂E/∂w_ji = δ_j z_i (eq. 3.11)" + (
                                ", in W's column-major layout" if column_major else ""))
            if b is not None and needed[b]:
                self._store(entry.inputs[b], f"{delta}.sum(axis=0)",
                            f"d{self.names[entry.inputs[b]]}", "∂E/∂w_j0 = δ_j (eq. 3.11)")
            if l > 1 or needed[0]:
                g = f"dE_d{z_in}" if l > 1 else self.grad_var(entry.inputs[0])
                self.lines.append(f"{g} = {delta} @ {W}  # Σ_k w_kj δ_k")
        if needed[0]:
            self.grads[entry.inputs[0]] = g

    def _store(self, slot: str, expression: str, variable: str, comment: str) -> None:
        if slot in self.gradient_of_leaf:  # a weight used twice: its gradients add up
            self.lines.append(f"{variable} = {variable} + {expression}  # {comment}")
        else:
            self.lines.append(f"{variable} = {expression}  # {comment}")
            self.gradient_of_leaf[slot] = variable

    # ---- the backward pass, node by node ----------------------------------------------------
    def _backward(self, entry: Backward) -> None:
        dtype = np.dtype(entry.dtype).name
        start = (f"np.ones_like({self.name(entry.root)})" if entry.ndim else
                 f"np.array(1, np.{dtype})")
        self.grads[entry.root] = "dE_dE"
        self.lines.append(f"dE_dE = {start}  # ∂E/∂E = 1: the backward pass starts here")
        for node, needed, deliveries in entry.steps:
            if node.prim.name == "dense_stack":
                self._stack_backward(node, needed, deliveries)
            else:
                self._node_backward(node, needed, deliveries)

    def _node_backward(self, node: Forward, needed, deliveries) -> None:
        prim = node.prim.name
        g, out = self.grads[node.out], self.name(node.out)
        canonical = self._output_delta(node, g)
        if canonical is not None and [d[0] for d in deliveries] == [0]:
            return self._deliver(deliveries[0][1], canonical, "  # δ_k = y_k − t_k (eq. 3.9)")
        inputs = ", ".join(self.name(n) for n in node.inputs)
        params = self._params(node)
        self.header.add("from deltagrad.compile_replay import _conform as conform")
        if node.prim.joint_vjp is not None:
            self.header.add(f"{prim}_joint_vjp = REGISTRY[{prim!r}].joint_vjp")
            self.lines.append(f"r = {prim}_joint_vjp({g}, {out}, {needed!r}, {inputs}{params})")
        for i, target, shape in deliveries:
            if node.prim.joint_vjp is None:
                self.header.add(f"{prim}_vjp{i} = REGISTRY[{prim!r}].vjp({i})")
                value = f"{prim}_vjp{i}({g}, {out}, {inputs}{params})"
            else:
                value = f"r[{i}]"
            comment = "  # δ_k = y_k − t_k (eq. 3.9)" if prim in EQUATIONS and i == 0 else ""
            self._deliver(target, f"conform({value}, {shape!r})", comment)

    def _output_delta(self, node: Forward, g: str):
        """The output layer's δ written out, exactly as the fused loss's VJP computes it."""
        names = [self.name(n) for n in node.inputs]
        if node.prim.name == "sum_of_squares_error" and len(names) == 2:
            return f"{g} * ({names[0]} - {names[1]})"
        if node.prim.name == "softmax_cross_entropy_labels":
            a, labels, y = names
            dtype = np.dtype(node.tensor.dtype).name
            classes = node.tensor._parents[0].shape[-1]
            return f"{g} * ({y} - np.eye({classes}, dtype=np.{dtype})[{labels}])"
        return None

    def _deliver(self, target: str, value: str, comment: str = "") -> None:
        if target in self.recorder.leaves or target in self.recorder.arg_tensors:
            name = self.name(target)
            self._store(target, value, f"d{name}", "the gradient backward() stores")
            return
        variable = self.grad_var(target)
        if target in self.grads:
            self.lines.append(f"{variable} = {variable} + {value}{comment}")
        else:
            self.grads[target] = variable
            self.lines.append(f"{variable} = {value}{comment}")


def _default_name(slot: str) -> str:
    return {"v": "v", "p": "w", "c": "c"}.get(slot[0], "v") + slot.lstrip("vpcarg")


def _returned_slot(template):
    """The first returned array's slot (E), or None."""
    if template is None:
        return None
    if hasattr(template, "name"):
        return template.name
    items = template.values() if isinstance(template, dict) else template
    return next((s for s in map(_returned_slot, items) if s is not None), None)

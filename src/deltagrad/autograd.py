"""The backward pass: reverse-mode automatic differentiation over the recorded graph."""

from __future__ import annotations

import heapq

import numpy as np

from . import _state
from .tensor import Tensor

_FREED = "freed"  # marks a node whose graph was released by an earlier backward


class NotTwiceDifferentiableError(RuntimeError):
    """``create_graph=True`` met a fused primitive whose VJP is raw NumPy (``op``: its name),
    so the gradient has no graph to differentiate again."""

    def __init__(self, op: str, message: str | None = None):
        self.op = op
        super().__init__(message or f"the fused primitive {op!r} cannot be differentiated "
                         "twice (its VJP is raw NumPy)")


def sum_to_shape(g, shape: tuple):
    """Sum a broadcast gradient back to an operand's shape (the one place that undoes
    broadcasting)."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def _initial_grad(root: Tensor, grad, create_graph: bool):
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward(): grad can be omitted only for a one-element output, but the "
                f"output has shape {root.shape}; pass grad= of that shape")
        grad = np.ones_like(root.data) if root.data.ndim else np.array(1, root.data.dtype)
    elif create_graph and isinstance(grad, Tensor) and grad.requires_grad:
        if grad.shape != root.shape:  # kept in the graph: the result is differentiable in it
            raise ValueError(f"backward(): grad has shape {grad.shape}, expected {root.shape}")
        return grad
    else:
        grad = grad.data if isinstance(grad, Tensor) else np.asarray(grad, dtype=root.dtype)
        if grad.shape != root.shape:
            raise ValueError(f"backward(): grad has shape {grad.shape}, expected {root.shape}")
        grad = grad.copy()
    return Tensor._wrap(grad) if create_graph else grad


def _run(roots, root_grads, create_graph: bool, retain_graph: bool, capture=None) -> dict:
    """Propagate ``root_grads`` back through the graph, node by node in reverse order.

    Leaves (and tensors with ``retain_grad()``) accumulate into ``.grad``; when ``capture`` is
    a dict ``{id(tensor): None}`` the gradients of those tensors are returned there instead.
    """
    for root in roots:
        if not root.requires_grad:
            raise RuntimeError("backward(): the output does not require grad (no input has "
                               "requires_grad=True, or it was computed under no_grad)")
    pending, ready = {}, []
    handed_out = set()
    for root, g in zip(roots, root_grads):
        if root._op is None:
            _receive_leaf(root, g, capture, handed_out)
        else:
            _send(root, g, pending, ready)
    previous_mode = _state.grad_mode.enabled
    _state.grad_mode.enabled = create_graph  # raw NumPy VJPs unless we build the gradient's graph
    try:
        while ready:  # the latest-made node first: all its consumers are done (see _send)
            node = heapq.heappop(ready)[1]
            g = pending.pop(id(node))
            if capture is not None:
                if id(node) in capture:
                    capture[id(node)] = g
            elif node._retain:
                _store_grad(node, g, handed_out)
            _propagate(node, g, pending, ready, create_graph, capture, handed_out)
            if not retain_graph:
                node._params = _FREED
    finally:
        _state.grad_mode.enabled = previous_mode
    return capture


def _send(node: Tensor, g, pending: dict, ready: list) -> None:
    """Add ``g`` to the gradient waiting at a non-leaf ``node``.

    Every recorded node carries a creation number ``_seq``, and a tensor is always made after
    its inputs, so taking the waiting node with the largest number next (a heap) visits each
    node only after every node that consumed it: a topological order, found on the way,
    without a separate walk or sort.
    """
    key = id(node)
    if key in pending:
        pending[key] = pending[key] + g
        return
    if node._params is _FREED:
        raise RuntimeError(
            f"backward through a graph that was already freed (at a {node._op.name!r} node):"
            " pass retain_graph=True to the first backward() to go through it twice")
    pending[key] = g
    heapq.heappush(ready, (-node._seq, node))


def _propagate(node: Tensor, g, pending: dict, ready: list, create_graph: bool, capture,
               handed_out) -> None:
    """Chain rule at one node: each parent gets VJP_i(g), summed back to its shape."""
    op = node._op
    for i, (parent, gi) in enumerate(zip(node._parents, _input_gradients(node, op, g,
                                                                          create_graph))):
        if gi is None:
            continue
        if create_graph:
            if not isinstance(gi, Tensor):
                gi = Tensor._wrap(np.asarray(gi))
        elif type(gi) is not np.ndarray:
            gi = gi.data if isinstance(gi, Tensor) else np.asarray(gi)
        shape = parent.data.shape
        if gi.shape != shape:
            gi = sum_to_shape(_checked_broadcast(gi, shape, op.name, i), shape)
        if parent._op is not None:
            _send(parent, gi, pending, ready)
        elif capture is None:
            _store_grad(parent, gi, handed_out)
        else:
            _capture(parent, gi, capture)


def _input_gradients(node: Tensor, op, g, create_graph: bool) -> list:
    """VJP_i(g) for each input i, in order: None for an input that needs no gradient or
    carries none."""
    parents, params = node._parents, node._params
    if create_graph:
        if not op.differentiable_twice:
            raise NotTwiceDifferentiableError(op.name)
        ans, inputs = node, parents
    else:
        ans, inputs = node.data, [p.data for p in parents]
        if op.joint_vjp is not None:  # one call shares the work between the inputs
            return op.joint_vjp(g, ans, [p.requires_grad for p in parents], *inputs, **params)
    vjps = op._vjps
    variadic = callable(vjps)
    grads = []
    for i, parent in enumerate(parents):
        vjp = (vjps(i) if variadic else vjps[i]) if parent.requires_grad else None
        # None: an input that needs no gradient, or carries none (a cached output)
        grads.append(None if vjp is None else vjp(g, ans, *inputs, **params))
    return grads


def _checked_broadcast(gi, shape: tuple, op: str, i: int):
    """A VJP must return its input's shape, or a shape that input broadcasts to (summed back by
    ``sum_to_shape``); anything else is a bug in the VJP, refused rather than reshaped."""
    try:
        legitimate = np.broadcast_shapes(shape, gi.shape) == gi.shape
    except ValueError:
        legitimate = False
    if not legitimate:
        raise RuntimeError(f"the VJP of {op!r} for input {i} returned a gradient of shape "
                           f"{gi.shape}, but the input has shape {shape} (and does not "
                           "broadcast to it)")
    return gi


def _receive_leaf(leaf: Tensor, g, capture, handed_out: set) -> None:
    """A leaf's gradient goes to ``.grad`` in backward(), or to ``capture`` in grad()."""
    if capture is None:
        _store_grad(leaf, g, handed_out)
    else:
        _capture(leaf, g, capture)


def _capture(tensor: Tensor, g, capture: dict) -> None:
    """grad(): sum the gradient of a requested input into ``capture``."""
    if id(tensor) in capture:
        previous = capture[id(tensor)]
        capture[id(tensor)] = g if previous is None else previous + g


def _store_grad(node: Tensor, g, handed_out: set) -> None:
    """Accumulate into ``.grad`` (an ndarray); never let two tensors share one buffer.

    ``handed_out`` holds the memory owners (the root ``.base``) of the gradients already
    given to tensors in this pass; a gradient sharing one of them, or a read-only
    (broadcast) view, is copied.
    """
    g = g.data if isinstance(g, Tensor) else g
    if node.grad is not None:
        node.grad = node.grad + g
        return
    owner = g
    while owner.base is not None:  # the array that owns the memory
        owner = owner.base
    if id(owner) in handed_out or (owner is not g and not g.flags.writeable):
        g = g.copy(order="K")
        owner = g
    handed_out.add(id(owner))
    node.grad = g


def backward(root: Tensor, grad=None, create_graph: bool = False, retain_graph=None) -> None:
    """Backpropagate from ``root``; see :meth:`Tensor.backward`."""
    retain_graph = create_graph if retain_graph is None else retain_graph
    tracer = _state.tracer  # deltagrad.compile, recording a step: the pass as one event
    if tracer is not None:
        tracer.backward(root, grad, create_graph)
        _state.tracer = None
    try:
        _run([root], [_initial_grad(root, grad, create_graph)], create_graph, retain_graph)
    finally:
        _state.tracer = tracer


def grad(outputs, inputs, grad_outputs=None, create_graph: bool = False,
         retain_graph=None, allow_unused: bool = False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not stored in ``.grad``).

    As ``torch.autograd.grad``: with ``create_graph=True`` the returned tensors are themselves
    differentiable (second derivatives, Hessian-vector products).

    Args:
        outputs: a Tensor or a sequence of Tensors.
        inputs: a Tensor or a sequence of Tensors (leaves or intermediates).
        grad_outputs: ``∂E/∂output`` for each output (may be omitted for one-element outputs).
            With ``create_graph=True`` a Tensor here stays in the graph: the result is
            differentiable with respect to it (the double-VJP trick for Jacobian-vector
            products: ``Jv = grad(grad(y, x, u, create_graph=True), u, v)``).
        allow_unused: return ``None`` for an input the outputs do not depend on, instead of
            raising.

    Returns:
        A tuple of Tensors, one per input.

    Example:
        >>> import deltagrad as dg
        >>> x = dg.tensor(3.0, requires_grad=True)
        >>> (dx,) = dg.grad(x ** 3, x, create_graph=True)
        >>> (dxx,) = dg.grad(dx, x)
        >>> float(dx.item()), float(dxx.item())
        (27.0, 18.0)
    """
    if _state.tracer is not None:
        _state.tracer.refuse_grad()
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single_input = isinstance(inputs, Tensor)
    inputs = [inputs] if single_input else list(inputs)
    for k, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise ValueError(f"grad(): input {k} does not require grad")
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad(): {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    retain_graph = create_graph if retain_graph is None else retain_graph
    root_grads = [_initial_grad(o, g, create_graph) for o, g in zip(outputs, grad_outputs)]
    capture = _run(outputs, root_grads, create_graph, retain_graph,
                   capture={id(t): None for t in inputs})
    results = []
    for k, t in enumerate(inputs):
        g = capture[id(t)]
        if g is None:
            if not allow_unused:
                raise ValueError(f"grad(): the outputs do not depend on input {k}; "
                                 "pass allow_unused=True to get None")
            results.append(None)
        else:
            results.append(g if isinstance(g, Tensor) else Tensor._wrap(g))
    return tuple(results)

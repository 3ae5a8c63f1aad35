"""Batch optimisers on scipy.optimize: the weights packed into one flat float64 vector.

Conjugate gradients and quasi-Newton methods (§2.4.1) come from ``scipy.optimize.minimize``;
Newton-CG and trust-ncg receive exact Hessian-vector products by double backward (the
R-operator); scaled conjugate gradients (``"SCG"``) is :func:`deltagrad.optim.scg.scg`.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from ..autograd import NotTwiceDifferentiableError
from ..autograd import grad as _grad
from ..nn.module import Module
from ..nn.utils import parameters_to_vector, vector_to_parameters
from ..tensor import Tensor
from .scg import scg

FIRST_ORDER_METHODS = ("l-bfgs-b", "bfgs", "cg", "scg")  # need ∇E only


def _first_order_only(op: str) -> NotTwiceDifferentiableError:
    """The error a Hessian method meets on a model it cannot differentiate twice, with the
    methods that work."""
    return NotTwiceDifferentiableError(op, (
        f"Newton-CG and trust-ncg need exact second derivatives (Hessian-vector products by "
        f"double backward), but this model runs the fused primitive {op!r}, which cannot be "
        f"differentiated twice; choose a method that needs only first derivatives: "
        f"{', '.join(map(repr, FIRST_ORDER_METHODS))} (fit's optimizer=, minimize's "
        f"method=)"))


# the one table of batch methods: the names fit() and minimize() accept → scipy's names
METHODS = {"cg": "CG", "bfgs": "BFGS", "l-bfgs-b": "L-BFGS-B", "lbfgs": "L-BFGS-B",
           "newton-cg": "Newton-CG", "trust-ncg": "trust-ncg", "scg": "SCG"}
_HESSIAN_METHODS = ("Newton-CG", "trust-ncg")


def method_name(method: str) -> str:
    """The canonical scipy name of ``method`` (case-insensitive; ``"lbfgs"`` is L-BFGS-B)."""
    return METHODS[check.choice(method, METHODS, "method", "minimize")]


class FlatObjective:
    """E(w) and its derivatives as functions of the flat weight vector of ``model``.

    ``fun(x)`` loads x into the model and returns ``(E, ∇E)``; ``hessp(x, v)`` returns H v by
    double backward. The last few evaluations are cached by x, so a callback can ask for the
    gradient at an iterate without recomputing it.
    """

    def __init__(self, model: Module, objective):
        if not callable(objective):
            raise TypeError(f"the objective must be a function objective(model) → scalar "
                            f"Tensor, e.g. lambda m: dg.losses.sum_of_squares(m(X), T); got "
                            f"{type(objective).__name__} (pass the data inside the function, "
                            f"not as arguments)")
        self.model = model
        self.objective = objective
        self.params = model.parameters()
        if not self.params:
            raise ValueError("minimize: the model has no parameters")
        self.cache = {}
        self._graph = None  # (x bytes, gradient tensors with their graph) for hessp

    def load(self, x: np.ndarray) -> None:
        vector_to_parameters(x, self.params)

    def _error(self) -> Tensor:
        E = self.objective(self.model)
        if not isinstance(E, Tensor) or E.size != 1:
            raise TypeError("minimize: objective(model) must return a one-element Tensor")
        return E

    def fun(self, x: np.ndarray):
        key = x.tobytes()
        if key in self.cache:
            return self.cache[key]
        self.load(x)
        error = self._error()
        gradients = _grad(error, self.params, allow_unused=True)
        g = np.concatenate([np.zeros(p.size) if gi is None else
                            np.asarray(gi.data, dtype=np.float64).ravel()
                            for p, gi in zip(self.params, gradients)])
        E = float(error.item())
        if len(self.cache) > 8:
            self.cache.pop(next(iter(self.cache)))
        self.cache[key] = (E, g)
        return E, g

    def hessp(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        key = x.tobytes()
        if self._graph is None or self._graph[0] != key:
            self.load(x)
            try:
                grads = _grad(self._error(), self.params, create_graph=True, allow_unused=True)
            except NotTwiceDifferentiableError as err:
                raise _first_order_only(err.op) from None
            self._graph = (key, grads)
        grads = self._graph[1]
        total, start = None, 0
        for p, g in zip(self.params, grads):
            piece = v[start:start + p.size].reshape(p.shape).astype(p.dtype)
            start += p.size
            if g is None:
                continue
            term = (g * piece).sum()
            total = term if total is None else total + term
        hv = _grad(total, self.params, retain_graph=True, allow_unused=True)
        return np.concatenate([np.zeros(p.size) if h is None else
                               np.asarray(h.data, dtype=np.float64).ravel()
                               for p, h in zip(self.params, hv)])


def minimize(model: Module, objective, method: str = "L-BFGS-B", maxiter: int | None = None,
             tol: float | None = None, callback=None, options: dict | None = None):
    """Minimise ``objective(model)`` over the model's weights with a batch method.

    Args:
        model: the network; it is left at the solution.
        objective: ``objective(model)`` → the scalar error Tensor, e.g.
            ``lambda m: losses.sum_of_squares(m(X), T) + prior(m)``.
        method: ``"CG"``, ``"BFGS"``, ``"L-BFGS-B"`` (alias ``"lbfgs"``), ``"Newton-CG"``,
            ``"trust-ncg"`` or ``"SCG"`` (scaled conjugate gradients, Møller 1993).
        maxiter: the most iterations.
        tol: the gradient tolerance (scipy's ``tol``; SCG's ``gtol``).
        callback: ``callback(model, result)`` after each iteration, with the model holding
            the iterate, ``result.fun`` its error and ``result.jac`` its gradient; raise
            ``StopIteration`` to stop.
        options: further options for the scipy method.

    Returns:
        scipy's ``OptimizeResult``.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> layer = dg.nn.Linear(1, 1, rng=0)
        >>> X, T = np.array([[0.0], [1.0]]), np.array([[1.0], [3.0]])
        >>> E = lambda m: dg.losses.sum_of_squares(m(X), T)
        >>> result = dg.optim.minimize(layer, E, "BFGS", tol=1e-10)
        >>> np.round([layer.weight.data[0, 0], layer.bias.data[0]], 6)
        array([2., 1.])
    """
    name = method_name(method)
    if maxiter is not None:
        check.positive_int(maxiter, "maxiter", "minimize")
    flat = FlatObjective(model, objective)
    x0 = parameters_to_vector(flat.params)

    def report(intermediate_result):
        if callback is not None:
            # the gradient at the iterate (cached: the method evaluated it there)
            intermediate_result.fun, intermediate_result.jac = flat.fun(intermediate_result.x)
            flat.load(intermediate_result.x)
            callback(model, intermediate_result)

    if name == "SCG":
        kwargs = dict(options or {})
        if maxiter is not None:
            kwargs["maxiter"] = maxiter
        if tol is not None:
            kwargs["gtol"] = tol
        result = scg(flat.fun, x0, callback=report, **kwargs)
    else:
        import scipy.optimize  # here: slow to import, and only the batch methods need it

        opts = dict(options or {})
        if maxiter is not None:
            opts["maxiter"] = maxiter
        result = scipy.optimize.minimize(
            flat.fun, x0, method=name, jac=True, tol=tol, options=opts,
            hessp=flat.hessp if name in _HESSIAN_METHODS else None,
            callback=report if callback is not None else None)
    flat.load(result.x)
    return result

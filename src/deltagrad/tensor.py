"""Tensor: an ndarray that remembers how it was made, so that gradients can flow back."""

from __future__ import annotations

import numpy as np

from . import _state

FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.float16))


class Tensor:
    """A node of the computation graph.

    Attributes:
        data: the values, an ``np.ndarray``.
        grad: ``∂E/∂(this tensor)`` after ``E.backward()``, an ``np.ndarray`` (or ``None``).
            Leaves receive it; intermediate tensors only after ``retain_grad()``.
        requires_grad: whether gradients flow to (and through) this tensor.

    Tensors are made with :func:`deltagrad.tensor` or by operating on other tensors; each
    operation records its primitive and its parents (see ``deltagrad.ops``).
    """

    __slots__ = ("data", "grad", "requires_grad", "_op", "_parents", "_params", "_retain",
                 "_activation", "_seq", "__weakref__")
    __array_ufunc__ = None  # so that ndarray ⊕ Tensor defers to Tensor's reflected operators
    __hash__ = object.__hash__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = _as_array(data, dtype, keep_integers=not requires_grad)
        self.grad = None
        self.requires_grad = False
        self._op = None
        self._parents = ()
        self._params = None
        self._retain = False
        self._activation = None
        if requires_grad:
            self.requires_grad_()

    @classmethod
    def _wrap(cls, data: np.ndarray) -> Tensor:
        """Make a Tensor around an ndarray without checks (the ops' fast path)."""
        t = object.__new__(Tensor)
        t.data = data
        t.grad = None
        t.requires_grad = False
        t._op = None
        t._parents = ()
        t._params = None
        t._retain = False
        t._activation = None
        return t

    # ---- properties -------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by an operation on tensors that need grad)."""
        return self._op is None

    @property
    def op(self) -> str | None:
        """Name of the primitive that made this tensor (``None`` for a leaf)."""
        return None if self._op is None else self._op.name

    @property
    def T(self) -> Tensor:
        return ops.transpose(self)

    # ---- conversion -------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The values as an ndarray (shared, not copied)."""
        return self.data

    def item(self) -> float:
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item(): expected a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's values, cut from the graph."""
        return Tensor._wrap(self.data)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        if flag and self.data.dtype not in FLOAT_DTYPES:
            raise TypeError(f"requires_grad needs a floating-point tensor, got dtype {self.dtype}")
        self.requires_grad = bool(flag)
        return self

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this intermediate tensor after backward (e.g. the δ's of eq. 3.7)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad(): this tensor does not require grad")
        self._retain = True
        return self

    def astype(self, dtype) -> Tensor:
        return ops.astype(self, dtype=np.dtype(dtype))

    def backward(self, grad=None, create_graph: bool = False, retain_graph: bool | None = None):
        """Backpropagate from this tensor: every leaf it depends on gets ``.grad``.

        Args:
            grad: ``∂E/∂(this tensor)``; may be omitted only for a one-element tensor (1 is used).
            create_graph: build the graph of the backward pass itself (differentiable
                gradients; ``.grad`` still holds values, use :func:`deltagrad.grad` to get the
                gradient tensors).
            retain_graph: keep the graph for another backward (default: ``create_graph``).
        """
        autograd.backward(self, grad, create_graph=create_graph, retain_graph=retain_graph)

    # ---- operators (all defined in deltagrad.ops) ---------------------------------------
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, other):
        return ops.pow(self, other)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __pos__(self):
        return self

    def __getitem__(self, index):
        return ops.getitem(self, index)

    def __lt__(self, other):
        return _compare(np.less, self, other)

    def __le__(self, other):
        return _compare(np.less_equal, self, other)

    def __gt__(self, other):
        return _compare(np.greater, self, other)

    def __ge__(self, other):
        return _compare(np.greater_equal, self, other)

    def __eq__(self, other):
        return _compare(np.equal, self, other)

    def __ne__(self, other):
        return _compare(np.not_equal, self, other)

    def __invert__(self):
        if self.data.dtype != np.bool_:
            raise TypeError(f"~ is defined for boolean tensors, got dtype {self.dtype}")
        return Tensor._wrap(~self.data)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    # ---- methods mirroring numpy's (so VJPs work on ndarrays and Tensors alike) -------
    def reshape(self, *shape) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops.reshape(self, shape=shape)

    def transpose(self, *axes) -> Tensor:
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = None if axes[0] is None else tuple(axes[0])
        return ops.transpose(self, axes=axes or None)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        axes = list(range(self.ndim))
        axis1, axis2 = (ops.base.normalise_axis(a, self.ndim, "swapaxes") for a in (axis1, axis2))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return ops.transpose(self, tuple(axes))

    def sum(self, axis=None, keepdims: bool = False) -> Tensor:
        return ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        return ops.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims: bool = False) -> Tensor:
        return ops.max(self, axis=axis, keepdims=keepdims)

    def exp(self) -> Tensor:
        return ops.exp(self)

    def log(self) -> Tensor:
        return ops.log(self)

    def tanh(self) -> Tensor:
        return ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return ops.sigmoid(self)

    def relu(self) -> Tensor:
        return ops.relu(self)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype != np.float64:
            extra += f", dtype={self.data.dtype}"
        if self._op is not None:
            extra += f", op={self._op.name}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"


def _as_array(data, dtype=None, keep_integers: bool = False) -> np.ndarray:
    """Convert user data to a numeric ndarray: float64 unless the data or ``dtype`` says else;
    with ``keep_integers`` integer and boolean data keep their dtype (index tensors, masks)."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        try:
            dtype = np.dtype(dtype)
        except TypeError as err:
            raise TypeError(f"tensor(): dtype {dtype!r} is not a NumPy dtype") from err
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as err:
        raise TypeError(f"tensor(): cannot make a numeric array from {type(data).__name__}: "
                        f"{err}") from err
    if array.dtype.kind not in "biuf":
        raise TypeError(f"tensor(): expected numeric data (bool, int or float), got an array of "
                        f"dtype {array.dtype} (kind {array.dtype.kind!r})")
    if dtype is None:
        kept = "fbiu" if keep_integers else "f"
        dtype = array.dtype if array.dtype.kind in kept else _state.default_dtype
    if array.dtype != dtype:
        array = array.astype(dtype)
    return array


def _compare(ufunc, a, b) -> Tensor:
    """Comparisons give boolean tensors outside the graph (they have no gradient)."""
    a = a.data if isinstance(a, Tensor) else a
    b = b.data if isinstance(b, Tensor) else b
    return Tensor._wrap(np.asarray(ufunc(a, b)))


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """Make a leaf tensor.

    Args:
        data: numbers, nested lists or an ndarray. Float arrays keep their dtype (float32
            stays float32); integers and booleans keep theirs too (int64 index tensors,
            boolean masks, as ``torch.tensor``), except with ``requires_grad=True``, where
            they become float64.
        requires_grad: whether ``backward()`` should give this tensor a ``.grad``.
        dtype: force a dtype, e.g. ``"float32"``.

    Example:
        >>> import deltagrad as dg
        >>> x = dg.tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        array([2., 4.])
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


from . import autograd, ops  # noqa: E402  (both need Tensor defined first)

"""Saving by registration: each savable module describes itself, and ``io`` reads this table.

A savable class

- is decorated with ``@savable()`` (registered under its class name, or a name given once
  and fixed forever: it is written into files),
- returns its architecture from ``config()``: a JSON-able dict of constructor arguments,
  weights excluded, and
- rebuilds itself in ``from_config(spec)``, a classmethod that reads every field through
  ``spec`` (a :class:`Spec`: checked access, a weight budget, nested modules).

``io`` never imports a layer module by hand and never imports a name read from a file: a
type name from a file is only ever looked up in :data:`SAVABLE`.

Example:
    >>> from deltagrad.nn import Module
    >>> from deltagrad.nn.registry import SAVABLE, savable
    >>> @savable("DocExampleScale")
    ... class Scale(Module):
    ...     def __init__(self, factor: float = 2.0):
    ...         super().__init__(); self.factor = factor
    ...     def forward(self, x):
    ...         return x * self.factor
    ...     def config(self):
    ...         return {"factor": self.factor}
    ...     @classmethod
    ...     def from_config(cls, spec):
    ...         return cls(spec.get("factor", float))
    >>> SAVABLE["DocExampleScale"] is Scale
    True
    >>> del SAVABLE["DocExampleScale"]
"""

from __future__ import annotations

SAVABLE: dict = {}
MAX_DEPTH = 50
FLOAT_DTYPES = ("float32", "float64")


def savable(type_name: str | None = None):
    """Class decorator: register a Module subclass for ``save``/``load`` under ``type_name``
    (default: the class name). The class must define ``config`` and ``from_config``."""

    def register(cls):
        name = type_name or cls.__name__
        if name in SAVABLE and SAVABLE[name] is not cls:
            raise ValueError(f"savable: the type name {name!r} is taken by "
                             f"{SAVABLE[name].__module__}.{SAVABLE[name].__qualname__}")
        for method in ("config", "from_config"):
            if not callable(getattr(cls, method, None)):
                raise TypeError(f"savable: {cls.__name__} must define {method}()")
        cls.type_name = name
        SAVABLE[name] = cls
        return cls

    return register


class NoArguments:
    """Mixin for a savable module whose constructor takes no arguments (activations,
    ``Flatten``): its description is empty."""

    def config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, spec):
        return cls()


class Budget:
    """The number of weights a file's tensors can fill: an architecture that claims more is
    malformed, and is refused before anything that large is allocated."""

    def __init__(self, elements: int):
        self.left = elements

    def take(self, count: int, where: str) -> None:
        if count > self.left:
            raise ValueError(f"{where}: the architecture needs more weights than the file holds")
        self.left -= count


_KIND_NAMES = {int: "an integer", float: "a number", str: "a string", list: "a list",
               dict: "an object", bool: "true/false", type(None): "null"}


class Spec:
    """Checked access to one module's JSON description: every failure is a ``ValueError``
    that names the field by its path (``architecture.children[1].module.sizes``)."""

    def __init__(self, data, where: str = "architecture", budget: Budget | None = None,
                 depth: int = 0):
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected a JSON object, got {type(data).__name__}")
        if depth > MAX_DEPTH:
            raise ValueError(f"{where}: modules nested too deeply")
        self.data, self.where, self.depth = data, where, depth
        self.budget = budget if budget is not None else Budget(10 ** 9)

    def get(self, key: str, kind, check=None, default=...):
        """Field ``key``, which must be of ``kind`` (a type or a tuple of types; ``float``
        admits integers) and satisfy ``check``; ``default`` when absent, if given."""
        if key not in self.data:
            if default is not ...:
                return default
            raise ValueError(f"{self.where}: missing field {key!r}")
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds:
            kinds += (int,)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            raise ValueError(f"{self.where}.{key}: expected {_kind_name(kind)}, got {value!r}")
        if check is not None and not check(value):
            raise ValueError(f"{self.where}.{key}: invalid value {value!r}")
        return value

    def dtype(self) -> str:
        """The ``dtype`` field: ``"float32"`` or ``"float64"``."""
        return self.get("dtype", str, FLOAT_DTYPES.__contains__)

    def reserve(self, count: int) -> None:
        """Claim ``count`` weights from the file's budget (before allocating them)."""
        self.budget.take(count, self.where)

    def item(self, data, where: str) -> Spec:
        """Checked access to a JSON object nested in this description (same module)."""
        return Spec(data, where, self.budget, self.depth)

    def module(self, data, where: str):
        """Build a nested module from its description (one level deeper)."""
        return build(data, where, self.budget, self.depth + 1)


def _kind_name(kind) -> str:
    if isinstance(kind, tuple):
        return " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kind)
    return _KIND_NAMES.get(kind, kind.__name__)


def positive(value) -> bool:
    """A size field: an integer in [1, 10⁶]."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 1_000_000


def layer_sizes(value) -> bool:
    """A ``sizes`` field: 2 to 1000 positive integers."""
    return isinstance(value, list) and 2 <= len(value) <= 1000 and all(map(positive, value))


def dense_weights(sizes) -> int:
    """The weights and biases of fully connected layers of these sizes."""
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def config_of(module) -> dict:
    """``module``'s architecture with its registered type name: ``{"type": ..., **config}``."""
    cls = type(module)
    if SAVABLE.get(getattr(cls, "type_name", None)) is not cls:
        raise TypeError(f"save: {cls.__name__} is not registered as savable (decorate it with "
                        f"@deltagrad.nn.registry.savable()); savable types: {sorted(SAVABLE)}")
    return {"type": cls.type_name, **module.config()}


def build(data, where: str = "architecture", budget: Budget | None = None, depth: int = 0):
    """A module from its architecture JSON, through :data:`SAVABLE` only."""
    spec = Spec(data, where, budget, depth)
    kind = spec.get("type", str)
    if kind not in SAVABLE:
        raise ValueError(f"{where}: unknown module type {kind!r}; this version knows "
                         f"{sorted(SAVABLE)}")
    try:
        return SAVABLE[kind].from_config(spec)
    except (TypeError, KeyError, OverflowError) as err:
        raise ValueError(f"{where}: invalid {kind} description: {err}") from err

"""The compiled training step: trace a step once, replay it as straight-line NumPy (issue 23).

``step = dg.compile(fn)``: ``fn`` runs forward, loss, ``backward()`` and, optionally, the
optimiser's ``zero_grad()``/``step()``. The first call with a new signature (the shapes and
dtypes of the array arguments) runs eagerly and records what ran: the primitives and their
parameters, the backward pass (which VJPs, in the engine's order, summed as it sums them), the
arrays made by recorded sources (Dropout's random mask) and the optimiser calls. A recording
that holds constants (arrays made outside the primitives) is made twice and the two must agree.
Later calls replay the program: one generated Python function calling
the primitives' own forward and VJP functions on ndarrays, no Tensors, no graph, no checks.
The speed comes from running less Python, not from new maths: a replayed step equals the eager
step to the bit (the tests compare twenty steps of every kind of network).

What the replay cannot see, it guards (a miss retraces): every array argument's shape and
dtype, the Python scalars among the arguments, ``no_grad``, the train/eval mode of every module
the step called, the identity of the models, optimisers and tensors the function names, and
any assignment to a module's attributes (a replaced layer, a changed Dropout ``p``). A
learning rate is read by the optimiser's own ``step()`` at each replay, not baked in.

Data-dependent Python control flow (``if E.item() > 1: ...``) cannot be replayed: reading a
tensor's value while recording makes the function run eagerly, so do two recordings that
differ, and ``dg.compile(fn, verify=k)`` compares every k-th replay with an eager run and
raises :class:`ReplayMismatch` at the first difference. Past ``cache_size``
signatures the function runs eagerly with one :class:`CompileWarning`.

A replay runs only what was recorded: primitives, ``recorded`` sources, backward passes and
the optimisers' and modules' ``step``/``zero_grad``. Work the library would skip is refused
while recording (the step then runs eagerly, with one warning): a learning-rate schedule
stepped, gradients clipped, or an optimiser's hyperparameter changed inside the step — do these
outside it. Plain Python side effects inside the step (a counter, a print, appending to a
list) happen only while recording, as under ``torch.compile`` or ``jax.jit``: keep them
outside the compiled function.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np

from . import _state
from .compile_program import ProgramRecorder
from .compile_replay import Program
from .nn.module import structure
from .tensor import Tensor

__all__ = ["CompileWarning", "CompiledStep", "ReplayMismatch", "compile"]


class CompileWarning(UserWarning):
    """A compiled function runs eagerly from now on (the reason is in the message)."""


class ReplayMismatch(RuntimeError):
    """``verify=k`` found a replayed step that differs from the eager step."""


def compile(fn=None, *, verify: int | None = None, cache_size: int = 8, warn: bool = True,
            check_finite: bool = True) -> CompiledStep:
    """Compile a training step: eager on the first call (two, when it holds constants), then
    replayed as straight-line NumPy that equals the eager step to the bit.

    Args:
        fn: the step, e.g. ``zero_grad``, forward, loss, ``backward()``, ``opt.step()``;
            it returns a Tensor, a tuple/list/dict of Tensors, or None. Usable as a decorator.
        verify: compare every ``verify``-th replay with an eager run of ``fn`` (from the same
            weights, optimiser state and random generators) and raise :class:`ReplayMismatch`
            at the first difference; None never compares.
        cache_size: how many argument signatures (batch shapes, dtypes) keep a trace; a
            further one makes ``fn`` run eagerly from then on, with one warning.
        warn: warn (:class:`CompileWarning`) when ``fn`` falls back to eager for good.
        check_finite: a replay raises ``FloatingPointError`` when the error it backpropagates
            is NaN or infinite, before the backward pass and any update (replays run no
            argument checks, so a NaN target would otherwise pass silently); ``fit`` turns it
            off and raises its own ``DivergenceError``.

    Returns:
        A :class:`CompiledStep`, called as ``fn`` is; ``.source()`` prints the program.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> net = dg.nn.MLP("2-3-1", rng=0); opt = dg.optim.SGD(net.parameters(), lr=0.1)
        >>> @dg.compile
        ... def step(x, t):
        ...     opt.zero_grad(); E = dg.losses.sum_of_squares(net(x), t); E.backward()
        ...     opt.step(); return E
        >>> x, t = np.array([[0.5, -1.0]]), np.array([[0.3]])
        >>> errors = [float(step(x, t).item()) for _ in range(3)]   # eager, then replayed
        >>> step.replays, errors[2] < errors[0]
        (2, True)
    """
    options = dict(verify=verify, cache_size=cache_size, warn=warn, check_finite=check_finite)
    if fn is None:
        return lambda f: CompiledStep(f, **options)
    return CompiledStep(fn, **options)


class CompiledStep:
    """A function with its recorded programs, one per argument signature (see :func:`compile`).

    Attributes:
        replays, eager_calls: how many calls were replayed and how many ran eagerly.
        fallback_reason: why ``fn`` runs eagerly for good (None while it compiles).
    """

    def __init__(self, fn, verify=None, cache_size: int = 8, warn: bool = True,
                 check_finite: bool = True):
        if not callable(fn):
            raise TypeError(f"compile: fn must be a callable training step, got "
                            f"{type(fn).__name__}")
        for name, value in (("verify", verify), ("cache_size", cache_size)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):
                raise ValueError(f"compile: {name} must be a positive integer"
                                 f"{' or None' if name == 'verify' else ''}, got {value!r}")
        self.fn, self.verify, self.cache_size, self.warn = fn, verify, cache_size, warn
        self.check_finite = bool(check_finite)
        self.__name__ = getattr(fn, "__name__", "step")
        self.__doc__ = getattr(fn, "__doc__", None)
        self.replays = self.eager_calls = 0
        self.fallback_reason = None
        self._programs = {}  # signature -> Program (ready) or ProgramRecorder (one recording)
        self._token = structure()
        self._last = None

    # ---- calling -------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if self.fallback_reason is not None:
            return self._eager(args, kwargs)
        if structure() is not self._token:  # a module attribute was assigned: retrace all
            self._programs.clear()
            self._token = structure()
        key = _signature(args, kwargs)
        program = self._programs.get(key)
        if type(program) is Program and program.guards_hold():
            self._last = program
            self.replays += 1
            if self.verify is not None and self.replays % self.verify == 0:
                return self._verified(program, args, kwargs)
            return program.run(args, kwargs)
        return self._record(key, program, args, kwargs)

    def _eager(self, args, kwargs):
        self.eager_calls += 1
        return self.fn(*args, **kwargs)

    def _record(self, key, previous, args, kwargs):
        """Run ``fn`` eagerly while recording it. A recording that holds no constants (every
        array comes from the arguments, the weights, a primitive or a recorded source) becomes
        the Program at once; one with constants is recorded a second time, and the two must
        agree (a constant that changed was computed from the data outside the primitives)."""
        if previous is None and len(self._programs) >= self.cache_size:
            return self._give_up(f"more than cache_size={self.cache_size} different argument "
                                 "signatures (shapes, dtypes, scalars)", args, kwargs)
        recorder = ProgramRecorder(self.fn, args, kwargs)
        self.eager_calls += 1
        result = recorder.run()
        if structure() is not self._token:
            recorder.refuse("the step assigns attributes of a module while it runs")
        if recorder.refusal is not None:
            self._fall_back(recorder.refusal)
            return result
        if type(previous) is ProgramRecorder:
            difference = previous.difference(recorder)
            if difference is not None:
                self._fall_back(f"its two recordings differ ({difference}): the step depends "
                                "on its data through Python or NumPy outside the primitives")
                return result
            self._programs[key] = self._last = Program(recorder, self.check_finite)
        elif not recorder.constants:
            self._programs[key] = self._last = Program(recorder, self.check_finite)
        else:
            self._programs[key] = recorder
        return result

    def _give_up(self, reason, args, kwargs):
        self._fall_back(reason)
        return self._eager(args, kwargs)

    def _fall_back(self, reason: str) -> None:
        self.fallback_reason = reason
        self._programs.clear()
        if self.warn:
            warnings.warn(f"compile: {self.__name__} runs eagerly from now on: {reason}",
                          CompileWarning, stacklevel=4)

    # ---- verify ---------------------------------------------------------------------------
    def _verified(self, program: Program, args, kwargs):
        """Replay, then restore the state and run eagerly; raise at the first difference."""
        state = _Snapshot(program)
        replayed = program.run(args, kwargs)
        after_replay = _Snapshot(program)
        state.restore()
        eager = self.fn(*args, **kwargs)
        difference = after_replay.difference(_Snapshot(program)) or _differ(replayed, eager)
        if difference is not None:
            raise ReplayMismatch(
                f"compile(verify={self.verify}): replay {self.replays} of {self.__name__} "
                f"differs from the eager step: {difference}. The step cannot be replayed "
                "(Python control flow on data, or NumPy on the data outside the primitives); "
                "call it without compile")
        return eager

    # ---- showing the program ----------------------------------------------------------------
    def source(self) -> str:
        """The last replayed (or recorded) program as straight-line, runnable NumPy with the
        notes' names: a, z, delta, dW, fused primitives as calls naming their equation."""
        if self._last is None:
            raise RuntimeError(f"compile: {self.__name__} has no program yet: call it first "
                               "(an eager recording makes a program)")
        from .compile_source import program_source

        return program_source(self._last)

    def __repr__(self) -> str:
        state = (f"eager: {self.fallback_reason}" if self.fallback_reason else
                 f"{sum(type(p) is Program for p in self._programs.values())} program(s)")
        return (f"CompiledStep({self.__name__}, {state}, replays={self.replays}, "
                f"eager_calls={self.eager_calls})")


def _describe(value):
    """What a traced program assumes about one argument."""
    kind = type(value)
    if kind is np.ndarray:
        return value.shape, value.dtype
    if isinstance(value, Tensor):
        return "tensor", value.data.shape, value.data.dtype, value.requires_grad
    if value is None or kind in (bool, int, float, str):
        return kind, value
    if isinstance(value, (tuple, list)):
        return kind, tuple(_describe(v) for v in value)
    if isinstance(value, np.ndarray):
        return kind, value.shape, value.dtype
    return "object", id(value)


def _signature(args, kwargs) -> tuple:
    key = tuple(_describe(a) for a in args)
    if kwargs:
        key += tuple((name, _describe(kwargs[name])) for name in sorted(kwargs))
    return key + (_state.grad_mode.enabled, _state.default_dtype)


class _Snapshot:
    """The state a step changes: every tensor's values and gradient, the optimisers' state,
    the random generators' states; ``restore()`` puts it back."""

    def __init__(self, program: Program):
        self.program = program
        self.tensors = [(t, t.data.copy(), None if t.grad is None else np.array(t.grad))
                        for t in program.leaf_tensors()]
        keep = {id(t): t for t, _, _ in self.tensors}
        self.optimizers = [(o, copy.deepcopy(o.__dict__, dict(keep))) for o in
                           program.optimizers()]
        self.generators = [(g, copy.deepcopy(g.bit_generator.state))
                           for g in program.generators()]

    def restore(self) -> None:
        for t, data, grad in self.tensors:
            t.data[...] = data
            t.grad = None if grad is None else grad.copy()
        keep = {id(t): t for t, _, _ in self.tensors}
        for o, state in self.optimizers:
            o.__dict__.clear()
            o.__dict__.update(copy.deepcopy(state, dict(keep)))
        for g, state in self.generators:
            g.bit_generator.state = state

    def difference(self, other: _Snapshot) -> str | None:
        for (t, data, grad), (_, data2, grad2) in zip(self.tensors, other.tensors):
            name = getattr(t, "_name", None) or f"a tensor of shape {t.shape}"
            if not _equal(data, data2):
                return f"the values of {name}"
            if (grad is None) != (grad2 is None) or (grad is not None and not _equal(grad, grad2)):
                return f"the gradient of {name}"
        for (o, state), (_, state2) in zip(self.optimizers, other.optimizers):
            if _differ(state.get("state"), state2.get("state")) is not None:
                return f"the state of {type(o).__name__}"
        return None


def _equal(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


def _differ(a, b) -> str | None:
    """Where two results (Tensors, arrays, numbers, nested lists/dicts) first differ."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        a, b = getattr(a, "data", a), getattr(b, "data", b)
    if isinstance(a, (np.ndarray, np.generic)) or isinstance(b, (np.ndarray, np.generic)):
        return None if _equal(a, b) else "the returned values"
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return "the returned keys"
        return next((d for k in a if (d := _differ(a[k], b[k])) is not None), None)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        if len(a) != len(b):
            return "the number of returned values"
        return next((d for x, y in zip(a, b) if (d := _differ(x, y)) is not None), None)
    return None if a == b else "the returned values"

"""Learning-rate schedules: the learning rate η of eq. 2.20 changed as training goes on.

Each schedule holds an optimiser with a learning rate (``SGD``, ``Adam``, ``AdamW``) and sets
its ``lr`` whenever ``step()`` is called, exactly as ``torch.optim.lr_scheduler``: creating it
sets the step-0 rate, and each ``step()`` (after ``optimizer.step()``) moves to the next one.
In a hand-written loop call ``scheduler.step()`` once per epoch (or per batch, for one-cycle
and warm-up schedules); in :func:`deltagrad.fit` pass it to
:class:`deltagrad.callbacks.LearningRateScheduler`, which calls it for you.

Example:
    >>> import deltagrad as dg
    >>> opt = dg.optim.SGD([dg.nn.Parameter([1.0])], lr=0.1)
    >>> schedule = dg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    >>> rates = []
    >>> for epoch in range(5):
    ...     rates.append(opt.lr)    # train one epoch with this rate, then:
    ...     schedule.step()
    >>> rates
    [0.1, 0.1, 0.05, 0.05, 0.025]
"""

from __future__ import annotations

import abc
import math

from .. import _validate as check
from ..tensor import Tensor
from .optimizer import Optimizer


class LRScheduler(abc.ABC):
    """Sets ``optimizer.lr`` to :meth:`lr_at` (``last_epoch``) at creation and at each step.

    ``base_lr`` is the optimiser's learning rate when the schedule is created; ``last_epoch``
    counts the calls of ``step()`` (0 at creation), as PyTorch's.
    """

    def __init__(self, optimizer: Optimizer):
        owner = type(self).__name__
        if not isinstance(optimizer, Optimizer) or not hasattr(optimizer, "lr"):
            raise TypeError(f"{owner}: optimizer must be an optimiser with a learning rate "
                            f"(SGD, Adam, AdamW), got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = float(optimizer.lr)
        self.last_epoch = 0
        self._apply(self.lr_at(0))

    @abc.abstractmethod
    def lr_at(self, step: int) -> float:
        """The learning rate after ``step`` calls of ``step()``."""

    def step(self) -> None:
        """Move to the next learning rate (call after ``optimizer.step()``)."""
        self.last_epoch += 1
        self._apply(self.lr_at(self.last_epoch))

    def get_last_lr(self) -> list:
        """The learning rate set by the last step, in a list (PyTorch's one per group)."""
        return [self.optimizer.lr]

    def _apply(self, lr: float) -> None:
        self.optimizer.lr = float(lr)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self.optimizer.lr})"


class StepLR(LRScheduler):
    """η_t = η₀ · γ^⌊t / step_size⌋ (``torch.optim.lr_scheduler.StepLR``).

    Example:
        >>> import deltagrad as dg
        >>> opt = dg.optim.Adam([dg.nn.Parameter([1.0])], lr=1.0)
        >>> s = dg.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1); s.step()
        >>> round(opt.lr, 12)
        0.1
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        self.step_size = check.positive_int(step_size, "step_size", "StepLR")
        self.gamma = check.positive(gamma, "gamma", "StepLR")
        super().__init__(optimizer)

    def lr_at(self, step: int) -> float:
        return self.base_lr * self.gamma ** (step // self.step_size)


class ExponentialLR(LRScheduler):
    """η_t = η₀ · γ^t (``torch.optim.lr_scheduler.ExponentialLR``).

    Example:
        >>> import deltagrad as dg
        >>> opt = dg.optim.SGD([dg.nn.Parameter([1.0])], lr=1.0)
        >>> s = dg.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5); s.step(); s.step()
        >>> opt.lr
        0.25
    """

    def __init__(self, optimizer: Optimizer, gamma: float):
        self.gamma = check.positive(gamma, "gamma", "ExponentialLR")
        super().__init__(optimizer)

    def lr_at(self, step: int) -> float:
        return self.base_lr * self.gamma ** step


class CosineWarmupLR(LRScheduler):
    """A linear warm-up from ``start_factor``·η₀ to η₀ over ``warmup_steps`` steps, then a cosine
    from η₀ down to ``eta_min`` at ``total_steps``:

        η_t = η₀ (s + (1 − s) t / W)                                   for t < W
        η_t = η_min + (η₀ − η_min) (1 + cos(π (t − W) / (T − W))) / 2    for t ≥ W

    — PyTorch's ``SequentialLR([LinearLR(opt, s, total_iters=W), CosineAnnealingLR(opt,
    T_max=T − W, eta_min)], milestones=[W])``. Usually stepped once per batch, with T the
    number of batches of the whole run. Past T the cosine rises again, as PyTorch's.

    Example:
        >>> import deltagrad as dg
        >>> opt = dg.optim.SGD([dg.nn.Parameter([1.0])], lr=1.0)
        >>> s = dg.optim.lr_scheduler.CosineWarmupLR(opt, warmup_steps=2, total_steps=4,
        ...                                          start_factor=0.5)
        >>> rates = [opt.lr] + [s.step() or round(opt.lr, 12) for _ in range(4)]
        >>> rates
        [0.5, 0.75, 1.0, 0.5, 0.0]
    """

    def __init__(self, optimizer: Optimizer, warmup_steps: int, total_steps: int,
                 start_factor: float = 0.1, eta_min: float = 0.0):
        owner = "CosineWarmupLR"
        if not check._is_integer(warmup_steps) or warmup_steps < 0:
            raise check.InvalidArgument(owner, "warmup_steps", "must be an integer ≥ 0",
                                        warmup_steps)
        self.warmup_steps = int(warmup_steps)
        self.total_steps = check.positive_int(total_steps, "total_steps", owner)
        if self.total_steps <= self.warmup_steps:
            raise ValueError(f"{owner}: total_steps ({self.total_steps}) must exceed "
                             f"warmup_steps ({self.warmup_steps})")
        self.start_factor = check.real(start_factor, "start_factor", owner, low=0.0, high=1.0,
                                       low_inclusive=False, high_inclusive=True)
        self.eta_min = check.non_negative(eta_min, "eta_min", owner)
        super().__init__(optimizer)

    def lr_at(self, step: int) -> float:
        W, s = self.warmup_steps, self.start_factor
        if step < W:
            return self.base_lr * (s + (1 - s) * step / W)
        progress = (step - W) / (self.total_steps - W)
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * progress)) / 2


class OneCycleLR(LRScheduler):
    """The one-cycle policy (Smith; ``torch.optim.lr_scheduler.OneCycleLR``), stepped once per
    batch for ``total_steps`` batches: the rate rises from ``max_lr / div_factor`` to
    ``max_lr`` over the first ``pct_start`` of the steps, then falls to
    ``max_lr / (div_factor · final_div_factor)`` (cosine or linear); the momentum (SGD's μ, or
    Adam's β₁) moves the opposite way between ``max_momentum`` and ``base_momentum`` when
    ``cycle_momentum`` (PyTorch's default). ``three_phase`` climbs back down symmetrically
    first and then annihilates, as PyTorch's. The optimiser's own lr is replaced.

    Example:
        >>> import deltagrad as dg
        >>> opt = dg.optim.Adam([dg.nn.Parameter([1.0])])
        >>> s = dg.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
        >>> round(opt.lr, 12), opt.beta1       # max_lr / div_factor
        (0.04, 0.95)
    """

    def __init__(self, optimizer: Optimizer, max_lr: float, total_steps: int,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum: float = 0.85,
                 max_momentum: float = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False):
        owner = "OneCycleLR"
        self.max_lr = check.positive(max_lr, "max_lr", owner)
        self.total_steps = check.positive_int(total_steps, "total_steps", owner)
        self.pct_start = check.real(pct_start, "pct_start", owner, low=0.0, high=1.0,
                                    high_inclusive=True)
        self.anneal_strategy = check.choice(anneal_strategy, ("cos", "linear"),
                                            "anneal_strategy", owner)
        self.cycle_momentum = check.boolean(cycle_momentum, "cycle_momentum", owner)
        self.base_momentum = check.real(base_momentum, "base_momentum", owner, low=0.0,
                                        high=1.0)
        self.max_momentum = check.real(max_momentum, "max_momentum", owner, low=0.0, high=1.0)
        self.div_factor = check.positive(div_factor, "div_factor", owner)
        self.final_div_factor = check.positive(final_div_factor, "final_div_factor", owner)
        self.three_phase = check.boolean(three_phase, "three_phase", owner)
        self._momentum_name = self._momentum_attribute(optimizer, owner)
        initial = self.max_lr / self.div_factor
        low = initial / self.final_div_factor
        up, peak = float(self.pct_start * self.total_steps) - 1, self.max_momentum
        # (end step, start lr, end lr, start momentum, end momentum), as PyTorch's phases
        if self.three_phase:
            self.phases = [(up, initial, self.max_lr, peak, self.base_momentum),
                           (2 * up, self.max_lr, initial, self.base_momentum, peak),
                           (self.total_steps - 1, initial, low, peak, peak)]
        else:
            self.phases = [(up, initial, self.max_lr, peak, self.base_momentum),
                           (self.total_steps - 1, self.max_lr, low, self.base_momentum, peak)]
        super().__init__(optimizer)

    def _momentum_attribute(self, optimizer, owner: str) -> str | None:
        if not self.cycle_momentum:
            return None
        for name in ("beta1", "momentum"):
            if hasattr(optimizer, name):
                if name == "momentum" and not optimizer.momentum:
                    break
                return name
        raise ValueError(f"{owner}: cycle_momentum=True needs an optimiser with momentum "
                         f"(SGD(momentum>0), Adam, AdamW), got {optimizer!r}; pass "
                         "cycle_momentum=False")

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _at(self, step: int) -> tuple:
        """(lr, momentum) at ``step``."""
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {step} times, beyond total_steps = "
                             f"{self.total_steps}")
        start_step = 0.0
        for k, (end_step, lr0, lr1, m0, m1) in enumerate(self.phases):
            if step <= end_step or k == len(self.phases) - 1:
                pct = (step - start_step) / (end_step - start_step)
                return self._anneal(lr0, lr1, pct), self._anneal(m0, m1, pct)
            start_step = end_step
        raise AssertionError("unreachable: the last phase always answers")

    def lr_at(self, step: int) -> float:
        return self._at(step)[0]

    def _apply(self, lr: float) -> None:
        super()._apply(lr)
        if self._momentum_name is not None:
            setattr(self.optimizer, self._momentum_name, self._at(self.last_epoch)[1])


class ReduceLROnPlateau:
    """Multiply the learning rate by ``factor`` when the monitored value has not improved for
    more than ``patience`` steps (``torch.optim.lr_scheduler.ReduceLROnPlateau``): call
    ``step(value)`` once per epoch with, e.g., the validation error.

    An improvement is value < best·(1 − threshold) (``threshold_mode="rel"``) or
    value < best − threshold (``"abs"``), reversed for ``mode="max"``. After a reduction
    ``cooldown`` steps pass before bad steps count again; the rate never goes below
    ``min_lr``, and a change smaller than ``eps`` is not made.

    Example:
        >>> import deltagrad as dg
        >>> opt = dg.optim.SGD([dg.nn.Parameter([1.0])], lr=1.0)
        >>> s = dg.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
        >>> for error in [3.0, 2.0, 2.0, 2.0]:
        ...     s.step(error)
        >>> opt.lr
        0.5
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float = 0.0, eps: float = 1e-8):
        owner = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer) or not hasattr(optimizer, "lr"):
            raise TypeError(f"{owner}: optimizer must be an optimiser with a learning rate "
                            f"(SGD, Adam, AdamW), got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.mode = check.choice(mode, ("min", "max"), "mode", owner)
        self.factor = check.real(factor, "factor", owner, low=0.0, high=1.0,
                                 low_inclusive=False)
        self.patience = self._count(patience, "patience")
        self.threshold = check.non_negative(threshold, "threshold", owner)
        self.threshold_mode = check.choice(threshold_mode, ("rel", "abs"), "threshold_mode",
                                           owner)
        self.cooldown = self._count(cooldown, "cooldown")
        self.min_lr = check.non_negative(min_lr, "min_lr", owner)
        self.eps = check.non_negative(eps, "eps", owner)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0

    @staticmethod
    def _count(value, name: str) -> int:
        if not check._is_integer(value) or value < 0:
            raise check.InvalidArgument("ReduceLROnPlateau", name, "must be an integer ≥ 0",
                                        value)
        return int(value)

    def _better(self, value: float) -> bool:
        if self.mode == "min":
            bound = self.best * (1 - self.threshold) if self.threshold_mode == "rel" \
                else self.best - self.threshold
            return value < bound
        bound = self.best * (1 + self.threshold) if self.threshold_mode == "rel" \
            else self.best + self.threshold
        return value > bound

    def step(self, value) -> None:
        """Count one epoch whose monitored value is ``value`` (a finite number, or a 0-d
        Tensor such as the epoch's loss, as PyTorch accepts)."""
        if isinstance(value, Tensor) and value.ndim == 0:
            value = value.item()
        if not check._is_real(value):
            raise check.InvalidArgument("ReduceLROnPlateau.step", "value",
                                        "must be a finite number (the monitored error)", value)
        value = float(value)
        self.last_epoch += 1
        if self._better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            old = self.optimizer.lr
            new = max(old * self.factor, self.min_lr)
            if old - new > self.eps:
                self.optimizer.lr = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def get_last_lr(self) -> list:
        return [self.optimizer.lr]

    def __repr__(self) -> str:
        return (f"ReduceLROnPlateau(mode={self.mode!r}, factor={self.factor}, "
                f"patience={self.patience}, lr={self.optimizer.lr})")


SCHEDULES = (LRScheduler, ReduceLROnPlateau)

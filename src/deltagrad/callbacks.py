"""Callbacks for :func:`deltagrad.fit`: early stopping (§4.4.1), learning-rate schedules and the
progress bar.

A callback overrides any of ``on_train_begin``, ``on_epoch_begin``, ``on_batch_begin``,
``on_batch_end``, ``on_epoch_end`` and ``on_train_end``; each receives the :class:`Trainer`
(``.model``, ``.optimizer``, ``.history``, ``.stop``) and, at the end of an epoch, that epoch's
``logs`` (``error``, ``val_error``, ``penalty``, ``grad_norm``, ``lr``, ``time``).
"""

from __future__ import annotations

import sys

import numpy as np

from . import _validate as check
from .optim.lr_scheduler import SCHEDULES, ReduceLROnPlateau


class Callback:
    """Base class; every hook does nothing."""

    def on_train_begin(self, trainer) -> None:
        pass

    def on_epoch_begin(self, trainer, epoch: int) -> None:
        pass

    def on_batch_begin(self, trainer, epoch: int, batch: int) -> None:
        pass

    def on_batch_end(self, trainer, epoch: int, batch: int, error: float) -> None:
        pass

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        pass

    def on_train_end(self, trainer) -> None:
        pass


class EarlyStopping(Callback):
    """Stop when the monitored error has not improved for ``patience`` epochs (§4.4.1).

    After each epoch the validation error of the current weights is compared with the best so
    far; an improvement is a decrease by more than ``min_delta``. Training stops after
    ``patience`` epochs without one, and with ``restore_best=True`` the model is left with the
    weights of the epoch of lowest validation error — the "sweet spot" of §4.4.1.

    Args:
        monitor: a key of the epoch logs, ``"val_error"`` (default) or ``"error"``.
        patience: epochs without improvement before stopping (≥ 1).
        min_delta: the smallest decrease that counts as an improvement (≥ 0).
        restore_best: leave the best epoch's weights in the model at the end.
    """

    def __init__(self, monitor: str = "val_error", patience: int = 10, min_delta: float = 0.0,
                 restore_best: bool = True):
        if monitor not in ("val_error", "error"):
            raise ValueError(f"EarlyStopping: monitor must be 'val_error' or 'error', "
                             f"got {monitor!r}")
        if not isinstance(patience, (int, np.integer)) or isinstance(patience, bool) \
                or patience < 1:
            raise ValueError(f"EarlyStopping: patience must be an integer ≥ 1, got {patience!r}")
        if not np.isfinite(min_delta) or min_delta < 0:
            raise ValueError(f"EarlyStopping: min_delta must be ≥ 0, got {min_delta!r}")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.restore_best = bool(restore_best)

    def on_train_begin(self, trainer) -> None:
        if self.monitor == "val_error" and not trainer.has_validation:
            raise ValueError("EarlyStopping(monitor='val_error') needs validation data: pass "
                             "validation_split or validation_data to fit()")
        self.best = np.inf
        self.best_epoch = None
        self.best_state = None
        self.wait = 0
        self.stopped_epoch = None

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        value = logs[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_state = trainer.model.state_dict()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop = True

    def on_train_end(self, trainer) -> None:
        if self.restore_best and self.best_state is not None:
            trainer.model.load_state_dict(self.best_state)
            trainer.history.restored_epoch = self.best_epoch
        trainer.history.stopped_epoch = self.stopped_epoch


class LearningRateScheduler(Callback):
    """Change the optimiser's learning rate as ``fit`` trains, in one of two ways:

    - ``schedule`` a function: ``lr = schedule(epoch, lr)`` at the start of every epoch
      (epochs count from 1), as Keras' callback;
    - ``schedule`` a schedule of :mod:`deltagrad.optim.lr_scheduler` built on the optimiser
      passed to ``fit``: stepped after every epoch (``interval="epoch"``) or every batch
      (``"batch"``, for one-cycle and warm-up), as in a hand-written PyTorch loop;
      ``ReduceLROnPlateau`` steps once per epoch with the epoch's ``logs[monitor]``.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> net = dg.nn.MLP("1-4-1", rng=0)
        >>> opt = dg.optim.SGD(net.parameters(), lr=0.1)
        >>> decay = dg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        >>> X = np.linspace(-1, 1, 8)[:, None]
        >>> h = dg.fit(net, X, X ** 2, optimizer=opt, epochs=4, progress=False,
        ...            callbacks=[LearningRateScheduler(decay)])
        >>> h.lr
        [0.1, 0.1, 0.05, 0.05]
    """

    def __init__(self, schedule, interval: str = "epoch", monitor: str = "val_error"):
        owner = "LearningRateScheduler"
        if not callable(schedule) and not isinstance(schedule, SCHEDULES):
            raise TypeError(f"{owner}: schedule must be callable(epoch, lr) -> lr or a "
                            "schedule of deltagrad.optim.lr_scheduler, got "
                            f"{type(schedule).__name__}")
        self.schedule = schedule
        self.interval = check.choice(interval, ("epoch", "batch"), "interval", owner)
        self.monitor = check.choice(monitor, ("val_error", "error"), "monitor", owner)
        self.plateau = isinstance(schedule, ReduceLROnPlateau)
        self.stepped = isinstance(schedule, SCHEDULES)
        if self.plateau and self.interval == "batch":
            raise ValueError(f"{owner}: ReduceLROnPlateau watches an epoch's error; use "
                             "interval='epoch'")
        if not self.stepped and self.interval == "batch":
            raise ValueError(f"{owner}: a schedule function is called once per epoch; for "
                             "per-batch rates pass a schedule of deltagrad.optim.lr_scheduler")

    def on_train_begin(self, trainer) -> None:
        if not hasattr(trainer.optimizer, "lr"):
            raise ValueError("LearningRateScheduler needs a gradient-descent optimiser with a "
                             f"learning rate, not {trainer.optimizer!r}")
        if self.stepped and self.schedule.optimizer is not trainer.optimizer:
            raise ValueError("LearningRateScheduler: the schedule was built on another "
                             "optimiser than fit's; pass that optimiser instance to fit("
                             "optimizer=...)")
        if self.plateau and self.monitor == "val_error" and not trainer.has_validation:
            raise ValueError("LearningRateScheduler(ReduceLROnPlateau, monitor='val_error') "
                             "needs validation data: pass validation_split or validation_data "
                             "to fit(), or monitor='error'")

    def on_batch_end(self, trainer, epoch: int, batch: int, error: float) -> None:
        if self.interval == "batch":
            self.schedule.step()

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        if self.plateau:
            self.schedule.step(logs[self.monitor])
        elif self.stepped and self.interval == "epoch":
            self.schedule.step()

    def on_epoch_begin(self, trainer, epoch: int) -> None:
        if self.stepped:
            return
        lr = float(self.schedule(epoch, trainer.optimizer.lr))
        if not np.isfinite(lr) or lr <= 0:
            raise ValueError(f"LearningRateScheduler: the schedule gave lr = {lr!r} at epoch "
                             f"{epoch}; it must be a positive number")
        trainer.optimizer.lr = lr


class ProgressBar(Callback):
    """A tqdm bar over the epochs showing the training and validation error."""

    def __init__(self, stream=None):
        self.stream = stream

    def on_train_begin(self, trainer) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=trainer.epochs, unit="epoch", file=self.stream or sys.stderr,
                        leave=True, dynamic_ncols=True)

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        shown = {"error": f"{logs['error']:.4g}"}
        if logs.get("val_error") is not None and np.isfinite(logs["val_error"]):
            shown["val_error"] = f"{logs['val_error']:.4g}"
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)

    def on_train_end(self, trainer) -> None:
        self.bar.close()


class ModelCheckpoint(Callback):
    """Save the model (``deltagrad.save``, atomic) whenever the monitored error improves, or
    after every epoch with ``save_best_only=False``."""

    def __init__(self, path, monitor: str = "val_error", save_best_only: bool = True):
        if monitor not in ("val_error", "error"):
            raise ValueError(f"ModelCheckpoint: monitor must be 'val_error' or 'error', "
                             f"got {monitor!r}")
        self.path, self.monitor, self.save_best_only = path, monitor, bool(save_best_only)

    def on_train_begin(self, trainer) -> None:
        if self.monitor == "val_error" and not trainer.has_validation:
            raise ValueError("ModelCheckpoint(monitor='val_error') needs validation data")
        self.best = np.inf
        self.saved_epoch = None

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        from .io import save

        value = logs[self.monitor]
        if not self.save_best_only or value < self.best:
            self.best = min(self.best, value)
            save(trainer.model, self.path, extra={"epoch": epoch, self.monitor: value})
            self.saved_epoch = epoch

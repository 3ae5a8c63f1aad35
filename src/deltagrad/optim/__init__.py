"""Optimisers: SGD (batch eq. 2.20, on-line eq. 2.22, momentum, weight decay), Adam and AdamW;
learning-rate schedules (``lr_scheduler``); batch methods on
scipy.optimize (CG, BFGS, L-BFGS-B, Newton-CG, trust-ncg) and scaled conjugate gradients."""

from . import lr_scheduler
from .minimize import METHODS, FlatObjective, method_name, minimize
from .optimizer import SGD, Adam, AdamW, Optimizer, adam_update, adamw_update, sgd_update
from .scg import scg

__all__ = ["METHODS", "SGD", "Adam", "AdamW", "FlatObjective", "Optimizer", "adam_update",
           "adamw_update", "lr_scheduler", "method_name", "minimize", "scg", "sgd_update"]

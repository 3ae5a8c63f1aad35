"""Optimisers: SGD (batch eq. 2.20, on-line eq. 2.22, momentum) and Adam; batch methods on
scipy.optimize (CG, BFGS, L-BFGS-B, Newton-CG, trust-ncg) and scaled conjugate gradients."""

from .minimize import METHODS, FlatObjective, method_name, minimize
from .optimizer import SGD, Adam, Optimizer, adam_update, sgd_update
from .scg import scg

__all__ = ["METHODS", "SGD", "Adam", "FlatObjective", "Optimizer", "adam_update", "method_name",
           "minimize", "scg", "sgd_update"]

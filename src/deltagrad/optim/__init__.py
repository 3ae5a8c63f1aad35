"""Optimisers: SGD (batch eq. 2.20, on-line eq. 2.22, momentum) and Adam."""

from .optimizer import SGD, Adam, Optimizer, adam_update, sgd_update

__all__ = ["SGD", "Adam", "Optimizer", "adam_update", "sgd_update"]

"""Primitive operations: each forward computation next to its vector-Jacobian products.

``REGISTRY`` maps every primitive's name to its :class:`~deltagrad.ops.base.Primitive`; the
tests are driven from it, so a new primitive without a gradient check fails the suite.
"""

from .base import REGISTRY, Primitive, apply
from .elementwise import add, astype, div, exp, log, mul, neg, pow, relu, sigmoid, step, sub, \
    tanh, where
from .linalg import linear, matmul
from .loss import sigmoid_binary_cross_entropy, softmax_cross_entropy, sum_of_squares_error
from .recurrent import gru_sequence, lstm_sequence, rnn_sequence
from .reduce import keep_reduced_axes, log_softmax, logsumexp, max, mean, softmax, sum
from .shape import broadcast_to, concatenate, getitem, index_put, reshape, stack, transpose

__all__ = [
    "REGISTRY", "Primitive", "apply", "add", "astype", "broadcast_to", "concatenate", "div",
    "exp", "getitem", "gru_sequence", "index_put", "keep_reduced_axes", "linear", "log",
    "log_softmax", "logsumexp", "lstm_sequence", "matmul", "max", "mean", "mul", "neg", "pow",
    "relu", "reshape", "rnn_sequence", "sigmoid", "sigmoid_binary_cross_entropy", "softmax",
    "softmax_cross_entropy", "stack", "step", "sub", "sum", "sum_of_squares_error", "tanh",
    "transpose", "where",
]

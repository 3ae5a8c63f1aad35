"""Primitive operations: each forward computation next to its vector-Jacobian products.

``REGISTRY`` maps every primitive's name to its :class:`~deltagrad.ops.base.Primitive`; the
tests are driven from it, so a new primitive without a gradient check fails the suite.
"""

from .base import REGISTRY, Primitive, apply
from .attention import scaled_dot_product_attention
from .activation import elu, gelu, leaky_relu, silu, softplus
from .conv import avg_pool2d, conv2d, max_pool2d
from .conv1d import avg_pool1d, conv1d, max_pool1d
from .elementwise import abs, add, astype, clip, cos, div, erf, exp, log, maximum, minimum, \
    mul, neg, pow, relu, sigmoid, sign, sin, sqrt, step, sub, tanh, where
from .linalg import dense, dense_stack, einsum, linear, matmul
from .norm import batch_norm
from .loss import (sigmoid_binary_cross_entropy, softmax_cross_entropy,
                   softmax_cross_entropy_labels, sum_of_squares_error)
from .recurrent import gru_sequence, lstm_sequence, rnn_sequence
from .reduce import argmax, argmin, cumsum, keep_reduced_axes, log_softmax, logsumexp, max, \
    mean, prod, softmax, std, sum, var
from .shape import broadcast_to, concatenate, getitem, index_put, pad, repeat, reshape, split, \
    stack, tile, transpose, tril, triu

__all__ = [
    "REGISTRY", "Primitive", "apply", "add", "astype", "broadcast_to", "concatenate", "dense",
    "dense_stack",
    "div",
    "exp", "getitem", "index_put", "keep_reduced_axes", "linear", "log", "log_softmax",
    "logsumexp", "matmul", "max", "mean", "mul", "neg", "pow", "relu", "reshape", "sigmoid",
    "sigmoid_binary_cross_entropy", "softmax", "softmax_cross_entropy",
    "softmax_cross_entropy_labels", "stack", "step", "sub",
    "sum", "sum_of_squares_error", "tanh", "transpose", "where",
    "abs", "argmax", "argmin", "clip", "cos", "cumsum", "einsum", "elu", "erf", "gelu",
    "leaky_relu", "maximum", "minimum", "pad", "prod", "repeat", "sign", "silu", "sin",
    "softplus", "split", "sqrt", "std", "tile", "tril", "triu", "var", "avg_pool2d", "conv2d",
    "max_pool2d", "gru_sequence", "lstm_sequence", "rnn_sequence",
    "scaled_dot_product_attention", "avg_pool1d", "batch_norm", "conv1d", "max_pool1d",
]

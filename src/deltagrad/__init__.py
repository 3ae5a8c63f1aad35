"""deltagrad: neural networks from first principles on NumPy, with our own backpropagation.

The public names: ``tensor``, ``Tensor``, ``no_grad``, ``manual_seed``, ``grad``, ``gradcheck``
and the elementwise/reduction functions; the subpackages ``nn``, ``losses``, ``optim``, ``ops``.
"""

from . import callbacks, explain, logic, losses, nn, ops, optim, regularizers
from ._state import enable_grad, is_grad_enabled, manual_seed, no_grad
from .autograd import grad
from .gradcheck import GradcheckError, gradcheck
from .ops import (concatenate, exp, linear, log, log_softmax, logsumexp, matmul, max, mean,
                  reshape, softmax, stack, sum, transpose, where)
from .nn.activation import relu, sigmoid, step, tanh
from .ops import (abs, argmax, argmin, clip, cos, cumsum, einsum, maximum, minimum, pad, prod,
                  repeat, sign, sin, split, sqrt, std, tile, tril, triu, var)
from .nn.activation import elu, gelu, leaky_relu, silu, softplus
from .tensor import Tensor, tensor
from .train import DivergenceError, History, evaluate, fit, predict
from .io import load, save

__version__ = "0.1.0"

__all__ = [
    "DivergenceError", "GradcheckError", "History", "Tensor", "callbacks", "evaluate",
    "explain", "fit", "load", "save",
    "predict", "regularizers", "concatenate", "enable_grad", "exp", "grad", "gradcheck",
    "is_grad_enabled", "linear", "log", "logic", "log_softmax", "logsumexp", "losses",
    "manual_seed",
    "matmul", "max", "mean", "nn", "no_grad", "ops", "optim", "relu", "reshape", "sigmoid",
    "softmax", "stack", "step", "sum", "tanh", "tensor", "transpose", "where",
    "abs", "argmax", "argmin", "clip", "cos", "cumsum", "einsum", "elu", "gelu", "leaky_relu",
    "maximum", "minimum", "pad", "prod", "repeat", "sign", "silu", "sin", "softplus", "split",
    "sqrt", "std", "tile", "tril", "triu", "var",
]

"""deltagrad: neural networks from first principles on NumPy, with our own backpropagation.

The public API, following the lecture notes:

Tensors and autodiff (chapter 3)
    ``tensor``, ``Tensor``, ``grad`` (``torch.autograd.grad`` semantics, ``create_graph`` for
    second derivatives; ``NotTwiceDifferentiableError`` where a fused primitive's VJP is
    raw NumPy), ``no_grad``/``enable_grad``/``is_grad_enabled``, ``manual_seed``,
    ``gradcheck``; ``compile`` (a training step traced once and replayed as straight-line
    NumPy, equal to eager to the bit; ``CompiledStep.source()`` prints it); the functions
    ``exp``, ``log``, ``sqrt``, ``abs``, ``sign``, ``sin``, ``cos``,
    ``maximum``, ``minimum``, ``clip``, ``matmul``, ``einsum``, ``linear``, ``sum``, ``mean``,
    ``prod``, ``var``, ``std``, ``cumsum``, ``max``, ``argmax``, ``argmin``, ``logsumexp``,
    ``softmax``, ``log_softmax``, ``reshape``, ``transpose``, ``concatenate``, ``stack``,
    ``split``, ``pad``, ``repeat``, ``tile``, ``tril``, ``triu``, ``where`` and the activations
    ``sigmoid``, ``tanh``, ``relu``, ``step``, ``softplus``, ``leaky_relu``, ``elu``, ``gelu``,
    ``silu``; for images ``conv2d``, ``max_pool2d``, ``avg_pool2d`` (chapter 7), for signals
    ``conv1d``, ``max_pool1d``, ``avg_pool1d``; ``ops.batch_norm``.
    ``ops`` holds every primitive with its VJP (``ops.REGISTRY``).
Layers and networks (chapter 1)
    ``nn``: ``Module``, ``Parameter``, ``Linear``, the activation modules, ``Sequential``,
    ``MLP("2-3-2-1")``, ``FeedForward`` (any acyclic graph), ``Conv2d``, ``MaxPool2d``,
    ``AvgPool2d``, ``Flatten``, ``Dropout`` (chapter 7), ``Conv1d``, ``MaxPool1d``,
    ``AvgPool1d``, ``BatchNorm1d``, ``BatchNorm2d``; ``RNN``, ``LSTM``, ``GRU`` (stacked,
    ``bidirectional``, ``dropout`` between layers; chapters 8–10); ``Embedding``
    (``padding_idx``), ``MultiHeadAttention``, ``TransformerEncoderLayer``,
    ``TransformerDecoderLayer``, ``TransformerLM``, ``TransformerSeq2Seq`` (chapter 11);
    ``nn.utils.summary(model, input_shape)`` (each layer's output shape and parameter count);
    ``nn.registry.savable`` makes a new layer savable.
Error functions and training (chapters 2, 4)
    ``losses`` (sum of squares, binary and softmax cross-entropy, fused with their canonical
    outputs), ``optim`` (SGD, Adam, AdamW, with ``weight_decay``; ``optim.lr_scheduler``:
    StepLR, ExponentialLR, CosineWarmupLR, OneCycleLR, ReduceLROnPlateau; ``minimize`` on
    scipy, SCG), ``regularizers`` (weight
    decay, the consistent Gaussian prior, L1), ``callbacks`` (early stopping, schedules,
    checkpoints); ``fit``, ``evaluate``, ``predict``, ``accuracy``, ``History``,
    ``DivergenceError``; ``save``/``load`` (safetensors, no pickle); PyTorch weights:
    ``io.load_torch_state_dict(model, path)``, ``io.save_torch_state_dict(model, path)``.
Tools, imported on first use
    ``analysis`` (the Hessian, the local quadratic picture, symmetries, the evidence),
    ``explain`` (worked solutions: every a, z, δ), ``logic`` (perceptron logic and the
    compiler, chapters 5–6), ``data`` (scikit-learn's bundled data sets, split and
    standardised; ``Batches`` and ``pad_sequences`` for hand-written loops), ``select``
    (model-selection sweeps), ``sklearn`` (scikit-learn estimators), ``plot`` (figures),
    ``exercises`` (fresh practice questions with their worked solutions, and marking),
    ``tour`` (the main job).

Example:
    >>> import deltagrad as dg
    >>> net = dg.nn.MLP("2-3-1", rng=0)
    >>> E = dg.losses.sum_of_squares(net([[0.5, -1.0]]), [[0.3]])
    >>> E.backward(); net.linear1.weight.grad.shape
    (3, 2)
"""

from . import callbacks, explain, logic, losses, nn, ops, optim, regularizers
from ._state import enable_grad, is_grad_enabled, manual_seed, no_grad
from .autograd import NotTwiceDifferentiableError, grad
from .compile import CompiledStep, CompileWarning, ReplayMismatch, compile
from .gradcheck import GradcheckError, gradcheck
from .io import load, save
from .nn.activation import elu, gelu, leaky_relu, relu, sigmoid, silu, softplus, step, tanh
from .ops import (abs, argmax, argmin, avg_pool1d, avg_pool2d, clip, concatenate, conv1d, conv2d,
                  cos, cumsum, einsum, exp, linear, log, log_softmax, logsumexp, matmul, max,
                  max_pool1d, max_pool2d, maximum, mean, minimum, pad, prod, repeat, reshape,
                  sign, sin, softmax, split, sqrt, stack, std, sum, tile, transpose, tril, triu,
                  var, where)
from .tensor import Tensor, tensor
from .train import DivergenceError, History, accuracy, evaluate, fit, predict

__version__ = "0.1.0"

# subpackages loaded on first use: they pull in scipy.optimize, matplotlib or scikit-learn
LAZY_SUBPACKAGES = ("analysis", "cli", "data", "exercises", "plot", "select", "sklearn", "tour")

__all__ = [
    "CompileWarning", "CompiledStep", "DivergenceError", "GradcheckError", "History",
    "NotTwiceDifferentiableError", "ReplayMismatch", "Tensor", "accuracy", "avg_pool2d",
    "compile",
    "callbacks", "concatenate", "conv2d", "enable_grad", "evaluate", "exp", "explain", "fit",
    "grad", "gradcheck", "is_grad_enabled", "linear", "load", "log", "log_softmax", "logic",
    "logsumexp", "losses", "manual_seed", "matmul", "max", "max_pool2d", "mean", "nn",
    "no_grad", "ops", "optim", "predict",
    "regularizers", "relu", "reshape", "save", "sigmoid", "softmax", "stack", "step", "sum",
    "tanh", "tensor", "transpose", "where",
    "abs", "argmax", "argmin", "clip", "cos", "cumsum", "einsum", "elu", "gelu", "leaky_relu",
    "maximum", "minimum", "pad", "prod", "repeat", "sign", "silu", "sin", "softplus", "split",
    "sqrt", "std", "tile", "tril", "triu", "var", "avg_pool1d", "conv1d", "max_pool1d",
]


def __getattr__(name: str):
    if name in LAZY_SUBPACKAGES:
        import importlib

        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'deltagrad' has no attribute {name!r}")


def __dir__() -> list:
    return sorted(set(globals()) | set(LAZY_SUBPACKAGES))

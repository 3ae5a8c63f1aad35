"""Layers and networks: Module, Parameter, Linear, activations, Sequential, MLP, FeedForward."""

from . import utils
from .activation import ACTIVATIONS, Identity, ReLU, Sigmoid, Softmax, Step, Tanh, activation
from .activation import identity, relu, sigmoid, softmax, step, tanh
from .activation import ELU, GELU, LeakyReLU, SiLU, Softplus, elu, gelu, leaky_relu, silu, \
    softplus
from .container import MLP, Sequential, parse_sizes
from .feedforward import FeedForward
from .linear import Linear
from .module import Module, Parameter

__all__ = [
    "ACTIVATIONS", "FeedForward", "Identity", "Linear", "MLP", "Module", "Parameter", "ReLU",
    "Sequential", "Sigmoid", "Softmax", "Step", "Tanh", "activation", "identity", "parse_sizes",
    "relu", "sigmoid", "softmax", "step", "tanh", "utils",
    "ELU", "GELU", "LeakyReLU", "SiLU", "Softplus", "elu", "gelu", "leaky_relu", "silu",
    "softplus",
]

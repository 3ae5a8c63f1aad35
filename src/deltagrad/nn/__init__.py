"""Layers and networks: Module, Parameter, Linear, activations, Sequential, MLP."""

from . import utils
from .activation import ACTIVATIONS, Identity, ReLU, Sigmoid, Softmax, Step, Tanh, activation
from .activation import identity, relu, sigmoid, softmax, step, tanh
from .container import MLP, Sequential, parse_sizes
from .linear import Linear
from .module import Module, Parameter

__all__ = [
    "ACTIVATIONS", "Identity", "Linear", "MLP", "Module", "Parameter", "ReLU", "Sequential",
    "Sigmoid", "Softmax", "Step", "Tanh", "activation", "identity", "parse_sizes", "relu",
    "sigmoid", "softmax", "step", "tanh", "utils",
]

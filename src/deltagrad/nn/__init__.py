"""Layers and networks: Module, Parameter, Linear, activations, Sequential, MLP, FeedForward,
the recurrent layers RNN, LSTM, GRU and RecurrentNetwork."""

from . import utils
from .activation import ACTIVATIONS, Identity, ReLU, Sigmoid, Softmax, Step, Tanh, activation
from .activation import identity, relu, sigmoid, softmax, step, tanh
from .container import MLP, Sequential, parse_sizes
from .feedforward import FeedForward
from .linear import Linear
from .module import Module, Parameter
from .recurrent import GRU, LSTM, RNN, RecurrentNetwork

__all__ = [
    "ACTIVATIONS", "FeedForward", "GRU", "Identity", "LSTM", "Linear", "MLP", "Module",
    "Parameter", "RNN", "ReLU", "RecurrentNetwork", "Sequential", "Sigmoid", "Softmax", "Step",
    "Tanh", "activation", "identity", "parse_sizes", "relu", "sigmoid", "softmax", "step", "tanh",
    "utils",
]

"""Layers and networks: Module, Parameter, Linear, activations, Sequential, MLP, FeedForward,
the convolutional layers Conv1d, Conv2d, MaxPool1d/2d, AvgPool1d/2d, Flatten, Dropout,
BatchNorm1d and BatchNorm2d, the recurrent layers
RNN, LSTM, GRU and RecurrentNetwork, and the attention layers MultiHeadAttention, LayerNorm,
Embedding, positional encodings, TransformerEncoderLayer, TransformerLM, TransformerDecoderLayer
and the encoder–decoder TransformerSeq2Seq (``nn.functional``
holds attention as functions)."""

from . import functional, utils
from .activation import ACTIVATIONS, Identity, ReLU, Sigmoid, Softmax, Step, Tanh, activation
from .activation import identity, relu, sigmoid, softmax, step, tanh
from .activation import ELU, GELU, LeakyReLU, SiLU, Softplus, elu, gelu, leaky_relu, silu, \
    softplus
from .attention import MultiHeadAttention
from .container import MLP, Sequential, parse_sizes
from .conv import AvgPool2d, Conv2d, Dropout, Flatten, MaxPool2d
from .conv1d import AvgPool1d, Conv1d, MaxPool1d
from .embedding import (Embedding, LayerNorm, LearnedPositionalEncoding,
                        SinusoidalPositionalEncoding)
from .feedforward import FeedForward
from .linear import Linear
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d
from .recurrent import GRU, LSTM, RNN, RecurrentNetwork
from .seq2seq import TransformerDecoderLayer, TransformerSeq2Seq
from .transformer import TransformerEncoderLayer, TransformerLM

__all__ = [
    "ACTIVATIONS", "AvgPool2d", "Conv2d", "Dropout", "FeedForward", "Flatten", "GRU",
    "Identity", "LSTM", "Linear", "MLP", "MaxPool2d", "Module", "Parameter", "RNN", "ReLU",
    "RecurrentNetwork", "Sequential", "Sigmoid", "Softmax", "Step", "Tanh", "activation",
    "identity", "parse_sizes", "relu", "sigmoid", "softmax", "step", "tanh", "utils",
    "ELU", "GELU", "LeakyReLU", "SiLU", "Softplus", "elu", "gelu", "leaky_relu", "silu",
    "softplus", "Embedding", "LayerNorm", "LearnedPositionalEncoding", "MultiHeadAttention",
    "SinusoidalPositionalEncoding", "TransformerEncoderLayer", "TransformerLM", "functional",
    "AvgPool1d", "BatchNorm1d", "BatchNorm2d", "Conv1d", "MaxPool1d",
    "TransformerDecoderLayer", "TransformerSeq2Seq",
]

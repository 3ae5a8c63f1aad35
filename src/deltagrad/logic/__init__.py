"""Perceptron logic (chapters 5–6): Heaviside neurons, the gates, n-input gates, a compiler from
any boolean expression or truth table to a network, linear separability, and learning.

Example:
    >>> import deltagrad as dg
    >>> xor = dg.logic.compile("(x1 or x2) and not (x1 and x2)")
    >>> xor.truth_table()[:, -1].tolist()
    [0, 1, 1, 0]
"""

from .compiler import STRATEGIES, all_functions, as_truth_table, compile, from_truth_table, \
    minimal_cover, prime_implicants
from .gates import GATE_NAMES, gate, gate_weights, xor_network
from .learning import PerceptronResult, perceptron_learning, to_step_network, train_smooth
from .network import MAX_EXHAUSTIVE, LogicNetwork, Verification, truth_table_inputs, verify
from .parser import ExpressionError, evaluate, parse, variables
from .separability import Separability, is_linearly_separable

__all__ = [
    "GATE_NAMES", "MAX_EXHAUSTIVE", "STRATEGIES", "ExpressionError", "LogicNetwork",
    "PerceptronResult", "Separability", "Verification", "all_functions", "as_truth_table",
    "compile", "evaluate", "from_truth_table", "gate", "gate_weights", "is_linearly_separable",
    "minimal_cover", "parse", "perceptron_learning", "prime_implicants", "to_step_network",
    "train_smooth", "truth_table_inputs", "variables", "verify", "xor_network",
]

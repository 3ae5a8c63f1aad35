"""Worked solutions (§2.1.3, §3.1–3.4, §5.3): every a, z, δ, gradient and update, shown the way
the notes show them (and one convolutional unit, eq. 7.3), as text, Markdown, LaTeX or JSON —
with the engine's own numbers; one attention head (eq. 11.1–11.3) and its backward pass."""

from .attention import attention_head
from .backprop import SUPPORTED, backprop, layers_of
from .conv import conv_unit
from .logic import logic
from .questions import SPECS, hidden_unit, network, question
from .rules import hidden_delta
from .solution import Line, Section, Solution
from .spec import build, load_spec

__all__ = ["SPECS", "attention_head",
           "SUPPORTED", "Line", "Section", "Solution", "backprop", "build", "conv_unit",
           "hidden_delta", "hidden_unit", "layers_of", "load_spec", "logic", "network", "question"]

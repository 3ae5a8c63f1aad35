"""Worked solutions (§2.1.3, §3.1–3.4, §5.3, §9.3): every a, z, δ, gradient and update, shown
the way the notes show them (and one convolutional unit, eq. 7.3), as text, Markdown, LaTeX or
JSON — with the engine's own numbers; ``bptt`` does backpropagation through time for an RNN,
``attention_head`` one attention head (eq. 11.1–11.3) and its backward pass;
``backprop_program`` the whole backward pass as straight-line NumPy source. ``solve`` works
out any of them from a JSON spec (``KINDS``: mlp, rnn, conv_unit, attention_head;
``docs/explain-spec.md``), as ``deltagrad explain SPEC.json`` does."""

from .attention import attention_head
from .backprop import SUPPORTED, backprop, layers_of
from .bptt import bptt
from .conv import conv_unit
from .logic import logic
from .program import backprop_program
from .questions import SPECS, hidden_unit, network, question
from .rules import hidden_delta
from .solution import Line, Section, Solution
from .spec import KINDS, build, build_recurrent, is_recurrent, load_spec, solve

__all__ = ["KINDS", "SPECS", "SUPPORTED", "Line", "Section", "Solution", "attention_head",
           "backprop", "backprop_program", "bptt", "build", "build_recurrent", "conv_unit",
           "hidden_delta", "hidden_unit", "is_recurrent", "layers_of", "load_spec", "logic",
           "network", "question", "solve"]

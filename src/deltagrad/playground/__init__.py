"""The playground: a local web page where one builds a small network, steps through its forward
and backward passes unit by unit (every a, z and δ from the tracer, ``explain.backprop``) and
trains it live. Start it with ``deltagrad playground`` and open the address it prints.
"""

from .config import DEFAULTS, PRESETS, parse_config
from .datasets import generate, parse_points
from .experiment import Experiment
from .server import Playground, address, make_server

__all__ = ["DEFAULTS", "PRESETS", "Experiment", "Playground", "address", "generate",
           "make_server", "parse_config", "parse_points"]

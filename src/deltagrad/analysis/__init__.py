"""Tools that read trained networks: for now the linear rescaling transforms of §4.2."""

from .rescaling import rescale_inputs, rescale_outputs

__all__ = ["rescale_inputs", "rescale_outputs"]

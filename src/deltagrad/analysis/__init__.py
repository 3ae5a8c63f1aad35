"""Tools that read networks (chapters 1, 2, 4): the Hessian and the local quadratic picture
(and the error surface over two weights beside it),
the ravine, the evidence procedure, weight-space symmetries, the rescaling transforms and
universal approximation; the invariance experiment of §4.5 and chapter 7
(``invariance.run``); the state Jacobians of recurrent layers (chapters 9–10); training
transformers on token sequences (``sequences``, chapter 11)."""

from . import invariance, sequences
from .evidence import Evidence, evidence, fit_evidence
from .hessian import (MAX_FULL_HESSIAN, Hessian, MinimumCheck, QuadraticApproximation,
                      Spectrum, error_at, hessian, hessian_condition, hvp, is_local_minimum,
                      outer_product_hessian, parameter_names, quadratic_approximation, spectrum)
from .ravine import Ravine, ravine, ravine_matrix
from .surface import Surface, error_surface
from .recurrent import StateJacobians, state_jacobians
from .rescaling import rescale_inputs, rescale_outputs
from .symmetry import (are_equivalent, canonical_form, equivalent_networks, interchange,
                       sign_flip)
from .universal import bump_network, sup_error, trained_network

__all__ = [
    "MAX_FULL_HESSIAN", "Evidence", "Hessian", "MinimumCheck", "QuadraticApproximation",
    "invariance", "sequences",
    "Ravine", "Spectrum", "StateJacobians", "Surface", "are_equivalent", "bump_network",
    "canonical_form",
    "equivalent_networks", "error_at", "error_surface", "evidence", "fit_evidence", "hessian",
    "hessian_condition", "hvp", "interchange", "is_local_minimum", "outer_product_hessian",
    "parameter_names", "quadratic_approximation", "ravine", "ravine_matrix", "rescale_inputs",
    "rescale_outputs", "sign_flip", "spectrum", "state_jacobians", "sup_error",
    "trained_network",
]

"""The main job: ``deltagrad tour`` runs one section per chapter group on real data and writes
an HTML page (and a README.md) with text, tables and figures.

A section is one library function in the module it shows, ``tour_section(report)``; ``SECTIONS``
registers them in reading order (a fixed list: nothing is imported by a name from outside).
"""

from __future__ import annotations

import importlib
import time

from .report import Report, Section

SECTIONS = [
    ("deltagrad.explain", "Worked examples: forward pass, backpropagation, practice questions"),
    ("deltagrad.training_tour", "Training, regularisation and early stopping"),
    ("deltagrad.analysis", "The error surface, symmetries and universal approximation"),
    ("deltagrad.logic", "Logic with perceptrons"),
]

TITLE = "deltagrad: a tour of the lecture notes on real data"
INTRO = ("Every number on this page was computed just now by deltagrad — its own "
         "backpropagation on NumPy — running the lecture notes' examples and methods on "
         "scikit-learn's bundled data sets (digits, diabetes, breast cancer, wine).")


def run(out: str, quick: bool = False, progress: bool = True) -> Report:
    """Run every registered section into ``out``; returns the report."""
    import matplotlib

    matplotlib.use("Agg")
    from tqdm.auto import tqdm

    report = Report(out, quick=quick)
    start = time.perf_counter()
    bar = tqdm(SECTIONS, desc="tour", unit="section", disable=not progress)
    for module_name, description in bar:
        bar.set_postfix_str(description[:40])
        importlib.import_module(module_name).tour_section(report)
    report.write(TITLE, INTRO, time.perf_counter() - start)
    return report


__all__ = ["SECTIONS", "Report", "Section", "run"]

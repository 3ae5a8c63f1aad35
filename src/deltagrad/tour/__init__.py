"""The main job: ``deltagrad tour`` runs one section per chapter group on real data and writes
an HTML page (and a README.md) with text, tables and figures.

Each chapter group is one module here with ``section(report)``, written against deltagrad's
public API and :mod:`deltagrad.data` only; :data:`SECTIONS` lists them in reading order.
A new chapter is one new module and one line below.
"""

from __future__ import annotations

import time

from . import (attention, convolution, error_surface, exercises, logic, recurrent, training,
               worked_examples)
from .report import Report, Section

SECTIONS = [worked_examples.section, training.section, error_surface.section, logic.section,
            convolution.section, recurrent.section, attention.section, exercises.section]

TITLE = "deltagrad: a tour of the lecture notes on real data"


def name_of(section) -> str:
    """The name ``--only`` takes: the section's module name (``"training"``)."""
    return section.__module__.rsplit(".", 1)[-1]


def describe(section) -> str:
    """The first paragraph of the section's module docstring, on one line."""
    import sys

    doc = sys.modules[section.__module__].__doc__ or ""
    return " ".join(doc.strip().split("\n\n")[0].split())


def select(only=None) -> list:
    """The sections named in ``only`` (in reading order), or all of them."""
    if not only:
        return list(SECTIONS)
    names = [name_of(s) for s in SECTIONS]
    unknown = [n for n in only if n not in names]
    if unknown:
        raise ValueError(f"tour: unknown section {unknown[0]!r}; expected one of {names}")
    return [s for s in SECTIONS if name_of(s) in only]


def run(out: str, quick: bool = False, progress: bool = True, only=None) -> Report:
    """Run the chosen sections (all by default) into ``out``; returns the report."""
    import matplotlib

    matplotlib.use("Agg")
    from tqdm.auto import tqdm

    from ..data import record_loads

    chosen = select(only)
    report = Report(out, quick=quick)
    start = time.perf_counter()
    bar = tqdm(chosen, desc="tour", unit="section", disable=not progress)
    with record_loads() as datasets:
        for section in bar:
            bar.set_postfix_str(name_of(section))
            first, began = len(report.sections), time.perf_counter()
            section(report)
            for s in report.sections[first:]:
                s.seconds = (time.perf_counter() - began) / (len(report.sections) - first)
    report.write(TITLE, _intro(datasets), time.perf_counter() - start)
    return report


def _intro(loads: list) -> str:
    bundled = [name for name, source in loads if source == "scikit-learn"]
    others = [name for name, source in loads if source != "scikit-learn"]
    parts = ([f"scikit-learn's bundled data sets ({', '.join(bundled)})"] if bundled else []) \
        + others
    used = " on " + " and ".join(parts) if parts else ""
    return ("Every number on this page was computed just now by deltagrad — its own "
            "backpropagation on NumPy — running the lecture notes' examples and methods"
            f"{used}.")


__all__ = ["SECTIONS", "Report", "Section", "describe", "name_of", "run", "select"]

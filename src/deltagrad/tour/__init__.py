"""The main job: ``deltagrad tour`` runs one section per chapter group on real data, in the
notes' order, and writes an HTML page (and a README.md) with a table of contents, text, tables
and figures.

Each chapter group is one module here with ``TITLE`` (numbered by the notes' chapters) and
``section(report)``, written against deltagrad's public API and :mod:`deltagrad.data` only;
:data:`SECTIONS` lists them in reading order. A new chapter is one new module and one line
below. Every experiment trains until its curve flattens (the captions say so, or say that it
did not); ``--quick`` keeps short budgets and its page says its numbers are not converged.
"""

from __future__ import annotations

import time

from . import (attention, convolution, curves, exercises, feedforward, logic, recurrent,
               regularisation, training, worked_examples)
from .report import Report, Section

SECTIONS = [feedforward.section, training.section, worked_examples.section,
            regularisation.section, logic.section, convolution.section, recurrent.section,
            attention.section, exercises.section]

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


def title_of(section) -> str:
    """The section's numbered title (``"2 Network training"``)."""
    import sys

    return sys.modules[section.__module__].TITLE


def run(out: str, quick: bool = False, progress: bool = True, only=None) -> Report:
    """Run the chosen sections (all by default) into ``out``; returns the report.

    Matrix products run on one BLAS thread (the tour's are small: a second thread costs
    more than it saves). ``progress`` prints one line per section to stderr as it starts
    and when it ends, with its running time (what ``make run`` shows)."""
    import matplotlib

    matplotlib.use("Agg")

    from threadpoolctl import threadpool_limits

    from ..data import record_loads

    chosen = select(only)
    report = Report(out, quick=quick)
    start = time.perf_counter()
    with record_loads() as datasets, threadpool_limits(1):  # small products: 1 thread is fastest
        for number, section in enumerate(chosen, 1):
            _say(progress, f"tour [{number}/{len(chosen)}] {title_of(section)} …")
            first, began, cpu = len(report.sections), time.perf_counter(), time.process_time()
            section(report)
            for s in report.sections[first:]:
                s.seconds = (time.perf_counter() - began) / (len(report.sections) - first)
            _say(progress, f"tour [{number}/{len(chosen)}] done in "
                           f"{time.perf_counter() - began:.1f} s "
                           f"(CPU {time.process_time() - cpu:.1f} s)")
    report.write(TITLE, _intro(datasets, quick), time.perf_counter() - start)
    return report


def _say(progress: bool, line: str) -> None:
    if progress:
        import sys

        print(line, file=sys.stderr, flush=True)


def _intro(loads: list, quick: bool = False) -> str:
    bundled = [name for name, source in loads if source == "scikit-learn"]
    others = [name for name, source in loads if source != "scikit-learn"]
    parts = ([f"scikit-learn's bundled data sets ({', '.join(bundled)})"] if bundled else []) \
        + others
    used = " on " + " and ".join(parts) if parts else ""
    return ("Every number on this page was computed just now by deltagrad — its own "
            "backpropagation on NumPy — running the lecture notes' examples and methods"
            f"{used}. Each experiment trains until its curve has flattened, or says why not "
            f"({curves.RULE})." + (" This is the --quick run: short budgets, so its "
                                   "training curves are not converged and its numbers are not "
                                   "the full tour's." if quick else ""))


__all__ = ["SECTIONS", "Report", "Section", "describe", "name_of", "run", "select", "title_of"]

"""Exercises: fresh practice questions in the style of the notes (§3.4, chapters 5–6), each
with its full worked solution from the tracer, as a sheet with an answer key, and a check
mode that marks a student's answers and names the first step that went wrong.

Example:
    >>> import deltagrad as dg
    >>> ex = dg.exercises.generate("backprop", seed=7, difficulty=1)
    >>> print(ex.solution.to_text(precision=4))  # doctest: +ELLIPSIS
    Exercise 1: A 2-2-1 ...
"""

from .exercise import DECIMALS, TOLERANCE, Exercise, pretty
from .marking import Candidate, Mark, Marking, candidates
from .registry import DIFFICULTIES, KINDS, Kind, check, generate, load_answers, sheet
from .render import ANSWERS, FORMATS, render

__all__ = ["ANSWERS", "DECIMALS", "DIFFICULTIES", "FORMATS", "KINDS", "TOLERANCE", "Candidate",
           "Exercise", "Kind", "Mark", "Marking", "candidates", "check", "generate",
           "load_answers", "pretty", "render", "sheet"]

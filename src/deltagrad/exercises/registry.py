"""The kinds of exercise, generation from a seed, and checking a student's answers.

A kind is one entry in :data:`KINDS`: its ``make(rng, difficulty)`` draws an exercise and its
``mark(exercise, answers)`` marks answers to it. The kinds of the later
chapters (one BPTT step §9.3, convolution units eq. 7.3, one attention head eq. 11.1–11.3,
in :mod:`.traced`) each draw hand-sized numbers and call their tracer; ``mark_numbers`` marks
them, with a plain mismatch diagnosis (the working of the first wrong quantity), since the
common-mistake catalogue of :func:`.marking.candidates` is the network kinds'.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from collections.abc import Callable

import numpy as np

from .. import _validate as check_arg
from . import logic, network, traced
from .exercise import DECIMALS, TOLERANCE, Exercise
from .marking import Marking, mark_numbers

DIFFICULTIES = (1, 2, 3)
NUMBERS_MARKED = (f"Give every number to {DECIMALS} decimal places; an answer within "
                  f"±{TOLERANCE:g} of the exact value is marked right.")


@dataclass(frozen=True)
class Kind:
    name: str
    title: str        # the sheet's heading
    chapters: str     # where the notes teach it
    make: Callable    # (rng, difficulty) -> Exercise
    mark: Callable    # (exercise, answers) -> Marking
    marked: str = NUMBERS_MARKED  # how answers are marked, for the sheet


KINDS = {
    "forward": Kind("forward", "Forward passes", "§1.1, §2.1.3", network.make_forward,
                    mark_numbers),
    "backprop": Kind("backprop", "Backpropagation of one pattern, with one update",
                     "§3.1–3.4", network.make_backprop, mark_numbers),
    "logic": Kind("logic", "Logic with perceptrons", "§5–6", logic.make, logic.mark,
                  "Any weights and network that compute f are right: they are checked on "
                  "every row of the truth table."),
    "bptt": Kind("bptt", "Backpropagation through time, one step of a small RNN", "§9.3",
                 traced.make_bptt, mark_numbers),
    "conv": Kind("conv", "Convolutional units", "§7, eq. 7.3–7.4", traced.make_conv,
                 mark_numbers),
    "attention": Kind("attention", "One attention head", "§11, eq. 11.1–11.3",
                      traced.make_attention, mark_numbers),
}


def _kind(kind, owner: str) -> Kind:
    return KINDS[check_arg.choice(kind, list(KINDS), "kind", owner)]


def generate(kind: str = "backprop", seed: int | None = None, difficulty: int = 2,
             number: int = 1) -> Exercise:
    """A fresh exercise with its worked solution, the same for the same arguments.

    Args:
        kind: ``"forward"``, ``"backprop"``, ``"logic"``, ``"bptt"``, ``"conv"`` or
            ``"attention"`` (see :data:`KINDS`).
        seed: an integer ≥ 0; ``None`` draws one (kept in ``exercise.seed``).
        difficulty: 1 (a 2-2-1 network, few quantities), 2 or 3 (up to 3-3-2, everything);
            for the later kinds 1 is the smallest (a 1-2-1 RNN, one 2×2 convolution unit,
            two tokens) and 3 asks the most (updates, three units, the attention backward).
        number: the exercise's place on a sheet (exercise ``number`` of seed ``seed``).

    Example:
        >>> import deltagrad as dg
        >>> ex = dg.exercises.generate("backprop", seed=7, difficulty=1)
        >>> ex.title, ex.asked[:2]
        ('A 2-2-1 regression network', ['y_1', 'E'])
    """
    owner = "exercises.generate"
    chosen = _kind(kind, owner)
    seed = check_arg.seed(seed, "seed", owner)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % 2 ** 32)
    difficulty = check_arg.positive_int(difficulty, "difficulty", owner, maximum=3)
    number = check_arg.positive_int(number, "number", owner)
    rng = np.random.default_rng([seed, number, zlib.crc32(chosen.name.encode())])
    exercise = chosen.make(rng, difficulty)
    exercise.kind, exercise.seed, exercise.number = chosen.name, seed, number
    exercise.solution.title = f"Exercise {number}: {exercise.title}"
    return exercise


def sheet(kind: str = "backprop", count: int = 10, seed: int | None = None,
          difficulty: int = 2) -> list:
    """Exercises 1 … ``count`` of one seed: a sheet (its answer key is their solutions)."""
    count = check_arg.positive_int(count, "count", "exercises.sheet", maximum=1000)
    seed = check_arg.seed(seed, "seed", "exercises.sheet")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % 2 ** 32)
    return [generate(kind, seed, difficulty, number) for number in range(1, count + 1)]


def check(answers, seed: int | None = None, kind: str | None = None,
          difficulty: int | None = None, count: int | None = None) -> list:
    """Mark a student's answers to a sheet; one :class:`~.marking.Marking` per exercise of
    the sheet: an exercise the answers leave out is marked unanswered, not skipped.

    Args:
        answers: a path, a JSON text or the parsed object: either
            ``{"kind": ..., "seed": ..., "difficulty": ..., "count": ...,
            "answers": {"1": {...}, ...}}`` (as ``deltagrad exercises --format json`` prints
            the template) or just the ``answers`` part: exercise numbers to
            ``{quantity: number}`` (a list counts from exercise 1).
        seed, kind, difficulty: the sheet's; when given they override the file's.
        count: how many exercises the sheet has (overrides the file's ``count``); without
            one, the sheet is taken to end at the highest exercise number answered.

    Example:
        >>> import deltagrad as dg
        >>> ex = dg.exercises.generate("forward", seed=2, difficulty=1)  # E = ½ Σ (y − t)²
        >>> mine = dict(ex.answers(), E=ex.answers()["E"] * 2)   # the ½ forgotten
        >>> [marking] = dg.exercises.check({"1": mine}, seed=2, kind="forward", difficulty=1)
        >>> marking.first_wrong, marking.mistake
        ('E', 'half')
    """
    data = load_answers(answers)
    owner = "exercises.check"
    header = data if isinstance(data, dict) and "answers" in data else {}
    body = header.get("answers", data)
    kind = kind if kind is not None else header.get("kind", "backprop")
    seed = seed if seed is not None else header.get("seed")
    if seed is None:
        raise ValueError(f"{owner}: give the sheet's seed (--seed), or a 'seed' in the file")
    seed = check_arg.seed(seed, "seed", owner)
    difficulty = difficulty if difficulty is not None else header.get("difficulty", 2)
    difficulty = check_arg.positive_int(difficulty, "difficulty", owner, maximum=3)
    chosen = _kind(kind, owner)
    if isinstance(body, list):
        body = {str(n): given for n, given in enumerate(body, start=1)}
    if not isinstance(body, dict) or not body:
        raise ValueError(f"{owner}: answers must map exercise numbers to answers, e.g. "
                         '{"1": {"y_1": 0.7545}}, got ' + type(body).__name__)
    answered = {_exercise_number(name, owner): given for name, given in body.items()}
    count = count if count is not None else header.get("count", max(answered))
    count = check_arg.positive_int(count, "count", owner, maximum=1000)
    beyond = sorted(n for n in answered if n > count)
    if beyond:
        raise ValueError(f"{owner}: the answers are for exercise {beyond[0]}, but the sheet has "
                         f"{count} exercise(s)")
    markings = []
    for number in range(1, count + 1):
        exercise = generate(chosen.name, seed, difficulty, number)
        if number in answered:
            markings.append(chosen.mark(exercise, answered[number]))
        else:  # left out of the file: every asked quantity is unanswered
            markings.append(Marking(number, missing=list(exercise.asked)))
    return markings


def _exercise_number(name, owner: str) -> int:
    try:
        number = int(name)
    except (TypeError, ValueError):
        number = 0
    if number < 1 or str(name).strip() != str(number):
        raise ValueError(f"{owner}: an exercise number must be 1, 2, …, got {name!r}")
    return number


def load_answers(source):
    """Parse answers from a path, a JSON text, or an already parsed object; answers that hold
    nothing (an empty file, ``{}``, ``[]``, an empty ``"answers"``) are refused as such."""
    if isinstance(source, (dict, list)):
        return _refuse_no_answers(source, "the answers")
    text = str(source)
    where = "the answers"
    if not text.lstrip().startswith(("{", "[")):
        where = text
        with open(text, encoding="utf-8") as handle:
            text = handle.read()
    if not text.strip():
        raise ValueError(f"answers: {where} is empty; {_FILL_IN}")
    try:
        return _refuse_no_answers(json.loads(text), where)
    except json.JSONDecodeError as err:
        raise ValueError(f"answers: not valid JSON ({err})") from err


_FILL_IN = ("write your answers into the template that `deltagrad exercises --format json "
            "--answers separate` prints, e.g. "
            '{"seed": 7, "answers": {"1": {"y_1": 0.7545}}}')


def _refuse_no_answers(parsed, where: str):
    """``parsed``, unless it holds no answers: empty, an empty ``"answers"``, or only a
    sheet's header (seed, kind, …) without ``"answers"``."""
    body = parsed.get("answers", parsed) if isinstance(parsed, dict) else parsed
    header_only = isinstance(parsed, dict) and "answers" not in parsed and set(parsed) <= {
        "kind", "seed", "difficulty", "count", "decimals", "tolerance", "exercises"}
    if isinstance(body, (dict, list)) and not body or header_only:
        raise ValueError(f"answers: {where} holds no answers; {_FILL_IN}")
    return parsed


__all__ = ["DIFFICULTIES", "KINDS", "Kind", "Marking", "check", "generate", "load_answers",
           "sheet"]

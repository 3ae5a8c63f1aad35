"""``deltagrad exercises``: a sheet of fresh practice questions with its answer key, and
``deltagrad exercises check ANSWERS.json`` to mark a student's answers."""

from __future__ import annotations

import json
import sys

from .. import _validate as check
from ._args import checked

HELP = "practice questions with worked solutions (a sheet and its answer key), and marking"
EXAMPLE = ("deltagrad exercises --kind backprop --count 10 --seed 7 --format html > sheet.html"
           "\n         deltagrad exercises check answers.json --kind backprop --seed 7")


def add_arguments(parser) -> None:
    from ..exercises.registry import KINDS

    parser.add_argument("action", nargs="*", metavar="check ANSWERS.json",
                        help="mark the answers in ANSWERS.json instead of printing a sheet")
    parser.add_argument("--kind", choices=list(KINDS), default=None,
                        help="what to practise (default backprop; check: the file's)")
    parser.add_argument("--count", type=checked(check.positive_int, maximum=1000), default=None,
                        help="how many exercises (default 10; check: the file's count)")
    parser.add_argument("--seed", type=checked(check.seed), default=None,
                        help="the sheet's seed (default: a fresh one, printed on the sheet)")
    parser.add_argument("--difficulty", type=int, choices=[1, 2, 3], default=None,
                        help="1: a 2-2-1 network, few quantities; 3: up to 3-3-2, everything "
                             "(the later kinds: smallest to most asked; default 2)")
    parser.add_argument("--format", choices=["markdown", "latex", "html", "json", "text"],
                        default=None, help="the sheet: markdown (default), latex, html or "
                                           "json; check: text (default) or json")
    parser.add_argument("--answers", choices=["separate", "inline", "none"], default="separate",
                        help="the answer key after the sheet (separate), under each question "
                             "(inline), or none")
    parser.add_argument("--out", help="write to this file instead of the standard output")


def run(args) -> int:
    if args.action and args.action[0] == "check":
        if len(args.action) != 2:
            raise ValueError("check needs exactly one answers file: "
                             "deltagrad exercises check ANSWERS.json --seed N")
        return _check(args)
    if args.action:
        raise ValueError(f"unknown action {' '.join(args.action)!r}; expected none (print a "
                         "sheet) or 'check ANSWERS.json'")
    from ..exercises import sheet
    from ..exercises.render import render

    fmt = args.format or "markdown"
    if fmt == "text":
        raise ValueError("--format text is for check; a sheet is markdown, latex, html or json")
    exercises = sheet(args.kind or "backprop", args.count or 10, args.seed,
                      args.difficulty or 2)
    _write(render(exercises, fmt, args.answers), args.out)
    if fmt == "json" and args.answers == "separate":
        _write_key(exercises, args.out)
    return 0


def _write_key(exercises, out: str | None) -> None:
    """The JSON answer key goes to its own file, never into the template a student fills."""
    from ..exercises.render import answer_key

    if out is None:
        print("the answer key is not in the answers template; give --out SHEET.json to write "
              "it beside the sheet as SHEET.key.json (or --answers inline for one file with "
              "both)", file=sys.stderr)
        return
    stem = out[:-5] if out.endswith(".json") else out
    _write(answer_key(exercises), stem + ".key.json")
    print(f"the answer key is in {stem}.key.json", file=sys.stderr)


def _check(args) -> int:
    from ..exercises import check as mark

    fmt = args.format or "text"
    if fmt not in ("text", "json"):
        raise ValueError(f"--format {fmt} is for sheets; check prints text or json")
    markings = mark(args.action[1], seed=args.seed, kind=args.kind, difficulty=args.difficulty,
                    count=args.count)
    if fmt == "json":
        text = json.dumps([m.to_dict() for m in markings], indent=2, ensure_ascii=False) + "\n"
    else:
        text = "\n\n".join(m.to_text() for m in markings) + "\n\n" + _summary(markings)
    _write(text, args.out)
    return 0 if all(m.ok for m in markings) else 1


def _summary(markings) -> str:
    """``"6 of 14 answers right in 2 exercises; exercise 2 not answered."``"""
    right = sum(m.right for m in markings)
    answered = sum(len(m.marks) for m in markings)
    asked = sum(len(m.marks) + len(m.missing) for m in markings)
    absent = [str(m.number) for m in markings if not m.marks]
    text = f"{right} of {asked} answers right in {len(markings)} exercise(s)"
    if absent:
        text += f"; exercise{'s' * (len(absent) > 1)} {', '.join(absent)} not answered"
    if answered >= 3 and right == 0:
        return text + ("; none of the answers is right: were they checked against the "
                       "sheet's seed and difficulty (printed at its top)?\n")
    return text + ".\n"


def _write(text: str, out: str | None) -> None:
    if out is None:
        print(text, end="")
        return
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(text)

"""``deltagrad tour``: the main job — the notes' chapters run on real data into a report."""

from __future__ import annotations

import os
import time

HELP = ("run the notes' chapters in order on real data, each experiment trained until its "
        "curve flattens, and write DIR/index.html with figures (about two and a half "
        "minutes on two quiet cores, 150 s of CPU time; --quick: about half a minute, not "
        "converged)")
EXAMPLE = "deltagrad tour --out report/ --quick --only logic"


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="report", help="output folder")
    parser.add_argument("--quick", action="store_true",
                        help="short budgets, numbers not converged: about half a minute")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this section (repeatable); see --list")
    parser.add_argument("--list", action="store_true", help="name the sections and exit")


def run(args) -> int:
    from .. import tour

    if args.list:
        for section in tour.SECTIONS:
            print(f"{tour.name_of(section):16s} {tour.describe(section)}")
        return 0
    try:
        tour.select(args.only)
    except ValueError as err:
        raise ValueError(f"--only: {str(err).removeprefix('tour: ')}") from None
    start = time.perf_counter()
    tour.run(args.out, quick=args.quick, progress=True, only=args.only)
    print(f"tour written to {os.path.join(args.out, 'index.html')} "
          f"({time.perf_counter() - start:.1f} s)")
    return 0

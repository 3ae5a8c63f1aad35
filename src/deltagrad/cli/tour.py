"""``deltagrad tour``: the main job — the notes' chapters run on real data into a report."""

from __future__ import annotations

import os
import sys
import time

HELP = "run the notes' chapters on real data and write DIR/index.html with figures"
EXAMPLE = "deltagrad tour --out report/ --quick"


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="report", help="output folder (default: report)")
    parser.add_argument("--quick", action="store_true", help="smaller runs (about a minute)")


def run(args) -> int:
    from ..tour import run as run_tour

    start = time.perf_counter()
    run_tour(args.out, quick=args.quick, progress=sys.stderr.isatty())
    print(f"tour written to {os.path.join(args.out, 'index.html')} "
          f"({time.perf_counter() - start:.1f} s)")
    return 0

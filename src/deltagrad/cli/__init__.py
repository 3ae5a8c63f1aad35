"""The ``deltagrad`` command: one module per subcommand, errors as one line on stderr (exit 2).

Each subcommand module defines ``HELP``, ``EXAMPLE``, ``add_arguments(parser)`` and
``run(args) -> int`` (importing what it needs inside ``run``); register it in ``SUBCOMMANDS``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback

from . import exercises, explain, logic, playground, predict, tour, train
from ._args import HelpFormatter

SUBCOMMANDS = {"tour": tour, "train": train, "predict": predict, "explain": explain,
               "logic": logic, "exercises": exercises, "playground": playground}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deltagrad", description="deltagrad: neural networks from first principles.",
        epilog="Run 'deltagrad COMMAND --help' for a command's options and an example.")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    parser.add_argument("--version", action="version", version=f"deltagrad {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP,
                                  epilog=f"example: {module.EXAMPLE}",
                                  formatter_class=HelpFormatter)
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                         help="show the traceback of an error")
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def _version() -> str:
    from .. import __version__

    return __version__


def main(argv=None) -> int:
    """Run the command; like other Unix tools, a closed output pipe ends it quietly and Ctrl-C
    ends it with one line and exit status 130."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("deltagrad: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    except BrokenPipeError:  # the reader went away (``deltagrad predict … | head -1``)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the exit's flush finds nowhere to fail
        return 128 + signal.SIGPIPE


def _main(argv) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as err:  # one line for people, the traceback on request
        if getattr(args, "debug", False):
            traceback.print_exc()
        else:
            message = str(err).splitlines()
            first = message[0] if message else type(err).__name__
            rest = " ".join(line.strip() for line in message[1:2])
            print(f"deltagrad {args.command}: error: {first}{' ' + rest if rest else ''}",
                  file=sys.stderr)
        return 2

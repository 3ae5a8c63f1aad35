"""``deltagrad playground``: serve the playground page on this machine (127.0.0.1) until Ctrl-C."""

from __future__ import annotations

import sys

from .. import _validate as check
from ._args import checked

HELP = "serve a local web page: build a small network, step through backprop, train it live"
EXAMPLE = "deltagrad playground --port 8765"


def add_arguments(parser) -> None:
    parser.add_argument("--port", type=checked(check.positive_int, maximum=65535), default=8765,
                        help="the port")
    parser.add_argument("--host", default="127.0.0.1",
                        help="the interface to listen on (127.0.0.1: this machine only)")


def run(args) -> int:
    from ..playground import address, make_server
    from ..playground.server import LOOPBACK

    server = make_server(args.host, args.port)
    if args.host not in LOOPBACK:
        print(f"warning: serving on {args.host}: anyone who can reach this machine can use the "
              "playground and its CPU; it has no login", file=sys.stderr)
    print(f"deltagrad playground: open {address(server)} in a browser (Ctrl-C stops it)",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.server_close()
    return 0

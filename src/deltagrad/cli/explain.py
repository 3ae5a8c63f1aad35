"""``deltagrad explain``: a worked solution of a forward and backward pass, printed like the
notes — for a network given as a JSON spec (an RNN spec gives backpropagation through time,
§9.3), or for the practice questions of §3.4."""

from __future__ import annotations

from .. import _validate as check
from ._args import checked

HELP = "show every number of a forward pass, backpropagation and the weight update"
EXAMPLE = "deltagrad explain --question 1 --format markdown --precision 4"


def add_arguments(parser) -> None:
    parser.add_argument("spec", nargs="?", help="a JSON spec: sizes, activations, weights, "
                                                "biases, x, t, loss, lr; or an RNN: W_xh, "
                                                "W_hh, b_h, W_hy, b_y, xs, ys, lr")
    parser.add_argument("--question", choices=["1", "2", "3"],
                        help="solve a practice question of §3.4 instead")
    parser.add_argument("--format", choices=["text", "markdown", "latex", "json"],
                        default="text")
    parser.add_argument("--precision", type=checked(check.positive_int, maximum=17), default=6,
                        help="decimals shown (default 6)")
    parser.add_argument("--lr", type=checked(check.positive, float), default=None,
                        help="η: also show the update")


def run(args) -> int:
    from ..explain import backprop, bptt, build, build_recurrent, is_recurrent, load_spec, \
        question

    if (args.spec is None) == (args.question is None):
        raise ValueError("give either a SPEC.json or --question 1|2|3")
    if not 0 <= args.precision <= 15:
        raise ValueError(f"--precision must be between 0 and 15, got {args.precision}")
    if args.question is not None:
        solution = question(args.question, precision=args.precision, lr=args.lr)
    elif is_recurrent(spec := load_spec(args.spec)):
        rnn, out, xs, ys, lr = build_recurrent(spec)
        solution = bptt(rnn, out, xs, ys, lr=args.lr if args.lr is not None else lr,
                        precision=args.precision)
    else:
        model, x, t, loss, lr = build(spec)
        solution = backprop(model, x, t, loss=loss, lr=args.lr if args.lr is not None else lr,
                            precision=args.precision)
    render = {"text": solution.to_text, "markdown": solution.to_markdown,
              "latex": solution.to_latex, "json": solution.to_json}[args.format]
    print(render(precision=args.precision), end="" if args.format != "json" else "\n")
    return 0

"""``deltagrad explain``: a worked solution of a forward and backward pass, printed like the
notes — for a worked example given as a JSON spec (an MLP, an RNN through time §9.3, one
convolutional unit §7, one attention head §11; docs/explain-spec.md), or for the practice
questions of §3.4."""

from __future__ import annotations

from .. import _validate as check
from ._args import checked

HELP = ("show every number of a forward pass, backpropagation and the weight update, or the "
        "backward pass as a program (--program)")
EXAMPLE = "deltagrad explain --question 1 --format markdown --precision 4"


def add_arguments(parser) -> None:
    parser.add_argument("spec", nargs="?", help="a JSON spec of a worked example, of kind mlp "
                                                "(sizes, weights, biases, x, t, ...), rnn "
                                                "(W_xh, W_hh, b_h, W_hy, b_y, xs, ys, ...), "
                                                "conv_unit (image, kernel, j, k, ...) or "
                                                "attention_head (q, k, v, ...); see "
                                                "docs/explain-spec.md")
    parser.add_argument("--question", choices=["1", "2", "3"],
                        help="solve a practice question of §3.4 instead")
    parser.add_argument("--format", choices=["text", "markdown", "latex", "json"],
                        default="text", help="how to print the solution")
    parser.add_argument("--precision", type=checked(check.positive_int, maximum=15), default=6,
                        help="decimals shown")
    parser.add_argument("--program", action="store_true",
                        help="print the forward and backward pass of an MLP spec as runnable "
                             "NumPy source (deltagrad.compile's program) instead")
    parser.add_argument("--lr", type=checked(check.positive, float), default=None,
                        help="η: also show the update (default: the spec's lr; none for a "
                             "--question)")


def run(args) -> int:
    from ..explain import question, solve

    if (args.spec is None) == (args.question is None):
        raise ValueError("give either a SPEC.json or --question 1|2|3")
    if args.program:
        return _program(args)
    if args.question is not None:
        solution = question(args.question, precision=args.precision, lr=args.lr)
    else:
        solution = solve(args.spec, lr=args.lr, precision=args.precision)
    if args.format == "latex":  # a document that compiles as it is
        print(solution.to_latex(precision=args.precision, standalone=True), end="")
        return 0
    render = {"text": solution.to_text, "markdown": solution.to_markdown,
              "json": solution.to_json}[args.format]
    print(render(precision=args.precision), end="" if args.format != "json" else "\n")
    return 0


def _program(args) -> int:
    """``--program SPEC``: the compiled step's source for an MLP spec."""
    from ..explain import backprop_program, build, is_recurrent, load_spec

    if args.spec is None or args.question is not None:
        raise ValueError("--program needs an MLP SPEC.json (not --question)")
    spec = load_spec(args.spec)
    if is_recurrent(spec):
        raise ValueError("--program takes an MLP spec (sizes, weights, biases, x, t); an RNN "
                         "spec is shown step by step without --program")
    if args.format != "text":
        raise ValueError(f"--program prints Python source; --format {args.format} does not "
                         "apply")
    model, x, t, loss, _ = build(spec)
    print(backprop_program(model, x, t, loss=loss), end="")
    return 0

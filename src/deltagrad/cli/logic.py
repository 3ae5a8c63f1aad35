"""``deltagrad logic EXPR``: compile a boolean expression into a perceptron network and print
the network with its verification table."""

from __future__ import annotations

import json

HELP = "compile a boolean expression into a network of perceptrons and verify it"
EXAMPLE = 'deltagrad logic "x1 xor x2 xor x3" --strategy dnf --format markdown'


def add_arguments(parser) -> None:
    parser.add_argument("expression", help='e.g. "(x1 and x2) or not x3"; and or not xor nand '
                                           "nor & | ~ ^, parentheses, 0 and 1")
    parser.add_argument("--strategy", choices=["structure", "dnf", "minimal"],
                        default="structure",
                        help="structure: the expression tree as layers (Example 6.1); dnf: one "
                             "neuron per true row of the truth table (§6.3); minimal: one neuron "
                             "per prime implicant of a minimal sum of products (Quine–McCluskey) "
                             "— the sum of products is minimised, not the network")
    parser.add_argument("--format", choices=["text", "markdown", "json"], default="text",
                        help="how to print the network and its truth table")


def _table(network, fmt: str) -> str:
    rows = network.truth_table()
    header = network.variables + ["y"]
    if fmt == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    else:
        lines = ["  ".join(header)] + ["  ".join(str(v).rjust(len(h)) for v, h in zip(row, header))
                                       for row in rows]
    return "\n".join(lines)


def run(args) -> int:
    from ..logic import compile, verify

    network = compile(args.expression, strategy=args.strategy)
    check = verify(network, args.expression)
    if args.format == "json":
        payload = json.loads(network.describe("json"))
        payload.update(strategy=args.strategy, verified=bool(check), rows=check.rows,
                       truth_table=network.truth_table().tolist() if network.n_inputs <= 10
                       else None)
        print(json.dumps(payload, indent=2))
        return 0 if check else 1
    print(network.describe(args.format))
    print()
    if network.n_inputs <= 10:
        print(("### " if args.format == "markdown" else "") + "Truth table of the network")
        print(_table(network, args.format))
        print()
    verdict = "verified" if check else f"MISMATCH at {check.counterexample}"
    print(f"{verdict} on all {check.rows} rows against {args.expression!r}")
    return 0 if check else 1

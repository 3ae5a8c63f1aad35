"""Chapters 5–6: perceptron gates, the compilers, separability and learning."""

import itertools

import numpy as np
import pytest

from deltagrad import logic
from deltagrad.logic import (compile, from_truth_table, gate, is_linearly_separable,
                             perceptron_learning, to_step_network, train_smooth, verify)

TABLES_2 = {"and": [0, 0, 0, 1], "or": [0, 1, 1, 1], "nand": [1, 1, 1, 0], "nor": [1, 0, 0, 0],
            "xor": [0, 1, 1, 0]}
NOTES_WEIGHTS = {"and": ([1, 1], -1.5), "or": ([1, 1], -0.5), "nand": ([-1, -1], 1.5),
                 "nor": ([-1, -1], 0.5), "not": ([-1], 0.5)}


@pytest.mark.parametrize("name", sorted(NOTES_WEIGHTS))
def test_gates_have_the_notes_weights_and_truth_tables(name):
    net = gate(name, n=1 if name == "not" else 2)
    w, b = NOTES_WEIGHTS[name]
    np.testing.assert_array_equal(net.linears[0].weight.data, [w])
    assert net.linears[0].bias.data[0] == b
    expected = [1, 0] if name == "not" else TABLES_2[name]
    assert net.truth_table()[:, -1].tolist() == expected


def test_xor_hidden_values_are_those_of_section_5_3():
    """h1 = OR, h2 = NAND: (0,0) → (0,1); (0,1) → (1,1); (1,0) → (1,1); (1,1) → (1,0)."""
    net = gate("xor")
    X = logic.truth_table_inputs(2)
    hidden = net.act1(net.linear1(X)).data
    np.testing.assert_array_equal(hidden, [[0, 1], [1, 1], [1, 1], [1, 0]])
    assert net.truth_table()[:, -1].tolist() == [0, 1, 1, 0]


@pytest.mark.parametrize("n", range(1, 11))
def test_n_input_gates(n):
    X = logic.truth_table_inputs(n).astype(bool)
    expected = {"and": X.all(axis=1), "or": X.any(axis=1), "nand": ~X.all(axis=1),
                "nor": ~X.any(axis=1)}
    for name, truth in expected.items():
        net = gate(name, n=n)
        assert verify(net, truth.astype(int)), f"{name} n={n}"
        w, b = logic.gate_weights(name, n)
        np.testing.assert_array_equal(net.linears[0].weight.data[0], w)
        assert net.linears[0].bias.data[0] == b


def test_three_parity_network_is_that_of_section_6_3_3():
    net = from_truth_table(lambda a, b, c: a ^ b ^ c, n=3)
    np.testing.assert_array_equal(net.linears[0].weight.data,
                                  [[-1, -1, 1], [-1, 1, -1], [1, -1, -1], [1, 1, 1]])
    np.testing.assert_array_equal(net.linears[0].bias.data, [-0.5, -0.5, -0.5, -2.5])
    np.testing.assert_array_equal(net.linears[1].weight.data, [[1, 1, 1, 1]])
    assert net.linears[1].bias.data[0] == -0.5
    assert net.truth_table()[:, -1].tolist() == [0, 1, 1, 0, 1, 0, 0, 1]


def test_example_6_1_structure():
    """(x1 AND x2) OR (NOT x3): hidden h1 = AND, h2 = NOT x3, output OR."""
    net = compile("(x1 and x2) or not x3")
    assert net.sizes == [3, 2, 1]
    np.testing.assert_array_equal(net.linears[0].weight.data, [[1, 1, 0], [0, 0, -1]])
    np.testing.assert_array_equal(net.linears[0].bias.data, [-1.5, 0.5])
    assert verify(net, "(x1 and x2) or not x3")


@pytest.mark.parametrize("n", [2, 3])
def test_every_function_of_two_and_three_inputs(n):
    for table in logic.all_functions(n):
        dnf = from_truth_table(table)
        assert verify(dnf, table), table
        minimal = logic.compiler._sum_of_products(
            logic.minimal_cover(np.flatnonzero(table), n), dnf.variables, None)
        assert verify(minimal, table), table
        assert minimal.hidden_units <= max(dnf.hidden_units, 1)


def test_all_false_function_gives_a_network_that_outputs_zero():
    net = from_truth_table([0, 0, 0, 0])
    assert net.truth_table()[:, -1].tolist() == [0, 0, 0, 0]


def _random_expression(rng, variables, depth):
    if depth == 0 or rng.random() < 0.25:
        return str(rng.choice(variables + ["0", "1"])) if rng.random() < 0.95 else \
            str(rng.choice(variables))
    op = str(rng.choice(["and", "or", "xor", "nand", "nor", "&", "|", "^", "not", "~"]))
    if op in ("not", "~"):
        return f"{op} ({_random_expression(rng, variables, depth - 1)})"
    left = _random_expression(rng, variables, depth - 1)
    right = _random_expression(rng, variables, depth - 1)
    return f"({left}) {op} ({right})"


def test_200_random_expressions_through_all_strategies():
    rng = np.random.default_rng(7)
    checked = 0
    while checked < 200:
        n = int(rng.integers(1, 9))
        variables = [f"x{i}" for i in range(1, n + 1)]
        expr = _random_expression(rng, variables, int(rng.integers(1, 5)))
        if not logic.variables(logic.parse(expr)):
            continue
        nets = {s: compile(expr, strategy=s) for s in logic.STRATEGIES}
        for strategy, net in nets.items():
            assert verify(net, expr), f"{strategy}: {expr}"
        assert nets["minimal"].hidden_units <= max(nets["dnf"].hidden_units, 1), expr
        checked += 1


def test_verify_is_exhaustive_and_vectorised_up_to_20_inputs():
    expr = " and ".join(f"x{i}" for i in range(1, 21))
    net = compile(expr)
    result = verify(net, expr)
    assert result and result.rows == 2 ** 20
    wrong = gate("or", n=2)
    bad = verify(wrong, "x1 and x2")
    assert not bad and bad.counterexample == {"x1": 0, "x2": 1, "network": 1, "expected": 0}


def test_linear_separability_of_the_sixteen_two_input_functions():
    results = {tuple(t): is_linearly_separable(t) for t in logic.all_functions(2)}
    assert sum(r.separable for r in results.values()) == 14
    assert not results[(0, 1, 1, 0)] and not results[(1, 0, 0, 1)]
    for table, result in results.items():
        X = logic.truth_table_inputs(2)
        if result:  # the returned perceptron computes the table
            assert ((X @ result.weights + result.bias >= 0).astype(int) == table).all()
        else:  # the certificate: one point in both convex hulls
            cert = result.certificate
            from_true = sum(c * np.array(r) for r, c in cert["true_rows"].items())
            from_false = sum(c * np.array(r) for r, c in cert["false_rows"].items())
            np.testing.assert_allclose(from_true, cert["point"], atol=1e-9)
            np.testing.assert_allclose(from_false, cert["point"], atol=1e-9)


def test_separability_of_named_functions():
    parity3 = [0, 1, 1, 0, 1, 0, 0, 1]
    majority = [0, 0, 0, 1, 0, 1, 1, 1]
    assert not is_linearly_separable(parity3)
    for table in (TABLES_2["and"], TABLES_2["or"], TABLES_2["nand"], TABLES_2["nor"], majority):
        assert is_linearly_separable(table)


def test_perceptron_rule_learns_every_separable_three_input_function_and_flags_xor():
    learned = 0
    for table in logic.all_functions(3):
        separable = bool(is_linearly_separable(table))
        result = perceptron_learning(table, epochs=200)
        assert result.converged == separable, table
        if separable:
            assert verify(result.network, table)
            learned += 1
    assert learned == 104
    xor = perceptron_learning([0, 1, 1, 0], epochs=100)
    assert not xor.converged and xor.epochs == 100 and min(xor.mistakes) > 0


def test_separable_functions_of_four_inputs_are_learned():
    rng = np.random.default_rng(0)
    seen = 0
    for _ in range(300):
        table = rng.integers(0, 2, size=16)
        if is_linearly_separable(table):
            assert perceptron_learning(table, epochs=500).converged
            seen += 1
    assert seen > 0


@pytest.mark.parametrize("table", [[0, 1, 1, 0], [0, 1, 1, 0, 1, 0, 0, 1]],
                         ids=["xor", "parity3"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_backprop_learns_xor_and_parity_and_converts_to_a_step_network(table, activation):
    n = len(table).bit_length() - 1
    net = train_smooth(table, hidden=2 * n, activation=activation, seed=0, epochs=4000)
    X = logic.truth_table_inputs(n)
    assert ((net(X).data[:, 0] > 0.5).astype(int) == table).all()
    assert verify(to_step_network(net), table)


@pytest.mark.parametrize("expr,match", [
    ("x1 $ x2", r"unknown token '\$' at position 3:\n  x1 \$ x2\n     \^"),
    ("(x1 and x2", r"unbalanced parentheses: expected '\)' at position 10"),
    ("x1 and x2)", r"unbalanced parentheses: '\)' without '\(' at position 9"),
    ("x1 and", r"unexpected end of the expression at position 6"),
])
def test_bad_expressions(expr, match):
    with pytest.raises(logic.ExpressionError, match=match):
        compile(expr)


def test_unknown_variable_in_verify_and_strategy():
    with pytest.raises(ValueError, match=r"uses \['x3'\], which the network does not have"):
        verify(gate("and"), "x1 and x3")
    with pytest.raises(ValueError, match=r"unknown strategy 'fast'"):
        compile("x1", strategy="fast")


@pytest.mark.parametrize("table,match", [
    ([0, 1, 1], r"a truth table needs 2\^n values \(2, 4, 8, \.\.\.\); got 3"),
    ([0, 1, 2, 1], r"truth table values must be 0 or 1; found 2"),
])
def test_bad_truth_tables(table, match):
    with pytest.raises(ValueError, match=match):
        from_truth_table(table)


def test_more_than_20_inputs_asks_for_sampling():
    expr = " or ".join(f"x{i}" for i in range(1, 23))
    net = compile(expr)
    with pytest.raises(ValueError, match=r"limited to n ≤ 20 .* pass samples=100_000"):
        verify(net, expr)
    assert verify(net, expr, samples=5000)


def test_describe_lists_every_neuron_like_the_notes():
    text = gate("xor").describe()
    assert "h1_1 = x1 OR x2: w = [+1, +1], b = -0.5" in text
    assert "h1_2 = x1 NAND x2: w = [-1, -1], b = +1.5" in text
    assert "y = h1 AND h2: w = [+1, +1], b = -1.5" in text
    assert '"weights": [' in gate("and").describe("json")


def test_operators_and_precedence():
    """~ binds tightest, then & / and / nand, then ^ / xor, then | / or / nor."""
    for expr, python in [("x1 | x2 & x3", lambda a, b, c: a | (b & c)),
                         ("x1 ^ x2 & x3", lambda a, b, c: a ^ (b & c)),
                         ("~x1 & x2", lambda a, b, c: (1 - a) & b),
                         ("x1 nand x2 nor x3", lambda a, b, c: 1 - ((1 - (a & b)) | c))]:
        net = compile(expr, variables=["x1", "x2", "x3"])
        for a, b, c in itertools.product((0, 1), repeat=3):
            assert net.outputs([[a, b, c]])[0, 0] == python(a, b, c), (expr, a, b, c)

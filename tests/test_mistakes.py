"""A user's mistakes meet a clear error (the 'never silently wrong' issue): each test feeds
one wrong input and checks the refusal names it, or checks the right behaviour."""

import warnings

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import nn
from deltagrad.losses import CANONICAL_OUTPUT, NonCanonicalPairWarning, UndefinedPairError

OUTPUTS = ["identity", "sigmoid", "tanh", "relu", "step", "softmax"]


def _expected(output: str, loss: str, k: int) -> str:
    """The table written out by hand: a softmax over one unit is constant; cross-entropy over
    one output is one class; the cross-entropies need outputs in (0, 1) (sigmoid, softmax);
    the canonical pairs are accepted; every other pair is valid but warned about."""
    if (output == "softmax" and k == 1) or (loss == "cross_entropy" and k == 1):
        return "refuse"
    if CANONICAL_OUTPUT[loss] == output:
        return "accept"
    if loss != "sum_of_squares" and output not in ("sigmoid", "softmax"):
        return "refuse"
    return "warn"


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("loss", sorted(CANONICAL_OUTPUT))
@pytest.mark.parametrize("output", OUTPUTS)
def test_every_output_with_every_loss_is_refused_warned_or_accepted(output, loss, k):
    net = nn.MLP([2, 3, k], output=output, rng=0)
    X = np.random.default_rng(0).normal(size=(4, 2))
    T = np.eye(k)[[0, 0, 0, 0]] if k > 1 else np.array([[1.0], [0.0], [1.0], [0.0]])
    expected = _expected(output, loss, k)
    assert dg.losses.pairing(output, loss, k)[0] == expected
    fn = dg.losses.get(loss)
    if expected == "refuse":
        with pytest.raises(UndefinedPairError, match=f"{loss}: cannot follow an? {output} output"):
            fn(net(X), T)
        with pytest.raises(UndefinedPairError, match=output):  # and fit says so before training
            dg.fit(net, X, T, loss=loss, epochs=1, progress=False)
    elif expected == "warn":
        with pytest.warns(NonCanonicalPairWarning, match=f"{loss} after an? {output} output"):
            fn(net(X), T)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert np.isfinite(fn(net(X), T).item())


def test_the_readme_mistake_identity_output_with_cross_entropy_names_the_fix():
    net = nn.MLP("64-32-10", rng=0)
    X = np.random.default_rng(0).normal(size=(20, 64))
    with pytest.raises(UndefinedPairError, match=r"identity output.*output='softmax'"):
        dg.fit(net, X, np.arange(20) % 10, loss="cross_entropy", epochs=2, progress=False)


def test_bare_outputs_outside_zero_one_are_refused_by_the_cross_entropies():
    lin = nn.Linear(2, 3, rng=0)  # no activation module at all
    y = lin(np.array([[5.0, -5.0]]))
    with pytest.raises(UndefinedPairError, match=r"probabilities in \[0, 1\], got values from"):
        dg.losses.cross_entropy(y, [0])


# ---- parameters assigned by hand -------------------------------------------------------------
def test_hand_assigned_weights_are_converted_to_the_parameters_dtype():
    layer = nn.Linear(2, 2, rng=0, dtype="float32")
    layer.weight.data = [[1, 2], [3, 4]]  # a list of integers
    assert layer.weight.data.dtype == np.float32
    layer.bias.data = np.array([1, -1])  # an integer array
    assert layer.bias.data.dtype == np.float32
    opt = dg.optim.SGD(layer.parameters(), lr=0.1)
    dg.losses.sum_of_squares(layer(np.ones((1, 2))), [[0.0, 0.0]]).backward()
    opt.step()  # no casting error inside step()
    # y = W·1 + b = (4, 6); ∂E/∂W = y xᵀ = [[4, 4], [6, 6]], ∂E/∂b = y; after one step of 0.1:
    # W = [[0.6, 1.6], [2.4, 3.4]], b = (0.6, −1.6), so y = (2.8, 4.2)
    np.testing.assert_allclose(layer(np.ones((1, 2))).data, [[2.8, 4.2]], rtol=1e-6)


@pytest.mark.parametrize("values, error, words", [
    (np.ones(3), ValueError, r"Linear\.weight\.data must have the parameter's shape \(2, 3\), "
                             r"got shape \(3,\)"),
    (np.array([["a", "b", "c"]] * 2), TypeError, r"Linear\.weight\.data must be numeric"),
    ([[1, 2, 3], [4]], TypeError, r"Linear\.weight\.data must be numeric values of shape"),
])
def test_wrong_hand_assigned_weights_are_refused_with_the_parameters_name(values, error, words):
    layer = nn.Linear(3, 2, rng=0)
    with pytest.raises(error, match=words):
        layer.weight.data = values


# ---- degenerate data and small API gaps ----------------------------------------------------
def test_an_empty_data_set_is_refused_and_predict_on_no_rows_gives_no_rows():
    net = nn.MLP("2-3-1", rng=0)
    with pytest.raises(ValueError, match="fit: X and T hold no patterns"):
        dg.fit(net, np.zeros((0, 2)), np.zeros((0, 1)), progress=False)
    assert dg.predict(net, np.zeros((0, 2))).shape == (0, 1)


def test_fit_takes_one_callback_without_a_list():
    net = nn.MLP("1-1", rng=0)
    stop = dg.callbacks.EarlyStopping(monitor="error", patience=1, restore_best=False)
    h = dg.fit(net, np.zeros((3, 1)), np.zeros((3, 1)), epochs=50, callbacks=stop,
               progress=False)
    assert h.epochs < 50  # the error stops improving once it is 0: the callback ran


def test_manual_seed_refuses_a_string():
    with pytest.raises(ValueError, match=r"manual_seed: seed must be None or an integer ≥ 0, "
                                         r"got 'x'"):
        dg.manual_seed("x")


def test_hessian_with_data_instead_of_an_objective_shows_one():
    net = nn.MLP("2-2-1", rng=0)
    X, T = np.ones((3, 2)), np.ones((3, 1))
    with pytest.raises(TypeError, match=r"objective\(model\) → scalar Tensor, e\.g\. lambda m: "
                                        r"dg\.losses\.sum_of_squares\(m\(X\), T\); got ndarray"):
        dg.analysis.hessian(net, X, T)


def test_solution_has_keys_and_a_missing_key_lists_them():
    sol = dg.explain.backprop(nn.MLP("2-2-1", rng=0), [1.0, 2.0], [1.0])
    assert sol.keys()[:3] == ["x_1", "x_2", "t_1"] and "E" in sol
    with pytest.raises(KeyError, match=r"'delta_1' is not a quantity.*did you mean "
                                       r"'delta\^\(2\)_1'.*available: x_1, x_2"):
        sol["delta_1"]


def test_messages_print_plain_numbers():
    with pytest.raises(ValueError, match=r"got \[1, 2\]$") as info:
        dg.explain.logic(dg.logic.gate("xor"), np.array([1, 2]))
    assert "np." not in str(info.value)


# ---- explain specs: nothing ignored, every field checked -------------------------------------
SPEC = {"sizes": [2, 2, 1], "activations": ["tanh", "identity"],
        "weights": [[[0.5, 0.2], [-0.3, 0.8]], [[1.0, -0.5]]], "biases": [[0.1, 0.0], [0.2]],
        "x": [1.0, 0.5], "t": [1.0], "lr": 0.1}


@pytest.mark.parametrize("change, words", [
    ({"activation": ["tanh", "identity"]}, "unknown field 'activation'; did you mean "
                                           "'activations'?"),
    ({"hidden": "tanh"}, "give activations, or hidden and output, not both"),
    ({"x": [float("nan"), 0.5]}, "spec: x contains NaN or infinite values"),
    ({"t": [float("inf")]}, "spec: t contains NaN or infinite values"),
    ({"weights": [[[0.5, float("nan")], [-0.3, 0.8]], [[1.0, -0.5]]]},
     r"spec: weights\[0\] contains NaN"),
    ({"biases": [[0.1, 0.0], [float("-inf")]]}, r"spec: biases\[1\] contains NaN"),
    ({"lr": float("nan")}, "spec: lr must be a finite number > 0"),
    ({"weights": [[[0.5, 0.2], [-0.3]], [[1.0, -0.5]]]},
     r"spec: weights\[0\] must be a number or a list of numbers with rows of equal length"),
    ({"x": "1, 0.5"}, "spec: x must be numbers, got '1, 0.5'"),
    ({"weights": "none"}, "spec: weights must be a list with one entry per layer"),
    ({"activations": "tanh"}, "spec: activations must be a list with one entry per layer"),
])
def test_spec_mistakes_name_the_field(change, words):
    spec = {**SPEC, **change}
    with pytest.raises(ValueError, match=words):
        dg.explain.build(dg.explain.load_spec(spec))


def test_spec_mistakes_on_the_command_line(tmp_path, capsys):
    import json

    from deltagrad.cli import main

    path = tmp_path / "spec.json"
    path.write_text(json.dumps({**SPEC, "activation": ["tanh", "identity"]}).replace(
        '"x": [1.0', '"x": [NaN'))
    assert main(["explain", str(path)]) == 2
    assert "unknown field 'activation'; did you mean 'activations'?" in capsys.readouterr().err
    path.write_text(json.dumps(SPEC).replace('"x": [1.0', '"x": [NaN'))
    assert main(["explain", str(path)]) == 2
    assert "spec: x contains NaN or infinite values" in capsys.readouterr().err


def test_numpy_scalars_are_shown_as_plain_numbers_in_argument_errors():
    with pytest.raises(ValueError, match=r"fit: epochs must be a positive integer, got 0$"):
        dg.fit(nn.MLP("1-1", rng=0), np.zeros((3, 1)), np.zeros((3, 1)), epochs=np.int64(0))


@pytest.mark.parametrize("kwargs, words", [
    (dict(batch_size=32), r"fit: batch_size must be an integer in \[1, 4\] or None for the full "
                          r"batch, got 32"),
    (dict(validation_split=0.1), r"fit: validation_split=0.1 leaves 0 of 4 patterns for "
                                 r"validation; both sets need at least one"),
])
def test_defaults_that_do_not_fit_small_data_are_refused_in_argument_names(kwargs, words):
    with pytest.raises(ValueError, match=words):
        dg.fit(nn.MLP("1-1", rng=0), np.zeros((4, 1)), np.zeros((4, 1)), progress=False,
               **kwargs)


def test_a_classifier_with_one_class_is_refused():
    from deltagrad.sklearn import MLPClassifier

    with pytest.raises(ValueError, match=r"needs samples of at least 2 classes; y has 1 class "
                                         r"\('a'\)"):
        MLPClassifier().fit(np.zeros((5, 2)), ["a"] * 5)


@pytest.mark.parametrize("args, error, words", [
    (("softmax", "mse"), ValueError, r"pairing: unknown loss 'mse'; expected one of"),
    ((None, "cross_entropy"), TypeError, r"pairing: output must be an activation's name"),
    (("softmax", "cross_entropy", 0), ValueError, r"pairing: n_outputs must be a positive"),
])
def test_pairing_refuses_what_it_cannot_judge(args, error, words):
    with pytest.raises(error, match=words):
        dg.losses.pairing(*args)


@pytest.mark.parametrize("kwargs, words", [
    (dict(x=[np.nan, 0.5]), r"explain: x contains NaN or infinite values \(x\[0\] is nan\)"),
    (dict(t=[np.inf]), r"explain: t contains NaN or infinite values"),
    (dict(lr=np.nan), r"explain: lr must be a finite number > 0, got nan"),
    (dict(x="1 0.5"), r"explain: x must be numbers, got '1 0\.5'"),
])
def test_explain_refuses_nan_and_type_errors_by_name(kwargs, words):
    args = dict(x=[1.0, 0.5], t=[1.0]) | kwargs
    with pytest.raises(ValueError, match=words):
        dg.explain.backprop(nn.MLP("2-2-1", rng=0), **args)


def test_explain_refuses_a_model_with_nan_weights():
    net = nn.MLP("2-2-1", rng=0)
    net.linears[1].bias.data = [np.nan]
    with pytest.raises(ValueError, match=r"explain: the model's 2\.bias contains NaN|"
                                         r"explain: the model's .*bias contains NaN"):
        dg.explain.backprop(net, [1.0, 0.5], [1.0])


def test_accuracy_with_one_output_puts_the_boundary_at_one_half():
    """y = x; class 1 where y > 0.5 (§2.1.2): 0.44 and 0.5 are class 0, 0.51 and 0.9 class 1
    — a boundary below 0.5 (or from 0.51 up) would misclassify one of these four."""
    layer = nn.Linear(1, 1, rng=0)
    layer.weight.data, layer.bias.data = [[1.0]], [0.0]
    X = np.array([[0.44], [0.5], [0.51], [0.9]])
    assert dg.accuracy(layer, X, [0, 0, 1, 1]) == 1.0

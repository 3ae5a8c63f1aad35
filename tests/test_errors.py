"""Bad input gets a clear ValueError/TypeError that names the culprit."""

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import nn


def test_linear_given_the_wrong_number_of_features():
    with pytest.raises(ValueError, match=r"Linear\(3, 2\): expected 3 input features, "
                                         r"got shape \(5, 4\)"):
        nn.Linear(3, 2)(np.ones((5, 4)))


def test_label_out_of_range():
    y = nn.Softmax()(dg.tensor(np.zeros((2, 10))))
    with pytest.raises(ValueError, match=r"label 10 is out of range for 10 classes"):
        dg.losses.cross_entropy(y, [3, 10])


def test_backward_on_a_non_scalar_without_grad():
    x = dg.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"output has shape \(3,\); pass grad="):
        (x * 2).backward()


def test_load_state_dict_lists_missing_extra_and_misshaped_keys():
    net = nn.MLP("2-3-1", rng=0)
    state = net.state_dict()
    del state["linear2.bias"]
    state["linear9.weight"] = np.zeros(1)
    state["linear1.weight"] = np.zeros((2, 2))
    with pytest.raises(ValueError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert "missing keys ['linear2.bias']" in message
    assert "unexpected keys ['linear9.weight']" in message
    assert "linear1.weight: expected shape (3, 2), got (2, 2)" in message


def test_load_state_dict_round_trip():
    a, b = nn.MLP("2-3-1", rng=0), nn.MLP("2-3-1", rng=1)
    b.load_state_dict(a.state_dict())
    x = np.array([[0.3, -0.2]])
    np.testing.assert_array_equal(a(x).data, b(x).data)


@pytest.mark.parametrize("bad", [["a", "b"], np.array([{}, {}], dtype=object)])
def test_string_or_object_input(bad):
    with pytest.raises(TypeError, match=r"expected numeric data"):
        dg.tensor(bad)
    with pytest.raises(TypeError, match=r"Linear\(2, 1\)"):
        nn.Linear(2, 1)(bad)


@pytest.mark.parametrize("loss", ["sum_of_squares", "binary_cross_entropy", "cross_entropy"])
def test_nan_in_a_target(loss):
    y = dg.sigmoid(dg.tensor([[0.2, 0.4]]))
    t = np.array([[np.nan, 1.0]])
    with pytest.raises(ValueError, match=r"NaN"):
        dg.losses.get(loss)(y, t)


def test_mismatched_shapes_in_a_loss():
    with pytest.raises(ValueError, match=r"y has shape \(2, 1\) but t has shape \(2,\)"):
        dg.losses.sum_of_squares(dg.tensor(np.zeros((2, 1))), np.zeros(2))


def test_dtype_mismatch_names_the_layer():
    layer = nn.Linear(2, 1, dtype="float32")
    with pytest.raises(TypeError, match=r"Linear\(2, 1\): input dtype float64"):
        layer(dg.tensor(np.ones((1, 2))))


@pytest.mark.parametrize("kwargs,match", [
    (dict(lr=-0.1), "lr must be a finite number > 0, got -0.1"),
    (dict(lr=0.1, momentum=1.5), "momentum must lie in"),
    (dict(lr=float("nan")), "lr must be a finite number"),
    (dict(lr=0.1, nesterov=True), "nesterov=True needs a momentum"),
])
def test_sgd_validates_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        dg.optim.SGD(nn.Linear(1, 1).parameters(), **kwargs)


def test_adam_validates_betas():
    with pytest.raises(ValueError, match=r"betas\[1\] must lie in"):
        dg.optim.Adam(nn.Linear(1, 1).parameters(), betas=(0.9, 1.0))


def test_mlp_sizes_and_activations_are_checked():
    with pytest.raises(ValueError, match="sizes"):
        nn.MLP("2-x-1")
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        nn.MLP("2-3-1", hidden="swish")
    with pytest.raises(ValueError, match="2 hidden layers but 1 hidden activations"):
        nn.MLP("2-3-3-1", hidden=["tanh"])


def test_reduction_is_checked():
    with pytest.raises(ValueError, match="reduction must be one of"):
        dg.losses.sum_of_squares(dg.tensor([1.0]), [0.0], reduction="avg")


def test_gradcheck_reports_the_worst_entry_ours_versus_numeric():
    wrong = dg.ops.Primitive("test_wrong_square", lambda x: x * x,
                             (lambda g, ans, x: g * x,))  # should be 2 g x
    try:
        x = dg.tensor([1.0, 3.0], requires_grad=True)
        with pytest.raises(dg.GradcheckError, match=r"input 0\[1\]: backward gave 3\.0, central "
                                                    r"differences gave 6\.0"):
            dg.gradcheck(wrong, x)
    finally:
        del dg.ops.REGISTRY["test_wrong_square"]


def test_non_canonical_pair_warns():
    y = dg.tanh(dg.tensor([[0.3]]))
    with pytest.warns(dg.losses.NonCanonicalPairWarning, match="not a canonical pair"):
        dg.losses.sum_of_squares(y, [[1.0]])


def test_bare_probabilities_are_clipped_not_nan():
    E = dg.losses.binary_cross_entropy(dg.tensor([[0.0, 1.0]], requires_grad=True), [[1.0, 0.0]])
    assert np.isfinite(E.item()) and E.item() == pytest.approx(-2 * np.log(1e-12))


def test_the_base_classes_cannot_be_used_without_their_one_method():
    """Module.forward, Optimizer._update and Regularizer.terms are abstract."""
    with pytest.raises(TypeError, match="abstract method forward"):
        nn.Module()

    class NoRule(dg.optim.Optimizer):
        pass

    class NoTerms(dg.regularizers.Regularizer):
        pass

    with pytest.raises(TypeError, match="abstract method _update"):
        NoRule(nn.Linear(1, 1).parameters())
    with pytest.raises(TypeError, match="abstract method terms"):
        NoTerms()


def test_a_positional_encoding_must_give_its_table():
    from deltagrad.nn.embedding import _PositionalEncoding

    with pytest.raises(TypeError, match="abstract method table"):
        _PositionalEncoding(8, 4, None)

"""An explicit argument that the model overrides is an error naming both (issue 22, item 5):
``explain.conv_unit(model, img, 0, 0, activation="relu")`` on a model whose unit is tanh used
tanh without a word."""

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import nn

_IMAGE = np.arange(16.0).reshape(4, 4) / 16


def _conv(rng=0):
    return nn.Conv2d(1, 2, 2, rng=rng)


@pytest.mark.parametrize("model,given,shown", [
    (nn.Sequential(_conv(), nn.Tanh()), "relu", r"Tanh \(tanh\)"),
    (nn.Sequential(_conv(), nn.ReLU()), "sigmoid", r"ReLU \(relu\)"),
    (nn.Sequential(_conv(), nn.Flatten()), "relu", r"no activation \(identity\)"),
])
def test_conv_unit_refuses_an_activation_the_model_overrides(model, given, shown):
    with pytest.raises(ValueError, match=rf"activation='{given}' was given, but the model "
                                         rf"applies {shown} after its Conv2d"):
        dg.explain.conv_unit(model, _IMAGE, 0, 0, activation=given)


def test_conv_unit_uses_the_models_activation_or_the_one_given_for_a_bare_conv2d():
    """z_00 = f(a_00) with the model's f; the same f named explicitly is accepted."""
    model = nn.Sequential(_conv(), nn.Tanh())
    a = dg.explain.conv_unit(model[0], _IMAGE, 1, 2, activation="identity")["a_12"]
    assert dg.explain.conv_unit(model, _IMAGE, 1, 2)["z_12"] == pytest.approx(np.tanh(a),
                                                                               abs=1e-15)
    assert dg.explain.conv_unit(model, _IMAGE, 1, 2, activation="tanh")["z_12"] \
        == pytest.approx(np.tanh(a), abs=1e-15)
    assert dg.explain.conv_unit(_conv(), _IMAGE, 1, 2)["z_12"] == max(a, 0.0)  # ReLU default
    assert dg.explain.conv_unit(_conv(), _IMAGE, 1, 2, activation="sigmoid")["z_12"] \
        == pytest.approx(1 / (1 + np.exp(-a)), abs=1e-15)

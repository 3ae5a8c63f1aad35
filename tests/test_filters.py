"""Hand-set feature detectors (§7.2) and one convolutional unit explained (eq. 7.3–7.4)."""

import json

import numpy as np
import pytest

import deltagrad as dg
from deltagrad.data import filters


def _step_image(column: int, size=(8, 9), vertical=True):
    """Dark (0) before ``column``, bright (1) from it on: a vertical edge (or, transposed,
    a horizontal one at that row)."""
    image = np.zeros(size)
    image[:, column:] = 1.0
    return image if vertical else image.T


@pytest.mark.parametrize("name", ["sobel_vertical", "prewitt_vertical"])
def test_a_vertical_edge_detector_fires_exactly_where_the_edge_is(name):
    """Unit (j, k) sees columns k…k+2; it straddles the edge at column c iff k ∈ {c−2, c−1},
    where a = Σ_rows (right − left) ≥ 3 > 0.5 = −w₀; elsewhere a = −0.5 and ReLU gives 0."""
    image = _step_image(5)
    z = filters.edge_detector(name)(image[None, None]).data[0, 0]
    fires = z > 0
    expected = np.zeros_like(fires)
    expected[:, [3, 4]] = True
    np.testing.assert_array_equal(fires, expected)
    # the horizontal detector does not fire on it, nor the vertical one on the opposite edge
    assert not np.any(filters.edge_detector(name.replace("vertical", "horizontal"))(
        image[None, None]).data > 0)
    assert not np.any(filters.edge_detector(name)((1 - image)[None, None]).data > 0)


def test_a_horizontal_edge_detector_fires_on_the_rows_of_a_horizontal_edge():
    image = _step_image(4, vertical=False)          # rows ≥ 4 bright, shape (9, 8)
    z = filters.edge_detector("sobel_horizontal")(image[None, None]).data[0, 0]
    np.testing.assert_array_equal(np.flatnonzero(z.max(axis=1) > 0), [2, 3])
    np.testing.assert_allclose(z[2], 4.0 - 0.5)    # 1 + 2 + 1 across the edge, minus 0.5


def test_the_laplacian_fires_on_a_bright_dot_s_neighbours_and_not_on_flat_ground():
    image = np.zeros((7, 7))
    image[3, 3] = 1.0
    a = dg.conv2d(image[None, None], filters.kernel("laplacian")[None, None]).data[0, 0]
    np.testing.assert_array_equal(a[2, 2], -4.0)
    assert a[1, 2] == a[2, 1] == 1.0 and a[0, 0] == 0.0


def test_kernels_are_copies_and_unknown_names_are_refused():
    k = filters.kernel("sobel_vertical")
    k[:] = 0
    assert filters.kernel("sobel_vertical")[1, 2] == 2.0
    with pytest.raises(ValueError, match="unknown kernel name 'sobel'"):
        filters.kernel("sobel")
    with pytest.raises(ValueError, match="threshold must be a finite number ≥ 0"):
        filters.edge_detector("laplacian", threshold=-1)


def test_explaining_one_unit_reproduces_the_engine_s_activation():
    rng = np.random.default_rng(0)
    conv = dg.nn.Conv2d(2, 3, 3, stride=2, padding=1, rng=0)
    conv.bias.data[:] = [0.1, -0.2, 0.3]
    image = rng.normal(size=(2, 7, 6))
    sol = dg.explain.conv_unit(conv, image, 2, 1, feature=1)
    a = conv(image[None]).data[0, 1, 2, 1]
    assert sol["a_21"] == a
    assert sol["z_21"] == max(a, 0.0)
    # the receptive field of unit (2, 1) at stride 2 is rows 5–7, columns 3–5 of the padded
    # image, i.e. rows 4–6 and columns 2–4 of the image (indexed from 1)
    assert sol["I_2(5,3)"] == image[1, 3, 1]
    assert sol["K_1(3,2)"] == conv.weight.data[1, 0, 2, 1]
    products = [v for key, v in sol.to_dict().items() if "·" in key]
    assert len(products) == 18
    assert sol["Σ"] == pytest.approx(sum(products), abs=1e-12)
    assert sol["Σ"] + sol["w_0"] == pytest.approx(a, abs=1e-12)
    assert sol["w_0"] == -0.2


def test_the_explanation_comes_in_every_format():
    image = _step_image(3, size=(5, 5))
    sol = dg.explain.conv_unit(filters.edge_detector("sobel_vertical"), image, 0, 1)
    text = sol.to_text(2)
    assert "a_01 =   3.50  =  Σ + w_0 (eq. 7.3)  =  4.00 + (-0.50)" in text
    assert "z_01 =   3.50  =  f(a_01) = max(a, 0) (eq. 7.4)  =  relu(3.50)" in text
    assert "I(1,3)·K(1,2)" in text
    assert "| `a_01` | 3.50 | Σ + w_0 (eq. 7.3) | 4.00 + (-0.50) |" in sol.to_markdown(2)
    assert r"I(1,3)\cdot K(1,2) &= 0.00" in sol.to_latex(2)
    assert json.loads(sol.to_json())["values"]["z_01"] == 3.5


def test_explain_conv_unit_refuses_what_it_cannot_show():
    conv = dg.nn.Conv2d(1, 2, 3)
    with pytest.raises(ValueError, match=r"j must be an integer in \[0, 2\], got 3"):
        dg.explain.conv_unit(conv, np.zeros((5, 5)), 3, 0)
    with pytest.raises(ValueError, match=r"image must have shape \(C, H, W\) with C = 1"):
        dg.explain.conv_unit(conv, np.zeros((1, 1, 5, 5)), 0, 0)
    with pytest.raises(ValueError, match=r"feature must be an integer in \[0, 1\]"):
        dg.explain.conv_unit(conv, np.zeros((5, 5)), 0, 0, feature=2)
    with pytest.raises(TypeError, match="expected a Conv2d"):
        dg.explain.conv_unit(dg.nn.Linear(2, 2), np.zeros((5, 5)), 0, 0)

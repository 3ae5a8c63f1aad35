"""Convolution and pooling (chapter 7) against PyTorch in float64, equivariance, the layers,
and the errors a student meets first."""

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import nn, ops

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _random_conv_case(seed):
    """Stride 1–3, padding 0–2, kernel 1–5 (not always square), channels 1–4, non-square
    inputs, with and without bias; the input is made large enough for the kernel."""
    rng = np.random.default_rng(seed)
    kh, kw = (int(k) for k in rng.integers(1, 6, size=2))
    stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
    padding = tuple(int(p) for p in rng.integers(0, 3, size=2))
    n, c, f = int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(1, 5))
    h = int(rng.integers(max(kh - 2 * padding[0], 1), 11))
    w = int(rng.integers(max(kw - 2 * padding[1], 1), 11))
    x = rng.normal(size=(n, c, h, w))
    weight = rng.normal(size=(f, c, kh, kw))
    bias = rng.normal(size=f) if seed % 3 else None
    return rng, x, weight, bias, stride, padding


def _report(ours, theirs, what):
    return f"{what}: ours\n{ours}\nvs PyTorch\n{theirs}"


@pytest.mark.parametrize("seed", range(30))
def test_conv2d_values_and_gradients_equal_pytorch(seed):
    rng, x, weight, bias, stride, padding = _random_conv_case(seed)
    ours = [dg.tensor(a, requires_grad=True) for a in (x, weight)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, weight)]
    if bias is not None:
        ours.append(dg.tensor(bias, requires_grad=True))
        theirs.append(torch.tensor(bias, requires_grad=True))
    y = dg.conv2d(*ours, stride=stride, padding=padding)
    ty = F.conv2d(*theirs, stride=stride, padding=padding)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-10, atol=1e-12,
                               err_msg=_report(y.data, ty, "output"))
    g = rng.normal(size=y.shape)
    y.backward(g)
    ty.backward(torch.tensor(g))
    for name, a, ta in zip(("x", "weight", "bias"), ours, theirs):
        np.testing.assert_allclose(a.grad, ta.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=_report(a.grad, ta.grad, f"∂E/∂{name}"))


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_values_and_gradients_equal_pytorch(seed, kind):
    rng = np.random.default_rng(100 + seed)
    kernel = tuple(int(k) for k in rng.integers(1, 5, size=2))
    stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
    padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
    h, w = (int(rng.integers(k, 11)) for k in kernel)
    x = rng.normal(size=(int(rng.integers(1, 4)), int(rng.integers(1, 5)), h, w))
    ours, theirs = dg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if kind == "max":
        y = dg.max_pool2d(ours, kernel, stride, padding)
        ty = F.max_pool2d(theirs, kernel, stride, padding)
    else:
        y = dg.avg_pool2d(ours, kernel, stride, padding)
        ty = F.avg_pool2d(theirs, kernel, stride, padding)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.normal(size=y.shape)
    y.backward(g)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_max_pool_sends_the_gradient_to_the_first_of_equal_maxima_as_pytorch():
    """After a ReLU many windows hold several zeros: the first one in the window gets δ."""
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 3, 3] = 1.0
    ours, theirs = dg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    dg.max_pool2d(ours, 2).sum().backward()
    F.max_pool2d(theirs, 2).sum().backward()
    np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())


def test_shifting_the_input_shifts_the_interior_of_the_feature_map():
    """Equivariance (§4.5.2, road 4): a_jk of the shifted image is a_(j−s)(k−t) of the
    original, wherever the receptive field stays inside both images."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 12, 11))
    conv = nn.Conv2d(3, 4, 3, rng=0)
    shifted = np.roll(x, (2, 1), axis=(2, 3))
    a, b = conv(x).data, conv(shifted).data
    np.testing.assert_allclose(b[:, :, 2:, 1:], a[:, :, :-2, :-1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_small_cnn_equals_the_same_network_in_pytorch(dtype):
    rng = np.random.default_rng(3)
    net = nn.Sequential(nn.Conv2d(2, 5, 3, padding=1, rng=0, dtype=dtype), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Conv2d(5, 4, (2, 3), stride=(1, 2), rng=1,
                                                   dtype=dtype),
                        nn.Tanh(), nn.AvgPool2d(2, stride=1), nn.Flatten(),
                        nn.Linear(4 * 2 * 1, 3, rng=2, dtype=dtype))
    tdtype = getattr(torch, dtype)
    torch_net = torch.nn.Sequential(
        torch.nn.Conv2d(2, 5, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(5, 4, (2, 3), stride=(1, 2)), torch.nn.Tanh(),
        torch.nn.AvgPool2d(2, stride=1), torch.nn.Flatten(), torch.nn.Linear(8, 3)).to(tdtype)
    with torch.no_grad():
        for p, tp in zip(net.parameters(), torch_net.parameters()):
            tp.copy_(torch.tensor(np.ascontiguousarray(p.data)))
    x = rng.normal(size=(4, 2, 8, 13)).astype(dtype)
    y = net(x)
    ty = torch_net(torch.tensor(x))
    assert y.dtype == np.dtype(dtype)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), **tol)
    g = rng.normal(size=y.shape).astype(dtype)
    y.backward(g)
    ty.backward(torch.tensor(g))
    for (name, p), tp in zip(net.named_parameters(), torch_net.parameters()):
        assert p.grad.dtype == np.dtype(dtype), name
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), err_msg=name, **tol)


def test_conv2d_cannot_be_differentiated_twice():
    x = dg.tensor(np.ones((1, 1, 3, 3)), requires_grad=True)
    y = dg.conv2d(x, np.ones((1, 1, 2, 2))).sum()
    with pytest.raises(RuntimeError, match="'conv2d' cannot be differentiated twice"):
        dg.grad(y, x, create_graph=True)


def test_layers_print_their_settings():
    assert repr(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)) == \
        "Conv2d(3, 8, kernel_size=3, stride=2, padding=1, bias=False)"
    assert repr(nn.Conv2d(1, 2, (3, 5))) == "Conv2d(1, 2, kernel_size=(3, 5))"
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2)"
    assert repr(nn.AvgPool2d(3, stride=1, padding=1)) == \
        "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    assert repr(nn.Dropout(0.25)) == "Dropout(p=0.25)"


def test_conv2d_initialisation_is_seeded_and_he_uniform():
    a, b = nn.Conv2d(2, 16, 3, rng=7), nn.Conv2d(2, 16, 3, rng=7)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    limit = np.sqrt(6 / (2 * 9))
    assert np.abs(a.weight.data).max() <= limit
    assert np.abs(a.weight.data).max() > 0.9 * limit
    assert nn.Conv2d(1, 1, 3, dtype="float32").weight.dtype == np.float32


def test_dropout_in_training_scales_the_kept_units_and_in_evaluation_passes_through():
    drop = nn.Dropout(0.25, rng=0)
    y = drop(np.ones((200, 50))).data
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.01  # 10,000 draws: the standard error is 0.0043
    np.testing.assert_array_equal(drop.eval()(np.ones((2, 3))).data, np.ones((2, 3)))
    again = nn.Dropout(0.25, rng=0)
    np.testing.assert_array_equal(again(np.ones((200, 50))).data, y)


def test_dropout_gradient_flows_only_through_the_kept_units():
    x = dg.tensor(np.ones((4, 6)), requires_grad=True)
    y = nn.Dropout(0.5, rng=1)(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.data)  # 2 where kept, 0 where dropped


# ---- the errors a student meets first --------------------------------------------------------

def test_an_image_batch_of_the_wrong_rank_is_refused():
    with pytest.raises(ValueError, match=r"Conv2d\(1, 4, kernel_size=3\): expects an image "
                                         r"batch of shape \(N, C, H, W\), got shape \(8, 8\)"):
        nn.Conv2d(1, 4, 3)(np.zeros((8, 8)))
    with pytest.raises(ValueError, match="conv2d: x must be an image batch"):
        dg.conv2d(np.zeros((5, 64)), np.zeros((1, 1, 3, 3)))


def test_a_channel_mismatch_names_both_counts():
    with pytest.raises(ValueError, match="Conv2d.*expects 3 input channels, got 1"):
        nn.Conv2d(3, 8, 3)(np.zeros((2, 1, 8, 8)))
    with pytest.raises(ValueError, match="kernels expect 3 input channels, got 1"):
        dg.conv2d(np.zeros((2, 1, 8, 8)), np.zeros((8, 3, 3, 3)))


def test_a_kernel_larger_than_the_padded_input_is_refused():
    with pytest.raises(ValueError, match="kernel 7×7 is larger than the padded input 6×6"):
        nn.Conv2d(1, 2, 7, padding=1)(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match="MaxPool2d.*kernel 3×3 is larger"):
        nn.MaxPool2d(3)(np.zeros((1, 1, 2, 2)))


def test_stride_zero_is_refused():
    with pytest.raises(ValueError, match="Conv2d: stride must be a positive integer"):
        nn.Conv2d(1, 2, 3, stride=0)
    with pytest.raises(ValueError, match="max_pool2d: stride must be a positive integer"):
        dg.max_pool2d(np.zeros((1, 1, 4, 4)), 2, stride=0)


def test_negative_padding_is_refused():
    with pytest.raises(ValueError, match="Conv2d: padding must be an integer ≥ 0"):
        nn.Conv2d(1, 2, 3, padding=-1)
    with pytest.raises(ValueError, match="conv2d: padding must be an integer ≥ 0"):
        dg.conv2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)), padding=(1, -1))


def test_other_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="Dropout: p must lie in"):
        nn.Dropout(1.0)
    with pytest.raises(TypeError, match="Conv2d.*input dtype float32 does not match"):
        nn.Conv2d(1, 1, 3)(dg.tensor(np.zeros((1, 1, 4, 4), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        dg.conv2d(np.zeros((1, 1, 4, 4)), np.zeros((2, 1, 3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="MaxPool2d: padding .* at most half the kernel"):
        nn.MaxPool2d(2, padding=2)
    with pytest.raises(ValueError, match="kernel_size must be an integer or a pair"):
        nn.Conv2d(1, 1, (3, 3, 3))


def test_the_primitives_are_registered_for_the_gradient_checks():
    for name in ("conv2d", "max_pool2d", "avg_pool2d"):
        assert name in ops.REGISTRY and not ops.REGISTRY[name].differentiable_twice

"""Random MLPs against PyTorch in float64: outputs and every parameter gradient to 1e-10."""

import warnings

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import nn

torch = pytest.importorskip("torch")

HIDDEN = ["tanh", "sigmoid", "relu", "identity", "step"]
LOSSES = ["sum_of_squares", "binary_cross_entropy", "cross_entropy"]
OUTPUT_FOR = {"sum_of_squares": ["identity", "sigmoid", "tanh"],
              "binary_cross_entropy": ["sigmoid"], "cross_entropy": ["softmax"]}
TORCH_ACT = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
             "identity": lambda a: a, "softmax": lambda a: torch.softmax(a, dim=-1),
             "step": lambda a: (a >= 0).double()}  # f(0) = 1, no gradient (eq. 5.2)


def _torch_error(loss, y, a, t):
    if loss == "sum_of_squares":
        return 0.5 * ((y - t) ** 2).sum()
    if loss == "binary_cross_entropy":
        return torch.nn.functional.binary_cross_entropy_with_logits(a, t, reduction="sum")
    return torch.nn.functional.cross_entropy(a, t, reduction="sum")


def _random_case(seed):
    rng = np.random.default_rng(seed)
    depth = rng.integers(1, 5)  # number of weight layers
    sizes = [int(s) for s in rng.integers(1, 17, size=depth + 1)]
    loss = LOSSES[seed % 3]
    if loss == "cross_entropy":
        sizes[-1] = max(sizes[-1], 2)
    hidden = [str(rng.choice(HIDDEN)) for _ in range(depth - 1)]
    output = str(rng.choice(OUTPUT_FOR[loss]))
    return rng, sizes, hidden, output, loss


@pytest.mark.parametrize("seed", range(20))
def test_random_mlp_matches_pytorch(seed):
    rng, sizes, hidden, output, loss = _random_case(seed)
    net = nn.MLP(sizes, hidden=hidden, output=output, rng=seed)
    N = int(rng.integers(1, 9))
    X = rng.normal(size=(N, sizes[0]))
    if loss == "cross_entropy":
        labels = rng.integers(0, sizes[-1], size=N)
        T_ours, T_torch = labels, torch.tensor(labels)
    else:
        T = rng.uniform(size=(N, sizes[-1]))
        T_ours, T_torch = T, torch.tensor(T)

    y = net(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.losses.NonCanonicalPairWarning)
        E = dg.losses.get(loss)(y, T_ours)
    E.backward()

    z = torch.tensor(X)
    weights = []
    for l, layer in enumerate(net.linears):
        W = torch.tensor(layer.weight.data, requires_grad=True)
        b = torch.tensor(layer.bias.data, requires_grad=True)
        weights += [W, b]
        a = z @ W.T + b
        act = hidden[l] if l < len(hidden) else output
        z = TORCH_ACT[act](a)
    E_torch = _torch_error(loss, z, a, T_torch)
    E_torch.backward()

    case = f"sizes={sizes} hidden={hidden} output={output} loss={loss}"
    np.testing.assert_allclose(y.data, z.detach().numpy(), rtol=1e-10, atol=1e-13, err_msg=case)
    assert E.item() == pytest.approx(E_torch.item(), rel=1e-10), case
    for (name, p), ref in zip(net.named_parameters(), weights):
        # below a step unit PyTorch records no gradient at all: ours is exactly zero there
        expected = np.zeros(p.shape) if ref.grad is None else ref.grad.numpy()
        np.testing.assert_allclose(p.grad, expected, rtol=1e-10, atol=1e-13,
                                   err_msg=f"{name}: ours vs PyTorch ({case})")


def test_random_cases_cover_every_activation_and_loss():
    seen_acts, seen_losses = set(), set()
    for seed in range(20):
        _, _, hidden, output, loss = _random_case(seed)
        seen_acts.update(hidden + [output])
        seen_losses.add(loss)
    assert seen_losses == set(LOSSES)
    assert {"tanh", "sigmoid", "relu", "identity", "softmax", "step"} <= seen_acts


def test_linear_layer_matches_torch_linear_including_batch_dims(rng):
    layer = nn.Linear(5, 3, rng=0)
    ref = torch.nn.Linear(5, 3).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(layer.weight.data))
        ref.bias.copy_(torch.tensor(layer.bias.data))
    X = rng.normal(size=(2, 4, 5))
    out = layer(X)
    G = rng.normal(size=out.shape)
    out.backward(grad=G)
    ref_out = ref(torch.tensor(X))
    ref_out.backward(torch.tensor(G))
    np.testing.assert_allclose(out.data, ref_out.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.weight.grad, ref.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad, ref.bias.grad.numpy(), rtol=1e-12)


def test_adam_and_sgd_momentum_match_torch(rng):
    """Five steps of each optimiser on the same quadratic: identical weights."""
    w0 = rng.normal(size=(3, 2))
    A = rng.normal(size=(2, 2))
    for ours_cls, ref_cls, kwargs in [
        (dg.optim.Adam, torch.optim.Adam, dict(lr=0.05, betas=(0.8, 0.95), eps=1e-6)),
        (dg.optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
        (dg.optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    ]:
        w = nn.Parameter(w0.copy())
        wt = torch.tensor(w0.copy(), requires_grad=True)
        opt, ref = ours_cls([w], **kwargs), ref_cls([wt], **kwargs)
        for _ in range(5):
            opt.zero_grad()
            ((w @ A) ** 2).sum().backward()
            opt.step()
            ref.zero_grad()
            ((wt @ torch.tensor(A)) ** 2).sum().backward()
            ref.step()
        np.testing.assert_allclose(w.data, wt.detach().numpy(), rtol=1e-12, err_msg=str(kwargs))

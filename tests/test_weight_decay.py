"""SGD(weight_decay), Adam(weight_decay) and AdamW against torch.optim in float64, step for
step; the decay's meaning checked by hand (eq. 4.1)."""

import numpy as np
import pytest
import torch

import deltagrad as dg

CASES = [
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.3)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.5)),
    ("AdamW", dict(lr=0.01)),  # torch's default λ = 0.01
    ("AdamW", dict(lr=0.02, betas=(0.85, 0.95), weight_decay=0.3)),
]


def _loss(w, x):
    """A non-quadratic error, so that every step's gradient differs."""
    return ((w[0] @ x).tanh() ** 2).sum() + (w[1].tanh() * w[1] + 0.5 * w[1] * w[1]).sum()


@pytest.mark.parametrize("name,kwargs", CASES)
def test_twenty_steps_equal_torch_optim(name, kwargs):
    rng = np.random.default_rng(len(str(kwargs)))
    start = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    x = rng.normal(size=(4, 6))
    ours = [dg.nn.Parameter(a.copy()) for a in start]
    theirs = [torch.tensor(a, requires_grad=True) for a in start]
    opt = getattr(dg.optim, name)(ours, **kwargs)
    ref = getattr(torch.optim, name)(theirs, **kwargs)
    for step in range(20):
        opt.zero_grad()
        _loss(ours, dg.tensor(x)).backward()
        opt.step()
        ref.zero_grad()
        _loss(theirs, torch.tensor(x)).backward()
        ref.step()
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-13, atol=1e-15,
                                       err_msg=f"{name} step {step + 1}: ours vs torch")


def test_sgd_weight_decay_is_gradient_descent_on_eq_4_1():
    """One SGD step with λ on E equals one plain step on Ẽ = E + (λ/2) wᵀw (eq. 4.1)."""
    w1, w2 = dg.nn.Parameter([1.0, -2.0]), dg.nn.Parameter([1.0, -2.0])
    decayed = dg.optim.SGD([w1], lr=0.1, weight_decay=0.5)
    plain = dg.optim.SGD([w2], lr=0.1)
    (w1 * 3.0).sum().backward()
    ((w2 * 3.0).sum() + 0.25 * (w2 * w2).sum()).backward()
    decayed.step()
    plain.step()
    np.testing.assert_allclose(w1.data, w2.data, rtol=1e-15)
    np.testing.assert_allclose(w1.data, [1.0 - 0.1 * (3 + 0.5), -2.0 - 0.1 * (3 - 1.0)])


def test_adamw_shrinks_every_weight_alike_and_adam_does_not():
    """Zero gradient from E: AdamW's step is exactly w(1 − ηλ) for every weight; Adam's step
    on λw is the same η·sign(w) for every weight (its first step is ±η), so a small weight
    loses relatively far more."""
    w = dg.nn.Parameter([10.0, 0.1])
    w.grad = np.zeros(2)
    dg.optim.AdamW([w], lr=0.01, weight_decay=0.1).step()
    np.testing.assert_allclose(w.data, [10.0 * 0.999, 0.1 * 0.999], rtol=1e-15)
    v = dg.nn.Parameter([10.0, 0.1])
    v.grad = np.zeros(2)
    dg.optim.Adam([v], lr=0.01, weight_decay=0.1).step()
    np.testing.assert_allclose(v.data, [10.0 - 0.01, 0.1 - 0.01], rtol=1e-6)


def test_fit_takes_adamw_by_name():
    net = dg.nn.MLP("2-3-1", rng=0)
    X = np.random.default_rng(0).normal(size=(8, 2))
    dg.fit(net, X, X[:, :1], optimizer="adamw", lr=0.01, epochs=2, progress=False)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
@pytest.mark.parametrize("bad", [-0.1, float("nan"), "0.1"])
def test_a_bad_weight_decay_is_a_clear_error(name, bad):
    with pytest.raises(ValueError, match=f"{name}: weight_decay must be a finite number ≥ 0"):
        getattr(dg.optim, name)([dg.nn.Parameter([1.0])], lr=0.1, weight_decay=bad)


def test_repr_shows_the_decay():
    p = [dg.nn.Parameter([1.0])]
    assert repr(dg.optim.AdamW(p)) == "AdamW(lr=0.001, betas=(0.9, 0.999), eps=1e-08, " \
                                      "weight_decay=0.01)"
    assert "weight_decay" not in repr(dg.optim.Adam(p))


def test_an_optimizer_refuses_a_parameter_listed_twice_or_a_model():
    """A parameter listed twice would be updated twice per step (a new-user review: SGD on
    [p, p] gave 0.6 where one step gives 0.8; PyTorch warns); a model passed for its
    parameters is named."""
    p = dg.nn.Parameter([1.0])
    for make in (dg.optim.SGD, dg.optim.Adam, dg.optim.AdamW):
        with pytest.raises(ValueError, match="parameter 1 is parameter 0 again"):
            make([p, p], lr=0.1)
        with pytest.raises(TypeError, match=r"model.parameters\(\).*got the Linear itself"):
            make(dg.nn.Linear(2, 1), lr=0.1)

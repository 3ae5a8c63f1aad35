"""Universal approximation (§1.2.1): a one-hidden-layer sigmoid network built from bumps, each
the difference of two steep sigmoids, with no training — and its trained counterpart."""

from __future__ import annotations

import numpy as np

from ..nn.container import MLP


def bump_network(f, interval=(0.0, 2 * np.pi), M: int = 100, steepness: float = 20.0) -> MLP:
    """A 1-M-1 sigmoid network approximating f on ``interval`` from M/2 bumps.

    The interval is cut into M/2 bins of width h with centres c_i; bump i is
    σ(s(x − l_i)) − σ(s(x − r_i)) with s = steepness / h (a "soft step" up at the left edge
    and down at the right), and its height is the output weight ±f(c_i). The outermost edges
    lie one bin outside the interval so that the ends are approximated like the middle.
    """
    if not isinstance(M, (int, np.integer)) or M < 2 or M % 2:
        raise ValueError(f"bump_network: M must be an even number ≥ 2 (two units per bump), "
                         f"got {M!r}")
    a, b = (float(v) for v in interval)
    if not b > a:
        raise ValueError(f"bump_network: interval must be (a, b) with b > a, got {interval!r}")
    if not np.isfinite(steepness) or steepness <= 0:
        raise ValueError(f"bump_network: steepness must be positive, got {steepness!r}")
    bins = M // 2
    h = (b - a) / bins
    edges = a + h * np.arange(bins + 1)
    left, right = edges[:-1].copy(), edges[1:].copy()
    left[0], right[-1] = a - h, b + h
    centres = a + h * (np.arange(bins) + 0.5)
    heights = np.array([float(f(c)) for c in centres])
    s = steepness / h
    net = MLP([1, M, 1], hidden="sigmoid", output="identity", rng=0)
    W1 = np.empty((M, 1))
    b1 = np.empty(M)
    W2 = np.empty((1, M))
    W1[0::2, 0], b1[0::2], W2[0, 0::2] = s, -s * left, heights    # up at l_i
    W1[1::2, 0], b1[1::2], W2[0, 1::2] = s, -s * right, -heights  # down at r_i
    net.linears[0].weight.data[...] = W1
    net.linears[0].bias.data[...] = b1
    net.linears[1].weight.data[...] = W2
    net.linears[1].bias.data[...] = 0.0
    return net


def trained_network(f, interval=(0.0, 2 * np.pi), M: int = 10, samples: int = 400,
                    seed: int = 0, iterations: int = 2000, start: str = "random") -> MLP:
    """The trained counterpart: a 1-M-1 sigmoid network fitted by L-BFGS to f on a grid of
    ``samples`` points, for at most ``iterations`` iterations (fewer when L-BFGS converges).

    ``start="random"`` begins from random soft steps spread over the interval; ``"bumps"``
    from :func:`bump_network` (M even), so training refines the construction.
    """
    from .. import _validate as check
    from .. import losses
    from ..optim.minimize import minimize

    start = check.choice(start, ("random", "bumps"), "start", "trained_network")
    x = np.linspace(*interval, samples)[:, None]
    t = np.array([float(f(v)) for v in x[:, 0]])[:, None]
    if start == "bumps":
        net = bump_network(f, interval, M=M)
    else:
        scale = (interval[1] - interval[0]) / 2
        centre = (interval[0] + interval[1]) / 2
        net = MLP([1, M, 1], hidden="sigmoid", output="identity", rng=seed)
        net.linears[0].weight.data[...] *= 4 / scale  # spread the soft steps over the interval
        net.linears[0].bias.data[...] = -net.linears[0].weight.data[:, 0] * (
            centre + scale * np.random.default_rng(seed).uniform(-1, 1, M))
    minimize(net, lambda m: losses.sum_of_squares(m(x), t), method="L-BFGS-B",
             maxiter=iterations)
    return net


def sup_error(net: MLP, f, interval=(0.0, 2 * np.pi), points: int = 2001) -> float:
    """max |y(x) − f(x)| on a fine grid of the interval."""
    x = np.linspace(*interval, points)[:, None]
    from .._state import no_grad

    with no_grad():
        y = net(x).data[:, 0]
    return float(np.max(np.abs(y - np.array([float(f(v)) for v in x[:, 0]]))))

"""Bidirectional recurrent layers: one training step (forward + BPTT through both directions)
of deltagrad's RNN/LSTM(bidirectional=True) against torch.nn's, and a minimal hand-written
NumPy BPTT run on the sequence and on its reversal, side by side in one process.

One thread each (OPENBLAS_NUM_THREADS=1, torch.set_num_threads(1)); CPU time
(time.process_time), interleaved rounds, best of R. Prints the ratios ours/PyTorch and
ours/NumPy, and the same for one direction (the cost of reading the sequence backwards).
Run with ``OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bidirectional.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from mlp import race  # noqa: E402  (the one interleaved best-of-R timer)
from rnn import numpy_lstm_step, numpy_rnn_step, ours_step, torch_step  # noqa: E402

from deltagrad import nn  # noqa: E402

SHAPES = [(64, 100, 2, 64), (32, 50, 128, 256)]  # (N, T, D_x, D_h)


def numpy_both(minimal, forward, backward, x, g, D_h):
    """The minimal step on x and, with the reverse weights, on x read backwards."""
    minimal(*forward, x, g[:, :, :D_h])
    minimal(*backward, x[:, ::-1], g[:, ::-1, D_h:])


def bench(kind: str, shape, bidirectional: bool, repeats: int) -> dict:
    N, T, D_x, D_h = shape
    rng = np.random.default_rng(0)
    ours = getattr(nn, kind)(D_x, D_h, bidirectional=bidirectional, rng=0)
    theirs = getattr(torch.nn, kind)(D_x, D_h, batch_first=True, bidirectional=bidirectional,
                                     dtype=torch.float64)
    directions = 2 if bidirectional else 1
    x = rng.normal(size=(N, T, D_x))
    g = rng.normal(size=(N, T, directions * D_h))
    weights = [tuple(p.data for p in ours.layer_parameters(0, d).values())[:3]
               for d in range(directions)]
    minimal = numpy_lstm_step if kind == "LSTM" else numpy_rnn_step
    if bidirectional:
        def numpy_step():
            numpy_both(minimal, weights[0], weights[1], x, g, D_h)
    else:
        def numpy_step():
            minimal(*weights[0], x, g)
    xt, gt = torch.tensor(x), torch.tensor(g)
    return race({"deltagrad": lambda: ours_step(ours, x, g),
                 "pytorch": lambda: torch_step(theirs, xt, gt), "numpy": numpy_step}, repeats,
                clock=time.process_time)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args()
    torch.set_num_threads(1)
    repeats = 3 if args.quick else 10
    print(f"torch {torch.__version__}, 1 thread; float64; CPU time, best of {repeats}")
    print(f"{'layer':5} {'directions':10} {'shape (N,T,Dx,Dh)':18} {'deltagrad':>10} "
          f"{'pytorch':>10} {'numpy':>10} {'ours/torch':>10} {'ours/numpy':>10}")
    for kind in ("RNN", "LSTM"):
        for shape in SHAPES:
            for bidirectional in (False, True):
                t = bench(kind, shape, bidirectional, repeats)
                print(f"{kind:5} {2 if bidirectional else 1:10} {str(shape):18} "
                      f"{t['deltagrad'] * 1e3:8.2f}ms {t['pytorch'] * 1e3:8.2f}ms "
                      f"{t['numpy'] * 1e3:8.2f}ms {t['deltagrad'] / t['pytorch']:10.2f} "
                      f"{t['deltagrad'] / t['numpy']:10.2f}", flush=True)


if __name__ == "__main__":
    main()

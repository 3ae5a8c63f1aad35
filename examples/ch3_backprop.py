"""Chapter 3: the 2-3-2-1 network of §3.2, its δ's from the engine, and practice question 1
solved step by step (§3.4)."""

import numpy as np

import deltagrad as dg
from deltagrad import nn

net = nn.MLP("2-3-2-1", hidden=["tanh", "sigmoid"], output="identity", rng=0)
solution = dg.explain.backprop(net, [0.5, -1.0], [0.3], loss="sum_of_squares", lr=0.1)
values = solution.to_dict()
print("δ^(3)_1 =", round(values["delta^(3)_1"], 6), " δ^(1) =",
      np.round([values[f"delta^(1)_{j}"] for j in (1, 2, 3)], 6))
print(dg.explain.question(1).to_text())

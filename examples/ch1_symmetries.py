"""Chapter 1: a 1-2-1 tanh network, its sign-flip and interchange symmetries (§1.3), and a
general feed-forward graph with a skip connection (§1.2.2)."""

import numpy as np

from deltagrad import analysis, nn

net = nn.MLP("1-2-1", hidden="tanh", rng=0)
x = np.linspace(-2, 2, 5)[:, None]
flipped = analysis.sign_flip(net, layer=1, unit=0)          # Network B of §1.3.2
swapped = analysis.interchange(net, layer=1, i=0, j=1)       # Network C of §1.3.3
print("y_A:", net(x).data[:, 0].round(6))
print("y_B:", flipped(x).data[:, 0].round(6))
print("y_C:", swapped(x).data[:, 0].round(6))
count = sum(1 for _ in analysis.equivalent_networks(net))
print(f"equivalent weight vectors: {count} = M!·2^M with M = 2")

skip = nn.FeedForward({"h": "tanh", "y": "identity"},
                      [("x1", "h"), ("h", "y"), ("x1", "y")], rng=0)   # eq. 1.8
print("skip-layer network:", skip, "output", skip(x).data[:, 0].round(4))

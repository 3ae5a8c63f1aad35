"""Chapter 2: sum-of-squares regression on scikit-learn's diabetes data, batch gradient descent
(eq. 2.20) against a quasi-Newton method, and the noise precision β_ML (eq. 2.6)."""

import deltagrad as dg
from deltagrad import nn
from deltagrad.data import load_tabular

X, T = load_tabular("diabetes")  # inputs and target standardised; T is a column (442, 1)
for optimizer, kwargs in (("sgd", {"lr": 1e-3}), ("lbfgs", {})):
    net = nn.MLP("10-8-1", hidden="tanh", rng=0)
    history = dg.fit(net, X, T, optimizer=optimizer, epochs=100, progress=False, **kwargs)
    print(f"{optimizer:>6}: E/N after {history.epochs} iterations = {history.error[-1]:.4f}")
beta = dg.losses.noise_precision(dg.predict(net, X), T)
print(f"beta_ML = {beta:.3f}  (1/beta = {1 / beta:.3f}, eq. 2.6)")

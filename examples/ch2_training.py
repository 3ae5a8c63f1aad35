"""Chapter 2: sum-of-squares regression on scikit-learn's diabetes data, batch gradient descent
(eq. 2.20) against a quasi-Newton method, and the noise precision β_ML (eq. 2.6)."""

from sklearn.datasets import load_diabetes

import deltagrad as dg
from deltagrad import nn

X, t = load_diabetes(return_X_y=True)
X = (X - X.mean(0)) / X.std(0)
T = ((t - t.mean()) / t.std())[:, None]
for optimizer, kwargs in (("sgd", {"lr": 1e-3}), ("lbfgs", {})):
    net = nn.MLP("10-8-1", hidden="tanh", rng=0)
    history = dg.fit(net, X, T, optimizer=optimizer, epochs=100, progress=False, **kwargs)
    print(f"{optimizer:>6}: E/N after {history.epochs} iterations = {history.error[-1]:.4f}")
beta = dg.losses.noise_precision(dg.predict(net, X), T)
print(f"beta_ML = {beta:.3f}  (1/beta = {1 / beta:.3f}, eq. 2.6)")

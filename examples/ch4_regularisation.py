"""Chapter 4: weight decay against the consistent Gaussian prior, and early stopping (§4.4),
on scikit-learn's breast cancer data."""

import deltagrad as dg
from deltagrad import nn
from deltagrad.callbacks import EarlyStopping
from deltagrad.data import load_tabular
from deltagrad.regularizers import ConsistentGaussianPrior, WeightDecay

X, labels = load_tabular("breast_cancer")  # 569 patterns, 30 standardised inputs
T = labels[:, None].astype(float)
for name, prior in (("weight decay", WeightDecay(0.5)),
                    ("consistent prior", ConsistentGaussianPrior([0.5, 0.05]))):
    net = nn.MLP("30-16-1", hidden="tanh", output="sigmoid", rng=0)
    history = dg.fit(net, X, T, loss="binary_cross_entropy", optimizer="adam", lr=0.01,
                     epochs=300, batch_size=32, validation_split=0.25, regularizer=prior,
                     callbacks=[EarlyStopping(patience=10)], progress=False)
    print(f"{name:>16}: stopped at epoch {history.epochs}, kept epoch "
          f"{history.restored_epoch}, validation E/N {min(history.val_error):.4f}")

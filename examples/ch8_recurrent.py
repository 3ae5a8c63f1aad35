"""Chapters 8–10: the §9.3 worked BPTT solution and an LSTM on the adding problem (the
character-level language model is examples/char_lm.py)."""

import numpy as np

import deltagrad as dg
from deltagrad import nn

# §9.3: a 2-2-1 RNN, two steps, every number of the backward pass
rnn, out = nn.RNN(2, 2), nn.Linear(2, 1)
rnn.W_xh.data[:] = [[0.5, 0.1], [0.2, 0.4]]
rnn.W_hh.data[:] = [[0.3, 0.6], [0.7, 0.1]]
rnn.b_h.data[:] = 0.1
out.weight.data[:] = [[0.8, 0.4]]
out.bias.data[:] = 0.0
solution = dg.explain.bptt(rnn, out, [[1, 0], [0, 1]], [[0.5], [0.9]], lr=0.1)
print("δ_h(1) =", [round(solution[f"delta_h^(1)[{j}]"], 6) for j in (1, 2)],
      " W_hh new =", round(solution["W_hh[1,1] new"], 6))

# the adding problem with T = 30: the LSTM learns what the marked numbers sum to
train, test = dg.data.adding_problem(960, 30, seed=0), dg.data.adding_problem(300, 30, seed=1)
net = nn.RecurrentNetwork(nn.LSTM(2, 16, rng=0), nn.Linear(16, 1, rng=1), many_to_one=True)
dg.fit(net, train.X, train.y, optimizer="adam", lr=0.01, epochs=12, batch_size=32,
       clip_grad_norm=1.0, progress=False)
mse = float(np.mean((dg.predict(net, test.X) - test.y) ** 2))
print(f"adding problem, T = 30: LSTM test MSE {mse:.4f} (predicting the mean: "
      f"{test.baseline:.4f})")

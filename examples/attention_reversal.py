"""Chapter 11: a one-layer transformer learns to reverse digit sequences (lengths 10–20), and
its attention weights show how: output position n attends to input position 19 − n.

    PYTHONPATH=src python examples/attention_reversal.py
"""

import numpy as np
from threadpoolctl import threadpool_limits

import deltagrad as dg
from deltagrad.analysis import sequences
from deltagrad.data import digit_tasks

with threadpool_limits(1):  # small matrix products: one BLAS thread is the fastest
    result = sequences.digit_task("reversal", n_train=2000, epochs=6, seed=0)
print(f"held-out token accuracy: {100 * result.accuracy:.2f}% "
      f"(trained in {result.seconds:.1f} s)")

ids = result.X_test[:1]
predicted = result.model(ids).data.argmax(-1)[0]
digits = ids[0][ids[0] != digit_tasks.PAD]
print("input:   ", " ".join(map(str, digits)))
print("reversed:", " ".join(map(str, predicted[:len(digits)])))

weights = result.model.attention_maps(ids)[0][0].mean(axis=0)  # (T, T), averaged over heads
print("each answer position's most attended input:", np.argmax(weights, axis=1)[:len(digits)])
print(dg.explain.attention_head([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
                                [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
                                [[1.0, 2.0], [0.0, -1.0], [2.0, 0.5]]).to_text(precision=4)
      .split("Weighted sum")[0])

"""Chapter 7 and §4.5: which road to invariance holds when a handwritten digit moves?

Trains an MLP, the MLP with augmentation (a fresh random shift/rotation at every
presentation) and a small CNN on scikit-learn's digits padded to 12×12, then tests them on
shifted and rotated copies of the test set. `deltagrad tour --only regularisation` runs all six
models of the experiment (with tangent propagation and Hu moments) and draws the figures.
"""

from threadpoolctl import threadpool_limits

from deltagrad.analysis import invariance

with threadpool_limits(1):  # small matrix products: one BLAS thread is the fastest
    result = invariance.run(["mlp", "mlp+aug", "cnn"], epochs=12)
print(result.table())
for name in result.accuracy:
    print(f"{name:8s} loses {100 * result.drop(name, 'shift 2'):5.1f} points under a 2-pixel shift")
print(result.models["cnn"])

"""fit(): batch/on-line/minibatch descent, validation, callbacks, clipping, divergence, errors."""

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import nn, plot
from deltagrad.callbacks import Callback, EarlyStopping, LearningRateScheduler


def _toy_regression(rng, N=60):
    X = rng.uniform(-1, 1, size=(N, 2))
    T = np.tanh(X @ np.array([[1.5], [-0.7]])) + 0.05 * rng.normal(size=(N, 1))
    return X, T


class _Count(Callback):
    def __init__(self):
        self.batches, self.epochs = 0, 0

    def on_batch_end(self, trainer, epoch, batch, error):
        self.batches += 1

    def on_epoch_end(self, trainer, epoch, logs):
        self.epochs += 1


@pytest.mark.parametrize("batch_size,steps_per_epoch", [(None, 1), (1, 60), (16, 4), (60, 1)])
def test_batch_online_and_minibatch_take_the_right_number_of_steps(rng, batch_size,
                                                                   steps_per_epoch):
    X, T = _toy_regression(rng)
    count = _Count()
    history = dg.fit(nn.MLP("2-4-1", rng=0), X, T, lr=0.01, epochs=3, batch_size=batch_size,
                     callbacks=[count], progress=False)
    assert count.batches == 3 * steps_per_epoch and count.epochs == 3 == history.epochs
    assert history.error[-1] < history.error[0]


def test_full_batch_fit_is_exactly_the_hand_written_loop(rng):
    """batch_size=None: w ← w − η ∇E(w) over all patterns (eq. 2.20), step for step."""
    X, T = _toy_regression(rng)
    ours, reference = nn.MLP("2-4-1", rng=0), nn.MLP("2-4-1", rng=0)
    dg.fit(ours, X, T, optimizer="sgd", lr=0.01, epochs=5, progress=False)
    opt = dg.optim.SGD(reference.parameters(), lr=0.01)
    for _ in range(5):
        opt.zero_grad()
        dg.losses.sum_of_squares(reference(X), T).backward()
        opt.step()
    for p, q in zip(ours.parameters(), reference.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_history_records_every_field_and_plots(rng, tmp_path):
    X, T = _toy_regression(rng)
    h = dg.fit(nn.MLP("2-4-1", rng=0), X, T, optimizer="adam", lr=0.01, epochs=8,
               batch_size=10, validation_split=0.25,
               regularizer=dg.regularizers.WeightDecay(0.01), progress=False)
    for key in ("error", "val_error", "penalty", "grad_norm", "lr", "time"):
        values = getattr(h, key)
        assert len(values) == 8 and np.all(np.isfinite(values)), key
    assert np.all(np.diff(h.time) > 0) and h.lr == [0.01] * 8
    assert h.best_epoch == int(np.argmin(h.val_error)) + 1
    path = tmp_path / "curves.png"
    h.plot(path)
    assert path.stat().st_size > 10_000


def test_validation_split_holds_out_a_seeded_fraction(rng):
    X, T = _toy_regression(rng, N=40)
    h1 = dg.fit(nn.MLP("2-3-1", rng=0), X, T, epochs=2, validation_split=0.25, seed=3,
                progress=False)
    h2 = dg.fit(nn.MLP("2-3-1", rng=0), X, T, epochs=2, validation_split=0.25, seed=3,
                progress=False)
    assert h1.val_error == h2.val_error
    net = nn.MLP("2-3-1", rng=0)
    h3 = dg.fit(net, X, T, epochs=1, validation_data=(X[:10], T[:10]), progress=False)
    assert h3.val_error[0] == pytest.approx(dg.evaluate(net, X[:10], T[:10]))


def test_early_stopping_stops_after_patience_and_restores_the_best_weights(rng):
    """§4.4.1 on a net that overfits: stop `patience` epochs after the lowest validation
    error, and leave the weights of that epoch."""
    X = rng.uniform(-1, 1, size=(30, 1))
    T = np.sin(3 * X) + 0.3 * rng.normal(size=X.shape)
    net = nn.MLP("1-40-1", rng=0)
    stop = EarlyStopping(patience=5)
    h = dg.fit(net, X, T, optimizer="adam", lr=0.02, epochs=2000, validation_split=0.3,
               callbacks=[stop], progress=False)
    best = int(np.argmin(h.val_error)) + 1
    assert h.epochs == best + 5 < 2000
    assert h.stopped_epoch == h.epochs and h.restored_epoch == best == h.best_epoch
    Xv_error = min(h.val_error)
    order = np.random.default_rng(0).permutation(30)  # fit's split with seed 0
    val = order[:9]
    assert dg.evaluate(net, X[val], T[val]) == Xv_error


def test_learning_rate_scheduler_sets_the_rate_each_epoch(rng):
    X, T = _toy_regression(rng)
    h = dg.fit(nn.MLP("2-3-1", rng=0), X, T, lr=0.1, epochs=4, progress=False,
               callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 / epoch)])
    assert h.lr == pytest.approx([0.1, 0.05, 0.1 / 3, 0.025])


def test_clip_grad_norm_keeps_the_direction_and_clip_value_bounds_components():
    w = nn.Parameter([0.0, 0.0, 0.0])
    w.grad = np.array([3.0, 0.0, 4.0])
    assert nn.utils.clip_grad_norm_([w], 2.5) == 5.0
    np.testing.assert_allclose(w.grad, [1.5, 0.0, 2.0])  # θ g/‖g‖ (eq. 9.21)
    assert nn.utils.clip_grad_norm_([w], 10.0) == pytest.approx(2.5)
    np.testing.assert_allclose(w.grad, [1.5, 0.0, 2.0])  # below θ: unchanged
    nn.utils.clip_grad_value_([w], 1.0)
    np.testing.assert_allclose(w.grad, [1.0, 0.0, 1.0])


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_divergence_stops_with_a_clear_error_and_finite_weights(rng):
    X, T = _toy_regression(rng)
    net = nn.MLP("2-8-1", hidden="tanh", rng=0)
    with pytest.raises(dg.DivergenceError, match=r"diverged at epoch \d+, batch \d+"):
        dg.fit(net, X, T, lr=1e3, epochs=50, batch_size=10, progress=False)
    assert all(np.all(np.isfinite(p.data)) for p in net.parameters())
    clipped = nn.MLP("2-8-1", hidden="tanh", rng=0)
    h = dg.fit(clipped, X, T, lr=1e3, epochs=50, batch_size=10, clip_grad_norm=1.0,
               progress=False)
    assert np.all(np.isfinite(h.error))
    assert all(np.all(np.isfinite(p.data)) for p in clipped.parameters())


def test_predict_and_evaluate(rng):
    X, T = _toy_regression(rng)
    net = nn.MLP("2-3-1", rng=0)
    np.testing.assert_allclose(dg.predict(net, X, batch_size=7), net(X).data)
    assert dg.evaluate(net, X, T) == pytest.approx(
        dg.losses.sum_of_squares(net(X), T).item() / len(X))


def test_optimizer_names(rng):
    X, T = _toy_regression(rng)
    for name in ("sgd", "adam", "cg", "bfgs", "lbfgs", "newton-cg", "trust-ncg", "scg"):
        kwargs = {"lr": 0.01} if name in ("sgd", "adam") else {}
        h = dg.fit(nn.MLP("2-3-1", rng=0), X, T, optimizer=name, epochs=5, progress=False,
                   **kwargs)
        assert 1 <= h.epochs <= 5 and h.error[-1] < h.error[0], name


def test_progress_bar_shows_the_errors(rng, capsys):
    X, T = _toy_regression(rng)
    dg.fit(nn.MLP("2-3-1", rng=0), X, T, epochs=3, validation_split=0.2, progress=True)
    err = capsys.readouterr().err
    assert "3/3" in err and "val_error=" in err and "error=" in err


@pytest.mark.parametrize("kwargs,match", [
    (dict(validation_split=1.5), r"validation_split must be a fraction in \(0, 1\), got 1.5"),
    (dict(validation_split=0.0), r"validation_split must be a fraction in \(0, 1\)"),
    (dict(batch_size=0), r"batch_size must be an integer in \[1, 60\]"),
    (dict(batch_size=61), r"batch_size must be an integer in \[1, 60\]"),
    (dict(loss="hinge"), r"unknown loss 'hinge'; expected one of \['binary_cross_entropy', "
                         r"'cross_entropy', 'sum_of_squares'\]"),
    (dict(optimizer="rmsprop"), r"unknown optimizer 'rmsprop'; expected one of \['adam', 'adamw', "
                                r"'bfgs', 'cg', 'l-bfgs-b', 'lbfgs', .*\] or an Optimizer "
                                r"instance"),
    (dict(optimizer="lbfgs", batch_size=10), r"batch method 'lbfgs' uses the full batch"),
    (dict(epochs=0), r"epochs must be a positive integer"),
    (dict(regularizer=dg.regularizers.ConsistentGaussianPrior([1.0])),
     r"1 alphas given but the model has 2 layers"),
])
def test_bad_arguments(rng, kwargs, match):
    X, T = _toy_regression(rng)
    with pytest.raises(ValueError, match=match):
        dg.fit(nn.MLP("2-3-1"), X, T, progress=False, **kwargs)


def test_bad_data_is_refused_before_training(rng):
    X, T = _toy_regression(rng)
    net = nn.MLP("2-3-1", rng=0)
    before = net.state_dict()
    with pytest.raises(ValueError, match=r"X has 60 patterns but T has 59"):
        dg.fit(net, X, T[:-1], progress=False)
    for bad, name in ((np.nan, "X"), (np.inf, "T")):
        X2, T2 = X.copy(), T.copy()
        (X2 if name == "X" else T2)[3, 0] = bad
        with pytest.raises(ValueError, match=rf"fit: {name} contains NaN or infinite values"):
            dg.fit(net, X2, T2, progress=False)
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_minimize_method_names_are_checked():
    with pytest.raises(ValueError,
                       match=r"unknown method 'newton'; expected one of \['bfgs', 'cg', "):
        dg.optim.minimize(nn.Linear(1, 1), lambda m: m(np.ones((1, 1))).sum(), method="newton")


def test_plot_module_uses_agg():
    import matplotlib

    plot._pyplot()
    assert matplotlib.get_backend().lower() == "agg"


def test_predict_and_evaluate_run_dropout_in_evaluation_mode_and_restore_the_mode():
    """Keras semantics: fit trains with dropout active; predict/evaluate/accuracy use the
    network without it (identical outputs on repeated calls), and the modules' own modes
    come back afterwards."""
    net = nn.Sequential(nn.Linear(4, 16, rng=0), nn.Tanh(), nn.Dropout(0.5, rng=0),
                        nn.Linear(16, 2, rng=1))
    X = np.random.default_rng(0).normal(size=(10, 4))
    first, second = dg.predict(net, X), dg.predict(net, X)
    np.testing.assert_array_equal(first, second)
    net.eval()
    np.testing.assert_array_equal(first, net(X).data)
    net.train()
    assert all(m.training for m in net.modules())
    assert not np.array_equal(net(X).data, first)  # dropout active in training mode
    dg.evaluate(net, X, np.zeros((10, 2)))
    assert all(m.training for m in net.modules())


@pytest.mark.parametrize("labels, error, words", [
    (lambda p: p.astype(str), TypeError, r"accuracy: labels must be integer classes 0 … 2"),
    (lambda p: p + 0.4, ValueError, r"accuracy: labels must be whole numbers"),
    (lambda p: p + 1, ValueError, r"accuracy: label 3 is out of range for 3 classes"),
])
def test_accuracy_refuses_labels_it_cannot_score(labels, error, words):
    """Strings, fractions and 1-based labels would otherwise compare unequal everywhere and
    give a plausible 0.0 (or a wrong fraction) with no word."""
    X = np.random.default_rng(0).normal(size=(6, 2))
    net = nn.MLP("2-3", output="softmax", rng=0)
    predicted = dg.predict(net, X).argmax(1)
    predicted[0] = 2  # so that one label is the last class
    with pytest.raises(error, match=words):
        dg.accuracy(net, X, labels(predicted))


def test_accuracy_with_one_output_refuses_plus_minus_one_labels():
    X = np.random.default_rng(0).normal(size=(6, 2))
    net = nn.MLP("2-1", output="sigmoid", rng=0)
    with pytest.raises(ValueError, match=r"label -1 is out of range for 2 classes"):
        dg.accuracy(net, X, np.array([1, -1, 1, -1, 1, -1]))


def test_evaluation_functions_name_themselves_in_errors():
    X = np.full((3, 2), np.nan)
    for call, name in ((lambda: dg.predict(nn.MLP("2-2"), X), "predict"),
                       (lambda: dg.evaluate(nn.MLP("2-2"), X, np.zeros((3, 2))), "evaluate"),
                       (lambda: dg.accuracy(nn.MLP("2-2"), X, [0, 1, 0]), "accuracy")):
        with pytest.raises(ValueError, match=rf"^{name}: X contains NaN"):
            call()


def test_a_bare_recurrent_layer_is_refused_with_the_fix():
    lstm = nn.LSTM(2, 3, rng=0)
    with pytest.raises(TypeError, match=r"predict: the model LSTM must return one Tensor, got "
                                        r"tuple .*nn.RecurrentNetwork\(layer, output\)"):
        dg.predict(lstm, np.zeros((3, 10, 2)))
    with pytest.raises(TypeError, match=r"fit: the model LSTM must return one Tensor"):
        dg.fit(lstm, np.zeros((4, 5, 2)), np.zeros((4, 5, 3)), epochs=1, progress=False)

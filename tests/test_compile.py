"""dg.compile: twenty replayed steps equal twenty eager steps to the bit (every kind of network,
every optimiser, the regularisers, Dropout's random numbers), the guards retrace where eager
would compute something else, and verify= catches a step that cannot be replayed."""

import warnings

import numpy as np
import pytest

import deltagrad as dg
from deltagrad import nn


def _twins(make):
    """Two identical (model, optimiser, extra) set-ups: one for eager, one compiled."""
    return make(), make()


def _run(setup, step_of, batches, compiled: bool):
    model, opt, extra = setup
    step = step_of(model, opt, extra)
    if compiled:
        step = dg.compile(step)
    errors = [step(*batch).data.copy() for batch in batches]
    return step, errors, [(p.data.copy(), p.grad.copy()) for p in model.parameters()]


def assert_replay_equals_eager(make, step_of, batches, manual_seed=None):
    """Eager and compiled twins over the same batches: E, every weight and every gradient
    equal bit for bit, and all but the first one or two calls (the recordings) were replays."""
    eager_setup, compiled_setup = _twins(make)
    if manual_seed is not None:
        dg.manual_seed(manual_seed)
    _, eager_errors, eager_params = _run(eager_setup, step_of, batches, compiled=False)
    if manual_seed is not None:
        dg.manual_seed(manual_seed)
    step, errors, params = _run(compiled_setup, step_of, batches, compiled=True)
    assert step.fallback_reason is None, step.fallback_reason
    assert step.replays == len(batches) - (2 if step._last.recorder.constants else 1)
    for k, (a, b) in enumerate(zip(eager_errors, errors)):
        assert np.array_equal(a, b), f"step {k + 1}: E eager {a} vs replayed {b}"
    for k, ((w, g), (w2, g2)) in enumerate(zip(eager_params, params)):
        assert w.dtype == w2.dtype and np.array_equal(w, w2), f"parameter {k}"
        assert np.array_equal(g, g2), f"gradient {k}"
    return step


def _classic_step(loss="cross_entropy", regularizer=None, fraction=0.25):
    def step_of(model, opt, extra):
        loss_fn = dg.losses.get(loss)

        def step(x, t):
            opt.zero_grad()
            E = loss_fn(model(x), t)
            objective = E if regularizer is None else E + regularizer.batch_term(model, x,
                                                                                  fraction)
            objective.backward()
            opt.step()
            return E
        return step
    return step_of


def _digits_batches(n=20, batch=16, dtype=np.float64, image=False):
    from deltagrad.data import load_digits_split

    (X, y), _ = load_digits_split(shape="images" if image else "flat")
    X = X.astype(dtype)
    return [(X[s:s + batch], y[s:s + batch]) for s in range(0, n * batch, batch)]


OPTIMIZERS = {
    "sgd": lambda ps: dg.optim.SGD(ps, lr=0.05),
    "momentum": lambda ps: dg.optim.SGD(ps, lr=0.05, momentum=0.9),
    "nesterov": lambda ps: dg.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda ps: dg.optim.Adam(ps, lr=0.01),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mlp_replay_equals_eager_for_each_optimizer(name, dtype):
    def make():
        net = nn.MLP("64-16-10", hidden="tanh", output="softmax", rng=0, dtype=dtype)
        return net, OPTIMIZERS[name](net.parameters()), None
    assert_replay_equals_eager(make, _classic_step(), _digits_batches(dtype=dtype))


@pytest.mark.parametrize("regularizer", [dg.regularizers.WeightDecay(0.01),
                                         dg.regularizers.ConsistentGaussianPrior([0.1, 0.02])],
                         ids=["weight_decay", "consistent_prior"])
def test_mlp_replay_equals_eager_with_a_regularizer(regularizer):
    def make():
        net = nn.MLP("64-16-10", hidden="sigmoid", output="softmax", rng=1)
        return net, dg.optim.SGD(net.parameters(), lr=0.05, momentum=0.5), None
    assert_replay_equals_eager(make, _classic_step(regularizer=regularizer),
                               _digits_batches())


def test_the_notes_network_replays_to_the_bit_with_sum_of_squares():
    def make():
        net = nn.MLP("2-3-2-1", hidden=["tanh", "sigmoid"], output="identity", rng=0)
        return net, dg.optim.SGD(net.parameters(), lr=0.1), None
    rng = np.random.default_rng(0)
    batches = [(rng.normal(size=(1, 2)), rng.normal(size=(1, 1))) for _ in range(20)]
    assert_replay_equals_eager(make, _classic_step("sum_of_squares"), batches)


@pytest.mark.parametrize("seeded", [True, False], ids=["layer_rng", "default_rng"])
def test_cnn_with_dropout_draws_fresh_masks_in_eagers_order(seeded):
    def make():
        return nn.Sequential(
            nn.Conv2d(1, 4, 3, rng=0), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Dropout(0.5, rng=7 if seeded else None), nn.Linear(36, 10, rng=1),
            nn.Softmax()), None, None

    def make_with_opt():
        net = make()[0]
        return net, dg.optim.Adam(net.parameters(), lr=0.01), None
    step = assert_replay_equals_eager(make_with_opt, _classic_step(),
                                      _digits_batches(image=True), manual_seed=3)
    masks = [e for e in step._last.entries if type(e).__name__ == "Source"
             and e.function.__name__ == "dropout_mask"]
    assert len(masks) == 1  # the mask is drawn by the program, not kept as a constant


def test_lstm_with_a_mask_replays_to_the_bit():
    rng = np.random.default_rng(0)
    batches = []
    for _ in range(20):
        lengths = rng.integers(2, 6, size=4)
        mask = np.arange(5)[None, :] < lengths[:, None]
        batches.append((rng.normal(size=(4, 5, 3)), rng.normal(size=(4, 5, 2)), mask))

    def make():
        net = nn.RecurrentNetwork(nn.LSTM(3, 6, rng=0), nn.Linear(6, 2, rng=1))
        return net, dg.optim.SGD(net.parameters(), lr=0.05), None

    def step_of(model, opt, extra):
        def step(x, t, mask):
            opt.zero_grad()
            E = dg.losses.sum_of_squares(model(x, mask=mask), t, mask=mask)
            E.backward()
            opt.step()
            return E
        return step
    assert_replay_equals_eager(make, step_of, batches)


def test_transformer_language_model_replays_to_the_bit():
    rng = np.random.default_rng(1)
    batches = []
    for _ in range(20):
        ids = rng.integers(0, 7, size=(3, 6))
        batches.append((ids[:, :-1], ids[:, 1:]))

    def make():
        lm = nn.TransformerLM(7, 8, 2, 1, max_len=5, positional="learned", rng=0)
        return lm, dg.optim.Adam(lm.parameters(), lr=0.01), None

    def step_of(model, opt, extra):
        def step(ids, targets):
            opt.zero_grad()
            E = dg.losses.cross_entropy(dg.softmax(model(ids)), targets)
            E.backward()
            opt.step()
            return E
        return step
    assert_replay_equals_eager(make, step_of, batches)


# ---- guards ----------------------------------------------------------------------------------
def _mlp_step(net=None, lr=0.1):
    net = net or nn.MLP("4-5-3", hidden="tanh", output="softmax", rng=0)
    opt = dg.optim.SGD(net.parameters(), lr=lr)
    state = {"net": net}

    def step(x, t):
        opt.zero_grad()
        E = dg.losses.cross_entropy(state["net"](x), t)
        E.backward()
        opt.step()
        return E
    return state, opt, dg.compile(step)


def _data(n, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype(dtype), rng.integers(0, 3, size=n)


def _eager_twin_step(net, lr, x, t):
    opt = dg.optim.SGD(net.parameters(), lr=lr)
    opt.zero_grad()
    E = dg.losses.cross_entropy(net(x), t)
    E.backward()
    opt.step()
    return E


def test_a_new_batch_shape_or_dtype_retraces_and_the_last_shape_keeps_its_program():
    state, opt, step = _mlp_step()
    x8, t8 = _data(8)
    x5, t5 = _data(5)
    for _ in range(3):
        step(x8, t8)
    assert step.replays == 2 and step.eager_calls == 1  # no constants: one recording
    step(x5, t5)  # a new shape: recorded eagerly, never a stale replay of the (8, 4) program
    assert step.replays == 2 and step.eager_calls == 2
    step(x8, t8)
    assert step.replays == 3  # the (8, 4) program is still cached
    twin = nn.MLP("4-5-3", hidden="tanh", output="softmax", rng=0)
    twin.load_state_dict(state["net"].state_dict())
    x32 = x8.astype(np.float32)
    assert np.array_equal(step(x32, t8).data, _eager_twin_step(twin, 0.1, x32, t8).data)
    assert step.replays == 3  # a new dtype: recorded, not replayed with the float64 program


def test_train_to_eval_and_a_changed_learning_rate_are_honoured():
    net = nn.Sequential(nn.Linear(4, 6, rng=0), nn.Dropout(0.5, rng=1), nn.Linear(6, 3, rng=2),
                        nn.Softmax())
    twin = nn.Sequential(nn.Linear(4, 6, rng=0), nn.Dropout(0.5, rng=1), nn.Linear(6, 3, rng=2),
                         nn.Softmax())
    state, opt, step = _mlp_step(net)
    x, t = _data(8)
    twin_opt = dg.optim.SGD(twin.parameters(), lr=0.1)
    for k in range(8):
        if k == 4:
            net.eval()
            twin.eval()
            opt.lr = twin_opt.lr = 0.5
        twin_opt.zero_grad()
        E_twin = dg.losses.cross_entropy(twin(x), t)
        E_twin.backward()
        twin_opt.step()
        assert np.array_equal(step(x, t).data, E_twin.data), f"step {k + 1}"
    for p, q in zip(net.parameters(), twin.parameters()):
        assert np.array_equal(p.data, q.data)
    assert step.replays == 6 and step.eager_calls == 2  # recorded once in each mode


def test_a_replaced_layer_is_used_at_once():
    state, opt, step = _mlp_step()
    x, t = _data(6)
    for _ in range(3):
        step(x, t)
    old_weight = state["net"].linear1.weight
    state["net"].linear1 = nn.Linear(4, 5, rng=9)  # the optimiser still holds the old one
    opt.params[0] = state["net"].linear1.weight
    before = old_weight.data.copy()
    new_before = state["net"].linear1.weight.data.copy()
    step(x, t)
    assert np.array_equal(old_weight.data, before)  # a stale replay would update it
    assert not np.array_equal(state["net"].linear1.weight.data, new_before)


# ---- what cannot be replayed -------------------------------------------------------------------
def test_verify_catches_python_control_flow_on_the_data():
    net = nn.MLP("4-5-3", hidden="tanh", output="softmax", rng=0)
    opt = dg.optim.SGD(net.parameters(), lr=0.1)

    def step(x, t):
        opt.zero_grad()
        E = dg.losses.cross_entropy(net(x), t)
        if float(np.abs(x).sum()) > 30:  # data-dependent Python: replays always take one branch
            E = E * 2.0
        E.backward()
        opt.step()
        return E
    compiled = dg.compile(step, verify=1)
    small, labels = _data(6)
    compiled(small * 0.1, labels)
    compiled(small * 0.2, labels)
    compiled(small * 0.3, labels)  # replayed, verified: equal
    with pytest.raises(dg.ReplayMismatch, match="differs from the eager step"):
        compiled(small * 10, labels)


def test_reading_a_value_or_a_second_derivative_falls_back_to_eager_with_one_warning():
    net = nn.MLP("4-5-3", hidden="tanh", output="softmax", rng=0)
    x, t = _data(6)

    def branching(x, t):
        E = dg.losses.cross_entropy(net(x), t)
        if E.item() > 100:
            E = E * 0
        return E
    compiled = dg.compile(branching)
    with pytest.warns(dg.CompileWarning, match=r"reads a tensor's value \(item\(\)\)"):
        compiled(x, t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            compiled(x, t)
    assert compiled.replays == 0 and compiled.eager_calls == 4

    def second(x, t):
        E = dg.losses.cross_entropy(net(x), t)
        return dg.grad(E, net.linear1.weight)[0]
    with pytest.warns(dg.CompileWarning, match="dg.grad"):
        dg.compile(second)(x, t)


def test_past_cache_size_signatures_the_step_runs_eagerly_with_one_warning():
    state, opt, step = _mlp_step()
    step.cache_size = 2
    for n in (3, 4):
        step(*_data(n))
    with pytest.warns(dg.CompileWarning, match="cache_size=2"):
        step(*_data(5))
    assert "cache_size" in step.fallback_reason


def test_a_replay_refuses_a_nan_error_before_any_update():
    state, opt, step = _mlp_step()
    x, t = _data(6)
    step(x, t)
    weights = [p.data.copy() for p in state["net"].parameters()]
    with pytest.raises(FloatingPointError, match="replays run no argument checks"):
        step(np.full_like(x, np.nan), t)  # eager would name the NaN; the replay stops at E
    assert all(np.array_equal(w, p.data) for w, p in zip(weights, state["net"].parameters()))


def test_compile_refuses_bad_arguments():
    with pytest.raises(TypeError, match="fn must be a callable"):
        dg.compile(3)
    with pytest.raises(ValueError, match="verify must be a positive integer or None"):
        dg.compile(print, verify=0)
    with pytest.raises(ValueError, match="cache_size must be a positive integer, got 1.5"):
        dg.compile(print, cache_size=1.5)
    with pytest.raises(RuntimeError, match="no program yet"):
        dg.compile(print).source()


# ---- fit() compiles by default -------------------------------------------------------------
@pytest.mark.parametrize("options", [
    dict(optimizer="adam", lr=0.01, batch_size=20, regularizer=dg.regularizers.WeightDecay(0.1)),
    dict(optimizer="sgd", lr=0.01, batch_size=32, clip_grad_norm=1.0,
         sample_weight=np.linspace(0.5, 1.5, 150), validation_split=0.2),
], ids=["adam_weight_decay", "sgd_clipped_weighted"])
def test_fit_compiled_equals_fit_eager_to_the_bit(options, capsys):
    X, t = _data(150, seed=3)
    histories, weights = [], []
    for compile in (True, False):
        net = nn.MLP("4-6-3", hidden="tanh", output="softmax", rng=0)
        histories.append(dg.fit(net, X, t, loss="cross_entropy", epochs=4, compile=compile,
                                progress=False, verbose=True, **options))
        weights.append([p.data for p in net.parameters()])
    compiled, eager = histories
    assert np.array_equal(compiled.error, eager.error)
    assert np.array_equal(compiled.val_error, eager.val_error, equal_nan=True)
    assert all(np.array_equal(a, b) for a, b in zip(*weights))
    assert compiled.compiled.startswith("compiled:") and "replayed" in compiled.compiled
    assert eager.compiled == "eager (compile=False)"
    assert "fit: compiled:" in capsys.readouterr().out


def test_fit_falls_back_to_eager_silently_and_says_so_in_verbose(capsys):
    X, t = (a[:30] for a in _digits_batches(n=1, batch=30, image=True)[0])
    net = nn.Sequential(nn.Flatten(), nn.MLP("64-6-10", hidden="tanh", output="softmax", rng=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", dg.CompileWarning)
        history = dg.fit(net, X, t, loss="cross_entropy", epochs=3, lr=0.01, batch_size=10,
                         regularizer=dg.regularizers.TangentProp(weight=0.01),
                         progress=False, verbose=True)
    assert history.compiled.startswith("eager: the step cannot be compiled")
    assert "it calls dg.grad()" in capsys.readouterr().out


def test_fit_checks_every_label_once_although_replays_run_no_checks():
    X, t = _data(40)
    t[35] = 3  # in the last batch, which only a replay would see
    net = nn.MLP("4-6-3", hidden="tanh", output="softmax", rng=0)
    with pytest.raises(ValueError, match="label 3 is out of range for 3 classes"):
        dg.fit(net, X, t, loss="cross_entropy", epochs=2, lr=0.01, batch_size=10,
               shuffle=False, progress=False)


# ---- the program as code ---------------------------------------------------------------------
def _notes_network():
    net = nn.MLP("2-3-2-1", hidden=["tanh", "sigmoid"], output="identity", rng=0)
    return net, np.array([[0.5, -1.0]]), np.array([[0.3]]), dg.losses.sum_of_squares


def _digits_mlp():
    net = nn.MLP("64-32-10", hidden="tanh", output="softmax", rng=0, dtype="float32")
    x, t = _digits_batches(n=1, batch=32, dtype=np.float32)[0]
    return net, x, t, dg.losses.cross_entropy


@pytest.mark.parametrize("case", [_notes_network, _digits_mlp], ids=["2-3-2-1", "digits"])
def test_source_is_runnable_numpy_that_gives_the_eager_gradients_to_the_bit(case):
    net, x, t, loss = case()

    def step(x, t):
        net.zero_grad()
        E = loss(net(x), t)
        E.backward()
        return E
    compiled = dg.compile(step)
    compiled(x, t)
    E_eager = compiled(x, t)
    eager = {f"{kind}{l}": getattr(layer, name).grad for l, layer in enumerate(net.linears, 1)
             for kind, name in (("W", "weight"), ("b", "bias"))}
    source = compiled.source()
    for line in ("a1 = x @ W1.T + b1", "z1 = np.tanh(a1)", "delta1 = dE_dz1 * (1 - z1 * z1)",
                 "dE_dz1 = delta2 @ W2"):
        assert line in source
    namespace = {}
    exec(source, namespace)
    weights = {f"{kind}{l}": getattr(layer, name).data for l, layer in enumerate(net.linears, 1)
               for kind, name in (("W", "weight"), ("b", "bias"))}
    E, grads = namespace["backprop"](x, t, **weights)
    assert np.array_equal(E, E_eager.data)
    assert grads.keys() == eager.keys()
    for name, g in grads.items():
        assert g.dtype == eager[name].dtype and np.array_equal(g, eager[name]), name


def test_explain_program_prints_the_source_for_an_mlp_spec_and_refuses_the_rest(tmp_path):
    import json

    from deltagrad.cli import main

    spec = {"sizes": "2-3-1", "activations": ["tanh", "identity"],
            "weights": [[[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]], [[0.7, -0.8, 0.9]]],
            "biases": [[0.0, 0.1, -0.1], [0.05]], "x": [0.5, -1.0], "t": [0.3]}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    source = dg.explain.backprop_program(*dg.explain.build(spec)[:3])
    namespace = {}
    exec(source, namespace)
    E, grads = namespace["backprop"](np.array([[0.5, -1.0]]), np.array([[0.3]]),
                                     *[np.array(v) for pair in zip(spec["weights"],
                                                                   spec["biases"]) for v in pair])
    # by hand: a = W1 x + b1, z = tanh a, y = W2 z + b2, δ2 = y − t, δ1 = (1 − z²) W2ᵀδ2
    x, W1, b1 = np.array([0.5, -1.0]), np.array(spec["weights"][0]), np.array(spec["biases"][0])
    W2, b2 = np.array(spec["weights"][1]), np.array(spec["biases"][1])
    z = np.tanh(W1 @ x + b1)
    delta2 = W2 @ z + b2 - 0.3
    np.testing.assert_allclose(E, 0.5 * delta2 @ delta2, rtol=1e-15)
    np.testing.assert_allclose(grads["W1"], np.outer((1 - z * z) * (W2.T @ delta2), x),
                               rtol=1e-14)
    assert main(["explain", "--program", str(path)]) == 0
    assert main(["explain", "--program", "--question", "1"]) != 0
    assert main(["explain", "--program", str(path), "--format", "json"]) != 0


def test_a_recorded_update_of_a_layers_own_state_runs_at_every_replay():
    """A layer that keeps running statistics (as BatchNorm does) updates them through a
    recorded function: the replay calls it, and its buffer (the same object in both
    recordings, changed in place) is read live rather than compared by value; the same
    statistic computed with NumPy outside the primitives is caught (eager, never stale)."""
    from deltagrad.ops.base import recorded

    @recorded
    def update(running, batch_mean):
        running *= 0.9
        running += 0.1 * batch_mean

    class Tracking(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 3, rng=0)
            self.running = np.zeros(3)

        def forward(self, x):
            y = self.linear(x)
            update(self.running, dg.mean(y, axis=0).data)  # the mean by a primitive
            return dg.softmax(y)

    def make():
        net = Tracking()
        return net, dg.optim.SGD(net.parameters(), lr=0.1), None
    (net, opt, _), (twin, twin_opt, _) = make(), make()
    batches = [_data(5, seed=k) for k in range(6)]
    step = dg.compile(_classic_step()(net, opt, None))
    eager = _classic_step()(twin, twin_opt, None)
    for batch in batches:
        assert np.array_equal(step(*batch).data, eager(*batch).data)
    assert step.replays >= 4 and np.array_equal(net.running, twin.running)

    Tracking.forward = lambda self, x: (update(self.running, self.linear(x).data.mean(axis=0)),
                                        dg.softmax(self.linear(x)))[1]
    net, opt, _ = make()
    step = dg.compile(_classic_step()(net, opt, None))
    with pytest.warns(dg.CompileWarning, match="two recordings differ"):
        for batch in batches[:2]:
            step(*batch)


def _eager_and_compiled(make, step_of, batches):
    """Run twins eagerly and compiled; return both models and the compiled step."""
    runs = []
    for compiled in (False, True):
        model, opt, extra = make()
        step = step_of(model, opt, extra)
        step = dg.compile(step) if compiled else step
        errors = [step(*batch).data.copy() for batch in batches]
        runs.append((model, step, errors))
    return runs


def _assert_same_state(eager_model, compiled_model, eager_errors, errors):
    for k, (a, b) in enumerate(zip(eager_errors, errors)):
        assert np.array_equal(a, b), f"step {k + 1}: E eager {a} vs replayed {b}"
    eager_state, state = eager_model.state_dict(), compiled_model.state_dict()
    for key in eager_state:  # weights and buffers (running statistics, counters)
        assert np.array_equal(eager_state[key], state[key]), key


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_running_statistics_are_updated_at_every_replay(momentum):
    """BatchNorm's running statistics and batch counter live outside the primitive's output:
    a replay must update them as eager does (momentum=None: the cumulative average)."""
    rng = np.random.default_rng(2)
    batches = [(rng.normal(size=(8, 2, 12)), rng.integers(0, 3, size=8)) for _ in range(20)]

    def make():
        net = nn.Sequential(nn.Conv1d(2, 4, 3, rng=0), nn.BatchNorm1d(4, momentum=momentum),
                            nn.ReLU(), nn.Flatten(), nn.Linear(40, 3, rng=1), nn.Softmax())
        return net, dg.optim.Adam(net.parameters(), lr=0.01), None

    (eager, _, eager_errors), (model, step, errors) = _eager_and_compiled(
        make, _classic_step(), batches)
    assert step.fallback_reason is None and step.replays >= 18, step
    _assert_same_state(eager, model, eager_errors, errors)
    assert int(model[1].num_batches_tracked) == 20


def test_masks_that_agree_in_the_recordings_and_differ_later_are_read_at_every_replay():
    """Arrays a layer or loss makes from the step's arguments (a bidirectional layer's
    reversed mask, the combined attention mask, targets cleared at padded steps) are made
    again at every replay: the first batches have no padding, the later ones do."""
    rng = np.random.default_rng(3)
    batches = []
    for k in range(12):
        lengths = np.full(4, 5) if k < 3 else rng.integers(2, 6, size=4)
        mask = np.arange(5)[None, :] < lengths[:, None]
        batches.append((rng.normal(size=(4, 5, 3)), rng.normal(size=(4, 5, 2)), mask))

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(3, 4, bidirectional=True, rng=0)
            self.attention = nn.MultiHeadAttention(8, 2, rng=1)
            self.head = nn.Linear(8, 2, rng=2)

        def forward(self, x, mask):
            H, _ = self.gru(x, mask=mask)
            return self.head(self.attention(H, key_mask=mask))

    def make():
        net = Tagger()
        return net, dg.optim.SGD(net.parameters(), lr=0.005), None

    def step_of(model, opt, extra):
        def step(x, t, mask):
            opt.zero_grad()
            E = dg.losses.sum_of_squares(model(x, mask), t, mask=mask)
            E.backward()
            opt.step()
            return E
        return step

    (eager, _, eager_errors), (model, step, errors) = _eager_and_compiled(make, step_of, batches)
    assert step.fallback_reason is None and step.replays >= 10, step
    assert np.all(np.isfinite(eager_errors))
    _assert_same_state(eager, model, eager_errors, errors)


@pytest.mark.parametrize("inside", ["schedule", "clip", "lr"])
def test_work_a_replay_would_skip_makes_the_step_run_eagerly_with_one_warning(inside):
    """A schedule stepped, gradients clipped or the learning rate changed inside the step are
    not recorded primitives: the step runs eagerly (one CompileWarning naming the cause), so
    its results equal eager's — found by a new-user review, where the replay had kept the
    first learning rate for ever and skipped the clipping."""
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(32, 4)) * 3, np.eye(3)[rng.integers(0, 3, 32)]

    def run(compiled):
        net = nn.MLP("4-8-3", hidden="tanh", output="softmax", rng=0)
        opt = dg.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        sched = dg.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=20)

        def fn(x, t):
            opt.zero_grad()
            E = dg.losses.cross_entropy(net(x), t)
            E.backward()
            if inside == "clip":
                nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            if inside == "lr":
                opt.lr = opt.lr * 0.5
            opt.step()
            if inside == "schedule":
                sched.step()
            return E
        step = dg.compile(fn) if compiled else fn
        errors = [step(X, T).item() for _ in range(6)]
        return errors, opt.lr, step
    eager_errors, eager_lr, _ = run(False)
    with pytest.warns(dg.CompileWarning, match={"schedule": "schedule", "clip": "clips",
                                                "lr": "changes the optimiser's lr"}[inside]):
        errors, lr, step = run(True)
    assert errors == eager_errors and lr == eager_lr and step.replays == 0


def test_the_printed_program_runs_as_a_script_on_the_specs_own_numbers(tmp_path, capsys):
    """`deltagrad explain --program` prints a program that runs on its own: the spec's
    one-pattern x (D,) and t (K,) as the (N, D), (N, K) arrays the program takes, and the
    weights, in a __main__ block — E = 0.030127 and ∂E/∂w^(1)_11 = −0.155807, the numbers the
    step-by-step solution prints for this spec (a review found the program failing on the
    spec's own 1-D x)."""
    import contextlib
    import io as text_io
    import json

    from deltagrad import cli

    spec = {"sizes": [2, 2, 1], "weights": [[[0.5, 0.2], [-0.3, 0.8]], [[1.0, -0.5]]],
            "biases": [[0.1, 0.0], [0.2]], "x": [1.0, 0.5], "t": [1.0]}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    assert cli.main(["explain", "--program", str(path)]) in (0, None)
    source = capsys.readouterr().out
    printed = text_io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, "program.py", "exec"), {"__name__": "__main__"})
    lines = printed.getvalue().splitlines()
    assert float(lines[0].split("=")[1]) == pytest.approx(0.030127, abs=5e-7)
    assert "-0.15580713" in lines[1]

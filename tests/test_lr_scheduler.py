"""Learning-rate schedules against torch.optim.lr_scheduler in float64, step for step, in a
hand-written loop and inside fit."""

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as tls

import deltagrad as dg
from deltagrad.callbacks import LearningRateScheduler
from deltagrad.optim import lr_scheduler as dls


def _pair(lr=0.1, kind="SGD", **kwargs):
    ours = getattr(dg.optim, kind)([dg.nn.Parameter([1.0])], lr=lr, **kwargs)
    theirs = getattr(torch.optim, kind)([torch.zeros(1, requires_grad=True)], lr=lr, **kwargs)
    return ours, theirs


def _cosine_warmup(opt, W, T, s, eta_min):
    return tls.SequentialLR(opt, [tls.LinearLR(opt, start_factor=s, total_iters=W),
                                  tls.CosineAnnealingLR(opt, T_max=T - W, eta_min=eta_min)],
                            milestones=[W])


SCHEDULES = [
    ("step", lambda o: dls.StepLR(o, step_size=3, gamma=0.3),
     lambda o: tls.StepLR(o, step_size=3, gamma=0.3), 30),
    ("exponential", lambda o: dls.ExponentialLR(o, gamma=0.93),
     lambda o: tls.ExponentialLR(o, gamma=0.93), 60),
    ("cosine-warmup", lambda o: dls.CosineWarmupLR(o, warmup_steps=5, total_steps=40,
                                                   start_factor=0.2, eta_min=1e-3),
     lambda o: _cosine_warmup(o, 5, 40, 0.2, 1e-3), 40),
    ("cosine-no-warmup", lambda o: dls.CosineWarmupLR(o, warmup_steps=0, total_steps=17),
     lambda o: tls.CosineAnnealingLR(o, T_max=17), 17),
    ("one-cycle", lambda o: dls.OneCycleLR(o, max_lr=0.5, total_steps=50, cycle_momentum=False),
     lambda o: tls.OneCycleLR(o, max_lr=0.5, total_steps=50, cycle_momentum=False), 49),
    ("one-cycle-linear-3", lambda o: dls.OneCycleLR(
        o, max_lr=0.3, total_steps=41, pct_start=0.25, anneal_strategy="linear",
        three_phase=True, cycle_momentum=False, div_factor=10, final_div_factor=100),
     lambda o: tls.OneCycleLR(o, max_lr=0.3, total_steps=41, pct_start=0.25,
                              anneal_strategy="linear", three_phase=True,
                              cycle_momentum=False, div_factor=10, final_div_factor=100), 40),
]


@pytest.mark.parametrize("name,ours_of,theirs_of,steps", SCHEDULES,
                         ids=[s[0] for s in SCHEDULES])
def test_learning_rates_equal_torch_step_for_step(name, ours_of, theirs_of, steps):
    ours, theirs = _pair(lr=0.1)
    mine, ref = ours_of(ours), theirs_of(theirs)
    for t in range(steps + 1):
        assert ours.lr == pytest.approx(theirs.param_groups[0]["lr"], rel=1e-12, abs=1e-15), \
            f"{name} step {t}: ours {ours.lr} vs torch {theirs.param_groups[0]['lr']}"
        assert mine.get_last_lr() == [ours.lr]
        theirs.step()
        ref.step()
        mine.step()


@pytest.mark.parametrize("kind,kwargs,key", [("SGD", dict(momentum=0.9), "momentum"),
                                             ("Adam", {}, "betas"), ("AdamW", {}, "betas")])
def test_one_cycle_moves_the_momentum_as_torch(kind, kwargs, key):
    ours, theirs = _pair(kind=kind, **kwargs)
    mine = dls.OneCycleLR(ours, max_lr=1.0, total_steps=20, base_momentum=0.8)
    ref = tls.OneCycleLR(theirs, max_lr=1.0, total_steps=20, base_momentum=0.8)
    for _ in range(20):
        group = theirs.param_groups[0]
        theirs_m = group[key][0] if key == "betas" else group[key]
        ours_m = ours.beta1 if key == "betas" else ours.momentum
        assert ours_m == pytest.approx(theirs_m, rel=1e-12)
        assert ours.lr == pytest.approx(group["lr"], rel=1e-12)
        theirs.step()
        ref.step()
        mine.step()
    with pytest.raises(ValueError, match="beyond total_steps = 20"):
        mine.step()
        mine.step()


@pytest.mark.parametrize("kwargs", [dict(patience=2, factor=0.5),
                                    dict(mode="max", patience=1, threshold=0.1,
                                         threshold_mode="abs", cooldown=2, min_lr=0.02)])
def test_reduce_on_plateau_equals_torch(kwargs):
    ours, theirs = _pair(lr=0.1)
    mine, ref = dls.ReduceLROnPlateau(ours, **kwargs), tls.ReduceLROnPlateau(theirs, **kwargs)
    values = np.random.default_rng(0).normal(size=40).cumsum() * 0.1 + 5
    for t, value in enumerate(values):
        theirs.step()
        ref.step(value)
        mine.step(value)
        assert ours.lr == pytest.approx(theirs.param_groups[0]["lr"], rel=1e-12), f"step {t}"
    assert ours.lr < 0.1  # the sequence did plateau: the test exercised a reduction


def _fit_rates(schedule_of, interval, epochs=4, **fit_kwargs):
    net = dg.nn.MLP("1-3-1", rng=0)
    opt = dg.optim.SGD(net.parameters(), lr=0.2)
    schedule = schedule_of(opt)
    seen = []

    class Record(dg.callbacks.Callback):
        def on_batch_begin(self, trainer, epoch, batch):
            seen.append(trainer.optimizer.lr)

    X = np.linspace(-1, 1, 12)[:, None]
    dg.fit(net, X, np.sin(3 * X), optimizer=opt, epochs=epochs, batch_size=4, shuffle=False,
           progress=False, callbacks=[Record(), LearningRateScheduler(schedule, interval)],
           **fit_kwargs)
    return seen


def test_fit_steps_a_schedule_per_batch_or_per_epoch_as_a_hand_written_loop():
    per_batch = _fit_rates(lambda o: dls.OneCycleLR(o, max_lr=0.5, total_steps=12,
                                                    cycle_momentum=False), "batch")
    ours, theirs = _pair()
    ref = tls.OneCycleLR(theirs, max_lr=0.5, total_steps=12, cycle_momentum=False)
    expected = []
    for _ in range(12):
        expected.append(theirs.param_groups[0]["lr"])
        theirs.step()
        ref.step()
    np.testing.assert_allclose(per_batch, expected, rtol=1e-12)
    per_epoch = _fit_rates(lambda o: dls.ExponentialLR(o, gamma=0.5), "epoch")
    np.testing.assert_allclose(per_epoch, np.repeat([0.2, 0.1, 0.05, 0.025], 3), rtol=1e-15)


def test_fit_steps_reduce_on_plateau_with_the_epoch_error():
    net = dg.nn.MLP("1-3-1", rng=0)
    opt = dg.optim.SGD(net.parameters(), lr=0.2)
    # an improvement must be by 1000 (absolute): after the first epoch none is, so each
    # later epoch halves the rate for the next
    plateau = dls.ReduceLROnPlateau(opt, patience=0, factor=0.5, threshold=1e3,
                                    threshold_mode="abs")
    X = np.linspace(-1, 1, 12)[:, None]
    h = dg.fit(net, X, X, optimizer=opt, epochs=4, progress=False,
               callbacks=[LearningRateScheduler(plateau, monitor="error")])
    assert h.lr == [0.2, 0.2, 0.1, 0.05]
    with pytest.raises(ValueError, match="needs validation data"):
        dg.fit(net, X, X, optimizer=opt, epochs=1, progress=False,
               callbacks=[LearningRateScheduler(plateau)])


def test_bad_schedules_are_clear_errors():
    opt = dg.optim.SGD([dg.nn.Parameter([1.0])], lr=0.1)
    with pytest.raises(TypeError, match="StepLR: optimizer must be an optimiser with a "
                                        "learning rate"):
        dls.StepLR([opt], step_size=2)
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        dls.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="total_steps .10. must exceed warmup_steps .10."):
        dls.CosineWarmupLR(opt, warmup_steps=10, total_steps=10)
    with pytest.raises(ValueError, match="cycle_momentum=True needs an optimiser with "
                                         "momentum"):
        dls.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    with pytest.raises(ValueError, match="factor must lie in"):
        dls.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="value must be a finite number"):
        dls.ReduceLROnPlateau(opt).step(float("nan"))
    with pytest.raises(ValueError, match="unknown interval 'step'"):
        LearningRateScheduler(dls.StepLR(opt, 1), interval="step")
    with pytest.raises(TypeError, match="schedule must be callable"):
        LearningRateScheduler(0.1)
    net = dg.nn.MLP("1-2-1", rng=0)
    with pytest.raises(ValueError, match="built on another optimiser"):
        dg.fit(net, np.ones((2, 1)), np.ones((2, 1)), optimizer="sgd", epochs=1,
               progress=False, callbacks=[LearningRateScheduler(dls.StepLR(opt, 1))])


def test_reduce_on_plateau_takes_the_loss_tensor_itself():
    opt = dg.optim.SGD([dg.nn.Parameter([1.0])], lr=1.0)
    plateau = dg.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    plateau.step(dg.tensor(1.0))
    plateau.step(dg.tensor(2.0))     # worse: the rate halves
    assert opt.lr == 0.5
    with pytest.raises(ValueError, match="must be a finite number"):
        plateau.step(dg.tensor([1.0, 2.0]))

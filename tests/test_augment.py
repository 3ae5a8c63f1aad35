"""Augmentation (§4.5.2, road 1): the transforms, their seeding, and fit(augment=...)."""

import numpy as np
import pytest

import deltagrad as dg
from deltagrad.data import augment


def _square(size=9):
    images = np.zeros((3, 1, size, size))
    images[:, :, 3:6, 2:5] = 1.0
    images[1] *= 2.0
    return images


def test_a_whole_pixel_shift_moves_the_image_and_fills_with_background():
    images = _square()
    moved = augment.shift(images, 1, -2)
    expected = np.zeros_like(images)
    expected[:, :, 4:7, 0:3] = images[:, :, 3:6, 2:5]
    np.testing.assert_allclose(moved, expected, atol=1e-12)


def test_a_quarter_turn_is_numpy_s_rot90():
    images = np.random.default_rng(0).normal(size=(2, 2, 7, 7))
    np.testing.assert_allclose(augment.rotate(images, 90), np.rot90(images, 1, axes=(2, 3)),
                               atol=1e-12)


def test_identity_settings_leave_images_unchanged():
    images = np.random.default_rng(1).uniform(size=(2, 1, 8, 8))
    rng = np.random.default_rng(0)
    np.testing.assert_allclose(augment.Scale(1.0, 1.0)(images, rng), images, atol=1e-12)
    np.testing.assert_allclose(augment.Elastic(alpha=0.0)(images, rng), images, atol=1e-12)
    np.testing.assert_allclose(augment.Rotate(0.0)(images, rng), images, atol=1e-12)


def test_scaling_up_spreads_a_centred_blob():
    images = np.zeros((1, 1, 11, 11))
    images[0, 0, 4:7, 4:7] = 1.0
    bigger = augment.Scale(1.6, 1.6)(images, np.random.default_rng(0))
    assert (bigger > 0.5).sum() > (images > 0.5).sum()
    np.testing.assert_allclose(bigger[0, 0], bigger[0, 0].T, atol=1e-12)  # about the centre


def test_transforms_are_seeded_fresh_per_image_and_composable():
    images = np.repeat(_square()[:1], 4, axis=0)
    jitter = augment.Compose(augment.Shift(2), augment.Rotate(15), augment.Scale(0.9, 1.1),
                             augment.Elastic())
    a = jitter(images, np.random.default_rng(5))
    b = jitter(images, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[0], a[1])  # each image draws its own transformation
    assert not np.allclose(a, jitter(images, np.random.default_rng(6)))
    assert repr(jitter).startswith("Compose(Shift(max_shift=2.0")


def test_integer_shifts_are_whole_pixels():
    out = augment.Shift(2, integer=True)(_square(), np.random.default_rng(0))
    assert set(np.unique(out)) <= {0.0, 1.0, 2.0}
    np.testing.assert_allclose(out.sum(axis=(1, 2, 3)), _square().sum(axis=(1, 2, 3)))


def test_expand_appends_transformed_copies_for_batch_training():
    X, T = _square(), np.array([0, 1, 2])
    Xa, Ta = augment.expand(X, T, augment.Shift(1), copies=2, seed=0)
    assert Xa.shape == (9, 1, 9, 9)
    np.testing.assert_array_equal(Ta, [0, 1, 2] * 3)
    np.testing.assert_array_equal(Xa[:3], X)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match=r"images must have shape \(N, C, H, W\), got \(9, 9\)"):
        augment.Shift(1)(np.zeros((9, 9)), np.random.default_rng(0))
    with pytest.raises(ValueError, match="Shift: max_shift must be a finite number > 0"):
        augment.Shift(-1)
    with pytest.raises(ValueError, match="Scale: high must be ≥ low"):
        augment.Scale(1.2, 0.8)
    with pytest.raises(TypeError, match="Compose: every transform must be callable"):
        augment.Compose(3)


def _tiny_problem():
    (X, y), _ = dg.data.load_digits_split(shape="images", scale="unit")
    return X[:60], np.eye(10)[y[:60]]


def test_fit_applies_a_new_transformation_at_every_presentation():
    X, T = _tiny_problem()
    seen = []

    def recording(batch, rng):
        out = augment.Shift(1)(batch, rng)
        seen.append(out.copy())
        return out

    def run():
        net = dg.nn.Sequential(dg.nn.Flatten(), dg.nn.MLP("64-10", output="softmax", rng=0))
        dg.fit(net, X, T, loss="cross_entropy", optimizer="sgd", lr=0.01, epochs=2,
               batch_size=30, augment=recording, shuffle=False, progress=False, seed=3)
        return net

    first = run()
    assert len(seen) == 4  # two batches in each of two epochs
    assert not np.allclose(seen[0], seen[2])  # the same patterns, transformed anew
    assert not np.allclose(seen[0], X[:30])
    second = run()  # the same seed: the same draws, the same weights
    np.testing.assert_array_equal(seen[0], seen[4])
    for p, q in zip(first.parameters(), second.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_fit_refuses_augment_it_cannot_apply():
    X, T = _tiny_problem()
    net = dg.nn.Sequential(dg.nn.Flatten(), dg.nn.MLP("64-10", output="softmax", rng=0))
    with pytest.raises(ValueError, match="augment .* needs gradient descent"):
        dg.fit(net, X, T, loss="cross_entropy", optimizer="bfgs", epochs=1,
               augment=augment.Shift(1), progress=False)
    with pytest.raises(ValueError, match="augment must be a callable"):
        dg.fit(net, X, T, loss="cross_entropy", epochs=1, augment="shift", progress=False)
    with pytest.raises(ValueError, match=r"augment must return finite inputs of the batch's "
                                         r"shape \(60, 1, 8, 8\), got shape \(60, 64\)"):
        dg.fit(net, X, T, loss="cross_entropy", epochs=1, progress=False,
               augment=lambda b, rng: b.reshape(len(b), -1))

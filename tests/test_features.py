"""Hu's moment invariants (§4.5.2, road 3) against scikit-image, and their invariances."""

import numpy as np
import pytest

from deltagrad.data.features import hu_moments

skimage_measure = pytest.importorskip("skimage.measure")


def _reference(image):
    return skimage_measure.moments_hu(skimage_measure.moments_normalized(
        skimage_measure.moments_central(image, order=3), order=3))


def test_hu_moments_equal_scikit_image_on_random_images():
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(6, 11, 9)) ** 3
    ours = hu_moments(images)
    for image, row in zip(images, ours):
        np.testing.assert_allclose(row, _reference(image), rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(hu_moments(images[:, None]), ours, rtol=0, atol=0)
    np.testing.assert_allclose(hu_moments(images[0]), ours[0], rtol=0, atol=0)


def _shape_in_a_frame():
    """An asymmetric shape (non-zero h₇) well inside a 16×16 frame."""
    rng = np.random.default_rng(1)
    frame = np.zeros((16, 16))
    frame[5:11, 4:9] = rng.uniform(0.2, 1.0, size=(6, 5))
    frame[5, 9:12] = 0.7
    return frame


@pytest.mark.parametrize("name,move", [
    ("rotate 90°", lambda f: np.rot90(f, 1)), ("rotate 180°", lambda f: np.rot90(f, 2)),
    ("rotate 270°", lambda f: np.rot90(f, 3)), ("translate", lambda f: np.roll(f, (3, -2), (0, 1))),
    ("flip rows", np.flipud), ("flip columns", np.fliplr), ("transpose", np.transpose)])
def test_hu_moments_are_unchanged_by_exact_rotations_translations_and_flips(name, move):
    """Rotations and translations leave all seven unchanged; a reflection leaves h₁…h₆
    unchanged and flips the sign of h₇, the skew invariant (Hu, 1962)."""
    shape = _shape_in_a_frame()
    before, after = hu_moments(shape), hu_moments(move(shape))
    assert abs(before[6]) > 1e-8  # the test shape is not mirror-symmetric
    reflection = name.startswith("flip") or name == "transpose"
    np.testing.assert_allclose(after[:6], before[:6], rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(after[6], -before[6] if reflection else before[6],
                               rtol=1e-10, atol=1e-15)


def test_the_log_scale_and_bad_input():
    shape = _shape_in_a_frame()
    h = hu_moments(shape)
    np.testing.assert_allclose(hu_moments(shape, log=True), -np.sign(h) * np.log10(np.abs(h)))
    with pytest.raises(ValueError, match="image 1 has no positive total intensity"):
        hu_moments(np.stack([shape, np.zeros_like(shape)]))
    with pytest.raises(ValueError, match=r"images must be \(H, W\), \(N, H, W\) or \(N, 1, H, W\)"):
        hu_moments(np.zeros((2, 3, 8, 8)))
    with pytest.raises(ValueError, match="finite and ≥ 0"):
        hu_moments(shape - 0.5)

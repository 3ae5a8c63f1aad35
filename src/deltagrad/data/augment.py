"""Augmenting the training set (§4.5.2, road 1): random shifts, rotations, scalings and elastic
deformations of image batches, by ``scipy.ndimage``.

A transform is called as ``transform(images, rng)`` on ``(N, C, H, W)`` images and returns new
images of the same shape, each drawn afresh from ``rng`` (a ``numpy.random.Generator``);
transforms compose with :class:`Compose`. ``fit(..., augment=transform)`` applies one to every
minibatch as it is presented, so each pattern is seen under a new transformation each epoch
(the notes' method for sequential training); :func:`expand` builds the fixed, enlarged set the
notes prescribe for batch training. The deterministic :func:`shift` and :func:`rotate` make
transformed test copies. Areas moved in from outside the frame are 0 (background).

Example:
    >>> import numpy as np
    >>> from deltagrad.data import augment
    >>> images = np.zeros((2, 1, 12, 12)); images[:, :, 4:8, 4:8] = 1.0
    >>> jitter = augment.Compose(augment.Shift(2), augment.Rotate(10))
    >>> jitter(images, np.random.default_rng(0)).shape
    (2, 1, 12, 12)
"""

from __future__ import annotations

import abc

import numpy as np
from scipy import ndimage

from .. import _validate as check


def _images(images, owner: str) -> np.ndarray:
    array = np.asarray(images)
    if array.ndim != 4:
        raise ValueError(f"{owner}: images must have shape (N, C, H, W), got {array.shape}")
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    return array


def _each_image(images: np.ndarray, transform) -> np.ndarray:
    """Apply ``transform(plane, n)`` to every channel plane of every image n."""
    out = np.empty_like(images)
    for n in range(images.shape[0]):
        for c in range(images.shape[1]):
            out[n, c] = transform(images[n, c], n)
    return out


def shift(images, rows: float, columns: float, order: int = 1) -> np.ndarray:
    """Every image moved down by ``rows`` and right by ``columns`` pixels (fractions are
    interpolated, spline ``order``); shape ``(N, C, H, W)`` kept."""
    images = _images(images, "augment.shift")
    return _each_image(images, lambda plane, n: ndimage.shift(
        plane, (rows, columns), order=order, mode="constant", cval=0.0))


def rotate(images, degrees: float, order: int = 1) -> np.ndarray:
    """Every image rotated anticlockwise by ``degrees`` about its centre; shape kept."""
    images = _images(images, "augment.rotate")
    return _each_image(images, lambda plane, n: ndimage.rotate(
        plane, degrees, reshape=False, order=order, mode="constant", cval=0.0))


def _zoom_about_centre(plane: np.ndarray, factor: float, order: int) -> np.ndarray:
    centre = (np.array(plane.shape) - 1) / 2.0
    return ndimage.affine_transform(plane, np.full(2, 1.0 / factor),
                                    offset=centre - centre / factor, order=order,
                                    mode="constant", cval=0.0)


class Transform(abc.ABC):
    """Base of the random transforms: ``transform(images, rng)`` → transformed copies."""

    def __call__(self, images, rng=None) -> np.ndarray:
        images = _images(images, type(self).__name__)
        rng = check.generator(rng, type(self).__name__) or np.random.default_rng()
        return self.apply(images, rng)

    @abc.abstractmethod
    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """New images ``(N, C, H, W)``, each transformed by a draw from ``rng``."""


class Shift(Transform):
    """Move each image by (dy, dx), each uniform in [−max_shift, max_shift] pixels (whole
    pixels when ``integer``, else interpolated)."""

    def __init__(self, max_shift: float = 2.0, integer: bool = False):
        self.max_shift = check.positive(max_shift, "max_shift", "Shift")
        self.integer = check.boolean(integer, "integer", "Shift")

    def apply(self, images, rng):
        if self.integer:
            m = int(self.max_shift)
            offsets = rng.integers(-m, m + 1, size=(len(images), 2)).astype(float)
        else:
            offsets = rng.uniform(-self.max_shift, self.max_shift, size=(len(images), 2))
        return _each_image(images, lambda plane, n: ndimage.shift(
            plane, offsets[n], order=0 if self.integer else 1, mode="constant", cval=0.0))

    def __repr__(self):
        return f"Shift(max_shift={self.max_shift}, integer={self.integer})"


class Rotate(Transform):
    """Rotate each image about its centre by an angle uniform in [−max_degrees, max_degrees]."""

    def __init__(self, max_degrees: float = 15.0):
        self.max_degrees = check.real(max_degrees, "max_degrees", "Rotate", low=0.0,
                                      high=180.0, high_inclusive=True)

    def apply(self, images, rng):
        angles = rng.uniform(-self.max_degrees, self.max_degrees, size=len(images))
        return _each_image(images, lambda plane, n: ndimage.rotate(
            plane, angles[n], reshape=False, order=1, mode="constant", cval=0.0))

    def __repr__(self):
        return f"Rotate(max_degrees={self.max_degrees})"


class Scale(Transform):
    """Zoom each image about its centre by a factor uniform in [low, high] (> 1 enlarges)."""

    def __init__(self, low: float = 0.9, high: float = 1.1):
        self.low = check.positive(low, "low", "Scale")
        self.high = check.positive(high, "high", "Scale")
        if self.high < self.low:
            raise ValueError(f"Scale: high must be ≥ low, got low={low}, high={high}")

    def apply(self, images, rng):
        factors = rng.uniform(self.low, self.high, size=len(images))
        return _each_image(images, lambda plane, n: _zoom_about_centre(plane, factors[n], 1))

    def __repr__(self):
        return f"Scale(low={self.low}, high={self.high})"


class Elastic(Transform):
    """Elastic deformation (Simard, Steinkraus and Platt, 2003): a random displacement field,
    uniform in [−1, 1] per pixel, smoothed by a Gaussian of width ``sigma`` and scaled by
    ``alpha`` pixels, moves every pixel."""

    def __init__(self, alpha: float = 2.0, sigma: float = 1.5):
        self.alpha = check.non_negative(alpha, "alpha", "Elastic")
        self.sigma = check.positive(sigma, "sigma", "Elastic")

    def apply(self, images, rng):
        h, w = images.shape[2:]
        rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")

        def deform(plane, n):
            dy, dx = (self.alpha * ndimage.gaussian_filter(rng.uniform(-1, 1, size=(h, w)),
                                                           self.sigma, mode="constant")
                      for _ in range(2))
            return ndimage.map_coordinates(plane, (rows + dy, cols + dx), order=1,
                                           mode="constant", cval=0.0)

        return _each_image(images, deform)

    def __repr__(self):
        return f"Elastic(alpha={self.alpha}, sigma={self.sigma})"


class Compose(Transform):
    """Apply transforms one after another, each drawing from the same generator."""

    def __init__(self, *transforms):
        for t in transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable, got {t!r}")
        if not transforms:
            raise ValueError("Compose: give at least one transform")
        self.transforms = transforms

    def apply(self, images, rng):
        for t in self.transforms:
            images = t(images, rng)
        return images

    def __repr__(self):
        return "Compose(" + ", ".join(map(repr, self.transforms)) + ")"


def expand(images, targets, transform, copies: int, seed: int | None = 0) -> tuple:
    """The augmented set for batch training: the originals followed by ``copies``
    transformed replicas of each, ``(images, targets)`` with (copies + 1)·N patterns."""
    images = _images(images, "augment.expand")
    copies = check.positive_int(copies, "copies", "augment.expand")
    targets = np.asarray(targets)
    if len(targets) != len(images):
        raise ValueError(f"augment.expand: {len(images)} images but {len(targets)} targets")
    rng = np.random.default_rng(check.seed(seed, "seed", "augment.expand"))
    replicas = [transform(images, rng) for _ in range(copies)]
    return np.concatenate([images, *replicas]), np.concatenate([targets] * (copies + 1))

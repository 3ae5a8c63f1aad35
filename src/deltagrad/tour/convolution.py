"""Chapter 7, convolutional networks: hand-set edge detectors firing on a digit, one
convolutional unit worked out, and the learned filters and feature maps of the CNN trained in
chapter 4's invariance experiment."""

from __future__ import annotations

import numpy as np

import deltagrad as dg
from deltagrad.analysis import invariance
from deltagrad.data import filters
from deltagrad.exercises import pretty
from deltagrad.plot import plot_image_grid

from deltagrad.tour import regularisation

TITLE = "7 Convolutional networks"


def section(report) -> None:
    s = report.section(TITLE, "chapter 7")
    (_, _), (X_test, y_test) = invariance.padded_digits()
    digit = X_test[0]
    s.heading("7.2 Feature detectors, set by hand")
    _edge_detectors(s, digit, int(y_test[0]))
    _one_unit(s, digit)
    s.heading("Feature detectors a CNN learned (§7.2 at work)")
    _learned_filters(s, regularisation.invariance_result(report).models["cnn"], digit)


def _edge_detectors(s, digit: np.ndarray, label: int) -> None:
    names = ("sobel_vertical", "sobel_horizontal", "prewitt_vertical", "laplacian")
    maps = [(name.replace("_", " "), filters.edge_detector(name)(digit[None]).data[0, 0])
            for name in names]
    s.text("§7.2: a single Conv2d unit with a hand-set 3×3 kernel and bias w₀ = −0.5, "
           "followed by ReLU (eq. 7.3–7.4), fires only where its receptive field looks like "
           "the kernel. The vertical Sobel unit fires on the left flanks of the strokes "
           "(dark → bright from left to right), the horizontal one on their upper edges.")
    rows = {"kernel K": [(name.replace("_", " "), filters.kernel(name)) for name in names],
            "z = ReLU(a)": maps}
    s.figure(plot_image_grid({"digit": [(f"a test '{label}'", digit[0])], **rows}),
             "edge_detectors", "Hand-set feature detectors (§7.2) on a 12×12 test digit: "
             "kernels (blue < 0 < red) and where each unit fires")


def _one_unit(s, digit: np.ndarray) -> None:
    detector = filters.edge_detector("sobel_vertical")
    z = detector(digit[None]).data[0, 0]
    j, k = np.unravel_index(int(np.argmax(z)), z.shape)
    s.text("One unit of that feature map, the strongest, worked out as eq. 7.3 writes it "
           "(a and z from the engine; the products summed plus w₀ give the same a):")
    s.code(pretty(dg.explain.conv_unit(detector, digit, int(j), int(k)).to_text(precision=4)))


def _learned_filters(s, cnn, digit: np.ndarray) -> None:
    conv = cnn[0]
    with dg.no_grad():
        maps = cnn[1](conv(digit[None])).data[0]
    kernels = conv.weight.data[:, 0]
    s.text("The CNN of §4.5's experiment (chapter 4) learned its own first-layer detectors; "
           "each feature map is one kernel slid over the digit (shared weights), so moving "
           "the digit moves the map (equivariance) and the pooling that follows forgives "
           "small moves.")
    s.figure(plot_image_grid({
        "kernels": [(f"K{f + 1}", kernels[f]) for f in range(len(kernels))],
        "feature maps": [(f"z{f + 1}", maps[f]) for f in range(len(maps))]}),
        "cnn_filters", "The trained CNN's eight 3×3 first-layer kernels and their ReLU "
                       "feature maps on the test digit")

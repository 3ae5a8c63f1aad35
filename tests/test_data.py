"""deltagrad.data: the bundled data sets, split and standardised one way everywhere."""

import numpy as np
import pytest
from sklearn import datasets

import deltagrad as dg
from deltagrad.data import (TABULAR, Standardizer, load_digits, load_digits_split, load_tabular,
                            load_tabular_split, record_loads, standardize)


def test_digits_split_is_fixed_stratified_and_standardised_on_the_training_set():
    (X, y), (X_test, y_test) = load_digits_split()
    assert X.shape == (1437, 64) and X_test.shape == (360, 64)
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    spread = X.std(axis=0)
    np.testing.assert_allclose(spread[spread > 0], 1, rtol=1e-12)
    np.testing.assert_array_equal(np.bincount(y_test), [36, 36, 35, 37, 36, 37, 36, 36, 35, 36])
    again = load_digits_split()
    np.testing.assert_array_equal(again[1][0], X_test)


def test_digit_images_are_the_flat_pixels_in_row_major_order():
    """Image n, row r, column c is flat pixel 8r + c: the layout a convolution expects."""
    flat, labels = load_digits()
    images, same = load_digits(shape="images")
    raw, raw_labels = datasets.load_digits(return_X_y=True)
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float64
    np.testing.assert_array_equal(images[:, 0, 2, 5], flat[:, 8 * 2 + 5])
    np.testing.assert_array_equal(flat, raw / 16.0)  # "unit" scale: grey levels 0..16 → [0, 1]
    np.testing.assert_array_equal(labels, raw_labels)
    (train_images, _), _ = load_digits_split(shape="images")
    (train_flat, _), _ = load_digits_split()
    np.testing.assert_array_equal(train_images.reshape(len(train_images), 64), train_flat)


@pytest.mark.parametrize("name", sorted(TABULAR))
def test_tabular_sets_match_scikit_learn_standardised(name):
    X, t = load_tabular(name)
    raw_X, raw_t = getattr(datasets, f"load_{name}")(return_X_y=True)
    np.testing.assert_allclose(X, (raw_X - raw_X.mean(0)) / raw_X.std(0), rtol=1e-12)
    if TABULAR[name] == "regression":
        assert t.shape == (len(raw_t), 1)
        np.testing.assert_allclose(t[:, 0], (raw_t - raw_t.mean()) / raw_t.std(), rtol=1e-12)
    else:
        assert t.dtype == np.int64 and t.shape == raw_t.shape
        np.testing.assert_array_equal(t, raw_t)
    (X_train, t_train), (X_test, t_test) = load_tabular_split(name, test_fraction=0.25, seed=3)
    assert len(X_train) + len(X_test) == len(raw_X) and len(t_test) == len(X_test)
    np.testing.assert_allclose(X_train.mean(axis=0), 0, atol=1e-12)


def test_standardize_uses_the_first_arrays_statistics_and_keeps_constant_columns_finite():
    train = np.array([[1.0, 7.0], [3.0, 7.0]])
    test = np.array([[5.0, 8.0]])
    s_train, s_test = standardize(train, test)
    np.testing.assert_array_equal(s_train, [[-1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(s_test, [[3.0, 1.0]])  # (5 − 2)/1 and (8 − 7)/1
    (column,) = standardize(np.array([2.0, 4.0]))
    np.testing.assert_array_equal(column, [-1.0, 1.0])
    scaler = Standardizer().fit(train)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(test)), test)


def test_mistakes_get_clear_errors():
    with pytest.raises(ValueError, match=r"load_tabular: unknown data set 'Iris'; expected one "
                                         r"of \['breast_cancer', 'diabetes', 'iris', 'wine'\]"):
        load_tabular("Iris")
    with pytest.raises(ValueError, match=r"test_fraction must be a fraction in \(0, 1\), got 20"):
        load_digits_split(test_fraction=20)
    with pytest.raises(ValueError, match=r"load_digits: unknown shape 'square'"):
        load_digits(shape="square")
    with pytest.raises(ValueError, match=r"Standardizer: fitted on rows of shape \(2,\), got "
                                         r"rows of shape \(3,\)"):
        Standardizer().fit(np.ones((2, 2))).transform(np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"at least one row"):
        standardize(np.ones((0, 3)))


def test_record_loads_names_the_data_sets_used():
    with record_loads() as loads:
        load_tabular("wine")
        load_digits_split()
        load_tabular("wine")
        dg.data.text.load_corpus()
    assert loads == [("wine", "scikit-learn"), ("digits", "scikit-learn"),
                     ("English text of Python's own documentation (pydoc_data)", "python")]


def test_dg_data_is_the_same_module():
    assert dg.data.load_digits_split is load_digits_split


@pytest.mark.parametrize("fraction", [0.999, 0.0001])
def test_a_split_too_small_for_every_class_is_refused_in_our_words(fraction):
    """Digits have 10 classes and 1,797 patterns: a stratified split needs ≥ 10 on each side,
    so test_fraction must lie in [10/1797, 1 − 11/1797]."""
    with pytest.raises(ValueError, match=r"load_digits_split: test_fraction=.* a stratified "
                                         r"split of 10 classes needs at least 10 in each "
                                         r"\(a test_fraction between 0.00556 and 0.994\)"):
        load_digits_split(test_fraction=fraction)

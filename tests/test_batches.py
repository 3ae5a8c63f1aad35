"""data.Batches and data.pad_sequences: every pattern once per pass, inputs and targets cut
at the same rows, reproducible orders, drop_last, padded sequences with their masks."""

import numpy as np
import pytest

import deltagrad as dg
from deltagrad.data import Batches, pad_sequences


def test_each_pass_covers_every_pattern_once_with_rows_kept_together():
    X = np.arange(23)[:, None] * np.ones((1, 3))
    t = np.arange(23) * 10
    batches = Batches(X, t, batch_size=5, seed=1)
    assert len(batches) == 5
    orders = []
    for _ in range(2):
        seen = []
        sizes = []
        for xb, tb in batches:
            np.testing.assert_array_equal(xb[:, 0] * 10, tb)  # the same rows of both
            seen.extend(tb // 10)
            sizes.append(len(tb))
        assert sorted(seen) == list(range(23)) and sizes == [5, 5, 5, 5, 3]
        orders.append(seen)
    assert orders[0] != orders[1]  # a new order each pass
    again = [tb.tolist() for _, tb in Batches(X, t, batch_size=5, seed=1)]
    assert sum(again, []) == [v * 10 for v in orders[0]]  # the same seed, the same run


def test_the_order_is_numpy_s_permutation_from_the_seed():
    """Shuffling is rng.permutation(N) of default_rng(seed), pass after pass."""
    rng = np.random.default_rng(7)
    expected = np.concatenate([rng.permutation(10), rng.permutation(10)])
    batches = Batches(np.arange(10), batch_size=4, seed=7)
    got = np.concatenate([b for _ in range(2) for b in batches])
    np.testing.assert_array_equal(got, expected)


def test_drop_last_and_no_shuffle():
    batches = Batches(np.arange(10), batch_size=4, shuffle=False, drop_last=True)
    assert len(batches) == 2
    assert [b.tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_padded_sequences_train_a_masked_gru_batch_by_batch():
    """Ragged sequences → pad_sequences → Batches of (x, mask, target): the masked GRU's last
    state for each padded row equals the sequence run alone."""
    rng = np.random.default_rng(0)
    sequences = [rng.normal(size=(int(n), 2)) for n in rng.integers(1, 7, size=9)]
    X, mask = pad_sequences(sequences)
    assert X.shape == (9, max(len(s) for s in sequences), 2)
    np.testing.assert_array_equal(mask.sum(axis=1), [len(s) for s in sequences])
    gru = dg.nn.GRU(2, 3, rng=0)
    index = np.arange(9)
    for xb, mb, ib in Batches(X, mask, index, batch_size=4, seed=0):
        _, h = gru(xb, mask=mb)
        for row, n in enumerate(ib):
            np.testing.assert_allclose(h.data[row], gru(sequences[n][None])[1].data[0],
                                       rtol=1e-13)


def test_pad_sequences_of_token_ids_with_a_fixed_length():
    X, mask = pad_sequences([np.array([3, 1]), np.array([2])], pad_value=9, max_len=4)
    np.testing.assert_array_equal(X, [[3, 1, 9, 9], [2, 9, 9, 9]])
    assert X.dtype.kind == "i" and mask.tolist() == [[True, True, False, False],
                                                     [True, False, False, False]]


@pytest.mark.parametrize("call,error,match", [
    (lambda: Batches(), ValueError, "at least one array"),
    (lambda: Batches(np.ones((4, 2)), np.ones(5)), ValueError,
     r"same number of patterns \(first axis\), got \[4, 5\]"),
    (lambda: Batches(np.ones(4), batch_size=0), ValueError, "batch_size must be a positive"),
    (lambda: Batches(np.ones(4), batch_size=8, drop_last=True), ValueError, "leaves no batch"),
    (lambda: Batches([[1, 2], [3]]), ValueError, "ragged.*pad_sequences"),
    (lambda: Batches(3.0), ValueError, "first axis of patterns"),
    (lambda: Batches(np.ones(4), shuffle="yes"), TypeError, "shuffle must be True or False"),
    (lambda: Batches(np.ones(4), seed=-1), ValueError, "seed must be None or an integer ≥ 0"),
    (lambda: pad_sequences([]), ValueError, "non-empty list"),
    (lambda: pad_sequences([[1, 2, 3]], max_len=2), ValueError, "longer than max_len=2"),
    (lambda: pad_sequences([np.ones((2, 3)), np.ones((2, 4))]), ValueError, "the same D"),
])
def test_bad_input_is_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()

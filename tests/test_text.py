"""Character-level text (deltagrad.data.text): the corpus that ships with Python, the
vocabulary, and a char-level LSTM that beats the unigram baseline on held-out text."""

import numpy as np
import pytest

from deltagrad.data import text as tx


@pytest.fixture(scope="module")
def corpus():
    return tx.split_corpus(tx.load_corpus())


def test_the_corpus_is_python_s_own_reference_text(corpus):
    from pydoc_data.topics import topics

    text = tx.load_corpus()
    assert len(text) > 400_000 and topics["assert"].strip("\n") in text
    vocab, train, test = corpus
    assert len(test) == pytest.approx(0.1 * len(text), abs=1)
    assert vocab.decode(np.concatenate([train, test])) == text


def test_vocabulary_round_trip_one_hot_and_clear_errors(corpus):
    vocab = corpus[0]
    ids = vocab.encode("for x in y:")
    assert vocab.decode(ids) == "for x in y:"
    one_hot = vocab.one_hot(ids.reshape(1, -1))
    assert one_hot.shape == (1, 11, vocab.size)
    np.testing.assert_array_equal(one_hot.argmax(-1)[0], ids)
    with pytest.raises(ValueError, match="'€' is not in the vocabulary"):
        vocab.encode("5 €")
    with pytest.raises(ValueError, match="ids must lie in"):
        vocab.decode([vocab.size])


def test_windows_pair_each_character_with_the_next():
    x, t = tx.windows(np.arange(20), 5, [0, 7])
    np.testing.assert_array_equal(x, [[0, 1, 2, 3, 4], [7, 8, 9, 10, 11]])
    np.testing.assert_array_equal(t, x + 1)


def test_unigram_baseline_is_the_cross_entropy_of_character_frequencies():
    """Train 'aab' → p(a) = 3/5, p(b) = 2/5 with add-one smoothing over V = 2; test 'ab' →
    −½ (log₂ 3/5 + log₂ 2/5)."""
    bits = tx.unigram_bits_per_char([0, 0, 1], [0, 1], 2)
    assert bits == pytest.approx(-0.5 * (np.log2(3 / 5) + np.log2(2 / 5)))


def test_a_char_lstm_beats_the_unigram_baseline_on_held_out_text(corpus):
    """80 Adam steps of 32 windows of 50 characters (2 × 10⁵ characters seen): the held-out
    bits per character fall below the unigram model's (≈ 4.67 bits)."""
    vocab, train, test = corpus
    baseline = tx.unigram_bits_per_char(train, test, vocab.size)
    model = tx.char_model(vocab.size, hidden_size=32, rng=0)
    curve = tx.fit_char_model(model, vocab, train, steps=80, T=50, batch_size=32, lr=0.01)
    held_out = tx.bits_per_char(model, vocab, test[:10_000])
    assert 4.3 < baseline < 5.0
    assert held_out < baseline - 0.3, f"{held_out} bits vs unigram {baseline}"
    assert np.mean(curve[-10:]) < np.mean(curve[:10])
    text = tx.sample(model, vocab, "The ", 40, temperature=0.5, seed=0)
    assert len(text) == 40 and set(text) <= set(vocab.characters)
    assert text == tx.sample(model, vocab, "The ", 40, temperature=0.5, seed=0)
    with pytest.raises(ValueError, match="temperature"):
        tx.sample(model, vocab, "The ", 5, temperature=0)

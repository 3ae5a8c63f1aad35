"""The digit tasks (reversal, sorting) and training transformers on sequences (chapter 11)."""

import pydoc_data.topics

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import deltagrad as dg
from deltagrad import nn
from deltagrad.analysis import sequences
from deltagrad.data import digit_tasks
from deltagrad.data import text as tx


def test_reversal_and_sorting_targets_are_the_reversed_and_sorted_digits():
    for task, answer in [("reversal", lambda d: d[::-1]), ("sorting", np.sort)]:
        X, T = digit_tasks.make(task, 50, seed=3)
        assert X.shape == T.shape == (50, 20)
        for x, t in zip(X, T):
            digits = x[x != digit_tasks.PAD]
            assert 10 <= len(digits) <= 20 and np.all(x[:20 - len(digits)] == digit_tasks.PAD)
            np.testing.assert_array_equal(t[:len(digits)], answer(digits))
            assert np.all(t[len(digits):] == digit_tasks.PAD)
    X, T = digit_tasks.reversal(200, seed=0)  # the anti-diagonal: T[p] = X[19 − p] where set
    set_ = T != digit_tasks.PAD
    np.testing.assert_array_equal(T[set_], X[:, ::-1][set_])
    np.testing.assert_array_equal(digit_tasks.reversal(5, seed=1)[0],
                                  digit_tasks.reversal(5, seed=1)[0])


def test_digit_tasks_refuse_bad_arguments():
    with pytest.raises(ValueError, match="min_len 8 is larger than max_len 5"):
        digit_tasks.reversal(3, min_len=8, max_len=5)
    with pytest.raises(ValueError, match="task"):
        digit_tasks.make("copying", 3)
    with pytest.raises(ValueError, match="n"):
        digit_tasks.sorting(0)


def test_reversal_model_reaches_99_percent_held_out_token_accuracy():
    """One bidirectional block (E = 32, 2 heads) on 2000 sequences of lengths 10–20, 6 epochs;
    measured 99.96% on 500 held-out sequences (about 4 s on one core)."""
    with threadpool_limits(1):
        result = sequences.digit_task("reversal", n_train=2000, n_test=500, epochs=6, seed=0)
    assert result.accuracy >= 0.99, result.accuracy
    assert result.history[-1] < result.history[0] / 10


def test_char_transformer_learns_english_text_below_the_uniform_rate():
    """Real English from the standard library (pydoc's topic help): a small causal model
    must beat log2(V) bits per character, the rate of a uniform guess, on held-out text."""
    text = pydoc_data.topics.topics["assignment"][:6000]
    alphabet = sorted(set(text))
    ids = np.array([alphabet.index(c) for c in text])
    with threadpool_limits(1):
        result = sequences.char_transformer(ids[:5000], ids[5000:], vocab_size=len(alphabet),
                                            context=32, embed_dim=16, num_layers=1, epochs=2,
                                            seed=0)
    assert result.bits_per_char < np.log2(len(alphabet)) - 1.0, result.bits_per_char
    assert result.seconds_per_epoch > 0 and result.parameters == result.model.num_parameters()
    with pytest.raises(ValueError, match="heldout_ids must be a 1-D array of at least"):
        sequences.char_transformer(ids, ids[:10], context=32)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        sequences.char_transformer(ids, ids, vocab_size=3, context=32)


def test_token_accuracy_ignores_padding_and_train_tokens_checks_shapes():
    model = nn.TransformerLM(4, 8, 2, 1, max_len=3, causal=False, rng=0)
    X = np.array([[0, 1, 2]])
    predicted = model(X).data.argmax(-1)
    T = predicted.copy()
    T[0, 2] = (T[0, 2] + 1) % 4
    assert sequences.token_accuracy(model, X, T) == pytest.approx(2 / 3)
    T[0, 2] = 3 if predicted[0, 2] != 3 else 2
    assert sequences.token_accuracy(model, X, T, ignore_index=T[0, 2]) == 1.0
    with pytest.raises(ValueError, match="one shape"):
        sequences.train_tokens(model, X, T[:, :2])


def test_compare_char_models_matches_parameters_and_scores_the_same_held_out_characters():
    """A 1-layer transformer (E = 16) and the LSTM sized to match it, one epoch each on the
    corpus of ``data.text``: the parameter counts agree within 15%, both beat log2(V), and
    each model's bits per character are −(1/n) Σ log₂ p(target) recomputed here over the
    same n held-out characters (the targets of the consecutive windows of 16)."""
    vocab, train, test = tx.split_corpus(tx.load_corpus())
    train, held = train[:3000], test[:333]  # 20 windows of 16 and 12 characters left over
    with threadpool_limits(1):
        runs = sequences.compare_char_models(train, held, vocab.size, context=16,
                                             embed_dim=16, num_layers=1, epochs=1, seed=0)
    transformer, lstm = runs["transformer"], runs["lstm"]
    assert abs(lstm.parameters - transformer.parameters) <= 0.15 * transformer.parameters
    assert lstm.parameters == lstm.model.num_parameters()
    X, T = tx.windows(held, 16, np.arange(20) * 16)
    with dg.no_grad():
        logits = transformer.model(X).data
        probabilities = lstm.model(vocab.one_hot(X)).data
    log_p = logits - logits.max(-1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_p, T[..., None], -1)
    assert transformer.bits_per_char == pytest.approx(-picked.mean() / np.log(2), rel=1e-9)
    picked = np.take_along_axis(probabilities, T[..., None], -1)
    assert lstm.bits_per_char == pytest.approx(-np.log2(picked).mean(), rel=1e-9)
    for run in runs.values():
        assert np.isfinite(run.bits_per_char) and run.bits_per_char < np.log2(vocab.size)
        assert run.seconds_per_epoch > 0
    with pytest.raises(ValueError, match="char_lstm: heldout_ids must be a 1-D array"):
        sequences.char_lstm(train, held[:16], vocab.size, context=16)
    with pytest.raises(ValueError, match="hidden_size"):
        sequences.char_lstm(train, held, vocab.size, hidden_size=0, context=16)
    with pytest.raises(TypeError, match="train_ids must be integer ids, got a string"):
        sequences.char_lstm("some text" * 9, held, vocab.size, context=16)


def test_lstm_hidden_size_for_picks_the_nearest_parameter_count():
    """A 1-layer char LSTM over V inputs has 4H(V + H + 1) parameters (four gates, eq. 10.4,
    one bias each) plus the head's H·V + V: 695 for H = 10, V = 5 and 808 for H = 11, so 695
    gives 10 and 752 (one past the midpoint) gives 11."""
    assert [tx.char_model(5, h).num_parameters() for h in (10, 11)] == [695, 808]
    assert sequences.lstm_hidden_size_for(695, 5) == 10
    assert sequences.lstm_hidden_size_for(752, 5) == 11
    assert sequences.lstm_hidden_size_for(751, 5) == 10
    with pytest.raises(ValueError, match="parameters"):
        sequences.lstm_hidden_size_for(0, 5)

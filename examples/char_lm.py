"""A character-level LSTM language model (chapter 10) on a real English corpus that ships with
Python (the Language Reference topics of pydoc_data): held-out bits per character against the
unigram baseline, and text sampled at a few temperatures."""

from deltagrad.data import text

vocab, train_ids, test_ids = text.split_corpus(text.load_corpus())
model = text.char_model(vocab.size, hidden_size=64, rng=0)
curve = text.fit_char_model(model, vocab, train_ids, steps=150, lr=0.01)
print(f"{len(curve)} Adam steps: training {curve[0]:.2f} → {curve[-1]:.2f} bits/char")
print(f"held out: {text.bits_per_char(model, vocab, test_ids[:5000]):.3f} bits/char "
      f"(unigram {text.unigram_bits_per_char(train_ids, test_ids, vocab.size):.3f})")
for temperature in (0.3, 1.0):
    print(f"τ = {temperature}:", repr("The " + text.sample(model, vocab, "The ", 60,
                                                           temperature=temperature)))

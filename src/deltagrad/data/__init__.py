"""Real data for the examples, the tour and the tests: scikit-learn's bundled data sets, split
and standardised one way everywhere.

``digits`` (8×8 handwritten digits, flat or as ``(N, 1, 8, 8)`` images) and the tabular sets
``iris``, ``wine``, ``breast_cancer`` and ``diabetes``; :func:`standardize` is the one
standardisation helper. For images (chapter 7, §4.5): ``augment`` (random shifts, rotations,
scalings, elastic deformations), ``filters`` (hand-set edge kernels) and ``features``
(Hu's moment invariants). For sequences (chapters 8–11): the long-range tasks
``adding_problem``, ``temporal_order`` and ``copy_memory`` (generated from a seed); ``text``: a
real English corpus that ships with Python, character vocabularies and a character-level LSTM
language model; ``digit_tasks`` (reversal, sorting) for attention. For hand-written
training loops: ``Batches`` (minibatches of inputs, targets and masks, shuffled from a seed)
and ``pad_sequences`` (sequences of different lengths → a padded array and its mask).
Nothing is downloaded: scikit-learn ships its files (``pip install 'deltagrad[datasets]'``).

Example:
    >>> import deltagrad as dg
    >>> (X, y), (X_test, y_test) = dg.data.load_digits_split()
    >>> X.shape, X_test.shape
    ((1437, 64), (360, 64))
"""

from . import augment, csvfile, digit_tasks, features, filters, text
from .batches import Batches, pad_sequences
from ._loads import record_loads
from .digits import load_digits, load_digits_split
from .sequences import SequenceTask, adding_problem, copy_memory, temporal_order
from .tabular import TABULAR, load_tabular, load_tabular_split
from .transforms import Standardizer, standardize

__all__ = ["Batches", "TABULAR", "SequenceTask", "Standardizer", "adding_problem", "augment",
           "copy_memory", "csvfile", "digit_tasks", "features", "filters", "load_digits",
           "load_digits_split", "load_tabular", "load_tabular_split", "pad_sequences",
           "record_loads", "standardize", "temporal_order", "text"]

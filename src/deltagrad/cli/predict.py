"""``deltagrad predict``: apply a saved model to a CSV file — one written by ``deltagrad train``,
by a scikit-learn estimator's ``save()`` (``deltagrad.sklearn``) or by the playground's "Save
model file"."""

from __future__ import annotations

import numpy as np

HELP = ("predict with a model saved by 'deltagrad train', by a deltagrad.sklearn estimator's "
        "save() or by the playground's 'Save model file' on a CSV file, writing a CSV")
EXAMPLE = "deltagrad predict model.safetensors new.csv --out predictions.csv"


def add_arguments(parser) -> None:
    parser.add_argument("model", help="a .safetensors file written by 'deltagrad train', by "
                                      "MLPClassifier/MLPRegressor.save() or by the playground")
    parser.add_argument("csv", help="a CSV file with (at least) the model's feature columns")
    parser.add_argument("--out", default="-", help="output CSV ('-': standard output)")
    parser.add_argument("--delimiter", default=None,
                        help="the CSV delimiter (default: detected from the header)")


def _class_column(classes) -> tuple:
    """``(names of the probability columns, classes as written)``: numbers as numbers."""
    names = [f"p_{c:g}" if isinstance(c, (int, float)) else f"p_{c}" for c in classes]
    written = [float(c) if isinstance(c, (int, float)) else c for c in classes]
    return names, written


def _from_train(net, extra: dict, table) -> tuple:
    from .. import predict

    missing = [f for f in extra["features"] if f not in table.header]
    if missing:
        raise ValueError(f"{table.path} lacks the model's feature columns {missing}")
    X = table.numbers(extra["features"])
    out = predict(net, (X - np.asarray(extra["mean"])) / np.asarray(extra["std"]))
    if extra["task"] == "classification":
        names, classes = _class_column(extra["classes"])
        return (["prediction"] + names,
                [[classes[k] for k in out.argmax(axis=1)]] + [list(out[:, k]) for k in
                                                               range(out.shape[1])])
    return ["prediction"], [list(out[:, 0] * extra["t_std"] + extra["t_mean"])]


def _from_estimator(path: str, extra: dict, table) -> tuple:
    """An estimator file: its features are the CSV's columns in order, as it was fitted."""
    from .. import sklearn

    estimator = getattr(sklearn, extra["estimator"], None)
    if estimator not in (sklearn.MLPClassifier, sklearn.MLPRegressor):
        raise ValueError(f"{path} holds an unknown estimator {extra['estimator']!r}")
    estimator = estimator.load(path)
    if len(table.header) != estimator.n_features_in_:
        raise ValueError(f"{table.path} has {len(table.header)} columns; the estimator was "
                         f"fitted on {estimator.n_features_in_} features (give exactly those "
                         "columns, in the order it was fitted on)")
    X = table.numbers(table.header)
    if isinstance(estimator, sklearn.MLPClassifier):
        names, _ = _class_column(estimator.classes_.tolist())
        proba = estimator.predict_proba(X)
        predicted = [c.item() if hasattr(c, "item") else c for c in estimator.predict(X)]
        return ["prediction"] + names, [predicted] + [list(proba[:, k]) for k in
                                                      range(proba.shape[1])]
    out = np.asarray(estimator.predict(X)).reshape(len(X), -1)
    names = ["prediction"] if out.shape[1] == 1 else \
        [f"prediction_{k + 1}" for k in range(out.shape[1])]
    return names, [list(out[:, k]) for k in range(out.shape[1])]


def _from_playground(net, extra: dict, table) -> tuple:
    """A model file the playground saved: the inputs are the CSV's columns named as the page's
    (x1, x2), or else its first columns in order; the network reads the chosen features of
    them (x₁², sin x₁, ...). Classes: the prediction (p ≥ ½, or the larger softmax output) and
    the probabilities; regression: the output."""
    from .. import predict
    from ..playground.datasets import features

    inputs = extra.get("inputs")
    names = inputs if all(name in table.header for name in inputs) else table.header[:len(inputs)]
    if len(names) < len(inputs):
        raise ValueError(f"{table.path} has {len(table.header)} column(s); the playground model "
                         f"reads {len(inputs)} input(s) {inputs}")
    out = predict(net, features(table.numbers(names), extra["features"]))
    if extra.get("kind") != "classes":
        return ["prediction"], [list(out[:, 0])]
    if out.shape[1] == 1:
        p1 = out[:, 0]
        return ["prediction", "p_1"], [[float(p >= 0.5) for p in p1], list(p1)]
    return (["prediction", "p_0", "p_1"],
            [[float(k) for k in out.argmax(axis=1)], list(out[:, 0]), list(out[:, 1])])


def run(args) -> int:
    from .. import io
    from ..data.csvfile import read_table, write_csv

    if args.out != "-":
        io.check_destination(args.out, owner="--out", example="predictions.csv")
    net, extra = io.read(args.model)
    table = read_table(args.csv, args.delimiter)
    if isinstance(extra, dict) and "estimator" in extra:
        names, columns = _from_estimator(args.model, extra, table)
    elif isinstance(extra, dict) and isinstance(extra.get("playground"), dict) \
            and "inputs" in extra:
        names, columns = _from_playground(net, extra, table)
    elif isinstance(extra, dict) and all(k in extra for k in ("task", "features", "mean", "std")):
        names, columns = _from_train(net, extra, table)
    else:
        raise ValueError(f"{args.model} was written neither by 'deltagrad train', by a "
                         "deltagrad.sklearn estimator nor by the playground (no feature "
                         "description in its metadata); load it in Python with deltagrad.load")
    write_csv(args.out, names, [[float(v) if isinstance(v, (float, np.floating)) else v
                                 for v in column] for column in columns])
    if args.out != "-":
        print(f"wrote {len(table)} predictions to {args.out}")
    return 0

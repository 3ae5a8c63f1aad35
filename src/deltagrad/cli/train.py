"""``deltagrad train``: train an MLP on a CSV file and save it."""

from __future__ import annotations

import sys

import numpy as np

from .. import _validate as check
from ._args import checked

HELP = "train an MLP on a CSV file (one column is the target) and save it"
EXAMPLE = ("deltagrad train wine.csv --target class --layers 32,16 --epochs 200 "
           "--out model.safetensors")
FIRST_ORDER = ("adam", "sgd")
DEFAULT_BATCH = 32
DEFAULT_PATIENCE = 20


def add_arguments(parser) -> None:
    parser.add_argument("csv", help="a CSV file with a header row; numeric feature columns")
    parser.add_argument("--target", required=True,
                        help="the name of the target column (numbers, or class names)")
    parser.add_argument("--layers", default="32", help="hidden layer widths, e.g. 64,32")
    parser.add_argument("--activation", default="tanh", choices=["tanh", "sigmoid", "relu"],
                        help="the hidden units' activation")
    parser.add_argument("--task", default="auto", choices=["auto", "classification",
                                                           "regression"],
                        help="auto: classification for names or at most 20 whole numbers")
    parser.add_argument("--epochs", type=checked(check.positive_int), default=200,
                        help="passes over the training rows (iterations for batch methods)")
    parser.add_argument("--optimizer", default="adam",
                        choices=["adam", "sgd", "lbfgs", "cg", "bfgs", "scg"],
                        help="adam and sgd take --lr and --batch-size; the batch methods "
                             "(lbfgs, cg, bfgs, scg) use all rows and their own step sizes")
    parser.add_argument("--lr", type=checked(check.positive, float), default=None,
                        help="learning rate (default: 0.001 for adam, 0.01 for sgd)")
    parser.add_argument("--batch-size", type=checked(check.positive_int), default=None,
                        help=f"rows per step of adam or sgd (default: {DEFAULT_BATCH}, or all "
                             "training rows when fewer)")
    parser.add_argument("--validation-split", type=checked(check.real, float, low=0.0, high=1.0),
                        default=0.2, help="fraction of rows held out for validation and early "
                                          "stopping; 0 trains on every row")
    parser.add_argument("--patience", type=checked(check.positive_int), default=None,
                        help=f"stop after this many epochs without a better validation error "
                             f"and keep the best weights (default: {DEFAULT_PATIENCE})")
    parser.add_argument("--no-early-stopping", action="store_true",
                        help="train for all --epochs (keep the last weights)")
    parser.add_argument("--seed", type=checked(check.seed), default=0,
                        help="seeds the weights, the validation rows and the shuffling")
    parser.add_argument("--delimiter", default=None,
                        help="the CSV delimiter (default: detected from the header)")
    parser.add_argument("--out", default="model.safetensors", help="where to save the model")


def _task(table, target: str, requested: str) -> str:
    if not table.is_numeric(target):
        if requested == "regression":
            raise ValueError(f"--task regression needs a numeric --target; column {target!r} "
                             "holds names")
        return "classification"
    if requested != "auto":
        return requested
    values = table.numbers([target])[:, 0]
    whole = np.all(values == np.round(values))
    return "classification" if whole and len(np.unique(values)) <= 20 else "regression"


def _targets(table, target: str, task: str, extra: dict):
    """``(T, loss, output, n_outputs)``; a target with a single value is refused."""
    if task == "classification":
        cells = table.cells(target)
        names = not table.is_numeric(target)
        labels = np.asarray(cells) if names else table.numbers([target])[:, 0]
        classes = np.unique(labels)
        if len(classes) < 2:
            raise ValueError(f"--target {target}: every row has the class "
                             f"{classes.tolist()[0]!r}; a classifier needs rows of at least two "
                             "classes")
        extra["classes"] = classes.tolist()
        return np.searchsorted(classes, labels), "cross_entropy", "softmax", len(classes)
    y = table.numbers([target])[:, 0]
    if np.all(y == y[0]):
        raise ValueError(f"--target {target}: every row has the value {y[0]:g}; there is "
                         "nothing to learn")
    extra["t_mean"], extra["t_std"] = float(y.mean()), float(y.std())
    return ((y - extra["t_mean"]) / extra["t_std"])[:, None], "sum_of_squares", "identity", 1


def _validation_rows(n: int, fraction: float, seed: int):
    """``(training rows, validation rows)`` — refused in the flag's words when a set is empty."""
    if fraction == 0:
        return np.arange(n), None
    n_val = int(round(fraction * n))
    if n_val < 1 or n_val >= n:
        raise ValueError(f"--validation-split {fraction:g} holds out {n_val} of {n} rows; both "
                         "sets need a row (--validation-split 0 trains on every row)")
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def _batch_size(args, n_train: int):
    """The batch size for adam/sgd: the default shrinks to small data with a note; a given
    size larger than the training rows is refused."""
    if args.batch_size is None:
        if n_train < DEFAULT_BATCH:
            print(f"note: using --batch-size {n_train}, all the training rows (the default "
                  f"{DEFAULT_BATCH} is more)", file=sys.stderr)
        return min(DEFAULT_BATCH, n_train)
    if args.batch_size > n_train:
        raise ValueError(f"--batch-size {args.batch_size} is more than the {n_train} training "
                         "rows")
    return args.batch_size


def _check_options(args) -> None:
    """Options that would have no effect are errors, not silently ignored."""
    if args.optimizer not in FIRST_ORDER:
        for flag, value in (("--lr", args.lr), ("--batch-size", args.batch_size)):
            if value is not None:
                raise ValueError(f"{flag} has no effect with --optimizer {args.optimizer} (a "
                                 "batch method: all rows, its own step sizes); drop it or use "
                                 "--optimizer adam or sgd")
    if args.patience is not None and (args.no_early_stopping or args.validation_split == 0):
        raise ValueError("--patience has no effect without early stopping (it watches the "
                         "validation rows: drop --no-early-stopping or --validation-split 0)")
    try:
        hidden = [int(w) for w in args.layers.split(",") if w.strip()]
    except ValueError:
        hidden = [0]
    if any(w < 1 for w in hidden):
        raise ValueError(f"--layers must be positive widths like 64,32, got {args.layers!r}")
    args.hidden = hidden


def run(args) -> int:
    from .. import fit, io, nn
    from ..callbacks import EarlyStopping
    from ..data import Standardizer
    from ..data.csvfile import read_table

    _check_options(args)
    io.check_destination(args.out, owner="--out")
    table = read_table(args.csv, args.delimiter)
    if args.target not in table.header:
        raise ValueError(f"target column {args.target!r} is not in {args.csv} (columns: "
                         f"{', '.join(table.header)})")
    features = [h for h in table.header if h != args.target]
    if not features:
        raise ValueError("no feature columns besides the target")
    X = table.numbers(features)
    task = _task(table, args.target, args.task)
    extra = {"task": task, "target": args.target, "features": features}
    T, loss, output, n_outputs = _targets(table, args.target, task, extra)
    train_rows, val_rows = _validation_rows(len(X), args.validation_split, args.seed)
    scaler = Standardizer().fit(X[train_rows])
    extra["mean"], extra["std"] = scaler.mean_.tolist(), scaler.scale_.tolist()
    Xs = scaler.transform(X)
    sizes = [X.shape[1], *args.hidden, n_outputs]
    net = nn.MLP(sizes, hidden=args.activation, output=output, rng=args.seed)
    first_order = args.optimizer in FIRST_ORDER
    validation = None if val_rows is None else (Xs[val_rows], T[val_rows])
    stopping = [] if args.no_early_stopping or validation is None else \
        [EarlyStopping(patience=args.patience or DEFAULT_PATIENCE)]
    history = fit(net, Xs[train_rows], T[train_rows], loss=loss, optimizer=args.optimizer,
                  epochs=args.epochs,
                  batch_size=_batch_size(args, len(train_rows)) if first_order else None,
                  lr=args.lr, seed=args.seed, validation_data=validation, callbacks=stopping,
                  progress=sys.stderr.isatty())
    io.save(net, args.out, extra=extra)
    kept = f" (kept epoch {history.restored_epoch})" if history.restored_epoch else ""
    metrics = _metric(net, Xs[train_rows], T[train_rows], task, extra, "training")
    if val_rows is not None:
        metrics += "; " + _metric(net, Xs[val_rows], T[val_rows], task, extra, "validation")
    print(f"trained {'-'.join(map(str, sizes))} {args.activation} MLP ({task}) for "
          f"{history.epochs} epochs{kept}; {metrics}; saved to {args.out}")
    return 0


def _metric(net, Xs, T, task, extra, rows: str) -> str:
    """Accuracy (classification) or RMSE in the target's units, on the rows given."""
    from .. import predict

    out = predict(net, Xs)
    count = f"{len(T)} row" + ("s" if len(T) != 1 else "")
    if task == "classification":
        return f"{rows} accuracy {np.mean(out.argmax(axis=1) == T):.4f} on {count}"
    residual = (out[:, 0] - T[:, 0]) * extra["t_std"]
    return f"{rows} RMSE {np.sqrt(np.mean(residual ** 2)):.4g} on {count}"

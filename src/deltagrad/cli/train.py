"""``deltagrad train``: train an MLP on a numeric CSV file and save it."""

from __future__ import annotations

import sys

import numpy as np

from .. import _validate as check
from ._args import checked

HELP = "train an MLP on a CSV file (one column is the target) and save it"
EXAMPLE = ("deltagrad train wine.csv --target class --layers 32,16 --epochs 200 "
           "--out model.safetensors")


def add_arguments(parser) -> None:
    parser.add_argument("csv", help="a CSV file with a header row; every column numeric")
    parser.add_argument("--target", required=True, help="the name of the target column")
    parser.add_argument("--layers", default="32", help="hidden layer widths, e.g. 64,32")
    parser.add_argument("--activation", default="tanh", choices=["tanh", "sigmoid", "relu"])
    parser.add_argument("--task", default="auto", choices=["auto", "classification",
                                                           "regression"])
    parser.add_argument("--epochs", type=checked(check.positive_int), default=200)
    parser.add_argument("--optimizer", default="adam",
                        choices=["adam", "sgd", "lbfgs", "cg", "bfgs", "scg"])
    parser.add_argument("--lr", type=checked(check.positive, float), default=None,
                        help="learning rate (adam, sgd)")
    parser.add_argument("--batch-size", type=checked(check.positive_int), default=32)
    parser.add_argument("--validation-split", type=checked(check.fraction, float), default=0.2)
    parser.add_argument("--seed", type=checked(check.seed), default=0)
    parser.add_argument("--out", default="model.safetensors")


def _task(values: np.ndarray, requested: str) -> str:
    if requested != "auto":
        return requested
    whole = np.all(values == np.round(values))
    return "classification" if whole and len(np.unique(values)) <= 20 else "regression"


def run(args) -> int:
    from .. import fit, io, nn
    from ..callbacks import EarlyStopping
    from ..data import Standardizer
    from ._csv import read_csv

    header, data = read_csv(args.csv)
    if args.target not in header:
        raise ValueError(f"target column {args.target!r} is not in {args.csv} (columns: "
                         f"{', '.join(header)})")
    try:
        hidden = [int(w) for w in args.layers.split(",") if w.strip()]
    except ValueError:
        raise ValueError(f"--layers must be widths like 64,32, got {args.layers!r}") from None
    features = [h for h in header if h != args.target]
    if not features:
        raise ValueError("no feature columns besides the target")
    X = data[:, [header.index(f) for f in features]]
    y = data[:, header.index(args.target)]
    scaler = Standardizer().fit(X)
    Xs = scaler.transform(X)
    task = _task(y, args.task)
    extra = {"task": task, "target": args.target, "features": features,
             "mean": scaler.mean_.tolist(), "std": scaler.scale_.tolist()}
    if task == "classification":
        classes = np.unique(y)
        extra["classes"] = classes.tolist()
        T, loss, output = np.searchsorted(classes, y), "cross_entropy", "softmax"
        sizes = [X.shape[1], *hidden, len(classes)]
    else:
        extra["t_mean"], extra["t_std"] = float(y.mean()), float(y.std() or 1.0)
        T = ((y - extra["t_mean"]) / extra["t_std"])[:, None]
        loss, output, sizes = "sum_of_squares", "identity", [X.shape[1], *hidden, 1]
    net = nn.MLP(sizes, hidden=args.activation, output=output, rng=args.seed)
    first_order = args.optimizer in ("adam", "sgd")
    history = fit(net, Xs, T, loss=loss, optimizer=args.optimizer, epochs=args.epochs,
                  batch_size=args.batch_size if first_order else None,
                  lr=args.lr if first_order else None, seed=args.seed,
                  validation_split=args.validation_split,
                  callbacks=[EarlyStopping(patience=20)], progress=sys.stderr.isatty())
    io.save(net, args.out, extra=extra)
    metric = _metrics(net, Xs, T, task, extra)
    print(f"trained {'-'.join(map(str, sizes))} {args.activation} MLP ({task}) on "
          f"{len(X)} rows for {history.epochs} epochs (kept epoch {history.restored_epoch}); "
          f"{metric}; saved to {args.out}")
    return 0


def _metrics(net, Xs, T, task, extra) -> str:
    from .._state import no_grad

    with no_grad():
        out = net(Xs).data
    if task == "classification":
        return f"training accuracy {np.mean(out.argmax(axis=1) == T):.4f}"
    residual = (out[:, 0] - T[:, 0]) * extra["t_std"]
    return f"training RMSE {np.sqrt(np.mean(residual ** 2)):.4g}"

"""``deltagrad predict``: apply a model saved by ``deltagrad train`` to a CSV file."""

from __future__ import annotations

import numpy as np

HELP = "predict with a model saved by 'deltagrad train' on a CSV file, writing a CSV"
EXAMPLE = "deltagrad predict model.safetensors new.csv --out predictions.csv"


def add_arguments(parser) -> None:
    parser.add_argument("model", help="a .safetensors file written by 'deltagrad train'")
    parser.add_argument("csv", help="a CSV file with (at least) the model's feature columns")
    parser.add_argument("--out", default="-", help="output CSV (default: standard output)")


def run(args) -> int:
    from .. import io
    from .._state import no_grad
    from ._csv import read_csv, write_csv

    net, extra = io.read(args.model)
    required = ("task", "features", "mean", "std")
    if not isinstance(extra, dict) or any(key not in extra for key in required):
        raise ValueError(f"{args.model} was not written by 'deltagrad train' (no feature "
                         "description in its metadata)")
    header, data = read_csv(args.csv)
    missing = [f for f in extra["features"] if f not in header]
    if missing:
        raise ValueError(f"{args.csv} lacks the model's feature columns {missing}")
    X = data[:, [header.index(f) for f in extra["features"]]]
    Xs = (X - np.asarray(extra["mean"])) / np.asarray(extra["std"])
    with no_grad():
        out = net(Xs).data
    if extra["task"] == "classification":
        classes = np.asarray(extra["classes"])
        names = ["prediction"] + [f"p_{c:g}" for c in classes]
        columns = [classes[out.argmax(axis=1)].astype(float)] + [out[:, k] for k in
                                                                 range(out.shape[1])]
    else:
        names = ["prediction"]
        columns = [out[:, 0] * extra["t_std"] + extra["t_mean"]]
    write_csv(args.out, names, [[float(v) for v in column] for column in columns])
    if args.out != "-":
        print(f"wrote {len(X)} predictions to {args.out}")
    return 0

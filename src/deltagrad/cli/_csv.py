"""Reading numeric CSV files for the CLI, with errors that name the column and row."""

from __future__ import annotations

import csv
import io
import os
import sys

import numpy as np


def read_csv(path: str) -> tuple:
    """``(header, data)``: the column names and a float array (rows, columns)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path}")
    with open(path, newline="", encoding="utf-8") as handle:
        return parse_csv(handle.read(), path)


def parse_csv(text: str, source: str = "CSV") -> tuple:
    """``(header, data)`` from the text of a CSV file; errors name ``source``, line and column."""
    rows = list(csv.reader(io.StringIO(text)))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise ValueError(f"{source}: expected a header row and at least one data row")
    header = [name.strip() for name in rows[0]]
    if len(set(header)) != len(header):
        raise ValueError(f"{source}: repeated column names in the header")
    data = np.empty((len(rows) - 1, len(header)))
    for r, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ValueError(f"{source}, line {r}: {len(row)} fields, the header has "
                             f"{len(header)}")
        for c, cell in enumerate(row):
            try:
                data[r - 2, c] = float(cell)
            except ValueError:
                raise ValueError(f"{source}, line {r}: column {header[c]!r} is not numeric "
                                 f"({cell!r})") from None
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{source}: contains NaN or infinite values")
    return header, data


def write_csv(path: str, header: list, columns: list) -> None:
    """Columns of numbers as CSV, to ``path`` or, for ``"-"``, to standard output."""
    if path == "-":
        _write_rows(sys.stdout, header, columns)
        return
    with open(path, "w", newline="", encoding="utf-8") as handle:
        _write_rows(handle, header, columns)


def _write_rows(handle, header: list, columns: list) -> None:
    writer = csv.writer(handle)
    writer.writerow(header)
    for row in zip(*columns):
        writer.writerow([f"{v:.10g}" if isinstance(v, float) else v for v in row])

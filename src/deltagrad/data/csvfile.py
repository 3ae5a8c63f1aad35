r"""Reading and writing CSV files, for the command line and the playground alike, with errors that
name the column and row: a UTF-8 byte-order mark is dropped, the delimiter is detected from the
header (or given), empty cells are reported as missing values, and a column of names stays text
(class labels).

Example:
    >>> from deltagrad.data.csvfile import parse_csv
    >>> parse_csv("x1;x2;t\n0;1;1\n1;1;0\n")
    (['x1', 'x2', 't'], array([[0., 1., 1.],
           [1., 1., 0.]]))
"""

from __future__ import annotations

import csv
import os
import sys

import numpy as np

DELIMITERS = ",;\t|"


class Table:
    """The cells of a CSV file as text: ``header`` (column names), ``rows`` (lists of cells) and
    ``lines`` (the file's line number of each row, for messages)."""

    def __init__(self, path: str, header: list, rows: list, lines: list):
        self.path, self.header, self.rows, self.lines = path, header, rows, lines

    def __len__(self) -> int:
        return len(self.rows)

    def cells(self, name: str) -> list:
        """The text of column ``name``; a missing value (an empty cell) is an error naming its
        line and column."""
        c = self.header.index(name)
        for line, row in zip(self.lines, self.rows):
            if not row[c].strip():
                raise ValueError(f"{self.path}, line {line}: column {name!r} is empty (a missing "
                                 "value); fill it in or remove the row")
        return [row[c].strip() for row in self.rows]

    def is_numeric(self, name: str) -> bool:
        return all(_is_number(cell) for cell in self.cells(name))

    def numbers(self, names: list) -> np.ndarray:
        """Columns ``names`` as a float array ``(rows, len(names))``."""
        data = np.empty((len(self.rows), len(names)))
        for j, name in enumerate(names):
            for i, cell in enumerate(self.cells(name)):
                try:
                    data[i, j] = float(cell)
                except ValueError:
                    raise ValueError(f"{self.path}, line {self.lines[i]}: column {name!r} is not "
                                     f"numeric ({cell!r})") from None
                if not np.isfinite(data[i, j]):
                    raise ValueError(f"{self.path}, line {self.lines[i]}: column {name!r} is "
                                     f"{cell!r}; values must be finite")
        return data


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _delimiter(first_line: str, path: str) -> str:
    """The one of , ; tab | that the header line uses most (``,`` for a single column)."""
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts.values())
    used = [d for d, n in counts.items() if n == best]
    if best and len(used) > 1:
        raise ValueError(f"{path}: cannot tell the delimiter of the header "
                         f"({' or '.join(map(repr, used))}); give --delimiter")
    return used[0] if best else ","


def read_table(path: str, delimiter: str | None = None) -> Table:
    """The cells of the CSV file at ``path`` (delimiter detected when ``None``)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path}")
    with open(path, newline="", encoding="utf-8-sig") as handle:  # -sig: drop a BOM
        return table_of(handle.read(), path, delimiter)


def table_of(text: str, source: str = "CSV", delimiter: str | None = None) -> Table:
    """The cells of CSV ``text``; errors name ``source`` and the line."""
    text = text.removeprefix("\ufeff")
    delimiter = delimiter or _delimiter(text.split("\n", 1)[0], source)
    rows = csv.reader(text.splitlines(), delimiter=delimiter)
    numbered = [(n, row) for n, row in enumerate(rows, start=1) if any(c.strip() for c in row)]
    if len(numbered) < 2:
        raise ValueError(f"{source}: expected a header row and at least one data row")
    header = [name.strip() for name in numbered[0][1]]
    if len(set(header)) != len(header):
        raise ValueError(f"{source}: repeated column names in the header")
    for line, row in numbered[1:]:
        if len(row) != len(header):
            raise ValueError(f"{source}, line {line}: {len(row)} fields, the header has "
                             f"{len(header)} (delimiter {delimiter!r})")
    return Table(source, header, [row for _, row in numbered[1:]], [n for n, _ in numbered[1:]])


def parse_csv(text: str, source: str = "CSV") -> tuple:
    """``(header, data)`` from the text of a numeric CSV file (the playground's uploads)."""
    table = table_of(text, source)
    return table.header, table.numbers(table.header)


def read_csv(path: str, delimiter: str | None = None) -> tuple:
    """``(header, data)``: the column names and a float array (rows, columns)."""
    table = read_table(path, delimiter)
    return table.header, table.numbers(table.header)


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

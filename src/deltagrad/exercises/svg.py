"""SVG drawings for the HTML sheet: a network with its weights on the edges and biases under
the units (eq. 1.2), and the corners of the unit square or cube coloured by f (Remark 5.1)."""

from __future__ import annotations

import html

import numpy as np

_STYLE = 'font-family="sans-serif" text-anchor="middle"'


def network(layers, input_names=None) -> str:
    """``layers``: ``[(W, b), ...]`` with ``W[j][i] = w_ji`` (out, in); inputs on the left."""
    sizes = [len(np.asarray(layers[0][0])[0])] + [len(b) for _, b in layers]
    names = [list(input_names or [f"x{i}" for i in range(1, sizes[0] + 1)])]
    for l, n in enumerate(sizes[1:], start=1):
        names.append([f"y{k}" if l == len(layers) else f"h{l}_{k}" if len(layers) > 2
                      else f"z{k}" for k in range(1, n + 1)])
    gap_x, gap_y = 150, 78
    width, height = 60 + gap_x * (len(sizes) - 1), 50 + gap_y * max(sizes)
    position = {}
    for l, n in enumerate(sizes):
        top = (height - gap_y * (n - 1)) / 2 - 8
        for j in range(n):
            position[l, j] = (30 + gap_x * l, top + gap_y * j)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="the network">']
    labels = []
    for l, (W, b) in enumerate(layers, start=1):
        W = np.asarray(W, dtype=float)
        for j in range(W.shape[0]):
            (x2, y2) = position[l, j]
            for i in range(W.shape[1]):
                (x1, y1) = position[l - 1, i]
                parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                             f'stroke="{"#1f5fa8" if W[j, i] > 0 else "#c0392b"}" '
                             f'stroke-width="1.3"/>')
                t = 0.22 + 0.5 * (i + 0.5) / W.shape[1]
                labels.append(_text(x1 + t * (x2 - x1), y1 + t * (y2 - y1) + 3, f"{W[j, i]:g}",
                                    10))
            labels.append(_text(x2, y2 + 27, f"b={float(b[j]):g}", 10, "#555"))
    for (l, j), (x, y) in position.items():
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="15" fill="#fff" stroke="#333" '
                     f'stroke-width="1.5"/>')
        labels.append(_text(x, y + 4, names[l][j], 11))
    return "\n".join(parts + labels + ["</svg>"])


def corners(table, n: int) -> str:
    """The 2^n inputs (a square for n = 2, a cube for n = 3), filled where f = 1."""
    from ..logic import truth_table_inputs

    X = truth_table_inputs(n).astype(int)
    def place(row):
        if n == 2:
            return 40 + 140 * row[1], 180 - 140 * row[0]
        return 40 + 130 * row[1] + 60 * row[2], 200 - 130 * row[0] - 45 * row[2]
    width, height = (220, 220) if n == 2 else (270, 240)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="the inputs, f = 1 filled">']
    for a in range(len(X)):
        for b in range(a + 1, len(X)):
            if np.abs(X[a] - X[b]).sum() == 1:
                (x1, y1), (x2, y2) = place(X[a]), place(X[b])
                parts.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#bbb"/>')
    for row, value in zip(X, np.asarray(table).ravel()):
        x, y = place(row)
        parts.append(f'<circle cx="{x}" cy="{y}" r="9" fill="{"#222" if value else "#fff"}" '
                     f'stroke="#222" stroke-width="2"/>')
        parts.append(_text(x, y - 14, "".join(map(str, row)), 11))
    parts.append(_text(width / 2, height - 6, "filled: f = 1 (x1 x2" + " x3" * (n == 3) + ")",
                       10, "#555"))
    return "\n".join(parts + ["</svg>"])


def _text(x, y, text, size, colour="#111") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" {_STYLE} font-size="{size}" fill="{colour}" '
            f'stroke="#fff" stroke-width="3" paint-order="stroke">{html.escape(text)}</text>')

"""Solution: a worked answer as sections of lines, each a named quantity with its working,
rendered as aligned text, Markdown, LaTeX (amsmath) or JSON.

A line holds the notes' name of a quantity (``"delta^(1)_2"``), its value, the rule or formula
in symbols and the same with numbers substituted. Sections are generic, so a time axis (BPTT,
chapter 9) is more sections whose keys carry ``(t)``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field



@dataclass
class Line:
    key: str            # the notes' name, e.g. "delta^(1)_2"
    value: float
    formula: str = ""   # in symbols, e.g. "h'(a^(1)_2) Σ_k w^(2)_k2 delta^(2)_k"
    working: str = ""   # with numbers stored as {v:0.7115}, or {a:...} for a function argument


@dataclass
class Section:
    title: str
    lines: list = field(default_factory=list)
    note: str = ""


@dataclass
class Solution:
    """A worked solution. ``to_dict()`` maps every quantity's name to its value."""

    title: str
    sections: list = field(default_factory=list)
    precision: int = 6

    def section(self, title: str, note: str = "") -> Section:
        section = Section(title, note=note)
        self.sections.append(section)
        return section

    def __getitem__(self, key: str) -> float:
        return self.to_dict(precision=None)[key]

    # ---- machine-readable -------------------------------------------------------------------
    def to_dict(self, precision: int | None = None) -> dict:
        """``{name: value}`` for every number shown (rounded when ``precision`` is given)."""
        values = {}
        for section in self.sections:
            for line in section.lines:
                value = float(line.value)
                values[line.key] = round(value, precision) if precision is not None else value
        return values

    def to_json(self, precision: int | None = None, indent: int = 2) -> str:
        return json.dumps({"title": self.title, "values": self.to_dict(precision)},
                          indent=indent, ensure_ascii=False)

    # ---- for people ---------------------------------------------------------------------------
    def _number(self, value, precision: int) -> str:
        return f"{float(value):.{precision}f}"

    def _fill(self, text: str, precision: int) -> str:
        """Numbers in workings are stored as {v:VALUE}; render them at the chosen precision,
        negative ones in parentheses."""
        def number(match):
            value = float(match.group(2))
            shown = self._number(value, precision)
            return f"({shown})" if value < 0 or match.group(1) == "a" else shown

        return re.sub(r"\{([va]):([^}]*)\}", number, text)

    def to_text(self, precision: int | None = None) -> str:
        p = self.precision if precision is None else precision
        out = [self.title, "=" * len(self.title)]
        for section in self.sections:
            out += ["", section.title, "-" * len(section.title)]
            if section.note:
                out.append(section.note)
            width = max((len(line.key) for line in section.lines), default=0)
            for line in section.lines:
                value = self._number(line.value, p)
                text = f"  {line.key.ljust(width)} = {value.rjust(p + 4)}"
                for extra in (line.formula, line.working):
                    if extra:
                        text += f"  =  {self._fill(extra, p)}"
                out.append(text)
        return "\n".join(out) + "\n"

    def to_markdown(self, precision: int | None = None) -> str:
        p = self.precision if precision is None else precision
        out = [f"# {self.title}"]
        for section in self.sections:
            out += ["", f"## {section.title}", ""]
            if section.note:
                out += [section.note, ""]
            out += ["| quantity | value | rule | working |", "|---|---:|---|---|"]
            for line in section.lines:
                cells = [f"`{line.key}`", self._number(line.value, p),
                         self._fill(line.formula, p), self._fill(line.working, p)]
                out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(out) + "\n"

    def to_latex(self, precision: int | None = None, standalone: bool = False) -> str:
        """amsmath ``align*`` blocks, one per section; ``standalone`` wraps a document."""
        p = self.precision if precision is None else precision
        out = []
        for section in self.sections:
            out.append(f"\\paragraph{{{_latex_text(section.title)}}}")
            if section.note:
                out.append(_latex_text(section.note))
            rows = []
            for line in section.lines:
                row = f"{_latex_symbol(line.key)} &= {_latex_math(self._number(line.value, p))}"
                if line.formula:
                    row += f" = {_latex_math(self._fill(line.formula, p))}"
                if line.working:
                    row += f" = {_latex_math(self._fill(line.working, p))}"
                rows.append(row)
            if rows:
                out.append("\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}")
        body = "\n".join(out) + "\n"
        if not standalone:
            return body
        return ("\\documentclass{article}\n\\usepackage{amsmath}\n\\usepackage{amssymb}\n"
                f"\\begin{{document}}\n\\section*{{{_latex_text(self.title)}}}\n{body}"
                "\\end{document}\n")


_GREEK = {"delta": r"\delta", "Σ": r"\sum", "×": r"\times", "·": r"\cdot", "−": "-", "≥": r"\geq",
          "<": "<", "¬": r"\neg ", "∧": r"\wedge ", "η": r"\eta", "σ": r"\sigma", "½": r"\tfrac12",
          "∂": r"\partial ", "→": r"\to", "′": "'", "²": "^2", "√": r"\sqrt",
          "yhat": r"\hat{y}", "ŷ": r"\hat{y}", "⊙": r"\odot ", "ᵀ": "^T"}


def _latex_symbol(key: str) -> str:
    """``delta^(1)_2`` → ``\\delta^{(1)}_{2}``; ``dE/dw^(1)_21`` → ∂E/∂w in LaTeX."""
    text = key.replace("dE/d", r"\partial E/\partial ").replace(" new", r"^{\text{new}}")
    text = re.sub(r"\^\((\d+)\)", r"^{(\1)}", text)
    text = re.sub(r"_(\w+)", r"_{\1}", text)
    return _latex_math(text)


def _latex_math(text: str) -> str:
    for plain, latex in _GREEK.items():
        text = text.replace(plain, latex)
    text = re.sub(r"\^\((\d+)\)", r"^{(\1)}", text)
    text = re.sub(r"_(\d+)", r"_{\1}", text)
    return text.replace("tanh", r"\tanh ").replace(" if ", r"\text{ if }") \
        .replace(" else ", r"\text{ else }")


def _latex_text(text: str) -> str:
    return re.sub(r"([#%&_])", r"\\\1", text).replace("§", r"\S{}").replace("–", "--") \
        .replace("≈", r"$\approx$").replace("δ", r"$\delta$").replace("η", r"$\eta$") \
        .replace("Σ", r"$\Sigma$").replace("−", "-").replace("′", "'").replace("∂", r"$\partial$")


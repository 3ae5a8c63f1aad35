"""Solution: a worked answer as sections of lines, each a named quantity with its working,
rendered as aligned text, Markdown, LaTeX (amsmath) or JSON.

A line holds the notes' name of a quantity (``"delta^(1)_2"``), its value, the rule or formula
in symbols and the same with numbers substituted. Sections are generic, so a time axis (BPTT,
chapter 9) is more sections whose keys carry ``(t)``.
"""

from __future__ import annotations

import difflib
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
        values = self.to_dict(precision=None)
        if key not in values:
            close = difflib.get_close_matches(str(key), list(values), n=3)
            hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
            raise KeyError(f"{key!r} is not a quantity of this solution{hint}"
                           f"; available: {', '.join(values)}")
        return values[key]

    def keys(self) -> list:
        """The name of every quantity shown, in the order of the solution."""
        return list(self.to_dict(precision=None))

    def __contains__(self, key) -> bool:
        return key in self.to_dict(precision=None)

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

    def to_records(self, precision: int | None = None) -> list:
        """The sections as JSON-able dicts, each line with its rule and working written out at
        ``precision`` decimals (as :meth:`to_text` shows them) and its exact value:
        ``[{"title", "note", "lines": [{"key", "value", "formula", "working"}]}]``."""
        p = self.precision if precision is None else precision
        return [{"title": section.title, "note": section.note,
                 "lines": [{"key": line.key, "value": float(line.value),
                            "formula": self._fill(line.formula, p),
                            "working": self._fill(line.working, p)} for line in section.lines]}
                for section in self.sections]

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

    def to_html(self, precision: int | None = None) -> str:
        """One table per section (quantity, value, rule, working), for a web page."""
        import html

        p = self.precision if precision is None else precision
        out = []
        for section in self.sections:
            out.append(f"<h4>{html.escape(section.title)}</h4>")
            if section.note:
                out.append(f"<p>{html.escape(section.note)}</p>")
            if not section.lines:
                continue
            rows = "".join(
                "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in (
                    line.key, self._number(line.value, p), self._fill(line.formula, p),
                    self._fill(line.working, p))) + "</tr>" for line in section.lines)
            out.append("<table><thead><tr><th>quantity</th><th>value</th><th>rule</th>"
                       f"<th>working</th></tr></thead><tbody>{rows}</tbody></table>")
        return "\n".join(out) + "\n"

    def to_latex(self, precision: int | None = None, standalone: bool = False) -> str:
        """amsmath ``align*`` blocks, one per section, headed by a comment that states the
        ``\\usepackage{amsmath}`` they need; ``standalone`` wraps a document that compiles
        with a stock LaTeX."""
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
            return "% needs \\usepackage{amsmath} (align*, \\text, \\operatorname)\n" + body
        return ("\\documentclass{article}\n\\usepackage{amsmath}\n\\usepackage{amssymb}\n"
                f"\\begin{{document}}\n\\section*{{{_latex_text(self.title)}}}\n{body}"
                "\\end{document}\n")


_GREEK = {"delta": r"\delta", "Σ": r"\sum", "×": r"\times", "·": r"\cdot ", "−": "-",
          "≥": r"\geq", "≤": r"\leq", "¬": r"\neg ", "∧": r"\wedge ", "∨": r"\vee ",
          "⊕": r"\oplus ", "η": r"\eta", "σ": r"\sigma", "½": r"\tfrac12", "∂": r"\partial ",
          "→": r"\to ", "←": r"\leftarrow ", "′": "'", "²": "^2", "√": r"\sqrt ",
          "≈": r"\approx ", "δ": r"\delta ", "…": r"\ldots ", "α": r"\alpha ",
          "β": r"\beta ", "γ": r"\gamma ", "λ": r"\lambda ", "ε": r"\varepsilon ",
          "∞": r"\infty ", "—": r"\text{ --- }", "–": "-", "±": r"\pm ",
          "yhat": r"\hat{y}", "ŷ": r"\hat{y}", "⊙": r"\odot ", "ᵀ": "^T"}
_FUNCTIONS = ("ln", "exp", "log", "tanh", "sigmoid", "identity", "relu", "softmax", "step")
# a word with one of these is mathematics: it goes inside $…$ in a heading or note
_MATH_MARKS = set("^_=+Σδ∂½²·×−→←≥≤¬∧∨⊕ησ′√≈αβγλε±ŷ⊙ᵀ")
_CITATION = re.compile(r"\((?:eq\.|eqs\.|Rule|§|Example|Remark)[^)]*\)[,:;.]?")


def _latex_symbol(key: str) -> str:
    """``delta^(1)_2`` → ``\\delta^{(1)}_{2}``; ``dE/dw^(1)_21`` → ∂E/∂w in LaTeX."""
    base = _latex_math(key.removesuffix(" new").replace("dE/d", "∂E/∂"))
    return f"{{{base}}}^{{\\text{{new}}}}" if key.endswith(" new") else base


def _latex_math(text: str) -> str:
    """Plain mathematics (``h′ = 1 − z²``, ``w^(2)_kj``, ``f(0.5) — x1 OR x2``) as LaTeX
    math-mode source."""
    text = text.replace("{", r"\{").replace("}", r"\}").replace(" if ", r"\text{ if }") \
        .replace(" else ", r"\text{ else }")
    for plain, latex in _GREEK.items():
        text = text.replace(plain, latex)
    text = re.sub(r"\b(ln|exp|log|tanh)\b", r"\\\1 ", text)
    text = re.sub(r"\b(sigmoid|identity|relu|softmax|step)\b", r"\\operatorname{\1}", text)
    text = re.sub(r"\b(AND|OR|NAND|NOR|XOR|NOT)\b", r"\\text{ \1 }", text)
    text = re.sub(r"\^\(([0-9A-Za-z+-]+)\)", r"^{(\1)}", text)  # ^(1), ^(t), ^(t-1)
    text = re.sub(r"(\^\{\([^{}]*\)\})\^", r"\1{}^", text)  # h^(t)ᵀ, h^(t)²: no double ^
    return re.sub(r"_([A-Za-z0-9]+)", r"_{\1}", text)


def _is_math(word: str) -> bool:
    return any(mark in _MATH_MARKS for mark in word)


def _may_be_math(word: str) -> bool:
    """Numbers, brackets and one-letter names, possibly with a function name (``ln(1``,
    ``f(z)``): part of the mathematics beside them. Not a word (two letters or more), a label
    (``1:``) or ``a`` alone, the article."""
    rest = re.sub(r"\b(" + "|".join(_FUNCTIONS) + r")\b", "", word)
    return not re.search(r"[A-Za-z]{2}", rest) and not word.endswith(":") \
        and word.lower() != "a"


def _latex_text(text: str) -> str:
    """Prose with mathematics (a heading such as ``Output δ (Rule 1): δ^(2)_k = ∂E/∂a^(2)_k``):
    runs of mathematical words go inside ``$…$``, citations ``(eq. 2.5)`` and the words stay
    prose, escaped. No raw Unicode reaches LaTeX."""
    out, start = [], 0
    for match in _CITATION.finditer(text):
        out.append(_latex_words(text[start:match.start()]))
        out.append(_latex_prose(match.group()))
        start = match.end()
    out.append(_latex_words(text[start:]))
    return " ".join(part for part in out if part)


def _latex_words(text: str) -> str:
    words = text.split()
    math = [_is_math(w) for w in words]
    changed = True
    while changed:  # spread to the numbers, brackets and letters beside mathematics
        changed = False
        for i, word in enumerate(words):
            beside = (i > 0 and math[i - 1]) or (i + 1 < len(words) and math[i + 1])
            if not math[i] and beside and _may_be_math(word):
                math[i] = changed = True
    out, run = [], []
    for word, is_math in zip(words + [""], math + [False]):
        if is_math:
            run.append(word)
            continue
        if run:
            joined = " ".join(run)
            trail = re.search(r"[,:;.]*$", joined).group()
            out.append(f"${_latex_math(joined[:len(joined) - len(trail)])}${trail}")
            run = []
        if word:
            out.append(_latex_prose(word))
    return " ".join(out)


def _latex_prose(word: str) -> str:
    word = re.sub(r"([#%&_$^{}])", r"\\\1", word)
    return word.replace("§", r"\S{}").replace("–", "--").replace("—", "---") \
        .replace("…", r"\ldots{}")

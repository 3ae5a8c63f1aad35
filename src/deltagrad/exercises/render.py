"""A sheet of exercises and its answer key as Markdown, LaTeX (amsmath), HTML (an SVG drawing
beside each question) or JSON (with a blank answers template for the check mode).

Statements mark mathematics with ``$…$`` in the notes' quantity names (``delta^(1)_2``) and
code with backticks; each format renders both its own way.
"""

from __future__ import annotations

import html
import json
import re

from ..explain.solution import _latex_math, _latex_text
from . import svg
from .exercise import DECIMALS, TOLERANCE, Exercise, pretty

FORMATS = ("markdown", "latex", "html", "json")
ANSWERS = ("separate", "inline", "none")


def render(exercises: list, fmt: str = "markdown", answers: str = "separate") -> str:
    """The sheet of ``exercises`` (from one kind, seed and difficulty) in ``fmt``; the answer
    key after the questions (``"separate"``), under each (``"inline"``) or not at all. JSON is
    the answers template a student fills in: ``"separate"`` leaves the key out of it (it is
    :func:`answer_key`'s, a file of its own), ``"inline"`` puts each solution in."""
    from .. import _validate as check

    fmt = check.choice(fmt, FORMATS, "format", "exercises.render")
    answers = check.choice(answers, ANSWERS, "answers", "exercises.render")
    if isinstance(exercises, Exercise):
        exercises = [exercises]
    exercises = list(exercises)
    if not exercises or not all(isinstance(ex, Exercise) for ex in exercises):
        raise ValueError("exercises.render: expected Exercise objects (from generate or sheet), "
                         f"got {exercises!r:.80}")
    return {"markdown": _markdown, "latex": _latex, "html": _html, "json": _json}[fmt](
        exercises, answers)


def _heading(exercises) -> tuple:
    from .registry import KINDS

    first = exercises[0]
    kind = KINDS[first.kind]
    title = f"Exercises: {kind.title}"
    about = (f"kind {first.kind} · seed {first.seed} · difficulty {first.difficulty} · "
             f"{len(exercises)} exercise{'s' * (len(exercises) > 1)} · notes {kind.chapters}")
    rule = (f"{kind.marked} Check your answers with "
            f"`deltagrad exercises check answers.json --kind {first.kind} --seed {first.seed} "
            f"--difficulty {first.difficulty}` (`--format json` prints the answers template).")
    return title, about, rule


def _segments(text: str):
    """``(kind, piece)`` with kind ``"text"``, ``"math"`` (between $) or ``"code"``."""
    for i, part in enumerate(text.split("$")):
        if i % 2:
            yield "math", part
        else:
            for j, piece in enumerate(part.split("`")):
                if piece:
                    yield ("code" if j % 2 else "text"), piece


def _number(value) -> str:
    value = float(value)
    return f"{value:.1f}" if value.is_integer() else f"{value:g}"


def _given_groups(exercise) -> list:
    """The question's numbers grouped as the notes list them: x, t, then unit by unit (a
    matrix ``W[j,i]``, an image ``I(r,c)`` or a token's vector ``q_n[i]``: row by row)."""
    groups, current, last = [], [], None
    for key, value in exercise.given:
        group = key[:-1] if key.startswith("w^") else re.sub(r"\d+\W*$", "", key)
        if group != last and current:
            groups.append(current)
            current = []
        current.append((key, value))
        last = group
    return groups + ([current] if current else [])


def _truth_rows(exercise):
    from ..logic import truth_table_inputs

    n = exercise.data["n"]
    header = [f"x{i}" for i in range(1, n + 1)] + ["f"]
    rows = [[str(int(v)) for v in row] + [str(f)] for row, f in
            zip(truth_table_inputs(n), exercise.data["table"])]
    return header, rows


def _shows_table(exercise) -> bool:
    return "table" in exercise.data and exercise.data.get("expression") is None


# ---- Markdown -----------------------------------------------------------------------------------
def _md(text: str) -> str:
    return "".join(f"`{p}`" if k == "code" else pretty(p) for k, p in _segments(text))


def _markdown(exercises, answers: str) -> str:
    title, about, rule = _heading(exercises)
    out = [f"# {title}", "", f"*{about}*", "", rule, ""]
    for ex in exercises:
        out += [f"## Exercise {ex.number}: {_md(ex.title)}", ""]
        out += [_md(p) + "\n" for p in ex.statement]
        if ex.given:
            out += ["Given:", ""] + [
                "- " + ", ".join(f"{pretty(k)} = {_number(v)}" for k, v in group)
                for group in _given_groups(ex)] + [""]
        if _shows_table(ex):
            header, rows = _truth_rows(ex)
            out += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            out += ["| " + " | ".join(r) + " |" for r in rows] + [""]
        out += [f"{i}. {_md(task)}" for i, task in enumerate(ex.tasks, start=1)] + [""]
        if answers == "inline":
            out += [_md_solution(ex), ""]
    if answers == "separate":
        out += ["# Answer key", ""] + [_md_solution(ex) + "\n" for ex in exercises]
    return "\n".join(out).rstrip("\n") + "\n"


def _md_solution(ex) -> str:
    text = ex.solution.to_markdown()
    return "\n".join("##" + line if line.startswith("#") else line
                     for line in text.splitlines())


# ---- LaTeX --------------------------------------------------------------------------------------
def _tex_math(math: str) -> str:
    text = _latex_math(math.replace("dE/d", "∂E/∂"))  # braces of the notes' names: its own
    return re.sub(r"\bmax\b", r"\\max", text).replace(" new", r"{}^{\text{new}}")


def _tex(text: str) -> str:
    pieces = []
    for kind, piece in _segments(text):
        if kind == "math":
            pieces.append(f"${_tex_math(piece)}$")
        elif kind == "code":
            pieces.append(r"\texttt{" + _latex_text(piece) + "}")
        else:  # the spaces around the prose stay (``units $a_j$``)
            lead, trail = piece[:len(piece) - len(piece.lstrip())], piece[len(piece.rstrip()):]
            pieces.append(lead + _latex_text(piece) + trail)
    return "".join(pieces)


def _latex(exercises, answers: str) -> str:
    title, about, rule = _heading(exercises)
    out = [r"\documentclass[11pt]{article}", r"\usepackage{amsmath}", r"\usepackage{amssymb}",
           r"\begin{document}", rf"\section*{{{_tex(title)}}}", rf"\emph{{{_tex(about)}}}",
           "", _tex(rule), ""]
    for ex in exercises:
        out += [rf"\subsection*{{Exercise {ex.number}: {_tex(ex.title)}}}"]
        out += [_tex(p) + "\n" for p in ex.statement]
        if ex.given:
            rows = [r",\quad ".join(f"{_tex_math(k)} = {_number(v)}" for k, v in group)
                    for group in _given_groups(ex)]
            out.append("\\begin{gather*}\n" + " \\\\\n".join(rows) + "\n\\end{gather*}")
        if _shows_table(ex):
            header, rows = _truth_rows(ex)
            out.append(r"\begin{center}\begin{tabular}{" + "c" * len(header) + "}\n" +
                       " & ".join(f"${h}$" for h in header) + r" \\ \hline" + "\n" +
                       " \\\\\n".join(" & ".join(r) for r in rows) +
                       "\n\\end{tabular}\\end{center}")
        out.append(r"\begin{enumerate}")
        out += [rf"\item {_tex(task)}" for task in ex.tasks]
        out.append(r"\end{enumerate}")
        if answers == "inline":
            out += [r"\subsubsection*{Solution}", ex.solution.to_latex()]
    if answers == "separate":
        out.append(r"\section*{Answer key}")
        for ex in exercises:
            out += [rf"\subsection*{{Exercise {ex.number}: {_tex(ex.title)}}}",
                    ex.solution.to_latex()]
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


# ---- HTML ---------------------------------------------------------------------------------------
def _html_math(math: str) -> str:
    text = html.escape(pretty(math))
    text = re.sub(r"\^\((\d+)\)", r"<sup>(\1)</sup>", text)
    return "<i>" + re.sub(r"_(\w+)", r"<sub>\1</sub>", text) + "</i>"


def _htm(text: str) -> str:
    return "".join(_html_math(p) if k == "math" else f"<code>{html.escape(p)}</code>"
                   if k == "code" else html.escape(p) for k, p in _segments(text))


def _drawing(ex) -> str:
    if ex.network is not None:
        return svg.network(ex.network["layers"])
    if _shows_table(ex):
        return svg.corners(ex.data["table"], ex.data["n"])
    return ""


def _html_solution(ex) -> str:
    picture = ""
    if "table" in ex.data:
        answer = ex.data["answers"]["network"]
        picture = ('<div class="row"><figure>' + svg.corners(ex.data["table"], ex.data["n"]) +
                   "</figure><figure>" + svg.network([(layer["weights"], layer["biases"])
                                                      for layer in answer]) +
                   "</figure></div>")
    return picture + ex.solution.to_html()


def _html(exercises, answers: str) -> str:
    title, about, rule = _heading(exercises)
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f"<title>{html.escape(title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
           f"<h1>{html.escape(title)}</h1>", f'<p class="about">{html.escape(about)}</p>',
           f"<p>{_htm(rule)}</p>"]
    for ex in exercises:
        out.append(f'<section class="exercise" id="exercise-{ex.number}">')
        out.append(f"<h2>Exercise {ex.number}: {_htm(ex.title)}</h2>")
        out.append('<div class="row"><div class="question">')
        out += [f"<p>{_htm(p)}</p>" for p in ex.statement]
        if ex.given:
            out.append("<ul>" + "".join(
                "<li>" + ", ".join(f"{_html_math(k)} = {_number(v)}" for k, v in group) +
                "</li>" for group in _given_groups(ex)) + "</ul>")
        if _shows_table(ex):
            header, rows = _truth_rows(ex)
            out.append("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in header) +
                       "</tr></thead><tbody>" + "".join(
                           "<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>"
                           for r in rows) + "</tbody></table>")
        out.append("<ol>" + "".join(f"<li>{_htm(task)}</li>" for task in ex.tasks) + "</ol>")
        out.append(f'</div><figure class="drawing">{_drawing(ex)}</figure></div>')
        if answers == "inline":
            out.append(f"<details><summary>Solution</summary>{_html_solution(ex)}</details>")
        out.append("</section>")
    if answers == "separate":
        out.append('<h1 class="key">Answer key</h1>')
        for ex in exercises:
            out.append(f'<section class="answer"><h2>Exercise {ex.number}: {_htm(ex.title)}'
                       f"</h2>{_html_solution(ex)}</section>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #222; }
.about { color: #666; } h2 { border-bottom: 1px solid #ccc; margin-top: 2rem; }
.row { display: flex; gap: 1.5rem; align-items: flex-start; flex-wrap: wrap; }
.question { flex: 1 1 26rem; } figure { margin: 0.5rem 0; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.85rem; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: right; }
th { background: #f4f4f4; } code { background: #f4f4f4; padding: 0 0.2rem; }
h1.key { page-break-before: always; margin-top: 3rem; } details { margin: 1rem 0; }
@media print { details { display: block; } }
"""


# ---- JSON ---------------------------------------------------------------------------------------
def _json(exercises, answers: str) -> str:
    first = exercises[0]
    payload = {"kind": first.kind, "seed": first.seed, "difficulty": first.difficulty,
               "count": len(exercises), "decimals": DECIMALS, "tolerance": TOLERANCE,
               "exercises": [ex.to_dict(solution=answers == "inline") for ex in exercises],
               "answers": {str(ex.number): {key: None for key in ex.asked}
                           for ex in exercises}}
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def answer_key(exercises: list) -> str:
    """The answer key of a sheet as JSON (kind, seed, difficulty, count and the exact answers
    of each exercise): kept apart from the answers template, which a student fills in."""
    first = exercises[0]
    payload = {"kind": first.kind, "seed": first.seed, "difficulty": first.difficulty,
               "count": len(exercises),
               "answer_key": {str(ex.number): ex.answers() for ex in exercises}}
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"

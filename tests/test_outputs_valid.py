"""Output that must be valid: the LaTeX compiles with a stock LaTeX (checked for the known
offenders always, compiled where pdflatex exists), the Markdown renders as intended in a
CommonMark renderer with GFM tables (markdown-it-py), logic labels read as gates."""

import re
import shutil
import subprocess
import warnings

import pytest

import deltagrad as dg
from deltagrad import explain
from deltagrad.cli import main
from deltagrad.tour.report import Report

markdown_it = pytest.importorskip("markdown_it")


def _render(text: str) -> str:
    return markdown_it.MarkdownIt("commonmark").enable("table").render(text)


def _solutions() -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.losses.NonCanonicalPairWarning)
        return {
            "q1": explain.question(1, lr=0.1), "q2": explain.question(2, lr=0.1),
            "q3": explain.question(3, lr=0.1),
            "logic": explain.logic(dg.logic.gate("xor"), [1, 0]),
            "bce": explain.backprop(dg.nn.MLP("2-2-1", output="sigmoid", rng=0), [0.5, 1.0],
                                    [1.0], loss="binary_cross_entropy", lr=0.5),
            "softmax": explain.backprop(dg.nn.MLP("2-3-3", hidden="relu", output="softmax",
                                                  rng=0), [[0.5, 1.0], [1.0, 2.0]], [1, 2],
                                        loss="cross_entropy", lr=0.5),
            "tanh output": explain.backprop(dg.nn.MLP("2-2-1", output="tanh", rng=0),
                                            [0.5, 1.0], [1.0], lr=0.5)}


@pytest.mark.parametrize("name, solution", list(_solutions().items()))
def test_latex_has_none_of_the_known_offenders(name, solution):
    body = solution.to_latex()
    assert body.startswith("% needs \\usepackage{amsmath}")
    latex = solution.to_latex(standalone=True)
    assert "\\usepackage{amsmath}" in latex
    assert not [c for c in latex if ord(c) > 127], "raw Unicode (arrows, Greek, minus signs)"
    for heading in re.findall(r"\\(?:paragraph|section\*)\{(.*)\}", latex):
        assert heading.count("$") % 2 == 0, heading
        prose = re.sub(r"\$[^$]*\$", "", heading)  # math belongs inside $…$
        assert not re.search(r"(?<!\\)[\^_]|\\(delta|partial|sum|eta)\b", prose), heading
    assert "}^{\\text{new}}" not in latex.replace("}}^{\\text{new}}", "")  # no double superscript


def test_latex_compiles_with_pdflatex(tmp_path):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed here: the offenders were checked above")
    for name, solution in _solutions().items():
        path = tmp_path / f"{name.replace(' ', '_')}.tex"
        path.write_text(solution.to_latex(standalone=True), encoding="utf-8")
        result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                                 path.name], cwd=tmp_path, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, (name, result.stdout[-1500:])


def test_the_command_lines_latex_is_a_whole_document(capsys):
    assert main(["explain", "--question", "1", "--format", "latex"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("\\documentclass{article}\n\\usepackage{amsmath}")
    assert out.rstrip().endswith("\\end{document}")


def test_report_markdown_escapes_cells_headers_and_captions(tmp_path):
    report = Report(str(tmp_path))
    section = report.section("S", "§1")
    section.table(["a|b", "w*"], [["x | y", "`p|q`"], ["2*3*4", "snake_case_name"]],
                  caption="the **best** w* of `f|g` at x_1 *and* [1]")
    report.write("T", "intro", 0.0)
    rendered = _render((tmp_path / "README.md").read_text(encoding="utf-8"))
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>",
                                                            rendered)]
    assert cells == ["a|b", "w*", "x | y", "p|q", "2*3*4", "snake_case_name"]
    caption = re.search(r"<p><em>(.*?)</em></p>", rendered).group(1)
    assert re.sub(r"<[^>]+>", "", caption) == "the best w* of f|g at x_1 *and* [1]"


def test_logic_markdown_renders_headings_lists_and_one_table(capsys):
    assert main(["logic", "x1 xor x2 xor x3", "--format", "markdown"]) == 0
    rendered = _render(capsys.readouterr().out)
    network = dg.logic.compile("x1 xor x2 xor x3")
    layers = len(network.linears)
    assert rendered.count("<h2>") == 1 and rendered.count("<h3>") == layers + 1
    assert rendered.count("<ul>") == layers and rendered.count("<table>") == 1
    assert rendered.count("<li>") == sum(layer.out_features for layer in network.linears)
    assert "<li><code>h1_1</code> = OR(x1, x2)" in rendered


def test_relay_neurons_read_as_the_gate_they_are():
    network = dg.logic.compile("(x1 and x2) or not x3 or (x1 xor x2 xor x3)")
    labels = [label for layer in network.labels for label in layer]
    assert "PASS(x1 AND x2)" in labels and "PASS(NOT x3)" in labels and "PASS(x3)" in labels
    assert not [label for label in labels if "pass" in label.lower().replace("pass(", "")]


def test_explain_markdown_has_one_table_per_section():
    solution = explain.question(1, lr=0.1)
    rendered = _render(solution.to_markdown())
    assert rendered.count("<table>") == sum(1 for s in solution.sections if s.lines) > 5

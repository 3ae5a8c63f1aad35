"""Exercises: every number of a generated solution against an independent NumPy computation,
hand-sized numbers, determinism, the check mode on planted mistakes, the sheets' formats and
the command line's errors."""

import itertools
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

import deltagrad as dg
from deltagrad.cli import main
from deltagrad.exercises import check, generate, sheet
from deltagrad.exercises.numbers import places
from deltagrad.exercises.render import answer_key, render

SEEDS = range(25)
TOL = dg.exercises.TOLERANCE


# ---- an independent computation of a 1-hidden-layer network (eq. 1.2–1.3, 3.8–3.11, 2.20) ------
def _act(name, a):
    return {"tanh": np.tanh, "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
            "relu": lambda v: np.maximum(v, 0), "identity": lambda v: v,
            "softmax": lambda v: np.exp(v - v.max()) / np.exp(v - v.max()).sum()}[name](a)


def _derivative(name, z):
    return {"tanh": 1 - z ** 2, "sigmoid": z * (1 - z), "relu": (z > 0) * 1.0}[name]


def numpy_solution(spec, mistake=None, unit=0):
    """Every quantity by hand; ``mistake`` plants one slip (propagated downstream):
    "bias" (b^(1)_unit left out), "transposed" (a^(1) with w_ij for w_ji), "sign"
    (δ^(2) = t − y), "derivative" (the sigmoid's z(1 − z) for tanh's 1 − z², and back)."""
    (W1, b1), (W2, b2) = [(np.array(W, float), np.array(b, float)) for W, b in spec["layers"]]
    x, t = np.array(spec["x"], float), np.array(spec["t"], float)
    a1 = W1 @ x + b1
    if mistake == "bias":
        a1[unit] -= b1[unit]
    if mistake == "transposed":
        a1[unit] = W1[:, unit] @ x + b1[unit]
    z1 = _act(spec["hidden"], a1)
    a2 = W2 @ z1 + b2
    y = _act(spec["output"], a2)
    E = {"sum_of_squares": lambda: 0.5 * np.sum((y - t) ** 2),
         "binary_cross_entropy": lambda: -np.sum(t * np.log(y) + (1 - t) * np.log(1 - y)),
         "cross_entropy": lambda: -np.sum(t * np.log(y))}[spec["loss"]]()
    d2 = (t - y) if mistake == "sign" else (y - t)  # canonical pairs: δ = y − t (eq. 3.9)
    total = W2.T @ d2
    h = _derivative(spec["hidden"], z1)
    if mistake == "derivative":
        h[unit] = {"tanh": z1[unit] * (1 - z1[unit]), "sigmoid": 1 - z1[unit] ** 2}[
            spec["hidden"]]
    d1 = h * total
    out = {"E": E}
    for j in range(len(a1)):
        out.update({f"a^(1)_{j + 1}": a1[j], f"z^(1)_{j + 1}": z1[j],
                    f"delta^(1)_{j + 1}": d1[j]})
    for k in range(len(a2)):
        out.update({f"a^(2)_{k + 1}": a2[k], f"y_{k + 1}": y[k], f"delta^(2)_{k + 1}": d2[k]})
    for l, (W, b, d, source) in enumerate([(W1, b1, d1, x), (W2, b2, d2, z1)], start=1):
        for j in range(W.shape[0]):
            for i in range(W.shape[1] + 1):
                g = d[j] * source[i - 1] if i else d[j]
                w = W[j, i - 1] if i else b[j]
                out[f"dE/dw^({l})_{j + 1}{i}"] = g
                if spec["lr"] is not None:
                    out[f"w^({l})_{j + 1}{i} new"] = w - spec["lr"] * g
    return out


@pytest.mark.parametrize("kind", ["forward", "backprop"])
@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_network_solutions_equal_an_independent_numpy_computation(kind, difficulty):
    for seed in SEEDS:
        ex = generate(kind, seed, difficulty)
        values, expected = ex.solution.to_dict(), numpy_solution(ex.network)
        compared = [k for k in values if k in expected]
        assert set(ex.asked) <= set(compared) and len(compared) >= len(ex.asked)
        for key in compared:
            assert abs(values[key] - expected[key]) <= 1e-12, (seed, key, values[key],
                                                                 expected[key])


@pytest.mark.parametrize("kind", ["forward", "backprop"])
@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_numbers_are_for_working_by_hand_and_nothing_is_degenerate(kind, difficulty):
    for seed in SEEDS:
        ex = generate(kind, seed, difficulty)
        spec, values = ex.network, ex.solution.to_dict()
        sizes = spec["sizes"]
        assert len(sizes) == 3 and sizes[0] <= 3 and sizes[1] <= 3 and sizes[2] <= 2
        if difficulty == 1:
            assert sizes == [2, 2, 1]
        weights = [w for W, b in spec["layers"] for w in np.ravel(W).tolist() + list(b)]
        assert all(w != 0 and places(w) <= (1 if difficulty == 1 else 2) for w in weights)
        assert all(v != 0 and places(v) <= 1 for v in spec["x"])
        if difficulty == 1:
            assert all(v * 2 == int(v * 2) for v in spec["x"])  # multiples of 0.5
        assert all(places(v) <= 1 for v in spec["t"])
        a1 = np.array([values[f"a^(1)_{j}"] for j in range(1, sizes[1] + 1)])
        if spec["hidden"] == "relu":
            assert np.all(a1 >= 0.1)  # active, away from the kink: no δ = 0
        else:
            assert np.all(np.abs(a1) <= 2.0)  # not saturated
        y = np.array([values[f"y_{k}"] for k in range(1, sizes[2] + 1)])
        assert len(y) == 1 or np.min(np.diff(np.sort(y))) >= 0.02  # no ties
        for key in ex.asked:
            if key.startswith("delta"):
                assert abs(values[key]) >= 0.01, (seed, key)
        assert len(ex.asked) == len(set(ex.asked))


def test_difficulty_changes_sizes_and_how_much_is_asked():
    asked = {d: np.mean([len(generate("backprop", s, d).asked) for s in SEEDS]) for d in (1, 2, 3)}
    assert asked[1] < asked[2] < asked[3]
    sizes = {d: {tuple(generate("backprop", s, d).network["sizes"]) for s in SEEDS}
             for d in (1, 2, 3)}
    assert sizes[1] == {(2, 2, 1)} and (3, 3, 2) in sizes[3] and len(sizes[2]) > 1


def test_every_setup_and_activation_of_the_notes_appears():
    specs = [generate("backprop", s, 3).network for s in range(60)]
    assert {s["loss"] for s in specs} == {"sum_of_squares", "binary_cross_entropy",
                                          "cross_entropy"}
    assert {s["hidden"] for s in specs} == {"tanh", "sigmoid", "relu"}


# ---- the logic kind --------------------------------------------------------------------------
_OPS = {"and": lambda a, b: a & b, "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b,
        "nand": lambda a, b: 1 - (a & b), "nor": lambda a, b: 1 - (a | b)}


def _evaluate(expression, row):
    """The generated expressions are ``L op L`` or ``(L op L) op L`` with L = [not] x_i."""
    def literal(text):
        text = text.strip()
        return 1 - row[int(text[5:]) - 1] if text.startswith("not ") else row[int(text[1:]) - 1]

    def pair(text):
        left, op, right = re.match(r"^(not x\d|x\d) (\w+) (not x\d|x\d)$", text.strip()).groups()
        return _OPS[op](literal(left), literal(right))

    if expression.startswith("("):
        inner, rest = re.match(r"^\((.*)\) (\w+ (?:not )?x\d)$", expression).groups()
        op, right = rest.split(" ", 1)
        return _OPS[op](pair(inner), literal(right))
    return pair(expression)


def _threshold(table, n):
    """One perceptron computes the table iff small integer weights do (true for n ≤ 3)."""
    rows = np.array(list(itertools.product([0, 1], repeat=n)))
    return any(np.array_equal((rows @ np.array(w) + b >= 0).astype(int), table)
               for w in itertools.product(range(-2, 3), repeat=n)
               for b in np.arange(-3.5, 4.0, 1.0))


def _step_network(layers, row):
    signal = np.array(row, float)
    for layer in layers:
        signal = (np.array(layer["weights"]) @ signal + np.array(layer["biases"]) >= 0) * 1.0
    return int(signal[0])


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_logic_solutions_hold_on_every_row(difficulty):
    kinds = set()
    for seed in SEEDS:
        ex = generate("logic", seed, difficulty)
        n, table = ex.data["n"], np.array(ex.data["table"])
        rows = list(itertools.product([0, 1], repeat=n))
        assert n == (2 if difficulty == 1 else 3)
        if difficulty < 3:
            assert table.tolist() == [_evaluate(ex.data["expression"], r) for r in rows]
        for i in range(n):  # every input matters, f is not constant
            assert any(table[r] != table[r ^ (1 << (n - 1 - i))] for r in range(2 ** n))
        answers = ex.answers()
        assert answers["separable"] == _threshold(table, n)
        kinds.add(answers["separable"])
        if answers["separable"]:
            w, b = np.array(answers["perceptron"]["weights"]), answers["perceptron"]["bias"]
            assert ((np.array(rows) @ w + b >= 0) * 1).tolist() == table.tolist()
        else:
            cert = answers["certificate"]
            assert all(table[int("".join(map(str, r)), 2)] == 1 for r in cert["true"])
            assert all(table[int("".join(map(str, r)), 2)] == 0 for r in cert["false"])
            assert np.allclose(np.mean(cert["true"], axis=0), np.mean(cert["false"], axis=0))
        assert [_step_network(answers["network"], r) for r in rows] == table.tolist()
        assert ex.solution.to_dict()["separable"] == float(answers["separable"])
    assert kinds == {True, False}


# ---- determinism ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["forward", "backprop", "logic", "bptt", "conv", "attention"])
def test_the_same_seed_gives_the_same_sheet_and_another_seed_another(kind):
    first = render(sheet(kind, 4, seed=11), "markdown")
    assert render(sheet(kind, 4, seed=11), "markdown") == first
    assert render(sheet(kind, 4, seed=12), "markdown") != first
    questions = [json.dumps(generate(kind, 11, 2, number).to_dict(solution=False)
                            | {"number": 0}) for number in range(1, 5)]
    assert len(set(questions)) == 4  # the exercises of one sheet differ
    assert generate(kind, None).seed >= 0  # a fresh seed is drawn and kept


# ---- the check mode ----------------------------------------------------------------------------
def _planted(ex, mistake, unit):
    wrong = numpy_solution(ex.network, mistake, unit)
    return {k: round(float(wrong[k]), 4) for k in ex.asked}


def _first_changed(ex, planted):
    exact = ex.solution.to_dict()
    return next((k for k in ex.asked if abs(planted[k] - exact[k]) > TOL), None)


@pytest.mark.parametrize("mistake, kind, difficulty", [
    ("derivative", "backprop", 1), ("derivative", "backprop", 2),
    ("sign", "backprop", 2), ("sign", "backprop", 3),
    ("bias", "backprop", 3), ("bias", "forward", 2),
    ("transposed", "forward", 2), ("transposed", "backprop", 3)])
def test_check_names_the_first_wrong_step_of_a_planted_mistake(mistake, kind, difficulty):
    found = 0
    for seed in range(40):
        ex = generate(kind, seed, difficulty)
        spec = ex.network
        if mistake == "derivative" and spec["hidden"] not in ("tanh", "sigmoid"):
            continue
        if mistake == "transposed" and spec["sizes"][0] != spec["sizes"][1]:
            continue
        planted = _planted(ex, mistake, unit=seed % spec["sizes"][1])
        first = _first_changed(ex, planted)
        if first is None:  # a transposition of a symmetric column changes nothing
            continue
        [marking] = check({"1": planted}, seed=seed, kind=kind, difficulty=difficulty)
        assert marking.first_wrong == first and marking.mistake == mistake, \
            (seed, first, marking.diagnosis)
        found += 1
    assert found >= 8


def test_the_derivative_diagnosis_reads_like_the_notes():
    for seed in range(40):
        ex = generate("backprop", seed, 1)
        if ex.network["hidden"] == "tanh":
            break
    planted = _planted(ex, "derivative", unit=1)
    [marking] = check({"1": planted}, seed=seed, kind="backprop", difficulty=1)
    assert marking.first_wrong == "delta^(1)_2"
    assert re.match(r"δ\^\(1\)_2: you have -?0\.\d{4}, the answer is -?0\.\d{4}; the sum "
                    r"Σ_k w_kj δ_k = -?\d\.\d{4} is right, the derivative h′\(a\) = 1 − z² = "
                    r"\d\.\d{4} was taken as z\(1 − z\)", marking.diagnosis), marking.diagnosis


def test_right_answers_within_the_rounding_pass_and_intermediates_help():
    ex = generate("backprop", 5, 2)
    exact = ex.solution.to_dict()
    rounded = {k: round(exact[k], 4) for k in ex.asked}
    [marking] = check({"answers": {"1": rounded}, "seed": 5, "kind": "backprop",
                       "difficulty": 2})
    assert marking.ok and marking.right == len(ex.asked)
    off = dict(rounded, **{"delta^(1)_1": exact["delta^(1)_1"] + 0.002})  # no common mistake
    [marking] = check([off], seed=5, kind="backprop", difficulty=2)
    assert marking.first_wrong == "delta^(1)_1" and marking.mistake is None and not marking.ok
    assert "the working is" in marking.diagnosis
    # an intermediate quantity of the solution may be given, and is marked too
    key = "sum^(1)_1"
    [marking] = check([dict(rounded, **{key: exact[key] + 0.1})], seed=5, kind="backprop",
                      difficulty=2)
    assert marking.first_wrong == key


def test_logic_answers_are_checked_on_every_row():
    ex = next(e for e in (generate("logic", s, 1) for s in range(40))
              if e.data["expression"] and not e.answers()["separable"])
    right = ex.answers()
    [marking] = check([right], seed=ex.seed, kind="logic", difficulty=1)
    assert marking.ok
    dnf = dg.logic.from_truth_table(ex.data["table"])  # another network that computes f
    other = [{"weights": lin.weight.data.tolist(), "biases": lin.bias.data.tolist()}
             for lin in dnf.linears]
    [marking] = check([dict(right, network=other)], seed=ex.seed, kind="logic", difficulty=1)
    assert marking.ok
    wrong_layer = [dict(other[0]), dict(other[1], biases=[5.0])]  # the OR always fires
    [marking] = check([dict(right, separable=True, network=wrong_layer)], seed=ex.seed,
                      kind="logic", difficulty=1)
    assert marking.first_wrong == "separable" and "no single perceptron" in marking.diagnosis
    assert [m.right for m in marking.marks] == [True, False, True, False]
    cert = right["certificate"]
    [marking] = check([{"certificate": {"true": cert["true"], "false": cert["false"][:1]}}],
                      seed=ex.seed, kind="logic", difficulty=1)
    assert "the averages differ" in marking.diagnosis
    sep = next(e for e in (generate("logic", s, 1) for s in range(40))
               if e.answers()["separable"])
    bad = {"perceptron": {"weights": [1, 1], "bias": 5}}
    [marking] = check([bad], seed=sep.seed, kind="logic", difficulty=1)
    assert re.search(r"at x = \(\d, \d\): z = w·x \+ b = 5 ≥ 0 gives 1, but f = 0",
                     marking.diagnosis)


# ---- bad input ---------------------------------------------------------------------------------
def test_bad_input_gets_clear_errors():
    with pytest.raises(ValueError, match=r"unknown kind 'lstm'; expected one of "
                                         r"\['attention', 'backprop', 'bptt', 'conv', "
                                         r"'forward', 'logic'\]"):
        generate("lstm", 1)
    with pytest.raises(ValueError, match=r"count must be an integer in \[1, 1000\], got 0"):
        sheet("backprop", 0, 1)
    with pytest.raises(ValueError, match=r"difficulty must be an integer in \[1, 3\]"):
        generate("forward", 1, difficulty=4)
    with pytest.raises(ValueError, match="seed must be None or an integer ≥ 0"):
        generate("forward", -1)
    with pytest.raises(ValueError, match="answers: not valid JSON"):
        check("{not json", seed=1)
    with pytest.raises(ValueError, match=r"exercise 1: unknown quantity 'delta_1'"):
        check({"1": {"delta_1": 0.1}}, seed=1, kind="backprop")
    with pytest.raises(ValueError, match=r"the answer for 'E' must be a number, got 'x'"):
        check({"1": {"E": "x"}}, seed=1, kind="backprop")
    with pytest.raises(ValueError, match="give the sheet's seed"):
        check({"1": {"E": 0.1}})
    with pytest.raises(ValueError, match="an exercise number must be 1, 2, …, got 'first'"):
        check({"first": {"E": 0.1}}, seed=1)
    with pytest.raises(ValueError, match=r"network layer 1 weights must be numbers of shape"):
        check({"1": {"network": [{"weights": [[1]], "biases": [0.5]}]}}, seed=1, kind="logic")
    with pytest.raises(ValueError, match="unknown quantity 'weights'; a logic exercise has"):
        check({"1": {"weights": [1, 1]}}, seed=1, kind="logic")
    with pytest.raises(ValueError, match="expected Exercise objects"):
        render([], "markdown")
    with pytest.raises(ValueError, match=r"unknown format 'pdf'; expected one of"):
        render(generate("forward", 1), "pdf")
    assert render(generate("forward", 1), "markdown") == render(sheet("forward", 1, 1), "markdown")


def test_the_command_line_refuses_bad_input_with_exit_2(tmp_path, capsys):
    for argv in (["exercises", "--kind", "lstm"], ["exercises", "--count", "0"],
                 ["exercises", "--difficulty", "5"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2
    assert "invalid choice: 'lstm'" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{answers: 1}")
    assert main(["exercises", "check", str(bad), "--seed", "7"]) == 2
    assert capsys.readouterr().err.startswith("deltagrad exercises: error: answers: not valid")
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"1": {"gradient": 0.1}}))
    assert main(["exercises", "check", str(unknown), "--seed", "7"]) == 2
    assert "unknown quantity 'gradient'" in capsys.readouterr().err
    assert main(["exercises", "check"]) == 2
    assert main(["exercises", "grade", "x.json"]) == 2


def test_the_command_line_sheet_and_its_check_round_trip(tmp_path, capsys):
    out = tmp_path / "sheet.json"
    assert main(["exercises", "--kind", "backprop", "--count", "3", "--seed", "7",
                 "--format", "json", "--out", str(out)]) == 0
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert set(payload["answers"]["1"]) == set(payload["exercises"][0]["asked"])
    assert "answer_key" not in payload  # the key is a file of its own, beside the template
    key = json.loads((tmp_path / "sheet.key.json").read_text(encoding="utf-8"))
    payload["answers"] = {n: {k: round(v, 4) for k, v in answers.items()}
                          for n, answers in key["answer_key"].items()}
    out.write_text(json.dumps(payload))
    assert main(["exercises", "check", str(out)]) == 0  # kind, seed, difficulty from the file
    assert "answers right in 3 exercise(s)" in capsys.readouterr().out
    first = next(iter(payload["answers"]["2"]))
    payload["answers"]["2"][first] += 1.0
    out.write_text(json.dumps(payload))
    assert main(["exercises", "check", str(out), "--format", "json"]) == 1
    marks = json.loads(capsys.readouterr().out)
    assert marks[1]["first_wrong"] == first and marks[0]["first_wrong"] is None


# ---- the formats -----------------------------------------------------------------------------
def _outside_math(latex: str) -> str:
    text = re.sub(r"\\begin\{(align\*|gather\*|tabular)\}.*?\\end\{\1\}", "", latex, flags=re.S)
    return re.sub(r"\$[^$]*\$", "", text)


@pytest.mark.parametrize("kind", ["forward", "backprop", "logic", "bptt", "conv", "attention"])
def test_latex_has_no_unescaped_specials_and_compiles_where_pdflatex_is(kind, tmp_path):
    for difficulty in (1, 3):
        latex = render(sheet(kind, 3, 5, difficulty), "latex", "separate")
        assert latex.isascii(), sorted({c for c in latex if not c.isascii()})
        assert r"\usepackage{amsmath}" in latex and latex.count(r"\subsection*") == 6
        text = "\n".join(line for line in _outside_math(latex).splitlines()
                         if not line.startswith("%"))  # a comment line is meant (amsmath note)
        for offender in ("_", "%", "&", "#", "^"):
            assert not re.search(r"(?<!\\)" + re.escape(offender), text), \
                (offender, re.findall(r".{30}(?<!\\)" + re.escape(offender) + ".{10}", text))
        if shutil.which("pdflatex") is None:
            continue
        (tmp_path / "sheet.tex").write_text(latex, encoding="utf-8")
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                              "sheet.tex"], cwd=tmp_path, capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0, run.stdout[-2000:]
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed: the LaTeX was checked for offenders only")


def test_markdown_and_json_sheets_with_each_answer_mode():
    exercises = sheet("backprop", 2, 3, 1)
    separate, inline = (render(exercises, "markdown", mode) for mode in ("separate", "inline"))
    none = render(exercises, "markdown", "none")
    assert "# Answer key" in separate and "# Answer key" not in inline + none
    assert "Solution" not in none and "δ^(1)_1" in none and "delta^(1)_1" not in none
    assert separate.count("#### Hidden δ") == inline.count("#### Hidden δ") == 2
    payload = json.loads(render(exercises, "json", "inline"))
    assert "answer_key" not in payload and "solution" in payload["exercises"][0]
    assert "solution" not in json.loads(render(exercises, "json", "none"))["exercises"][0]


PROBE = """<script>
window.addEventListener('load', function () {
  var svgs = document.querySelectorAll('section.exercise svg'), empty = 0;
  for (var i = 0; i < svgs.length; i++) {
    var box = svgs[i].getBBox();
    if (box.width < 50 || box.height < 50) empty++;
  }
  var out = document.createElement('pre');
  out.textContent = 'PROBE:' + document.querySelectorAll('section.exercise').length + ':' +
                    svgs.length + ':' + empty;
  document.body.appendChild(out);
});
</script>"""


def test_the_html_sheet_draws_each_network_and_renders_in_chromium(tmp_path):
    page = render(sheet("backprop", 3, 7, 2), "html", "separate")
    assert page.count("<section class=\"exercise\"") == 3
    assert page.count('<figure class="drawing"><svg') == 3
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed: the page was checked without a browser")
    check_page = tmp_path / "sheet.html"
    check_page.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    run = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                          "--no-first-run", "--disable-background-networking",
                          f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
                          "--v=0", "--virtual-time-budget=5000", "--dump-dom",
                          check_page.as_uri()], capture_output=True, text=True, timeout=120)
    probe = [line for line in run.stdout.splitlines() if "PROBE:" in line and "+" not in line]
    assert probe, f"the probe did not run: {run.stderr[-2000:]}"
    assert re.search(r"PROBE:3:3:0\b", probe[-1]), probe[-1]  # 3 questions, 3 drawings
    assert "CONSOLE" not in run.stderr


# ---- the kinds of the later chapters: BPTT (§9.3), convolution (eq. 7.3), attention (ch. 11) --
def _given(ex) -> dict:
    return dict(ex.given)


def _matrix(given, name, rows, cols):
    return np.array([[given[f"{name}[{j},{i}]"] for i in range(1, cols + 1)]
                     for j in range(1, rows + 1)])


def numpy_bptt(ex) -> dict:
    """§9.3 by hand: a⁽ᵗ⁾ = W_hh h⁽ᵗ⁻¹⁾ + W_xh x⁽ᵗ⁾ + b_h, h = tanh a, ŷ = W_hy h + b_y,
    E = Σ_t ½‖ŷ − y‖²; δ_o = ŷ − y, δ_h⁽ᵗ⁾ = (W_hyᵀ δ_o⁽ᵗ⁾ + W_hhᵀ δ_h⁽ᵗ⁺¹⁾)(1 − h²); the
    gradients summed over t (eq. 9.7) and W − η ∂E/∂W."""
    g = _given(ex)
    D_x, D_h, D_y = ex.data["sizes"]
    P = {"W_xh": _matrix(g, "W_xh", D_h, D_x), "W_hh": _matrix(g, "W_hh", D_h, D_h),
         "b_h": np.array([g[f"b_h[{j}]"] for j in range(1, D_h + 1)]),
         "W_hy": _matrix(g, "W_hy", D_y, D_h),
         "b_y": np.array([g[f"b_y[{k}]"] for k in range(1, D_y + 1)])}
    xs = [np.array([g[f"x^({t})[{i}]"] for i in range(1, D_x + 1)]) for t in (1, 2)]
    ys = [np.array([g[f"y^({t})[{k}]"] for k in range(1, D_y + 1)]) for t in (1, 2)]
    out, hs, E = {}, [np.zeros(D_h)], 0.0
    for t, (x, y) in enumerate(zip(xs, ys), start=1):
        a = P["W_hh"] @ hs[-1] + P["W_xh"] @ x + P["b_h"]
        hs.append(np.tanh(a))
        o = P["W_hy"] @ hs[-1] + P["b_y"]
        E += 0.5 * np.sum((o - y) ** 2)
        out |= {f"a^({t})[{j + 1}]": a[j] for j in range(D_h)}
        out |= {f"h^({t})[{j + 1}]": hs[-1][j] for j in range(D_h)}
        out |= {f"yhat^({t})[{k + 1}]": o[k] for k in range(D_y)}
        out |= {f"delta_o^({t})[{k + 1}]": (o - y)[k] for k in range(D_y)}
    out["E"] = E
    grads = {name: np.zeros_like(p) for name, p in P.items()}
    delta_next = np.zeros(D_h)
    for t in (2, 1):
        d_o = np.array([out[f"delta_o^({t})[{k + 1}]"] for k in range(D_y)])
        delta = (P["W_hy"].T @ d_o + P["W_hh"].T @ delta_next) * (1 - hs[t] ** 2)
        out |= {f"delta_h^({t})[{j + 1}]": delta[j] for j in range(D_h)}
        grads["W_hy"] += np.outer(d_o, hs[t])
        grads["b_y"] += d_o
        grads["W_xh"] += np.outer(delta, xs[t - 1])
        grads["W_hh"] += np.outer(delta, hs[t - 1])
        grads["b_h"] += delta
        delta_next = delta
    for name, grad in grads.items():
        for index in np.ndindex(grad.shape):
            label = ",".join(str(i + 1) for i in index)
            out[f"dE/d{name}[{label}]"] = grad[index]
            if ex.data["lr"]:
                out[f"{name}[{label}] new"] = P[name][index] - ex.data["lr"] * grad[index]
    return out


def numpy_conv(ex) -> dict:
    """eq. 7.3–7.4: a_jk = Σ_l Σ_m I(j+l, k+m) K(l, m) + w₀ (units from 0), z = f(a)."""
    g = _given(ex)
    side = int(round(len([k for k in g if k.startswith("I(")]) ** 0.5))
    M = int(round(len([k for k in g if k.startswith("K(")]) ** 0.5))
    image = np.array([[g[f"I({r},{c})"] for c in range(1, side + 1)] for r in range(1, side + 1)])
    kernel = np.array([[g[f"K({l},{m})"] for m in range(1, M + 1)] for l in range(1, M + 1)])
    f = np.tanh if ex.data["activation"] == "tanh" else (lambda a: max(a, 0.0))
    out = {}
    for j, k in ex.data["units"]:
        a = float(np.sum(image[j:j + M, k:k + M] * kernel) + g["w_0"])
        out[f"a_{j}{k}"], out[f"z_{j}{k}"] = a, f(a)
    return out


def numpy_attention(ex) -> dict:
    """eq. 11.1–11.3: S = q kᵀ/√2, A = softmax by rows, Y = A v; backward with G = ∂E/∂Y:
    ∂E/∂A = G vᵀ, ∂E/∂S = A ⊙ (∂E/∂A − rowsum(A ⊙ ∂E/∂A)), ∂E/∂q = ∂E/∂S k/√2,
    ∂E/∂k = ∂E/∂Sᵀ q/√2, ∂E/∂v = Aᵀ G."""
    g, n = _given(ex), ex.data["tokens"]
    q, k, v = (np.array([[g[f"{x}_{t}[{i}]"] for i in (1, 2)] for t in range(1, n + 1)])
               for x in "qkv")
    S = q @ k.T / np.sqrt(2)
    A = np.exp(S) / np.exp(S).sum(axis=1, keepdims=True)
    Y = A @ v
    out = {}
    for a, b in itertools.product(range(n), repeat=2):
        out[f"s_{a + 1}{b + 1}"], out[f"a_{a + 1}{b + 1}"] = S[a, b], A[a, b]
    out |= {f"y_{t + 1}[{i + 1}]": Y[t, i] for t in range(n) for i in (0, 1)}
    if ex.data["backward"]:
        G = np.array([[g[f"g_{t}[{i}]"] for i in (1, 2)] for t in range(1, n + 1)])
        dA = G @ v.T
        dS = A * (dA - np.sum(A * dA, axis=1, keepdims=True))
        for name, grad in (("q", dS @ k / np.sqrt(2)), ("k", dS.T @ q / np.sqrt(2)),
                           ("v", A.T @ G)):
            out |= {f"dE/d{name}_{t + 1}[{i + 1}]": grad[t, i] for t in range(n) for i in (0, 1)}
        out |= {f"dE/ds_{a + 1}{b + 1}": dS[a, b] for a in range(n) for b in range(n)}
    return out


LATER = {"bptt": numpy_bptt, "conv": numpy_conv, "attention": numpy_attention}


@pytest.mark.parametrize("kind", list(LATER))
@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_later_kinds_equal_numpy_and_are_for_working_by_hand(kind, difficulty):
    for seed in range(6):
        ex = generate(kind, seed, difficulty)
        reference = LATER[kind](ex)
        assert set(ex.asked) <= set(reference), set(ex.asked) - set(reference)
        answers = ex.answers()
        for key in ex.asked:
            assert answers[key] == pytest.approx(reference[key], abs=1e-9), (seed, key)
            assert abs(answers[key]) >= 0.005, (seed, key)  # no (near-)zero asked quantity
        assert all(places(v) <= 2 and v != 0 for _, v in ex.given), ex.given
        assert ex.tasks and len(ex.asked) >= 2


def test_later_kinds_grow_with_difficulty():
    bptt = [generate("bptt", 1, d) for d in (1, 2, 3)]
    assert bptt[0].data["sizes"] == [1, 2, 1] and bptt[2].data["sizes"] == [2, 2, 1]
    assert any(k.endswith(" new") for k in bptt[2].asked)
    assert not any(k.endswith(" new") for k in bptt[0].asked + bptt[1].asked)
    assert [len(generate("conv", 1, d).data["units"]) for d in (1, 2, 3)] == [1, 2, 3]
    attention = [generate("attention", 1, d) for d in (1, 2, 3)]
    assert attention[0].data["tokens"] == 2 and attention[1].data["tokens"] == 3
    assert any(k.startswith("dE/dq_") for k in attention[2].asked)
    assert not any(k.startswith("dE/") for k in attention[1].asked)


@pytest.mark.parametrize("kind", list(LATER))
def test_a_planted_wrong_answer_of_a_later_kind_is_found_at_its_quantity(kind):
    for seed in range(4):
        ex = generate(kind, seed, 3)
        right = {k: round(v, 4) for k, v in ex.answers().items()}
        [marking] = check({"1": right}, seed=seed, kind=kind, difficulty=3)
        assert marking.ok and marking.right == len(ex.asked)
        key = ex.asked[seed * 5 % len(ex.asked)]
        [marking] = check({"1": dict(right, **{key: right[key] + 0.05})}, seed=seed, kind=kind,
                          difficulty=3)
        assert marking.first_wrong == key and marking.mistake is None and not marking.ok
        assert "not one of the common mistakes" in marking.diagnosis


@pytest.mark.parametrize("kind", list(LATER))
def test_later_kinds_render_in_every_format(kind):
    exercises = sheet(kind, 2, 4, 3)
    assert "# Answer key" in render(exercises, "markdown")
    question = render(exercises, "markdown", "none")  # names for people (the key: the keys)
    assert not re.search(r"yhat|delta_|dE/d", question), re.findall(r".{20}(?:yhat|delta_|dE/d)",
                                                                    question)
    page = render(exercises, "html", "inline")
    assert page.count('<section class="exercise"') == 2 and "<svg" not in page
    payload = json.loads(render(exercises, "json"))
    assert set(payload["answers"]["1"]) == set(exercises[0].asked)
    assert "answer_key" not in payload
    assert json.loads(answer_key(exercises))["answer_key"]["2"] == exercises[1].answers()


def test_pretty_writes_names_as_the_notes_do_and_refuses_non_strings():
    """The tour writes every table, code block and caption through it, so δ and ∂E/∂w read
    the same everywhere."""
    from deltagrad.exercises import pretty

    assert pretty("dE/dw^(1)_11 = delta^(1)_1 · x_1") == "∂E/∂w^(1)_11 = δ^(1)_1 · x_1"
    assert pretty("yhat^(2)[1]") == "ŷ^(2)[1]"
    with pytest.raises(TypeError, match="pretty: name must be a string, got int"):
        pretty(5)

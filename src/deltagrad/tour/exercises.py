"""Exercises, §3.4 and chapters 5–6 as practice: one freshly generated exercise with its
worked solution, and the check mode naming a planted mistake."""

from __future__ import annotations

from deltagrad.exercises import check, generate, render
from deltagrad.exercises import pretty

SEED = 7


TITLE = "Exercises: fresh practice questions with worked solutions"


def section(report) -> None:
    s = report.section(TITLE, "chapters 3 (§3.4), 5–6")
    s.text("The notes end chapter 3 with three practice questions; `deltagrad exercises` "
           "writes as many more as wanted — hand-sized numbers, no saturated unit, no δ that "
           "is zero, no ties — each with its full solution from the tracer. This one is "
           f"exercise 1 of seed {SEED} (`deltagrad exercises --kind backprop --seed {SEED} "
           "--difficulty 1`; HTML, LaTeX and JSON sheets too):")
    exercise = generate("backprop", SEED, difficulty=1)
    question = render([exercise], "markdown", "none")
    s.code(question[question.index("## Exercise"):])
    s.text("Its worked solution, every number from the engine:")
    s.code(pretty(exercise.solution.to_text()))
    answers = {key: round(value, 4) for key, value in exercise.answers().items()}
    hidden = exercise.network["hidden"]
    wrong = {"tanh": lambda z: z * (1 - z), "sigmoid": lambda z: 1 - z * z}[hidden]
    values = exercise.solution.to_dict()
    delta = wrong(values["z^(1)_1"]) * values["sum^(1)_1"]  # and what follows from it
    answers["delta^(1)_1"] = round(delta, 4)
    answers["dE/dw^(1)_11"] = round(delta * values["x_1"], 4)
    [marking] = check({"1": answers}, seed=SEED, kind="backprop", difficulty=1)
    s.text("A student who takes the wrong derivative for one hidden δ gets this from "
           "`deltagrad exercises check answers.json --seed 7 --difficulty 1`:")
    s.code(marking.to_text())
    logic = generate("logic", SEED, difficulty=2)
    s.text(f"The logic kind asks for a truth table, one perceptron or the reason there is "
           f"none (Remark 5.1), and a network; for `{logic.data['expression']}`:")
    s.code(logic.solution.sections[1].note)

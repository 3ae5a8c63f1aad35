"""Practice (§3.4, chapters 5–6): a fresh backpropagation exercise, its worked solution, and
the check mode naming a forgotten bias; a logic exercise that one perceptron cannot do."""

import deltagrad as dg

exercise = dg.exercises.generate("backprop", seed=3, difficulty=3)   # everything is asked
print(dg.exercises.render([exercise], "markdown", "none").split("## ", 1)[1])
print(exercise.solution.to_text()[:600], "…")

mine = {key: round(value, 4) for key, value in exercise.answers().items()}
mine["a^(1)_1"] -= exercise.network["layers"][0][1][0]   # the bias w^(1)_10 left out
[marking] = dg.exercises.check({"1": mine}, seed=3, kind="backprop", difficulty=3)
print(marking.diagnosis)

logic = next(e for e in (dg.exercises.generate("logic", s, 1) for s in range(20))
             if not e.answers()["separable"])
print(f"f = {logic.data['expression']}:", logic.solution.sections[1].note)

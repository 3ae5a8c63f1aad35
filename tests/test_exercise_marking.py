"""Marking a student's answers (issue 22, item 4): a deleted exercise is unanswered, a number
written as text is a number, names as the sheet prints them are accepted, answers to another
seed are told so, a forgotten hidden bias is a common mistake, and the JSON template a student
fills in does not carry the answer key."""

import json

import pytest

import deltagrad as dg
from deltagrad.cli import main
from deltagrad.exercises.marking import _Net


def _key(seed, difficulty, count=2, kind="backprop"):
    return [dg.exercises.generate(kind, seed, difficulty, n).answers()
            for n in range(1, count + 1)]


def test_a_deleted_exercise_is_marked_unanswered_not_skipped(tmp_path, capsys):
    sheet = tmp_path / "sheet.json"
    assert main(["exercises", "--count", "2", "--seed", "7", "--difficulty", "1",
                 "--format", "json", "--out", str(sheet)]) == 0
    payload = json.loads(sheet.read_text(encoding="utf-8"))
    first, second = _key(7, 1)
    payload["answers"] = {"1": {k: round(v, 4) for k, v in first.items()}}  # exercise 2 cut
    sheet.write_text(json.dumps(payload))
    capsys.readouterr()
    assert main(["exercises", "check", str(sheet)]) == 1
    out = capsys.readouterr().out
    asked = len(first) + len(second)
    assert f"{len(first)} of {asked} answers right in 2 exercise(s); exercise 2 not answered" \
        in out
    assert "Exercise 2: not answered" in out
    # the bare answers part: a gap in the numbers is an unanswered exercise, and --count
    # names a sheet's last exercises
    markings = dg.exercises.check({"2": {}}, seed=7, kind="backprop", difficulty=1)
    assert [m.number for m in markings] == [1, 2] and markings[0].missing == list(first)
    assert len(dg.exercises.check({"1": first}, seed=7, difficulty=1, count=3)) == 3
    with pytest.raises(ValueError, match="answers are for exercise 3, but the sheet has 2"):
        dg.exercises.check({"3": {}}, seed=7, difficulty=1, count=2)


def test_a_number_written_as_text_is_marked_as_a_number():
    first = _key(7, 1, count=1)[0]
    given = {"y_1": f" {first['y_1']:.4f} ", "E": "", "delta^(2)_1": None}
    [marking] = dg.exercises.check({"1": given}, seed=7, difficulty=1)
    assert [(m.key, m.right) for m in marking.marks] == [("y_1", True)]
    assert "E" in marking.missing and "delta^(2)_1" in marking.missing
    with pytest.raises(ValueError, match=r"the answer for 'y_1' must be a number, got '0,7517' "
                                         r"\(write decimals with a point"):
        dg.exercises.check({"1": {"y_1": "0,7517"}}, seed=7, difficulty=1)
    with pytest.raises(ValueError, match="the answer for 'E' must be a number, got 'nan'"):
        dg.exercises.check({"1": {"E": "nan"}}, seed=7, difficulty=1)


def test_names_as_printed_on_the_sheet_are_accepted_and_listed():
    first = _key(7, 1, count=1)[0]
    as_printed = {"δ^(2)_1": first["delta^(2)_1"], "∂E/∂w^(1)_11": first["dE/dw^(1)_11"],
                  "w^(2)_11 (new)": first["w^(2)_11 new"], "$δ^(1)_2$": first["delta^(1)_2"]}
    [marking] = dg.exercises.check({"1": as_printed}, seed=7, difficulty=1)
    assert marking.right == 4 and all(m.right for m in marking.marks)
    with pytest.raises(ValueError, match=r"unknown quantity 'delt\^\(2\)_1'; did you mean "
                                         r"'δ\^\(2\)_1'\? This exercise asks for y_1, E, "
                                         r"δ\^\(2\)_1, δ\^\(1\)_1, δ\^\(1\)_2"):
        dg.exercises.check({"1": {"delt^(2)_1": 0.1}}, seed=7, difficulty=1)
    with pytest.raises(ValueError, match=r"'δ\^\(2\)_1' and 'delta\^\(2\)_1' both answer"):
        dg.exercises.check({"1": {"δ^(2)_1": 0.1, "delta^(2)_1": 0.1}}, seed=7, difficulty=1)


def test_answers_to_another_seed_are_told_so():
    mine = dg.exercises.generate("backprop", 7, 3, 1)
    other_seed = next(s for s in range(100) if not set(mine.asked) <= set(
        dg.exercises.generate("backprop", s, 3, 1).solution.to_dict()))
    with pytest.raises(ValueError, match=f"these answers do not fit seed {other_seed} — wrong "
                                         "seed?"):
        dg.exercises.check({"1": mine.answers()}, seed=other_seed, difficulty=3)


def test_all_answers_wrong_asks_about_the_seed(tmp_path, capsys):
    first = _key(7, 1, count=1)[0]
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"1": {k: v + 1.0 for k, v in first.items()}}))
    assert main(["exercises", "check", str(path), "--seed", "7", "--difficulty", "1"]) == 1
    assert "none of the answers is right: were they checked against the sheet's seed" in \
        capsys.readouterr().out


def test_a_forgotten_hidden_bias_is_named_at_every_later_quantity():
    """y_1 and E recomputed with layer 1's biases (or unit 1's alone) set to 0 and every
    later value right from there: the marking names the hidden bias, not "not one of the
    common mistakes"."""
    ex = dg.exercises.generate("backprop", 7, 1, 1)
    net = _Net(ex.network, ex.solution.to_dict())
    all_out, one_out = net.without_bias(1, None), net.without_bias(1, 1)
    right = ex.answers()
    for wrong, words in ((all_out, "the hidden biases w^(1)_j0 were left out of layer 1"),
                         (one_out, "the hidden bias w^(1)_10")):
        [marking] = dg.exercises.check({"1": dict(right, y_1=float(wrong[2][1][0]))}, seed=7,
                                       difficulty=1)
        assert (marking.first_wrong, marking.mistake) == ("y_1", "bias")
        assert words in marking.diagnosis
    E = 0.5 * float((all_out[2][1][0] - ex.network["t"][0]) ** 2)  # eq. 2.5 on the wrong y
    [marking] = dg.exercises.check({"1": {"E": E}}, seed=7, difficulty=1)
    assert (marking.first_wrong, marking.mistake) == ("E", "bias")


def test_the_json_template_does_not_carry_the_answer_key(tmp_path, capsys):
    assert main(["exercises", "--count", "2", "--seed", "7", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert "answer_key" not in captured.out and "solution" not in captured.out
    assert "the answer key is not in the answers template" in captured.err
    out = tmp_path / "sheet.json"
    assert main(["exercises", "--count", "2", "--seed", "7", "--format", "json",
                 "--out", str(out)]) == 0
    assert "answer_key" not in out.read_text(encoding="utf-8")
    key = json.loads((tmp_path / "sheet.key.json").read_text(encoding="utf-8"))
    assert key["answer_key"]["2"] == dg.exercises.generate("backprop", 7, 2, 2).answers()


@pytest.mark.parametrize("kind", ["forward", "backprop", "bptt", "conv", "attention"])
def test_every_kind_marks_its_answer_key_written_as_the_sheet_prints_it(kind):
    """Each key as the sheet prints it (pretty) and each number as text with 6 decimals: all
    right, nothing missing."""
    from deltagrad.exercises.exercise import pretty

    exercise = dg.exercises.generate(kind, 3, 3, 1)
    given = {pretty(key): f"{value:.6f}" for key, value in exercise.answers().items()}
    [marking] = dg.exercises.check({"1": given}, seed=3, kind=kind, difficulty=3)
    assert marking.ok and marking.right == len(exercise.asked)

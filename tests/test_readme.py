"""The README's examples run and print what their comments say."""

import contextlib
import io
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def _run(block: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, str(README), "exec"), {})
    return out.getvalue()


def test_readme_has_examples():
    assert len(_python_blocks()) >= 3


def test_practice_question_example_prints_the_notes_numbers():
    printed = _run(_python_blocks()[0]).split("\n")
    assert printed[0] == "0.754534 0.030127"
    assert printed[1] == "[[-0.148352 -0.024465]]"


def test_training_example_reaches_the_accuracy_it_claims():
    printed = _run(_python_blocks()[1])
    accuracy = float(printed.split()[-1])
    assert accuracy >= 0.95


def test_fit_example_stops_early_and_generalises(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    printed = _run(_python_blocks()[2])
    assert "stopped at epoch" in printed
    assert float(printed.split()[-1]) >= 0.95
    assert (tmp_path / "learning_curves.png").stat().st_size > 10_000


def test_logic_example_prints_what_it_says():
    printed = _run(_python_blocks()[3]).splitlines()
    assert printed[-3] == "[1, 0, 1, 0, 1, 0, 1, 1]"
    assert printed[-2:] == ["True", "False"]


def test_explain_example_prints_the_engines_delta():
    printed = _run(_python_blocks()[4]).splitlines()
    assert float(printed[0]) == pytest.approx(-0.155807, abs=5e-7)
    assert printed[1].startswith("Practice question 1")


def test_recurrent_example_prints_the_shapes_it_says():
    [block] = [b for b in _python_blocks() if "nn.LSTM" in b]
    assert _run(block).splitlines() == ["(2, 5, 8) (32, 8)"]


def test_readme_names_the_two_setup_commands():
    text = README.read_text()
    assert "make run" in text and "make test" in text


@pytest.mark.parametrize("marker", ["dg.exercises.generate", "TransformerLM"])
def test_the_later_examples_run_and_print(marker):
    [block] = [b for b in _python_blocks() if marker in b]
    printed = _run(block).splitlines()
    assert printed
    if marker == "TransformerLM":  # attention rows sum to one; logits (1, 3, 11)
        assert "(1, 3, 11)" in printed and any("[1. 1.]" in line for line in printed)
    else:  # the planted sign error is found at δ^(2)_1
        assert printed[-1] == "delta^(2)_1 sign"


def test_the_1d_cnn_example_prints_its_summary_and_learns():
    [block] = [b for b in _python_blocks() if "nn.BatchNorm1d" in b]
    printed = _run(block).splitlines()
    assert "Total params: 1,187" in printed and "Non-trainable params: 48" in printed
    assert float(printed[-1].split()[-1]) >= 0.97     # wave shapes told apart on held-out data

"""The deltagrad command: subcommands, help with examples, one-line errors with exit code 2."""

import json
import subprocess
import sys

from deltagrad.cli import main


def test_logic_prints_the_network_and_its_verification(capsys):
    assert main(["logic", "x1 xor x2", "--strategy", "dnf"]) == 0
    out = capsys.readouterr().out
    assert "h1_1 = ¬x1 ∧ x2: w = [-1, +1], b = -0.5" in out
    assert "verified on all 4 rows" in out


def test_logic_json_and_markdown(capsys):
    assert main(["logic", "x1 and not x2", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["verified"] and payload["truth_table"][2] == [1, 0, 1]
    assert main(["logic", "x1 or x2", "--format", "markdown"]) == 0
    assert "| x1 | x2 | y |" in capsys.readouterr().out


def test_errors_are_one_line_with_exit_code_2(capsys):
    assert main(["logic", "x1 and (x2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("deltagrad logic: error: unbalanced parentheses")


def test_debug_shows_the_traceback(capsys):
    assert main(["--debug", "logic", "x1 $ x2"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_python_dash_m_and_help_with_an_example():
    result = subprocess.run([sys.executable, "-m", "deltagrad", "logic", "--help"],
                            capture_output=True, text=True, check=True, timeout=120)
    assert 'example: deltagrad logic "x1 xor x2 xor x3"' in result.stdout

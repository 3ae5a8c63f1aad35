"""`deltagrad train` and `deltagrad predict` on a CSV made from scikit-learn's wine data."""

import csv

import numpy as np
import pytest
from sklearn.datasets import load_wine

from deltagrad.cli import main


@pytest.fixture
def wine_csv(tmp_path):
    X, y = load_wine(return_X_y=True)
    path = tmp_path / "wine.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"f{i}" for i in range(X.shape[1])] + ["class"])
        for row, label in zip(X, y):
            writer.writerow(list(row) + [label])
    return path, y


def test_train_then_predict(wine_csv, tmp_path, capsys):
    path, y = wine_csv
    model = tmp_path / "wine.safetensors"
    assert main(["train", str(path), "--target", "class", "--layers", "16", "--epochs", "100",
                 "--out", str(model)]) == 0
    out = capsys.readouterr().out
    assert "classification" in out and "training accuracy" in out
    predictions = tmp_path / "predictions.csv"
    assert main(["predict", str(model), str(path), "--out", str(predictions)]) == 0
    with open(predictions) as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["prediction", "p_0", "p_1", "p_2"]
    predicted = np.array([float(r["prediction"]) for r in rows])
    assert np.mean(predicted == y) > 0.95


def test_regression_target(wine_csv, tmp_path, capsys):
    path, _ = wine_csv
    model = tmp_path / "alcohol.safetensors"
    assert main(["train", str(path), "--target", "f0", "--task", "regression", "--epochs", "30",
                 "--optimizer", "lbfgs", "--out", str(model)]) == 0
    assert "training RMSE" in capsys.readouterr().out
    assert main(["predict", str(model), str(path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "prediction" and len(lines) == 179


@pytest.mark.parametrize("problem,match", [
    ("missing file", "no such file"),
    ("non-numeric", "column 'f1' is not numeric ('abc')"),
    ("missing target", "target column 'class' is not in"),
])
def test_errors_are_one_line_with_exit_code_2(problem, match, wine_csv, tmp_path, capsys):
    path, _ = wine_csv
    if problem == "missing file":
        path = tmp_path / "nope.csv"
    elif problem == "non-numeric":
        lines = path.read_text().splitlines()
        cells = lines[3].split(",")
        cells[1] = "abc"
        lines[3] = ",".join(cells)
        path.write_text("\n".join(lines))
    else:
        lines = path.read_text().splitlines()
        lines[0] = lines[0].replace("class", "label")
        path.write_text("\n".join(lines))
    assert main(["train", str(path), "--target", "class", "--out",
                 str(tmp_path / "m.safetensors")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0] and "Traceback" not in err[0]


def test_help_shows_an_example_for_each_command(capsys):
    for command in ("tour", "train", "predict", "explain", "logic"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "example: deltagrad " + command in capsys.readouterr().out

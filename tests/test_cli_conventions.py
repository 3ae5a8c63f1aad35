"""The command line behaves like the tools people know, and refuses a user's mistakes in the
flags' words: --version, defaults in --help, early stopping as options, a closed pipe and
Ctrl-C (driven through real subprocesses), saved files, CSV dialects, small data."""

import argparse
import csv
import os
import signal
import stat
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris

import deltagrad as dg
from deltagrad.cli import build_parser, main

SRC = os.path.join(os.path.dirname(__file__), os.pardir, "src")
SPECIES = np.array(["setosa", "versicolor", "virginica"])


def _env():
    return dict(os.environ, PYTHONPATH=os.path.abspath(SRC))


def _write(path, header, rows, delimiter=",", encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


@pytest.fixture
def iris_csv(tmp_path):
    X, y = load_iris(return_X_y=True)
    rows = [list(x) + [SPECIES[c]] for x, c in zip(X, y)]
    return _write(tmp_path / "iris.csv", ["sl", "sw", "pl", "pw", "species"], rows), X, y


def _error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


# ---- conventions -------------------------------------------------------------------------
def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.strip() == f"deltagrad {dg.__version__}"


def _subparsers(parser):
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_every_options_default_is_shown_in_help():
    for name, sub in _subparsers(build_parser()).items():
        text = " ".join(sub.format_help().split())
        for action in sub._actions:
            if not action.option_strings or any(action.default is none for none in
                                                (None, False, argparse.SUPPRESS)):
                continue
            assert f"(default: {action.default})" in text, (name, action.option_strings)
        for action in sub._actions:  # options whose default is computed say what it is
            if action.dest in ("lr", "batch_size", "patience", "delimiter"):
                assert "default:" in (action.help or ""), (name, action.dest)


def test_tour_help_states_its_running_time(capsys):
    with pytest.raises(SystemExit):
        main(["tour", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--quick" in text and "not converged: about half a minute" in text \
        and "(about two and a half minutes on two quiet cores, 150 s of CPU time" in text


def test_logic_help_says_what_minimal_minimises(capsys):
    with pytest.raises(SystemExit):
        main(["logic", "--help"])
    assert "the sum of products is minimised, not the network" in \
        " ".join(capsys.readouterr().out.split())


def test_a_closed_pipe_ends_quietly(iris_csv, tmp_path, spawn):
    """``deltagrad predict … | head -1``: the reader leaves after one line; no traceback, no
    'Exception ignored' message, the SIGPIPE status (or 0 when all was written in time)."""
    path, X, y = iris_csv
    big = _write(tmp_path / "big.csv", ["sl", "sw", "pl", "pw", "species"],
                 [list(x) + [SPECIES[c]] for x, c in zip(np.tile(X, (40, 1)), np.tile(y, 40))])
    model = str(tmp_path / "m.safetensors")
    assert main(["train", path, "--target", "species", "--epochs", "2", "--out", model]) == 0
    process = spawn([sys.executable, "-m", "deltagrad", "predict", model, big],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    assert process.stdout.readline().startswith(b"prediction,")
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) in (0, 128 + signal.SIGPIPE)
    assert err == ""


def test_ctrl_c_ends_with_one_line_and_status_130(iris_csv, spawn):
    """The child trains for 1,000,000 epochs unless Ctrl-C stops it: ``spawn`` kills it after
    60 s or when the test ends, so a child that ignored SIGINT cannot outlive the test."""
    path, _, _ = iris_csv
    code = ("import sys; from deltagrad.cli import main; "
            "import deltagrad.data, deltagrad.callbacks, deltagrad.io, deltagrad.data.csvfile; "
            "print('ready', flush=True); sys.exit(main(sys.argv[1:]))")  # imports done first
    process = spawn(
        [sys.executable, "-c", code, "train", path, "--target", "species", "--epochs", "1000000",
         "--no-early-stopping", "--out", os.devnull + ".never"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=_env())
    assert process.stdout.readline() == b"ready\n"
    time.sleep(0.5)  # let it get past the print, into main() (a signal inside print is Python's)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err.decode().strip() == "deltagrad: interrupted"


# ---- options with no effect, early stopping, small data --------------------------------
@pytest.mark.parametrize("flags, words", [
    (["--optimizer", "lbfgs", "--lr", "0.1"], "--lr has no effect with --optimizer lbfgs"),
    (["--optimizer", "cg", "--batch-size", "8"], "--batch-size has no effect with --optimizer cg"),
    (["--no-early-stopping", "--patience", "5"], "--patience has no effect without early stopping"),
    (["--validation-split", "0", "--patience", "5"], "--patience has no effect without"),
    (["--layers", "8,0"], "--layers must be positive widths like 64,32, got '8,0'"),
])
def test_options_without_effect_are_refused(iris_csv, tmp_path, capsys, flags, words):
    path, _, _ = iris_csv
    assert words in _error(capsys, ["train", path, "--target", "species", "--out",
                                    str(tmp_path / "m.st"), *flags])


def test_patience_and_no_early_stopping(iris_csv, tmp_path, capsys):
    path, _, _ = iris_csv
    out = str(tmp_path / "m.st")
    assert main(["train", path, "--target", "species", "--epochs", "300", "--patience", "1",
                 "--out", out]) == 0
    assert "kept epoch" in capsys.readouterr().out
    assert main(["train", path, "--target", "species", "--epochs", "7", "--no-early-stopping",
                 "--out", out]) == 0
    text = capsys.readouterr().out
    assert "for 7 epochs;" in text and "kept epoch" not in text


def test_small_data_adapts_the_batch_size_with_a_note(tmp_path, capsys):
    path = _write(tmp_path / "tiny.csv", ["a", "b", "y"],
                  [[1, 2, 0], [2, 3, 1], [3, 4, 0], [4, 5, 1], [5, 1, 0]])
    assert main(["train", path, "--target", "y", "--epochs", "3", "--out",
                 str(tmp_path / "m.st")]) == 0
    captured = capsys.readouterr()
    assert "note: using --batch-size 4, all the training rows" in captured.err
    assert "training accuracy" in captured.out and "on 4 rows" in captured.out
    assert "--batch-size 16 is more than the 4 training rows" in _error(
        capsys, ["train", path, "--target", "y", "--batch-size", "16", "--out",
                 str(tmp_path / "m.st")])
    assert "--validation-split 0.05 holds out 0 of 5 rows" in _error(
        capsys, ["train", path, "--target", "y", "--validation-split", "0.05", "--out",
                 str(tmp_path / "m.st")])


@pytest.mark.parametrize("column, task, words", [
    ([3, 3, 3, 3], "auto", "--target y: every row has the class 3.0; a classifier needs rows of "
                           "at least two classes"),
    (["cat"] * 4, "auto", "every row has the class 'cat'"),
    ([2.5, 2.5, 2.5, 2.5], "regression", "--target y: every row has the value 2.5; there is "
                                         "nothing to learn"),
])
def test_a_target_with_one_value_is_refused(tmp_path, capsys, column, task, words):
    path = _write(tmp_path / "one.csv", ["a", "y"], [[i, v] for i, v in enumerate(column)])
    assert words in _error(capsys, ["train", path, "--target", "y", "--task", task, "--out",
                                    str(tmp_path / "m.st")])


def test_training_and_validation_accuracy_are_reported_on_their_own_rows(iris_csv, tmp_path,
                                                                         capsys):
    """The validation rows are the seeded random fraction: the first 30 of
    ``default_rng(seed).permutation(150)``; each figure is recomputed on its rows."""
    path, _, y = iris_csv
    model = str(tmp_path / "m.st")
    assert main(["train", path, "--target", "species", "--epochs", "5", "--seed", "3",
                 "--out", model]) == 0
    text = capsys.readouterr().out
    net, extra = dg.io.read(model)
    table_X = np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(4))
    out = dg.predict(net, (table_X - extra["mean"]) / np.asarray(extra["std"])).argmax(axis=1)
    val = np.zeros(150, bool)
    val[np.random.default_rng(3).permutation(150)[:30]] = True
    train_acc, val_acc = np.mean(out[~val] == y[~val]), np.mean(out[val] == y[val])
    assert f"training accuracy {train_acc:.4f} on 120 rows" in text
    assert f"validation accuracy {val_acc:.4f} on 30 rows" in text
    np.testing.assert_allclose(extra["mean"], table_X[~val].mean(axis=0))  # scaled on its rows


# ---- files -------------------------------------------------------------------------------
@pytest.mark.parametrize("where, words", [
    ("missing/m.st", "the folder '{tmp}/missing' does not exist"),
    ("", "'{tmp}' is a folder; give a file name inside it"),
])
def test_saving_to_a_missing_folder_or_a_folder_names_the_users_path(tmp_path, capsys, iris_csv,
                                                                     where, words):
    target = str(tmp_path / where) if where else str(tmp_path)
    words = words.format(tmp=tmp_path)
    with pytest.raises(OSError, match=words.replace("(", r"\(")):
        dg.save(dg.nn.MLP("2-1", rng=0), target)
    # the command line says so before training (a million epochs would take hours)
    assert words in _error(capsys, ["train", iris_csv[0], "--target", "species", "--epochs",
                                    "1000000", "--out", target])


def test_saved_files_respect_the_umask_and_keep_an_existing_mode(tmp_path):
    path = tmp_path / "m.st"
    old = os.umask(0o027)
    try:
        dg.save(dg.nn.MLP("2-1", rng=0), path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    os.chmod(path, 0o604)
    dg.save(dg.nn.MLP("2-1", rng=0), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o604


def test_saving_an_estimator_with_dg_save_says_to_use_its_own_save(tmp_path):
    from deltagrad.sklearn import MLPClassifier

    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier((3,), solver="lbfgs", max_iter=5, random_state=0)
    with pytest.warns(Warning):
        clf.fit(X, y)
    with pytest.raises(TypeError, match=r"a MLPClassifier saves itself: estimator\.save\(path\)"):
        dg.save(clf, tmp_path / "c.st")


def test_predict_reads_an_estimators_file_and_gives_class_names(tmp_path, capsys):
    from deltagrad.sklearn import MLPClassifier

    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier((5,), solver="lbfgs", max_iter=200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, SPECIES[y])
    clf.save(tmp_path / "c.st")
    path = _write(tmp_path / "x.csv", ["a", "b", "c", "d"], X[::50])
    assert main(["predict", str(tmp_path / "c.st"), path]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[0] == ["prediction", "p_setosa", "p_versicolor", "p_virginica"]
    assert [r[0] for r in rows[1:]] == list(clf.predict(X[::50]))


# ---- CSV dialects ---------------------------------------------------------------------------
def test_bom_semicolons_and_class_names_round_trip(tmp_path, capsys):
    X, y = load_iris(return_X_y=True)
    path = _write(tmp_path / "excel.csv", ["sl", "sw", "pl", "pw", "species"],
                  [list(x) + [SPECIES[c]] for x, c in zip(X, y)], delimiter=";",
                  encoding="utf-8-sig")
    model = str(tmp_path / "m.st")
    assert main(["train", path, "--target", "species", "--epochs", "200", "--out", model]) == 0
    capsys.readouterr()
    assert main(["predict", model, path]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[0] == ["prediction", "p_setosa", "p_versicolor", "p_virginica"]
    assert np.mean(np.array([r[0] for r in rows[1:]]) == SPECIES[y]) > 0.9
    tabs = _write(tmp_path / "tabs.csv", ["a|b", "y"], [["1", 0], ["2", 1]] * 3, delimiter="\t")
    assert main(["train", tabs, "--target", "y", "--delimiter", "\t", "--epochs", "2",
                 "--validation-split", "0", "--out", model]) == 0


def test_an_empty_cell_is_a_missing_value_with_its_line_and_column(tmp_path, capsys):
    path = _write(tmp_path / "hole.csv", ["a", "b", "y"], [[1, 2, 0], [2, "", 1], [3, 4, 0]])
    assert "hole.csv, line 3: column 'b' is empty (a missing value)" in _error(
        capsys, ["train", path, "--target", "y", "--out", str(tmp_path / "m.st")])

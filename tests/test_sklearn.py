"""The scikit-learn estimators: check_estimator, Pipeline, GridSearchCV, accuracy against
scikit-learn's own MLPClassifier, sample weights, save and load."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from deltagrad.sklearn import MLPClassifier, MLPRegressor

# checks allowed not to pass, each with its reason
EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data":
        "minibatch Adam on shuffled data: weighting a pattern by 2 is not the same trajectory "
        "as repeating it (scikit-learn's own MLP is exempt for the same reason)",
}
ALLOWED_SKIPS = {"check_array_api_input": "SCIPY_ARRAY_API is not set in the test run"}


@pytest.mark.parametrize("estimator", [MLPClassifier(max_iter=100), MLPRegressor(max_iter=100)],
                         ids=["classifier", "regressor"])
def test_check_estimator(estimator):
    """With max_iter=100, the setting scikit-learn's own MLPs pass its checks with."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None,
                                  expected_failed_checks=EXPECTED_FAILURES)
    for result in results:
        name, status = result["check_name"], result["status"]
        if status == "skipped":
            assert name in ALLOWED_SKIPS, f"{name} skipped: {result['exception']}"
        else:
            assert status in ("passed", "xfail"), f"{name}: {result['exception']}"
    assert sum(r["status"] == "passed" for r in results) > 40


def test_pipeline_and_grid_search():
    X, y = load_wine(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), MLPClassifier(solver="lbfgs", max_iter=100,
                                                         random_state=0))
    search = GridSearchCV(pipe, {"mlpclassifier__hidden_layer_sizes": [(5,), (20,)],
                                 "mlpclassifier__alpha": [1e-4, 1e-1]}, cv=3)
    search.fit(X, y)
    assert search.best_score_ > 0.9
    assert set(search.best_params_) == {"mlpclassifier__hidden_layer_sizes",
                                        "mlpclassifier__alpha"}


@pytest.mark.parametrize("loader", [load_digits, load_wine, load_breast_cancer],
                         ids=["digits", "wine", "breast_cancer"])
def test_accuracy_at_most_one_point_below_scikit_learn(loader):
    """Same split, standardisation, hidden sizes, activation, solver (Adam), iterations and
    initial weights; the minibatch order differs, so on breast_cancer's 143 test rows ours
    classifies two more correctly: the check is that ours is not worse."""
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    settings = dict(hidden_layer_sizes=(50,), activation="tanh", solver="adam", max_iter=200,
                    random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = make_pipeline(StandardScaler(), MLPClassifier(**settings)).fit(X_train, y_train)
        theirs = make_pipeline(StandardScaler(), SkMLPClassifier(**settings)).fit(X_train,
                                                                                 y_train)
    a, b = ours.score(X_test, y_test), theirs.score(X_test, y_test)
    assert a >= b - 0.01 - 1e-12, f"ours {a:.4f} vs scikit-learn {b:.4f}"


@pytest.mark.parametrize("max_iter", [50, 100])
def test_regressor_learns_as_fast_as_scikit_learns(max_iter):
    """The estimator-check regression data (make_regression as check_regressors_train makes
    it): with the same default Adam and iteration budget, the same initialisation (Glorot's,
    drawn as scikit-learn draws it) gives the same R² to 1e-4; He-scaled weights gave 0.57
    against 0.85 at 50 iterations."""
    from sklearn.datasets import make_regression
    from sklearn.neural_network import MLPRegressor as SkMLPRegressor
    from sklearn.preprocessing import scale

    X, y = make_regression(n_samples=200, n_features=10, n_informative=1, bias=5.0, noise=20,
                           random_state=42)
    X, y = StandardScaler().fit_transform(X), scale(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = MLPRegressor(max_iter=max_iter, random_state=0).fit(X, y).score(X, y)
        theirs = SkMLPRegressor(max_iter=max_iter, random_state=0).fit(X, y).score(X, y)
    assert ours == pytest.approx(theirs, abs=1e-4), f"ours {ours:.5f} vs scikit-learn {theirs:.5f}"


def test_initial_weights_are_scikit_learns():
    """One full-batch Adam epoch: its loss is evaluated before the step, at the initial weights,
    so it agrees with scikit-learn's only when the initial weights are scikit-learn's draw."""
    from sklearn.neural_network import MLPClassifier as Sk

    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = MLPClassifier((7,), activation="logistic", max_iter=1, random_state=3).fit(X, y)
        theirs = Sk((7,), activation="logistic", max_iter=1, random_state=3,
                    shuffle=False, batch_size=len(X)).fit(X, y)
    assert ours.loss_curve_[0] == pytest.approx(theirs.loss_curve_[0], rel=1e-3)


def test_attributes_after_fit():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier((10,), early_stopping=True, max_iter=50, random_state=0).fit(X, y)
    assert list(clf.classes_) == [0, 1, 2]
    assert clf.predict_proba(X).shape == (178, 3)
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)
    assert len(clf.loss_curve_) == clf.n_iter_ == len(clf.validation_scores_)
    assert 0 <= clf.best_validation_score_ <= 1


def test_string_labels_and_binary_problems():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    labels = np.where(y == 1, "benign", "malignant")
    clf = MLPClassifier((8,), solver="lbfgs", max_iter=100, random_state=0).fit(X, labels)
    assert set(clf.predict(X)) <= {"benign", "malignant"}
    assert clf.predict_proba(X).shape == (len(X), 2) and clf.score(X, labels) > 0.95


def test_sample_weight_zero_is_like_removing_the_pattern():
    """With a full-batch solver, E = Σ s_n E_n: weight 0 ≡ the pattern removed."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=40)
    weights = np.ones(40)
    weights[:10] = 0
    kw = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weighted = MLPRegressor(**kw).fit(X, y, sample_weight=weights)
        removed = MLPRegressor(**kw).fit(X[10:], y[10:])
    np.testing.assert_allclose(weighted.predict(X), removed.predict(X), rtol=1e-6, atol=1e-8)


def test_estimators_save_and_load(tmp_path):
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier((6,), solver="lbfgs", max_iter=50, random_state=0).fit(X, y)
    clf.save(tmp_path / "clf.safetensors")
    again = MLPClassifier.load(tmp_path / "clf.safetensors")
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert again.get_params() == clf.get_params()
    reg = MLPRegressor((4,), solver="lbfgs", max_iter=20, random_state=0).fit(X, y * 1.0)
    reg.save(tmp_path / "reg.safetensors")
    np.testing.assert_array_equal(MLPRegressor.load(tmp_path / "reg.safetensors").predict(X),
                                  reg.predict(X))
    with pytest.raises(ValueError, match="holds 'MLPRegressor', not a MLPClassifier"):
        MLPClassifier.load(tmp_path / "reg.safetensors")


@pytest.mark.parametrize("solver", ["sgd", "cg", "bfgs", "scg"])
def test_every_solver_learns(solver):
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    kw = dict(learning_rate_init=0.01) if solver == "sgd" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = MLPClassifier((10,), solver=solver, max_iter=100, random_state=0, **kw).fit(X, y)
    assert clf.score(X, y) > 0.9


def test_consistent_prior_with_one_alpha_per_layer():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier((10,), solver="lbfgs", prior="consistent", alpha=[1e-2, 1.0],
                        max_iter=100, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match="needs prior='consistent' and one value per layer"):
        MLPClassifier(alpha=[1.0, 2.0, 3.0], prior="consistent").fit(X, y)

"""Packaging: a licence with its metadata, and a README that stands alone."""

import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_licence_file_and_metadata_agree():
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License") and "deltagrad developers" in licence
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == {"text": "MIT"}
    assert project["authors"] == [{"name": "deltagrad developers"}]
    assert "License :: OSI Approved :: MIT License" in project["classifiers"]


def test_readme_stands_alone():
    """No path outside the repository; it names the notes the § and eq. numbers refer to."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../" not in readme and "shared/" not in readme
    assert "*Neural Networks* by Rishi Raj Vishwakarma" in readme
    assert 'every "§", "eq." and "Example" number' in readme


def test_make_test_says_when_it_installs_chromium_and_never_needs_it():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    browser = makefile[makefile.index("browser:"):makefile.index("test:")]
    assert 'echo "installing chromium with apt-get' in browser
    assert "its test will be skipped" in browser  # a failed install does not fail make test

"""The core never imports the side tools, and the library never imports torch."""

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "src" / "deltagrad"
CORE = ["tensor.py", "autograd.py", "_state.py", "gradcheck.py", "ops", "nn", "losses.py",
        "optim"]
SIDE_TOOLS = {"analysis", "logic", "explain", "data", "io", "cli", "tour", "sklearn", "plot",
              "main"}


def _imports(path: pathlib.Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            yield from ([module] if node.level == 0 else
                        [f".{module}"] + [f".{module}.{a.name}" for a in node.names])


def _files(entry):
    path = PACKAGE / entry
    return [path] if path.is_file() else sorted(path.rglob("*.py"))


def test_core_does_not_import_side_tools():
    for entry in CORE:
        for path in _files(entry):
            for name in _imports(path):
                parts = set(name.lstrip(".").split("."))
                assert not (name.startswith(".") and parts & SIDE_TOOLS), \
                    f"{path.relative_to(PACKAGE)} imports {name}"


def test_library_never_imports_torch():
    for path in PACKAGE.rglob("*.py"):
        for name in _imports(path):
            assert name.split(".")[0] != "torch", f"{path.relative_to(PACKAGE)} imports torch"

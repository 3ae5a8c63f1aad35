"""The package's boundaries: the core never imports the side tools (not even inside a
function), the library packages know nothing about the tour, and nothing imports torch."""

import ast
import pathlib
import subprocess
import sys
import textwrap

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "src" / "deltagrad"
CORE = ["tensor.py", "autograd.py", "compile.py", "compile_program.py", "compile_replay.py",
        "compile_source.py", "_state.py", "_validate.py", "_naming.py", "gradcheck.py",
        "ops", "nn", "losses.py", "optim", "regularizers.py", "train.py", "callbacks.py",
        "io.py"]
SIDE_TOOLS = {"analysis", "explain", "logic", "data", "cli", "tour", "sklearn", "plot",
              "select", "playground", "exercises"}
# a convenience method may import a side tool inside itself: (file, function, tool)
ALLOWED = {("train.py", "plot", "plot")}


def _imports(source: str, depth: int = 0):
    """``(enclosing function or None, top-level deltagrad name)`` for every import in
    ``source``, nested ones included; ``depth`` is how many folders below the package the
    module lies (0 for ``train.py``, 1 for ``nn/linear.py``)."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        function = parents.get(node)
        while function is not None and not isinstance(function, (ast.FunctionDef,
                                                                  ast.AsyncFunctionDef)):
            function = parents.get(function)
        where = None if function is None else function.name
        for name in _top_level_names(node, depth):
            yield where, name


def _top_level_names(node, depth: int) -> list:
    """The names directly under ``deltagrad`` that an import statement reaches."""
    if isinstance(node, ast.Import):
        return [a.name.split(".")[1] for a in node.names if a.name.startswith("deltagrad.")]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level == 0:
        parts = (node.module or "").split(".")
        if parts[0] != "deltagrad":
            return []
        return parts[1:2] or [a.name for a in node.names]
    if node.level != depth + 1:  # inside the module's own subpackage
        return []
    return [node.module.split(".")[0]] if node.module else [a.name for a in node.names]


def _violations(path: pathlib.Path, source: str) -> list:
    relative = path.relative_to(PACKAGE)
    found = []
    for where, name in _imports(source, len(relative.parts) - 1):
        line = f"{relative}{'' if where is None else f' in {where}()'} imports {name}"
        if name in SIDE_TOOLS and (str(relative), where, name) not in ALLOWED \
                and line not in found:
            found.append(line)
    return found


def _core_files():
    for entry in CORE:
        path = PACKAGE / entry
        yield from ([path] if path.is_file() else sorted(path.rglob("*.py")))


def test_the_core_imports_no_side_tool_anywhere():
    found = [v for path in _core_files() for v in _violations(path, path.read_text())]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("snippet, expected", [
    ("from .logic.network import LogicNetwork", "imports logic"),
    ("def save(m):\n    from .explain import backprop\n    return backprop", "in save() imports"),
    ("import deltagrad.analysis", "imports analysis"),
    ("from deltagrad import data", "imports data"),
    ("from . import tour", "imports tour"),
    ("def plot(self):\n    from .plot import plot_history", None),  # the allowed exception
])
def test_a_planted_violation_is_caught(snippet, expected):
    found = _violations(PACKAGE / "train.py", textwrap.dedent(snippet))
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and expected in found[0], found


def test_a_planted_violation_in_a_subpackage_is_caught():
    assert _violations(PACKAGE / "nn" / "linear.py", "from ..tour import run") \
        == ["nn/linear.py imports tour"]
    assert _violations(PACKAGE / "nn" / "linear.py", "from ..ops import linear") == []


def test_the_library_packages_know_nothing_about_the_tour():
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ("tour", "cli"):
            continue
        names = {name for _, name in _imports(path.read_text(), len(relative.parts) - 1)}
        assert "tour" not in names, f"{relative} imports the tour"
        assert not path.name.startswith("tour_section"), relative


def test_the_tour_sections_use_only_the_public_api():
    """A chapter module imports ``deltagrad`` or its public subpackages, never a private
    module (``_state``) or a module inside a subpackage (``deltagrad.analysis.hessian``)."""
    for path in (PACKAGE / "tour").glob("*.py"):
        if path.name in ("__init__.py", "report.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path.name}: relative import"
                module = node.module or ""
                names = module.split(".")
                assert names[0] != "deltagrad" or (len(names) <= 2 and not any(
                    n.startswith("_") for n in names)), f"{path.name} imports {module}"


def test_library_never_imports_torch():
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert all(n.split(".")[0] != "torch" for n in names), \
                f"{path.relative_to(PACKAGE)} imports torch"


def test_import_deltagrad_loads_no_heavy_dependency_until_asked():
    """``import deltagrad`` leaves scipy.optimize, matplotlib and scikit-learn unimported;
    ``dg.analysis`` and friends load on first use."""
    code = textwrap.dedent("""
        import sys
        import deltagrad as dg
        heavy = ["scipy.optimize", "scipy.special", "matplotlib", "sklearn",
                 "deltagrad.analysis", "deltagrad.data", "deltagrad.tour"]
        print([m for m in heavy if m in sys.modules])
        dg.analysis.hessian, dg.data.load_digits, dg.select.sweep
        print(all(m in sys.modules for m in ["deltagrad.analysis", "deltagrad.data"]))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split("\n")
    assert out[0] == "[]" and out[1] == "True", out

"""The layering of ../shared/DESIGN.md, checked on the source: no upward import, no circle.

Every ``import`` and ``from … import`` in ``src/rnnlab`` (at module level or inside a
function: a lazy import still couples the layers) becomes an edge between modules. An edge
from a lower layer to a higher one fails, as does any cycle of modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "rnnlab"

# Top to bottom, as in DESIGN.md's table; each layer may import only the ones below it
# (and itself). The package root (rnnlab/__init__.py: the public names) and ``python -m
# rnnlab`` (rnnlab/__main__.py: the command line) sit above them all.
LAYERS = [
    "cli",
    "serve",
    "deploy",
    "tasks",
    "explain",
    "train",
    "embeddings",
    "data",
    "evaluate",
    "text",
    "nn",
    "base",  # runs, config, errors, fileio, threads
]
TOP_LEVEL_FILES = {
    "__init__.py", "__main__.py", "runs.py", "config.py", "errors.py", "fileio.py", "threads.py",
}  # fmt: skip
ENTRY_POINTS = {"rnnlab", "rnnlab.__main__"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> int:
    """Rank of ``module``'s layer: 0 is the top; the package root is −1."""
    parts = module.split(".")
    if module in ENTRY_POINTS:
        return -1
    name = parts[1] if parts[1] in LAYERS else "base"
    return LAYERS.index(name)


def imports_of(module: str) -> set[str]:
    """The rnnlab modules ``module`` imports (``from rnnlab import __version__`` excepted:
    a constant of the root, defined before anything is imported)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "rnnlab")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "rnnlab":
                continue
            names = [a.name for a in node.names]
            if node.module == "rnnlab" and names == ["__version__"]:
                continue
            submodules = [f"{node.module}.{n}" for n in names if f"{node.module}.{n}" in MODULES]
            found.update(submodules)
            if len(submodules) < len(names):
                found.add(node.module)
    return {name for name in found if name != module}


GRAPH = {module: imports_of(module) for module in MODULES}


def test_the_top_level_keeps_only_the_machinery():
    files = {p.name for p in PACKAGE.iterdir() if p.suffix == ".py"}
    assert files == TOP_LEVEL_FILES
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages == set(LAYERS) - {"base"}


# The contract files of ../shared/DESIGN.md and rnnlab/tasks/base.py: every task package has
# them; export.py where the task has an ONNX export (Task.export_graph).
CONTRACT_FILES = ("config", "data", "model", "estimator", "predictor", "workflow")


def task_package(name: str) -> Path:
    """The folder of the registered task ``name`` (where its predictor is defined)."""
    from rnnlab.tasks.base import get_task

    module = get_task(name).predictor_type.__module__
    return SRC.joinpath(*module.split(".")[:-1])


def registered_tasks() -> list[str]:
    from rnnlab.tasks.base import task_names

    return task_names()


@pytest.mark.parametrize("task", registered_tasks())
def test_every_task_package_has_the_contract_files(task):
    from rnnlab.tasks.base import get_task

    folder = task_package(task)
    names = {p.stem for p in folder.glob("*.py")}
    expected = set(CONTRACT_FILES)
    if get_task(task).export_graph is not None:
        expected.add("export")
    assert not expected - names, f"tasks/{folder.name} lacks {sorted(expected - names)}"


def test_the_contract_check_covers_every_built_in_task():
    """Not only classify and tag: the language model and both series tasks too."""
    assert {"classify", "classify_series", "forecast", "lm", "tag"} <= set(registered_tasks())
    assert task_package("classify_series") == PACKAGE / "tasks" / "classify_series"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_climbs_a_layer(module):
    upward = sorted(
        target for target in GRAPH[module] if layer_of(target) < layer_of(module)
    )  # a smaller rank is a higher layer
    assert not upward, f"{module} ({LAYERS[layer_of(module)]}) imports higher layers: {upward}"


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules (first = last), or None (DFS colouring)."""
    state: dict[str, int] = {}  # 1 on the stack, 2 finished
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_circle():
    assert find_cycle(GRAPH) is None, " → ".join(find_cycle(GRAPH) or [])


def test_the_checks_catch_what_they_look_for():
    """The walker is not vacuous: a planted circle is found, an upward edge is ranked."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    assert layer_of("rnnlab.nn.layers") > layer_of("rnnlab.tasks.base") > layer_of("rnnlab.cli")
    assert "rnnlab.tasks.base" in GRAPH["rnnlab.tasks.classify.workflow"]
    assert "rnnlab.deploy.engines" in GRAPH["rnnlab"]  # lazy imports count too

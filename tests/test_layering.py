"""One-way imports: engine needs no sim or api, sim only engine's public API; no cycles."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("engine", "sim", "api")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for layer in LAYERS
           for path in sorted((ROOT / layer).rglob("*.py")) if "__pycache__" not in path.parts}


def _imports(name: str, path: Path) -> set[str]:
    """The project modules `name` imports, anywhere in it (deferred imports count too): for
    `from package import thing`, the module package.thing when there is one."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:  # `import a.b.c` of a module a.b
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(name: str) -> str:
    return name.split(".")[0]


def test_the_modules_are_found():
    assert {"engine", "sim", "sim.store.base", "api.cli.app"} <= set(MODULES)
    assert "engine" in GRAPH["sim.store.errors"]


def test_engine_imports_nothing_of_sim_or_api():
    wrong = {(name, target) for name, targets in GRAPH.items() if _layer(name) == "engine"
             for target in targets if _layer(target) != "engine"}
    assert not wrong, f"engine modules importing sim or api: {sorted(wrong)}"


def test_sim_imports_nothing_of_api_and_engine_only_through_its_public_api():
    wrong = {(name, target) for name, targets in GRAPH.items() if _layer(name) == "sim"
             for target in targets if _layer(target) == "api"
             or (_layer(target) == "engine" and target != "engine")}
    assert not wrong, f"sim modules importing api or engine internals: {sorted(wrong)}"


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle (its modules, the first repeated at the end), or [] if none."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        return error.args[1]
    return []


def test_there_are_no_import_cycles():
    assert _cycle(GRAPH) == []


def test_the_cycle_check_finds_a_cycle():
    cycle = _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert set(cycle) == {"a", "b", "c"} and cycle[0] == cycle[-1]

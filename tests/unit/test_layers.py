"""The package's layers point one way: web -> oidc -> sessions -> config and errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "app"
# Lower number: lower layer. A module may import its own layer or a lower one.
LAYERS = {
    "app.config": 0,
    "app.errors": 0,
    "app.redis_urls": 0,
    "app.observability": 0,
    "app.sessions": 1,
    "app.storage": 2,
    "app.oidc": 2,
    "app.auth": 3,
    "app.testing": 3,
    "app.web": 4,
    "app.serve": 5,
    "app.hypercorn_config": 5,
    "app": 5,  # app/__init__.py: the factory wires everything
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return LAYERS[prefix]
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


def imports_of(path: Path) -> set[str]:
    """The app modules `path` imports at run time (imports under TYPE_CHECKING count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            found.update(name for name in names if name.startswith("app"))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("app"))
    return {name for name in found if _is_module(name)}


def _is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").exists() or (PACKAGE / relative).is_dir()


MODULES = {module_name(path): imports_of(path) for path in sorted(PACKAGE.rglob("*.py"))}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_higher_layer(module: str) -> None:
    higher = sorted(name for name in MODULES[module] if layer_of(name) > layer_of(module))
    assert not higher, f"{module} (layer {layer_of(module)}) imports higher layers: {higher}"


def test_there_is_no_import_circle() -> None:
    graph = {
        module: {name for name in imports if name in MODULES and name != module}
        for module, imports in MODULES.items()
    }
    for package in [m for m in graph if (PACKAGE / Path(*m.split(".")[1:])).is_dir()]:
        graph[package] = set()  # a package's __init__ re-exports nothing here
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in done:
            return
        assert module not in visiting, "import circle: " + " -> ".join([*visiting, module])
        visiting.append(module)
        for name in graph[module]:
            visit(name)
        visiting.pop()
        done.add(module)

    for module in graph:
        visit(module)

"""The layout of app/ shows its architecture: each folder says what it holds, and no module needs another that
needs it back (an import cycle forces lazy imports and makes the order modules load in matter)."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in APP.rglob("*.py")}


def top_level_imports(path: Path) -> set[str]:
    """The app modules ``path`` imports when it is loaded (not those imported inside functions or for typing)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in MODULES}


def test_every_folder_of_app_says_what_it_holds() -> None:
    for init in APP.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc.split()) >= 8, f"{init.relative_to(APP.parent)} needs a docstring saying what it holds"


def cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    """A path a -> ... -> a through ``graph`` (module -> modules it imports), or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name):], name]
        if name in done:
            return None
        for other in sorted(graph.get(name, ())):
            found = visit(other, [*path, name])
            if found:
                return found
        done.add(name)
        return None

    for name in sorted(graph):
        found = visit(name, [])
        if found:
            return found
    return None


def test_app_has_no_import_cycles() -> None:
    # A package's __init__ is not counted as imported by its own modules: Python loads it first, and an
    # __init__ that gathers its modules (app/api's router) is the usual, harmless shape.
    graph = {name: top_level_imports(path) - {name} for name, path in MODULES.items()}
    assert cycle_in(graph) is None, "import cycle: " + " -> ".join(cycle_in(graph) or [])


def test_the_check_reads_imports_and_finds_cycles() -> None:
    assert {"app.web.routes", "app.web.embed", "app.web.lessons"} <= top_level_imports(APP / "web" / "router.py")
    assert cycle_in({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_in({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None

"""The layers import one way: core <- scoring <- simulator <- cli. Read from the source, so a lazy import inside a
function counts as much as one at the top of a file."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

LAYERS = {"core": 0, "scoring": 1, "simulator": 2, "simulator.cli": 3}
NAMES = {0: "core", 1: "scoring", 2: "simulator", 3: "cli"}


def layer(module: str) -> int | None:
    """The layer of a module name, or None for anything outside the project (the standard library, rich…)."""
    if module == "simulator.cli" or module.startswith("simulator.cli."):
        return LAYERS["simulator.cli"]
    return LAYERS.get(module.split(".")[0])


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module_of(path) if path.name == "__init__.py" else module_of(path).rpartition(".")[0]
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*"]
    return found


def project_files() -> list[Path]:
    return sorted(p for top in ("core", "scoring", "simulator") for p in (ROOT / top).rglob("*.py"))


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = []
    for path in project_files():
        own = layer(module_of(path))
        for line, name in imports(path):
            other = layer(name)
            if other is not None and other > own:
                upward.append(f"{path.relative_to(ROOT)}:{line} ({NAMES[own]}) imports {name} ({NAMES[other]})")
    assert not upward, "imports that run upward:\n" + "\n".join(upward)


def test_no_import_circle_between_files() -> None:
    """Two project files that import each other (directly) tie their layers in a knot."""
    modules = {module_of(p): p for p in project_files()}
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for _, name in imports(path):
            target = name if name in modules else name.rpartition(".")[0]
            if target in modules and target != module:
                edges[module].add(target)
    circles = sorted(
        f"{modules[a].relative_to(ROOT)} <-> {modules[b].relative_to(ROOT)}"
        for a in edges
        for b in edges[a]
        if a < b and a in edges[b]
    )
    assert not circles, "files that import each other:\n" + "\n".join(circles)


def test_the_checker_sees_an_upward_import(tmp_path) -> None:
    """The test above can fail: a scoring module importing the simulator is reported with file and line."""
    assert layer("simulator.session") > layer("scoring.scorer") > layer("core.errors")
    assert layer("simulator.cli.practice_cmds") == 3 and layer("rich.console") is None
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from simulator.session import play\n", encoding="utf-8")
    assert imports(probe)[0] == (2, "simulator.session")

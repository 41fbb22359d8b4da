"""The house's rule: a lower room never imports a higher one (docs/architecture.md, "The rooms")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

# Each room's floor; a module may import its own floor and those below, never above.
FLOORS = {"lang": 0, "evaluation": 1, "inputs": 2, "kb": 3, "cache": 3, "analysis": 4, "render": 5,
          "service": 6, "cli": 6}
# Known exceptions, each with its reason; one no longer needed fails too, so the list only shrinks.
EXCEPTIONS = {
    ("engine/inputs/cohort.py", "engine.kb"): "the worker processes load the knowledge base by its path",
    ("engine/kb.py", "engine.analysis"): "a result's identity (analysis/identity.py reads only lang/): "
                                         "it belongs beside kb.py or in lang/, not among the analyses",
}


def _room(module: str) -> str | None:
    """The room of a dotted module name under consilium (engine.lang.check -> lang)."""
    parts = module.split(".")
    if parts[0] == "render":
        return "render"
    if parts[0] != "engine" or len(parts) < 2:
        return None
    room = parts[1]
    # the command line, and the text views of a result it prints, are the top floor
    return "cli" if room.startswith("cli") or room in ("result_text", "wording") else room


def _name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> list[tuple[int, str]]:
    """The consilium modules a file imports, as dotted names below consilium, with their lines."""
    here = _name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("consilium."):
                target = node.module.removeprefix("consilium.")
            else:
                continue
            names = [target] if node.module else [f"{target}.{a.name}".lstrip(".") for a in node.names]
            found += [(node.lineno, n) for n in names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name.removeprefix("consilium.")) for a in node.names
                      if a.name.startswith("consilium.")]
    return found


MODULES = sorted(p for folder in ("engine", "render") for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_room_imports_a_higher_one(path: Path):
    room = _room(_name(path))
    if room is None or room not in FLOORS:
        return  # engine/__init__.py
    assert _upward(path) == [], f"{path.relative_to(ROOT)} ({room}) imports a higher room"


def _upward(path: Path) -> list[str]:
    room = _room(_name(path))
    where = str(path.relative_to(ROOT))
    return [f"line {line}: {target}" for line, target in _imports(path)
            if room in FLOORS and (other := _room(target)) in FLOORS and FLOORS[other] > FLOORS[room]
            and (where, ".".join(target.split(".")[:2])) not in EXCEPTIONS]


def test_every_exception_is_still_needed():
    stale = []
    for where, target in EXCEPTIONS:
        path = ROOT / where
        if not path.exists() or not any(t == target or t.startswith(target + ".") for _, t in _imports(path)):
            stale.append((where, target))
    assert stale == [], "remove these from EXCEPTIONS: the import is gone"


def test_every_module_is_in_a_room():
    unplaced = [str(p.relative_to(ROOT)) for p in MODULES
                if _name(p) not in ("engine", "render") and _room(_name(p)) not in FLOORS]
    assert unplaced == []

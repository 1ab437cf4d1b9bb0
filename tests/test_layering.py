"""Imports flow one way (STYLE.md section 5.2): a module imports only its own level or below.

Imports inside ``if TYPE_CHECKING:`` blocks and inside function bodies are not counted: they never run at import
time (or only when the function is called), so they cannot create an import cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ketch

PACKAGE = Path(ketch.__file__).parent

# Module (or package, written "name/*") -> level. A package's own __init__ shares its level.
LEVELS: dict[str, int] = {
    # 0: foundations
    "types": 0,
    "status": 0,
    "exceptions": 0,
    "datastructures": 0,
    "concurrency": 0,
    "json": 0,
    "limits": 0,
    "encoders": 0,
    # 1: connection objects
    "requests": 1,
    "responses": 1,
    "_files": 1,
    "websockets": 1,
    "formparsers": 1,
    "background": 1,
    "sse": 1,
    # 2: routing and planning
    "routing/*": 2,
    "_plan/*": 2,
    "params": 2,
    "exception_handlers": 2,
    # 3: features on the core
    "middleware/*": 3,
    "lifespan": 3,
    "staticfiles": 3,
    "sessions": 3,
    "signals": 3,
    "templating": 3,
    "views": 3,
    "wsgi": 3,
    "security/*": 3,
    "openapi/*": 3,
    # 4: the classic face
    "ctx": 4,
    "csrf": 4,
    "globals": 4,
    "helpers": 4,
    "blueprints": 4,
    "config": 4,
    "wrappers": 4,  # the classic face's Flask-shaped request/response wrappers
    # 5: the top
    "app": 5,
    "_classic_app": 5,
    "testing": 5,  # the Flask-style methods Ketch inherits
    "testclient/*": 5,
    "cli/*": 5,
    "compat/*": 5,
    "__init__": 5,
    "__main__": 5,
}


def module_name(path: Path) -> str:
    """``ketch.routing.router`` for ``routing/router.py``; ``ketch`` for the package ``__init__``."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["ketch", *parts])


def level_of(module: str) -> int | None:
    """The level of a ketch module (``ketch.x.y``), or None if the table does not know it."""
    parts = module.split(".")[1:]
    if not parts:
        return LEVELS["__init__"]
    if parts[0] + "/*" in LEVELS:
        return LEVELS[parts[0] + "/*"]
    return LEVELS.get(parts[0])


def is_submodule(dotted: str) -> bool:
    """True if ``ketch.a.b`` is a module or package file under the package."""
    if not dotted.startswith("ketch."):
        return False
    path = PACKAGE.joinpath(*dotted.split(".")[1:])
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(tree: ast.Module, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, imported module) for every import that runs when the module is imported."""
    found: list[tuple[int, str]] = []
    package = module if is_package else module.rpartition(".")[0]

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.extend((node.lineno, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    target = ".".join([*base, node.module] if node.module else base)
                else:
                    target = node.module or ""
                # "from ketch.pkg import x" may name a submodule: then that submodule is what gets imported.
                submodules = [
                    f"{target}.{alias.name}" for alias in node.names if is_submodule(f"{target}.{alias.name}")
                ]
                if len(submodules) < len(node.names):
                    found.append((node.lineno, target))
                found.extend((node.lineno, name) for name in submodules)
            elif isinstance(node, ast.If):
                if not _is_type_checking(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                visit(node.body)
            elif isinstance(node, ast.ClassDef):
                visit(node.body)  # a class body runs at import time
            # Function bodies are skipped: they run only when called.

    visit(tree.body)
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_level() -> None:
    unknown = [module_name(path) for path in MODULES if level_of(module_name(path)) is None]
    assert unknown == [], f"add these modules to LEVELS in tests/test_layering.py (STYLE.md 5.2): {unknown}"


@pytest.mark.parametrize("path", MODULES, ids=[module_name(p) for p in MODULES])
def test_no_upward_imports(path: Path) -> None:
    module = module_name(path)
    level = level_of(module)
    if level is None:
        pytest.skip("not in the table (test_every_module_has_a_level reports it)")
    violations = upward_imports(path.read_text(encoding="utf-8"), module, path.name == "__init__.py")
    assert violations == [], f"{module} (level {level}) imports upward:\n" + "\n".join(violations)


def upward_imports(source: str, module: str, is_package: bool) -> list[str]:
    level = level_of(module)
    assert level is not None
    violations = []
    for line, imported in runtime_imports(ast.parse(source), module, is_package):
        if imported != "ketch" and not imported.startswith("ketch."):
            continue
        target = level_of(imported)
        if target is None:
            violations.append(f"line {line}: {imported} has no level")
        elif target > level:
            violations.append(f"line {line}: {imported} (level {target}) from level {level}")
    return violations


def test_the_checker_sees_upward_and_ignores_type_checking_and_function_bodies() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from ketch.app import Ketch\n"
        "from . import route, Router\n"
        "from ketch import __version__\n"
        "if TYPE_CHECKING:\n"
        "    from ketch.testclient import TestClient\n"
        "else:\n"
        "    import ketch.cli\n"
        "def f():\n"
        "    from ketch.lifespan import LifespanRunner\n"
        "class C:\n"
        "    from ketch.middleware import errors\n"
    )
    imports = [name for _, name in runtime_imports(ast.parse(source), "ketch.routing.x", False)]
    assert imports == [
        "typing",
        "ketch.app",
        "ketch.routing",
        "ketch.routing.route",
        "ketch",
        "ketch.cli",
        "ketch.middleware.errors",
    ]
    assert upward_imports(source, "ketch.routing.x", False) == [
        "line 2: ketch.app (level 5) from level 2",
        "line 4: ketch (level 5) from level 2",
        "line 8: ketch.cli (level 5) from level 2",
        "line 12: ketch.middleware.errors (level 3) from level 2",
    ]
    assert upward_imports(source, "ketch.app", False) == []
    assert level_of("ketch.middleware.errors") == 3
    assert level_of("ketch") == 5
    assert level_of("ketch.routing") == 2
    assert level_of("ketch.nothing_here") is None

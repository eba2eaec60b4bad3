"""The plugin contract stands apart from the web app.

Plugins and emulators see Streamdesk only through ``streamdesk_contract``: they never
import ``webapp``, and the contract itself pulls in neither Flask, peewee nor the web app,
so a third-party plugin and its tests run without them.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest
from conftest import ROOT

OUTSIDE_THE_APP = ("plugins", "emulators", "streamdesk_contract")


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every absolute module an AST imports, with its line (relative imports stay inside)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def web_app_imports(folder: str) -> list[str]:
    """``path:line module`` for each import of webapp in the Python files under ``folder``."""
    hits = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, module in imported_modules(tree):
            if module == "webapp" or module.startswith("webapp."):
                hits.append(f"{path.relative_to(ROOT)}:{line} {module}")
    return hits


def test_the_check_sees_an_import_of_the_web_app_however_it_is_written():
    source = "import os\nfrom webapp.values import Story\ndef f():\n    import webapp.models as m\nfrom . import x\n"
    modules = [module for _, module in imported_modules(ast.parse(source))]
    assert modules == ["os", "webapp.values", "webapp.models"]


@pytest.mark.parametrize("folder", OUTSIDE_THE_APP)
def test_nothing_outside_the_web_app_imports_it(folder):
    assert list((ROOT / folder).rglob("*.py")), f"{folder}/ has no Python files: the check would pass vacuously"
    assert web_app_imports(folder) == [], f"{folder}/ must import streamdesk_contract, never webapp"


def test_importing_the_contract_loads_neither_flask_nor_peewee_nor_the_web_app():
    probe = (
        "import importlib, json, pkgutil, sys\n"
        "import streamdesk_contract as contract\n"
        "for module in pkgutil.walk_packages(contract.__path__, 'streamdesk_contract.'):\n"
        "    importlib.import_module(module.name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'peewee', 'webapp'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT / "tests", timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []

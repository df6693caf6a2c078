"""The shape of the test suite itself: a test module imports what it shares from
``tests/helpers`` (or ``tests/e2e/story.py`` and the other e2e helper modules), never
from another test module, so each one can be read, run and moved on its own."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
TEST_MODULES = sorted(TESTS.rglob("test_*.py"))


def is_test_module(dotted: str) -> bool:
    return dotted.rsplit(".", 1)[-1].startswith("test_")


def imports_of_test_modules(source: str) -> list[str]:
    """Each import in ``source`` (at any depth, relative or absolute) that names a
    ``test_*`` module, as ``line: module``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                f"{node.lineno}: {alias.name}" for alias in node.names if is_test_module(alias.name)
            ]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if node.module and is_test_module(node.module):
                found.append(f"{node.lineno}: {module}")
            elif node.level or node.module in ("tests", "tests.e2e"):
                joined = module if module.endswith(".") else module + "."
                found += [
                    f"{node.lineno}: {joined}{alias.name}"
                    for alias in node.names
                    if is_test_module(alias.name)
                ]
    return found


def test_the_check_finds_each_form_of_import() -> None:
    source = """
import tests.test_races
import tests.e2e.test_sent_list as sent
from tests.test_accept import join
from tests import test_pages
from tests.e2e import test_script
from .test_i18n import speaking
from . import test_macros

def late():
    from tests.test_reminders import age

from tests.helpers import race
from tests.e2e.story import row
import pytest
"""
    assert [line.split(": ")[1] for line in imports_of_test_modules(source)] == [
        "tests.test_races",
        "tests.e2e.test_sent_list",
        "tests.test_accept",
        "tests.test_pages",
        "tests.e2e.test_script",
        ".test_i18n",
        ".test_macros",
        "tests.test_reminders",
    ]


def test_no_test_module_imports_another() -> None:
    assert len(TEST_MODULES) > 40, TEST_MODULES  # the glob found the suite
    offenders = {
        str(path.relative_to(TESTS.parent)): found
        for path in TEST_MODULES
        if (found := imports_of_test_modules(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "move what they share into tests/helpers: " + repr(offenders)

"""Shared helpers for gradparity's own tests."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

from backends import Backend, load


def installed(name: str) -> bool:
    """Whether the modules backend ``name`` requires are installed (found, not imported)."""
    return not load(name).missing_modules()


@cache
def docs_script(name: str) -> ModuleType:
    """``docs/NAME.py``, a script of the docs site rather than a package, as a module."""
    path = Path(__file__).resolve().parent.parent / "docs" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"docs_{name}", path)
    module = sys.modules[f"docs_{name}"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def docs_generate() -> ModuleType:
    """``docs/generate.py`` (the docs' example runner)."""
    return docs_script("generate")


@pytest.fixture(scope="session")
def backend() -> Callable[[str], Backend]:
    """``backend(name)``: the backend, loaded; the calling test (or fixture) is skipped with
    the install hint when a module it requires is not installed."""
    def get(name: str) -> Backend:
        loaded = load(name)
        if missing := loaded.missing_modules():
            pytest.skip(f"{name} needs {', '.join(missing)}, which is not installed "
                        f"({loaded.install_hint()})")
        return loaded
    return get


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many cases, draws and judged answers the no-false-alarm checks covered."""
    module = sys.modules.get("test_no_false_alarms")
    if module is None or not module.TRIED:
        return
    hard_names = {s.name for s in module.HARD}
    catalog = len(module.SPECS_TRIED & module.CATALOG_NAMES)
    hard = len(module.SPECS_TRIED & hard_names)
    random = len(module.SPECS_TRIED - module.CATALOG_NAMES - hard_names)
    per_backend = ", ".join(f"{b} {n}" for b, n in sorted(module.TRIED.items()))
    terminalreporter.write_line(
        f"no-false-alarm checks: {catalog} catalog cases x (1 + {module.DRAWS} random draws), "
        f"{hard} hard specs and {random} hypothesis specs; judged answers per backend: "
        f"{per_backend}")

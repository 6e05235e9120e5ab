"""Shared helpers for gradparity's own tests."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from backends import load

#: Built-in backend name -> the framework module it needs.
FRAMEWORKS = {"jax": "jax", "autograd": "autograd", "tf-eager": "tensorflow",
              "tf-graph": "tensorflow", "pytensor": "pytensor", "theano": "theano"}


def require_backend(name: str) -> None:
    """Skip the calling test, with the reason, when the backend's framework is missing."""
    module = FRAMEWORKS[name]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{name} needs {module}, which is not installed ({load(name).install_hint()})")


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

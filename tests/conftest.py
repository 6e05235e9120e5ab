"""Shared helpers for gradparity's own tests."""

from __future__ import annotations

import importlib.util

import pytest

#: Built-in backend name -> the framework module it needs.
FRAMEWORKS = {"jax": "jax", "autograd": "autograd", "tf-eager": "tensorflow",
              "tf-graph": "tensorflow"}


def require_backend(name: str) -> None:
    """Skip the calling test, with the reason, when the backend's framework is missing."""
    module = FRAMEWORKS[name]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{name} needs {module}, which is not installed "
                    f"(pip install 'gradparity[{name.split('-')[0]}]')")

"""The ``tf`` extra installs one TensorFlow distribution: the one tf-keras requires."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
TENSORFLOWS = {"tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel",
               "tensorflow-macos", "tf-nightly"}


def names(requirements: list[str]) -> list[str]:
    return [re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower().replace("_", "-")
            for r in requirements]


def test_tf_extra_names_one_tensorflow_distribution() -> None:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in Python's library from 3.11")
    extra = names(tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]["tf"])
    assert [n for n in extra if n in TENSORFLOWS] == ["tensorflow"]
    assert "tf-keras" in extra


def test_tf_keras_requires_the_same_tensorflow_distribution() -> None:
    try:
        requires = importlib.metadata.requires("tf-keras") or []
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("tf-keras is not installed (pip install 'gradparity[tf]')")
    assert [n for n in names(requires) if n in TENSORFLOWS] == ["tensorflow"]

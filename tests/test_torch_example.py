"""The worked plug-in example, ``examples/torch-backend``, installed the way a user would.

pip builds and installs it (into a temporary directory put on PYTHONPATH, so this
environment is left as it was); then ``gradparity backends`` must list its entry point and
the catalog, run as pytest on it, must pass every case it does not call UNSUPPORTED.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import docs_generate

#: The two 784-input hypergradients take 25 s; their 12-input twins run the same code.
SLOW = "not (hypergradient-float64 or hypergradient-float32)"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment variables under which the example is an installed distribution."""
    for module, why in (("torch", "pip install torch"),
                        ("setuptools", "pip install setuptools (builds the example)")):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"the torch example needs {module}, which is not installed ({why})")
    target = docs_generate().install_torch_plugin(tmp_path_factory.mktemp("torch-example"))
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(target), os.environ.get("PYTHONPATH")]))}


def test_gradparity_backends_lists_the_plugin(installed: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "conformance.cli", "backends"],
                          capture_output=True, text=True, env=installed)
    assert proc.returncode == 0, proc.stderr
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("torch ")), None)
    assert line is not None, f"torch is not listed by 'gradparity backends':\n{proc.stdout}"
    assert "plug-in" in line and "installed" in line and "gradparity_torch:TorchBackend" in line
    assert f"torch {importlib.metadata.version('torch')}" in line


def test_catalog_passes_on_the_plugin(installed: dict[str, str], tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs",
         "--gradparity-backend", "torch", "-k", SLOW, "-W", "ignore::DeprecationWarning"],
        capture_output=True, text=True, env=installed, cwd=tmp_path)
    summary = proc.stdout.strip().splitlines()[-1]
    assert proc.returncode == 0, f"the catalog does not pass on torch:\n{proc.stdout[-4000:]}"
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary

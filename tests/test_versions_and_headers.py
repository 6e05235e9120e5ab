"""What a new user reads first: ``--version``, the ``backends`` listing, the run header and
the pytest header."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys

import numpy as np
import pytest

from backends.base import Backend, FunctionBackend
from conformance import __version__
from conformance.reports.terminal import header
from conformance.results import Report


def gradparity(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance.cli", *args],
                          capture_output=True, text=True)


def test_version_is_the_distributions() -> None:
    proc = gradparity("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"gradparity {importlib.metadata.version('gradparity')}"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", __version__)


def assert_aligned(lines: list[str]) -> None:
    """A header, a rule of dashes, then rows whose columns start where the rule's do."""
    assert lines[0].split() == ["backend", "origin", "state", "versions", "class"]
    assert set(lines[1]) == {"-", " "}
    starts = [m.start() for m in re.finditer(r"-+", lines[1])]
    for line in [lines[0], *lines[2:]]:
        assert all(line[s - 2:s] == "  " and line[s] != " " for s in starts[1:]), line


def test_backends_listing_has_a_header_and_aligned_columns() -> None:
    lines = gradparity("backends").stdout.splitlines()
    assert_aligned(lines)
    names = [line.split()[0] for line in lines[2:]]
    assert names[:4] == ["tf-eager", "tf-graph", "jax", "autograd"]


def environment(versions: dict[str, str], numerics: dict[str, str]) -> dict:
    return {"python": "3.11.7", "numpy": "2.4.6", "platform": "Linux", "tolerances": {},
            "backends": {"b": {"versions": versions, "numerics": numerics}}}


def test_run_header_shows_numerics_only_for_installed_backends() -> None:
    pinned = {"jax_enable_x64": "True"}
    installed = header(Report([], environment({"jax": "0.10.2"}, pinned))).splitlines()[-1]
    assert installed == "b: jax 0.10.2 (jax_enable_x64=True)"
    missing = header(Report([], environment({"jax": "not installed", "jaxlib": "not installed"},
                                            pinned))).splitlines()[-1]
    assert missing == "b: not installed (jax, jaxlib)"


class NumpyCode(Backend):
    """A backend that requires nothing, living in numpy's distribution."""

    __module__ = "numpy.my_plugin"  # as if a plug-in distribution shipped it
    name = "numpy-code"


def test_backend_requiring_nothing_reports_its_own_distribution() -> None:
    assert NumpyCode().versions() == {"numpy": np.__version__}
    assert FunctionBackend("sum", np.sum).versions() == {"numpy": np.__version__}
    assert FunctionBackend("mine", lambda spec, arrays: {}).versions() == {}  # a test file


@pytest.mark.parametrize(("backends", "specs", "line"), [
    (["autograd"], ["polynomial-float64"], "gradparity catalog: 1 spec x 1 backend"),
    (["autograd", "jax"], ["polynomial-*"], "gradparity catalog: 2 specs x 2 backends"),
])
def test_pytest_header_counts_in_the_singular_and_plural(tmp_path, backends, specs,
                                                         line) -> None:
    args = [f"--gradparity-backend={b}" for b in backends]
    args += [f"--gradparity-spec={s}" for s in specs]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "--collect-only", *args], capture_output=True, text=True,
                          cwd=tmp_path)
    assert line in proc.stdout.splitlines(), proc.stdout + proc.stderr

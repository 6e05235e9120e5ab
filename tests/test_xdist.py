"""The catalog as pytest under pytest-xdist gives exactly the serial run's outcomes and
measured errors, each worker a process of its own; so does xdist with --gradparity-isolate,
whose xdist workers take cases out of the collected order (each restart of a backend's
worker process must still answer the case asked for)."""

from __future__ import annotations

import importlib.util
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

#: Passing, failing, unsupported and expected-to-fail cases on fast backends.
ARGS = ("--gradparity-backend", "autograd", "--gradparity-backend", "plugin_backends:Wrong",
        "--gradparity-backend", "plugin_backends:GradOnly",
        "--gradparity-spec", "polynomial-*", "--gradparity-spec", "rosenbrock-hvp-*",
        "--gradparity-spec", "vector-jacobian-*", "--gradparity-spec", "mlp-jvp-*",
        "--gradparity-xfails", "xfails.txt")


#: JUnit child element -> pytest outcome (an xfail is a ``skipped`` of type pytest.xfail).
TAGS = {"failure": "failed", "error": "error", "skipped": "skipped"}


def outcomes(pytester: pytest.Pytester, name: str, *args: str) -> dict[str, tuple]:
    """Test name -> (outcome, the status, diagnoses and max_rel_error properties)."""
    xml = pytester.path / f"{name}.xml"
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                                  *ARGS, f"--junitxml={xml}", *args)
    found = {}
    for case in ET.parse(xml).iter("testcase"):
        outcome = next((TAGS[c.tag] for c in case if c.tag in TAGS), "passed")
        if outcome == "skipped" and "xfail" in (case.find("skipped").get("type") or ""):
            outcome = "xfailed"
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        found[case.get("name")] = (outcome, properties)
    return found


def test_xdist_run_equals_the_serial_run(backend, pytester: pytest.Pytester,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    backend("autograd")
    if importlib.util.find_spec("xdist") is None:
        pytest.skip("needs pytest-xdist, which is not installed (pip install pytest-xdist)")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")])))
    pytester.path.joinpath("xfails.txt").write_text("polynomial-float32[wrong]\n")
    serial = outcomes(pytester, "serial")
    parallel = outcomes(pytester, "parallel", "-n", "2")
    assert parallel == serial
    assert outcomes(pytester, "isolated", "-n", "2", "--gradparity-isolate") == serial
    kinds = [outcome for outcome, _ in serial.values()]
    assert {k: kinds.count(k) for k in set(kinds)} == {
        "passed": 10, "failed": 7, "skipped": 6, "xfailed": 1}
    assert all(p["max_rel_error"] not in (None, "None") for o, p in serial.values()
               if o in ("passed", "failed"))

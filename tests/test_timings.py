"""``gradparity run --timings``: the fields, the table, the forward programs; never how fast."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from backends import FunctionBackend, load
from conformance import timing
from conformance.catalog import find
from conformance.harness import in_process, run
from conformance.reports.terminal import cell


def gradparity(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance.cli", *args],
                          capture_output=True, text=True)


@pytest.mark.parametrize("flag", [True, False])
def test_json_and_table_have_timings_only_when_asked(backend, tmp_path, flag: bool) -> None:
    backend("autograd")
    path = tmp_path / "report.json"
    proc = gradparity("run", "-b", "autograd", "-s", "polynomial-*", "-s", "mlp-vjp-float32",
                      "--json", str(path), "--table", "full",
                      *(["--timings"] if flag else []))
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(path.read_text())["results"]
    assert len(rows) == 3
    for row in rows:
        measured = (row["median_call_seconds"], row["forward_ratio"])
        if flag:  # present and positive: what they measure is the benchmarks' business
            assert all(value is not None and value > 0 for value in measured), row
        else:
            assert measured == (None, None), row
    table_row = next(line for line in proc.stdout.splitlines()
                     if line.startswith("polynomial-float64"))
    assert (" x" in table_row) is flag


def test_backend_without_forward_program_gets_a_time_but_no_ratio(backend) -> None:
    backend("autograd")
    inner = load("autograd")
    spec = find("polynomial-float64")
    mine = FunctionBackend("mine", lambda s, arrays: inner.prepare(s)(arrays))
    report = run([spec], [mine], executor=lambda *a: in_process(*a, timings=True))
    (result,) = report.results
    assert result.status.value == "PASS"
    call_time = result.median_call_seconds
    assert call_time is not None and call_time > 0 and result.forward_ratio is None
    assert "x" not in cell(result).split()[-1]


def test_failing_cases_are_not_timed() -> None:
    def broken(spec, arrays):
        raise RuntimeError("boom")
    report = run([find("polynomial-float64")], [FunctionBackend("broken", broken)],
                 executor=lambda *a: in_process(*a, timings=True))
    (result,) = report.results
    assert result.status.value == "ERROR"
    not_timed = (result.median_call_seconds, result.forward_ratio)
    assert not_timed == (None, None)


def test_rounds_are_bounded_and_alternate() -> None:
    order: list[str] = []

    def program(arrays):
        order.append("d")

    def forward(arrays):
        order.append("f")

    timing.measure(program, forward, {}, budget_s=0.0)
    # one forward warm-up, then MIN_ROUNDS alternating rounds
    assert order == ["f"] + ["d", "f"] * timing.MIN_ROUNDS
    order.clear()
    figures = timing.measure(program, None, {}, budget_s=3600.0)
    assert order == ["d"] * timing.MAX_ROUNDS and set(figures) == {"call"}


@pytest.mark.parametrize("name", ["jax", "autograd", "tf-eager", "tf-graph", "pytensor", "theano"])
@pytest.mark.parametrize("spec_name", ["mlp-vjp-float32", "seed004-two-input-grad-float64"])
def test_forward_programs_return_the_value_alone(backend, name: str, spec_name: str) -> None:
    backend, spec = backend(name), find(spec_name)
    arrays = spec.cast()
    forward = backend.prepare_forward(spec)(arrays)
    full = backend.prepare(spec)(arrays)
    assert set(forward) == {"value"}
    assert forward["value"].dtype == full["value"].dtype
    np.testing.assert_allclose(forward["value"], full["value"], rtol=1e-5)

"""Every benchmark runs in its smoke mode and prints its figures; no timing is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def smoke(script: str) -> str:
    proc = subprocess.run([sys.executable, str(BENCHMARKS / script), "--smoke"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "machine: " in proc.stdout and f"command: python benchmarks/{script} --smoke" \
        in proc.stdout
    return proc.stdout


def test_adapter_overhead_prints_a_ratio_per_backend_and_spec() -> None:
    pytest.importorskip("autograd")
    out = smoke("adapter_overhead.py")
    rows = [line.split() for line in out.splitlines() if line.startswith("autograd ")]
    assert [(row[1], row[2]) for row in rows] == [  # the MLP and the small spec, both dtypes
        ("float32", "mlp"), ("float32", "polynomial"), ("float64", "mlp"),
        ("float64", "polynomial")]
    assert all(float(row[-3]) > 0 and row[-1] in ("met", "MISSED") for row in rows)


def test_cold_run_prints_the_ratio_to_the_floor() -> None:
    pytest.importorskip("autograd")
    out = smoke("cold_run.py")
    assert "cold run / floor: " in out and "(goal <= 3: " in out
    assert "warm run: " in out and "(goal <= 60 s: " in out


def test_reference_cost_prints_flat_directional_counts() -> None:
    out = smoke("reference_cost.py")
    assert "directional evaluations are flat across n" in out


def test_import_time_reports_no_framework_loaded() -> None:
    out = smoke("import_time.py")
    assert "frameworks loaded by 'import conformance, backends': []" in out
    assert "frameworks loaded by 'gradparity backends': []" in out


def test_reference_accuracy_says_whether_every_bound_covers_the_true_error() -> None:
    out = smoke("reference_accuracy.py")
    assert "the claimed bound fails to cover the true error on: none" in out


def test_sensitivity_prints_a_row_per_case_and_the_goal_line(backend) -> None:
    backend("autograd")
    out = smoke("sensitivity.py")
    assert "polynomial-float64" in out and "whole-derivative goal" in out

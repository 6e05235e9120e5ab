"""The gradparity command end to end: exit codes, table, JSON report, and errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import require_backend


def gradparity(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance.cli", *args],
                          capture_output=True, text=True, cwd=cwd)


def test_run_writes_table_and_json(tmp_path) -> None:
    require_backend("autograd")
    report_path = tmp_path / "report.json"
    proc = gradparity("run", "-b", "autograd", "-s", "polynomial-*", "-s", "mlp-vjp-float32",
                      "--json", str(report_path))
    assert proc.returncode == 0, proc.stderr
    assert "polynomial-float64" in proc.stdout and "PASS" in proc.stdout
    assert "autograd: autograd 1." in proc.stdout.split("\n\n")[0]  # the header: versions
    data = json.loads(report_path.read_text())
    assert data["schema_version"] == 1 and data["complete"] is True
    rows = data["results"]
    assert {r["spec"] for r in rows} == {"polynomial-float64", "polynomial-float32",
                                         "mlp-vjp-float32"}
    for row in rows:
        assert row["backend"] == "autograd" and row["status"] == "PASS"
        assert row["diagnoses"] == []
        assert 0 <= row["max_rel_error"] <= row["tolerance"]["rtol"]
        assert row["max_abs_error"] >= 0
    assert data["environment"]["backends"]["autograd"]["versions"]["autograd"]


def test_run_exits_1_when_a_backend_fails(tmp_path) -> None:
    require_backend("autograd")
    plugin = tmp_path / "wrong_backend.py"
    plugin.write_text(
        "from backends import FunctionBackend, load\n"
        "inner = load('autograd')\n"
        "def compute(spec, arrays):\n"
        "    out = inner.prepare(spec)(arrays)\n"
        "    return {k: v if k == 'value' else v * 1.01 for k, v in out.items()}\n"
        "Wrong = FunctionBackend('wrong', compute)\n")
    proc = subprocess.run([sys.executable, "-m", "conformance.cli", "run", "-b",
                           "wrong_backend:Wrong", "-s", "polynomial-float64"],
                          capture_output=True, text=True, cwd=tmp_path,
                          env={**__import__("os").environ, "PYTHONPATH": f"{tmp_path}"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL" in proc.stdout and "reference" in proc.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["run", "-b", "nosuch"], "unknown backend 'nosuch'; known: "),
    (["run", "-b", "nosuch_module_xyz:Thing"], "cannot import 'nosuch_module_xyz'"),
    (["run", "-s", "no-such-spec*"], "matches no spec"),
    (["run", "--json", "/nonexistent-dir/r.json"], "does not exist"),
])
def test_bad_arguments_exit_2_with_one_line(args, message) -> None:
    proc = gradparity(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_help_explains_every_run_option() -> None:
    text = gradparity("run", "--help").stdout
    for option in ("--backend", "--spec", "--json", "Exit code"):
        assert option in text


def test_backends_lists_builtins_installed_or_not() -> None:
    out = gradparity("backends").stdout
    for name in ("tf-eager", "tf-graph", "jax", "autograd", "pytensor", "theano"):
        assert name in out

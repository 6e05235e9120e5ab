"""A failing case can be reproduced in one step from what the run leaves beside its report."""

from __future__ import annotations

import json
import os
import subprocess
import sys

WRONG = ("from backends import FunctionBackend, load\n"
         "inner = load('autograd')\n"
         "def compute(spec, arrays):\n"
         "    out = inner.prepare(spec)(arrays)\n"
         "    return {k: v if k == 'value' else v * 1.01 for k, v in out.items()}\n"
         "Wrong = FunctionBackend('wrong', compute)\n")


def test_fail_saves_arrays_and_a_snippet_that_reproduces_it(backend, tmp_path) -> None:
    backend("autograd")
    (tmp_path / "wrong_backend.py").write_text(WRONG)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    report = tmp_path / "out" / "report.json"
    report.parent.mkdir()
    proc = subprocess.run([sys.executable, "-m", "conformance.cli", "run", "--in-process",
                           "-b", "wrong_backend:Wrong", "-s", "polynomial-float64",
                           "--json", str(report)], capture_output=True, text=True,
                          cwd=tmp_path, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (row,) = json.loads(report.read_text())["results"]
    assert row["status"] == "FAIL" and row["worst"]["key"] == "x"
    saved = tmp_path / "out" / "report-cases" / "polynomial-float64--wrong.npz"
    assert saved.exists(), sorted(p.name for p in (tmp_path / "out").rglob("*"))
    assert "reproduce" in proc.stdout and str(saved) in row["reproduce"]
    rerun = subprocess.run([sys.executable, "-c", row["reproduce"]], capture_output=True,
                           text=True, cwd=tmp_path, env=env)
    assert rerun.returncode == 0, rerun.stderr
    worst = row["worst"]
    assert f"reference {worst['reference']:.6g}" in rerun.stdout  # the same verdict again


def test_reproduction_files_never_collide(tmp_path) -> None:
    """``a/b`` and ``a_b``, names differing only in case, two specs of one name: each case
    gets its own file, holding its own arrays, and a labelled snippet naming it."""
    import numpy as np

    from conformance.reports.repro import attach_reproductions
    from conformance.results import Report, Result, Status
    from conformance.spec import Spec

    def total(xp, x):
        return xp.sum(x**2)

    names = ["a/b", "a_b", "a_b", "A_B", "x" * 300]
    specs = [Spec(n, total, {"x": np.full(2, float(i))}, ("x",)) for i, n in enumerate(names)]
    report = Report([Result(s.name, "jax/x", Status.FAIL, "grad", "float64") for s in specs])
    attach_reproductions(report, specs, tmp_path / "cases", {})
    files = sorted((tmp_path / "cases").iterdir())
    assert len(files) == len(specs) and all(len(f.name) < 200 for f in files)
    for i, result in enumerate(report.results):
        first, *_ = result.reproduce.splitlines()
        assert first == (f"# gradparity reproduce: FAIL of spec {names[i]!r} on backend "
                         "'jax/x' (run with python)")
        (path,) = [f for f in files if repr(str(f)) in result.reproduce]
        assert np.load(path)["x"].tolist() == [float(i)] * 2  # its own spec's arrays

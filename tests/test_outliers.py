"""Name the outlier: the backend that stands apart from the reference and the majority."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import planted_faults
import pytest

from backends import load
from conformance.catalog import catalog, select
from conformance.harness import run
from conformance.outliers import find_outliers
from conformance.reports.json import to_json
from conformance.reports.terminal import table
from conformance.results import Report, Result, Status

TESTS = Path(__file__).resolve().parent


def test_the_planted_outlier_is_named_in_the_footer_and_the_json(backend) -> None:
    backend("autograd")
    specs = select(catalog(), ["polynomial-*", "logsumexp-*"])
    report = run(specs, [load("autograd"), planted_faults.Outlier(), planted_faults.Planted()])
    assert [r.status for r in report.results if r.backend == "outlier"] == [
        Status.PASS, Status.PASS, Status.FAIL, Status.FAIL]
    line = "outlier differs from autograd, planted and the reference on 2 cases"
    assert find_outliers(report).lines() == [line]
    text = table(report)
    assert text.index(line) > text.index("FAIL logsumexp-float32 on outlier")
    assert to_json(report)["outliers"] == {
        "backends": [{"backend": "outlier", "differs_from": ["autograd", "planted"],
                      "cases": ["logsumexp-float64", "logsumexp-float32"]}],
        "reference_apart": []}


def test_no_outlier_when_every_backend_agrees_with_the_reference(backend) -> None:
    backend("autograd")
    report = run(select(catalog(), ["logsumexp-*"]), [load("autograd"), planted_faults.Planted()])
    assert find_outliers(report).lines() == []
    assert "differs from" not in table(report)
    assert to_json(report)["outliers"] == {"backends": [], "reference_apart": []}


def answer(backend: str, status: Status, **pairwise: float) -> Result:
    return Result("case", backend, status, dtype="float64", pairwise=pairwise,
                  tolerance={"rtol": 1e-6, "atol": 1e-12})


@pytest.mark.parametrize(("results", "lines"), [
    # two agreeing failures against two passes: both stand apart from the majority
    ([answer("a", Status.FAIL, b=1e-9, c=0.1, d=0.1),
      answer("b", Status.FAIL, a=1e-9, c=0.1, d=0.1),
      answer("c", Status.PASS, a=0.1, b=0.1, d=1e-9),
      answer("d", Status.PASS, a=0.1, b=0.1, c=1e-9)],
     ["a differs from c, d and the reference on 1 case",
      "b differs from c, d and the reference on 1 case"]),
    # one failure agreeing with half the others: not apart from the majority
    ([answer("a", Status.FAIL, b=1e-9, c=0.1), answer("b", Status.PASS, a=1e-9, c=0.1),
      answer("c", Status.PASS, a=0.1, b=0.1)], []),
    # every backend fails, all agree: the reference stands apart
    ([answer("a", Status.FAIL, b=1e-9), answer("b", Status.FAIL, a=1e-9)],
     ["the reference differs from every backend, which agree with each other, on 1 case: case"]),
    # a NaN difference is a disagreement
    ([answer("a", Status.FAIL, b=float("nan")), answer("b", Status.PASS, a=float("nan"))],
     ["a differs from b and the reference on 1 case"]),
    # a lone backend has no majority to stand apart from
    ([answer("a", Status.FAIL)], []),
])
def test_outlier_rules(results: list[Result], lines: list[str]) -> None:
    assert find_outliers(Report(results)).lines() == lines


def test_the_cli_prints_and_writes_the_outlier(backend, tmp_path: Path) -> None:
    backend("autograd")
    path = os.pathsep.join([str(TESTS), str(TESTS.parent), os.environ.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "-b", "autograd", "-b",
         "planted_faults:Outlier", "-b", "planted_faults:Planted", "-s", "logsumexp-float64",
         "--json", str(tmp_path / "r.json")],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": path})
    assert proc.returncode == 1, proc.stderr
    assert "outlier differs from autograd, planted and the reference on 1 case" in proc.stdout
    outliers = json.loads((tmp_path / "r.json").read_text())["outliers"]
    assert outliers["backends"] == [{"backend": "outlier", "differs_from": ["autograd", "planted"],
                                     "cases": ["logsumexp-float64"]}]

"""The conventions matrix: every backend's answer at non-differentiable points is recorded
(CONVENTION with its values), never judged (docs/guide/conventions.md shows the matrix;
tests/test_docs.py checks it is current)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import installed

from backends import load
from conformance.conventions import convention_cases, run_conventions
from conformance.reports.json import to_json
from conformance.results import Status

BUILTIN = ["tf-eager", "tf-graph", "jax", "autograd"]  # the CLI's column order (registry)
INSTALLED = [b for b in BUILTIN if installed(b)]


@pytest.fixture(scope="module")
def matrix():
    """The convention cases run once on every installed built-in backend, in workers."""
    if not {"jax", "autograd"} <= set(INSTALLED):
        pytest.skip("the conventions tests need jax and autograd installed")
    report, specs = run_conventions([load(b) for b in INSTALLED])
    return report, specs


def _values(report, case: str, backend: str):
    (result,) = [r for r in report.results
                 if r.spec == f"convention-{case}" and r.backend == backend]
    assert result.status is Status.CONVENTION, result.message
    return result.convention_values


def test_measured_conventions(matrix) -> None:
    report, _ = matrix
    for backend in ("jax", "autograd"):  # jnp.maximum / autograd split a tie evenly
        assert _values(report, "relu-maximum-at-0", backend) == {"x": [0.5]}
        assert _values(report, "maximum-tie", backend) == {"x": [0.5], "y": [0.5]}
        assert _values(report, "sqrt-at-0", backend) == {"x": [float("inf")]}
    assert _values(report, "abs-at-0", "jax") == {"x": [1.0]}
    assert _values(report, "abs-at-0", "autograd") == {"x": [0.0]}
    if "tf-eager" in INSTALLED:  # TF's Maximum gradient goes to the first argument on a tie
        assert _values(report, "relu-maximum-at-0", "tf-eager") == {"x": [0.0]}
        assert _values(report, "maximum-tie", "tf-eager") == {"x": [1.0], "y": [0.0]}


def test_every_answer_is_recorded_or_unsupported_with_reason(matrix) -> None:
    report, specs = matrix
    assert len(report.results) == len(specs) * len(INSTALLED)
    for result in report.results:
        assert result.status in (Status.CONVENTION, Status.UNSUPPORTED), result.message
        assert result.message
        assert (result.convention_values is None) == (result.status is Status.UNSUPPORTED)
        assert result.max_abs_error is None and not result.pairwise  # nothing was judged
    # NaN answers survive into the JSON report as text
    data = json.loads(json.dumps(to_json(report), allow_nan=False))
    nan = [r for r in data["results"] if r["spec"] == "convention-norm-at-0"]
    assert all(r["convention_values"]["x"] == ["nan"] * 3 for r in nan)


def test_conventions_command_writes_markdown_and_html(tmp_path: Path) -> None:
    if "autograd" not in INSTALLED:
        pytest.skip("needs autograd")
    md, page = tmp_path / "m.md", tmp_path / "m.html"
    proc = subprocess.run([sys.executable, "-m", "conformance.cli", "conventions", "-b",
                           "autograd", "--markdown", str(md), "--html", str(page),
                           "--color", "never"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    row = next(line for line in proc.stdout.splitlines() if line.startswith("relu-maximum"))
    assert row.split()[-1] == "0.5"
    assert "| relu-maximum-at-0 | d/dx maximum(x, 0) at x = 0 (relu) | 0.5 |" in md.read_text()
    assert page.read_text().count("<tr>") == len(convention_cases()) + 1
    bad = subprocess.run([sys.executable, "-m", "conformance.cli", "conventions", "-b", "nosuch"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_backends_that_answer_no_case_are_left_out_in_one_line() -> None:
    from conformance.conventions import markdown, matrix, notes
    from conformance.results import Report, Result

    specs = convention_cases()[:2]
    why = "keras-jax checks Keras 3 models"
    report = Report([Result(s.name, "keras-jax", Status.UNSUPPORTED, message=why)
                     for s in specs]
                    + [Result(s.name, "jax", Status.CONVENTION, convention_values={
                        n: [0.0] for n in s.wrt}) for s in specs]
                    + [Result(specs[0].name, "half", Status.UNSUPPORTED, message="no rule"),
                       Result(specs[1].name, "half", Status.CONVENTION,
                              convention_values={n: [1.0] for n in specs[1].wrt})])
    header, rows = matrix(report, specs)
    assert header[2:] == ["jax", "half"] and len(rows) == 2  # half answered one: kept
    assert notes(report) == [f"UNSUPPORTED {specs[0].name} on half: no rule",
                             f"left out, every case UNSUPPORTED: keras-jax (keras-jax: {why})"]
    assert "keras-jax" not in markdown(report, specs).splitlines()[0]

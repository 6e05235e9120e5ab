"""Detectors on hand-made answers, for the paths the planted gallery does not take."""

from __future__ import annotations

import numpy as np

from conformance import findings
from conformance.probes import References, plan_calls
from conformance.spec import Spec
from conformance.tolerance import compare

X = np.array([0.3, -1.7, 2.2, 0.9])
SPEC = Spec("cubic", lambda xp, x: xp.sum(x**3), {"x": X}, ("x",))


WAVE = Spec("wave", lambda xp, x: xp.sum(xp.sin(100 * x)) / 100, {"x": X}, ("x",))


def _failed(spec: Spec, output: dict[str, np.ndarray]) -> tuple[References, list]:
    references = References(spec, plan_calls(spec))
    reference = references["base"]
    failed = [c for c in (compare("value", output["value"], reference.value, 0.0, "float64"),
                          compare("x", output["x"], reference.expected["x"],
                                  reference.uncertainty["x"], "float64")) if not c.passed]
    return references, failed


def test_float64_values_off_by_float32_rounding_are_a_downcast() -> None:
    # cos(100 x) with x rounded to float32 first: off by ~1e-5, outside float64's tolerance
    computed_in_float32 = np.cos(100 * X.astype(np.float32)).astype(np.float64)
    output = {"value": WAVE.evaluate(np, WAVE.arrays), "x": computed_in_float32}
    references, failed = _failed(WAVE, output)
    assert [c.key for c in failed] == ["x"]
    finding = findings.float32_rounding(WAVE, references, output, failed)
    assert finding is not None and finding.code == "dtype-downcast"
    assert "exactly a float32 number" in finding.detail
    # the same error in values that are not float32 numbers is no evidence of float32
    off = {**output, "x": computed_in_float32 * (1 + 1e-12)}
    assert findings.float32_rounding(WAVE, references, off, _failed(WAVE, off)[1]) is None


def test_a_float32_dtype_for_a_float64_spec_is_a_downcast() -> None:
    output = {"value": np.sum(X**3), "x": (3 * X**2).astype(np.float32)}
    assert findings.dtype_downcast(SPEC, output).code == "dtype-downcast"
    assert findings.dtype_downcast(SPEC, {"value": np.sum(X**3), "x": 3 * X**2}) is None


def test_constant_whole_factor_is_a_wrong_reduction_but_one_percent_is_not() -> None:
    references = References(SPEC, plan_calls(SPEC))
    times_four = findings.from_error_pattern(SPEC, references, {"x": 4 * 3 * X**2})
    assert times_four is not None and times_four.code == "wrong-reduction"
    assert findings.from_error_pattern(SPEC, references, {"x": 1.01 * 3 * X**2}) is None


def test_nan_where_the_reference_is_finite_names_the_element() -> None:
    references = References(SPEC, plan_calls(SPEC))
    answer = 3 * X**2
    answer[2] = np.nan
    finding = findings.from_error_pattern(SPEC, references, {"x": answer})
    assert finding is not None and finding.code == "nan-gradient" and "x[2]" in finding.detail


def test_growth_only_counts_when_it_continues_after_the_first_call() -> None:
    assert findings.from_hooks({"graph_op_count": [40, 40, 40]}) is None
    assert findings.from_hooks({"graph_op_count": [40, 52, 64]}).code == "graph-growth"
    assert findings.from_hooks({"trace_count": [1, 1, 1]}) is None
    assert findings.from_hooks({"trace_count": [1, 2, 3]}).code == "retracing"
    # added once on the second call, then no more: no growth per call
    assert findings.from_hooks({"graph_op_count": [40, 52, 52]}) is None
    assert findings.from_hooks({"trace_count": [1, 2, 2]}) is None

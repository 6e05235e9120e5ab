"""Detectors on hand-made answers, for the paths the planted gallery does not take."""

from __future__ import annotations

import numpy as np

from conformance import findings
from conformance.probes import References, plan_calls
from conformance.spec import Spec

X = np.array([0.3, -1.7, 2.2, 0.9])
SPEC = Spec("cubic", lambda xp, x: xp.sum(x**3), {"x": X}, ("x",))


def test_float64_values_that_are_all_float32_numbers_are_a_downcast() -> None:
    computed_in_float32 = (3 * X.astype(np.float32) ** 2).astype(np.float64)
    finding = findings.dtype_downcast(SPEC, {"value": np.sum(X**3), "x": computed_in_float32})
    assert finding is not None and finding.code == "dtype-downcast"
    assert "exactly a float32 number" in finding.detail


def test_a_true_float64_answer_is_not_a_downcast() -> None:
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

"""The op catalog: its size and names, and every case PASS or UNSUPPORTED-with-reason on the
fast backends; missing functions and missing derivative rules are UNSUPPORTED, never ERROR."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from backends import load
from conformance.catalog import OP_FAMILIES, catalog, op_specs
from conformance.harness import check, run
from conformance.reports.terminal import coverage
from conformance.results import Status
from conformance.spec import Spec


def test_catalog_has_200_op_cases_in_every_family_with_unique_names() -> None:
    ops = op_specs()
    assert len(ops) >= 200
    names = [s.name for s in catalog()]
    assert len(names) == len(set(names)), [n for n, c in collections.Counter(names).items()
                                           if c > 1]
    assert all(s.name.startswith("op-") and "op" in s.tags for s in ops)
    families = collections.Counter(s.tags[1] for s in ops)
    assert set(families) == {f"op-{f}" for f in OP_FAMILIES}
    for spec in ops:  # every case in both dtypes, but where numpy computes in float64 anyway
        other = "float32" if spec.dtype == "float64" else "float64"
        if spec.name.removesuffix(spec.dtype) + other not in names:
            assert other == "float32", spec.name
            low = spec.evaluate(np, {n: np.asarray(a, dtype=np.float32)
                                     for n, a in spec.arrays.items()})
            assert np.asarray(low).dtype == np.float64, spec.name  # float_power, vander


@pytest.mark.parametrize("backend_name", ["autograd", "jax"])
def test_op_catalog_passes_or_is_unsupported_with_a_reason(backend, backend_name: str) -> None:
    backend(backend_name)
    report = run(list(op_specs()), [load(backend_name)])
    problems = [(r.spec, r.status.value, r.message) for r in report.results
                if r.status not in (Status.PASS, Status.UNSUPPORTED)]
    assert not problems, problems[:5]
    assert all(r.message for r in report.results if r.status is Status.UNSUPPORTED)
    (line,) = coverage(report)
    supported = sum(r.status is Status.PASS for r in report.results)
    assert line == f"{backend_name}: {supported}/{len(report.results)} supported"


def _op(name: str) -> Spec:
    return next(s for s in op_specs() if s.name == name)


def test_a_missing_derivative_rule_is_unsupported_with_the_frameworks_message(backend) -> None:
    backend("autograd")
    result = check(_op("op-reductions-cumprod-grad-float64"), load("autograd"))
    assert result.status is Status.UNSUPPORTED
    assert result.message == "NotImplementedError: VJP of cumprod wrt argnums (0,) not defined"


@pytest.mark.parametrize("backend_name", ["tf-eager", "tf-graph"])
def test_tensorflow_gaps_are_unsupported_and_supplied_names_pass(backend, backend_name: str
                                                                 ) -> None:
    backend = backend(backend_name)
    # no xp.median, no where= for xp.mean: named before anything runs
    assert backend.unsupported_reason(_op("op-reductions-median-grad-float64")) == \
        "tensorflow.experimental.numpy has no xp.median"
    masked = Spec("masked-mean", lambda xp, x: xp.mean(x, where=x > 0), {"x": np.ones(3)},
                  ("x",))
    assert backend.unsupported_reason(masked) == \
        "tensorflow.experimental.numpy has no xp.mean(where=)"
    # fmod is supplied (tf.truncatemod) but TensorFlow has no gradient for it
    fmod = check(_op("op-binary-fmod-grad-float64"), backend)
    assert fmod.status is Status.UNSUPPORTED and "TruncateMod" in fmod.message
    # supplied array-API names, linalg and std's ddof, and log2 kept in float32
    for name in ("op-elementwise-acos-grad-float64", "op-binary-atan2-grad-float32",
                 "op-reductions-std-axis-ddof-grad-float32",
                 "op-linalg-eigh-vectors-grad-float64", "op-linalg-svd-values-vjp-float64",
                 "op-linalg-norm-nuc-grad-float64", "op-elementwise-log2-grad-float32"):
        result = check(_op(name), backend)
        assert result.status is Status.PASS, (name, result.message)


def test_op_gradients_match_analytic_derivatives(backend) -> None:
    """Spot checks of the catalog's construction (w * op summed) against closed forms."""
    backend("autograd")
    for name, derivative in [("op-elementwise-tanh-grad-float64", lambda x: 1 - np.tanh(x) ** 2),
                             ("op-elementwise-floor-grad-float64", np.floor)]:
        spec = _op(name)
        answer = load("autograd").prepare(spec)(spec.cast())
        expected = spec.arrays["w"] * derivative(spec.arrays["x"])
        np.testing.assert_allclose(answer["x"], expected, rtol=1e-12)


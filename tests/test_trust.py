"""Verdicts that hold at the edges the JAX peer suite found (tests/peer/GRADPARITY_FLAWS.md):
bounds tight where the complex step is exact, zeros of a Hessian-vector product judged at the
gradient's scale, a kink near the point never turned into a confident wrong reference, and a
spec's ``==`` on TF1 graph tensors said UNSUPPORTED. Answers are analytic derivatives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from backends.base import FunctionBackend
from conformance.harness import check
from conformance.reference import compute_reference
from conformance.results import Status
from conformance.spec import Spec


def verdict(spec: Spec, derivative: Callable[[dict[str, np.ndarray]], np.ndarray]) -> Any:
    """The result for a user's backend answering ``fn`` on numpy and ``derivative``."""
    def compute(s: Spec, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        return {"value": np.asarray(s.evaluate(np, arrays), dtype=s.dtype),
                s.wrt[0]: np.asarray(derivative(arrays), dtype=s.dtype)}
    return check(spec, FunctionBackend("mine", compute))


def _arctan_jvp(scale: float, units: float) -> Spec:
    return Spec("arctan-at-1000", lambda xp, x: scale * xp.arctan(x / units),
                {"x": np.array(1000.0 * units)}, ("x",), kind="jvp",
                tangents={"x": np.array(1.0)})


@pytest.mark.parametrize(("scale", "units"), [(1.0, 1.0), (1e-6, 1.0), (1.0, 1000.0)])
@pytest.mark.parametrize("error", [0.0, 0.01])
def test_arctan_at_1000_is_judged_with_a_tight_bound(scale: float, units: float,
                                                     error: float) -> None:
    """arctan is analytic: the complex step is exact there, so the reference's bound is
    near float64's and a correct JVP PASSes (it was INCONCLUSIVE at 1e-5 relative)."""
    spec = _arctan_jvp(scale, units)
    truth = scale / units / (1 + 1000.0**2)
    ref = compute_reference(spec)
    assert abs(float(ref.expected["x"]) - truth) <= float(ref.uncertainty["x"])
    assert float(ref.uncertainty["x"]) <= 1e-7 * truth
    result = verdict(spec, lambda a: (1 + error) * truth)
    assert result.status is (Status.FAIL if error else Status.PASS), result.message


def _weighted_sin_hvp(x: float, scale: float) -> Spec:
    return Spec("sin-hvp", lambda xp, x, w: scale * xp.sum(w * xp.sin(x)),
                {"x": np.array(x), "w": np.array(0.9)}, ("x",), kind="hvp",
                roles={"w": "target"}, tangents={"x": np.array(1.0)})


@pytest.mark.parametrize("scale", [1.0, 1e-6])
def test_an_hvp_zero_by_cancellation_is_judged_at_the_gradients_scale(scale: float) -> None:
    """sin'' at fl(pi) is -1.1e-16: differences of cos ~ 1, so every framework's answer is
    rounding noise of the gradient's size (it was INCONCLUSIVE); an answer far above that
    noise still FAILs, and so does 1 % off a non-zero second derivative."""
    at_pi = _weighted_sin_hvp(np.pi, scale)
    truth = -0.9 * scale * np.sin(np.pi)
    assert verdict(at_pi, lambda a: truth).status is Status.PASS
    assert verdict(at_pi, lambda a: truth + 1e-16 * scale).status is Status.PASS
    assert verdict(at_pi, lambda a: 1e-4 * scale).status is Status.FAIL
    at_one = _weighted_sin_hvp(1.0, scale)
    wrong = verdict(at_one, lambda a: -0.9 * scale * np.sin(1.0) * 1.01)
    assert wrong.status is Status.FAIL, wrong.message


@pytest.mark.parametrize("error", [0.0, 0.01])
def test_a_smooth_hvp_without_complex_step_is_judged(error: float) -> None:
    """cbrt (no complex form in numpy) at 11..18: mixed differences with steps at the
    point's scale along the tangent too give a bound tight enough to judge."""
    x = np.array([[16.037, 17.465, 15.991, 11.091], [17.716, 16.339, 13.389, 16.743]])
    v = np.linspace(-1.0, 1.0, 8).reshape(2, 4)
    spec = Spec("cbrt-hvp", lambda xp, x, w: xp.sum(w * xp.cbrt(x)),
                {"x": x, "w": np.full((2, 4), 0.9)}, ("x",), kind="hvp",
                roles={"w": "target"}, tangents={"x": v})
    truth = 0.9 * (-2.0 / 9.0) * x ** (-5.0 / 3.0) * v
    result = verdict(spec, lambda a: truth * (1 + error))
    assert result.status is (Status.FAIL if error else Status.PASS), result.message


def test_a_kink_near_the_point_never_makes_a_confident_wrong_reference() -> None:
    """relu at 1e-9 next to other elements: the tables' wide stencils straddle the kink and
    agree with themselves on 0.5; the reference must say 1 or say it cannot judge."""
    x = np.array([1e-9, -3e-9, 0.5])
    spec = Spec("relu-near-kink", lambda xp, x: xp.sum(xp.maximum(x, 0.0)), {"x": x}, ("x",))
    truth = (x > 0).astype(float)
    ref = compute_reference(spec)
    assert np.all(np.abs(ref.expected["x"] - truth) <= ref.uncertainty["x"] + 1e-12)
    assert verdict(spec, lambda a: truth).status in (Status.PASS, Status.INCONCLUSIVE)
    assert verdict(spec, lambda a: truth * 0.5).status is not Status.PASS


def test_a_float32_round_trip_is_never_a_false_dtype_downcast() -> None:
    """sin(x.astype(float32).astype(float64)): the quotients depend on the step, and the
    chain-rule answer cos(fl32(x)) is no float32 downcast of a float64 computation."""
    x = np.array([0.3, 1.7, -2.2])
    spec = Spec("round-trip", lambda xp, x: xp.sum(xp.sin(x.astype(np.float32)
                                                         .astype(np.float64))), {"x": x}, ("x",))
    result = verdict(spec, lambda a: np.cos(a["x"].astype(np.float32).astype(np.float64)))
    assert result.status in (Status.PASS, Status.INCONCLUSIVE), result.message
    assert "dtype-downcast" not in result.diagnoses


def _labels_spec(equal: Callable[[Any, Any, Any], Any]) -> Spec:
    return Spec("graph-equality", lambda xp, x, labels: xp.where(equal(xp, labels, 1),
                                                                 x ** 2, x),
                {"x": np.array([1.5, 2.0, -0.5]), "labels": np.array([1, 0, 1])}, ("x",),
                kind="vjp", roles={"labels": "index"}, cotangent=np.array([1.0, 1.0, 1.0]))


def test_equality_on_tf1_graph_tensors_is_unsupported_naming_the_fix(backend) -> None:
    """In a TF1 graph ``labels == 1`` is Python identity (the constant False): the spec
    would silently compute something else, so it is UNSUPPORTED naming ``xp.equal``;
    ``xp.equal`` itself, and TensorFlow's own comparisons, keep working."""
    b = backend("tf-graph")
    result = check(_labels_spec(lambda xp, a, b: a == b), b)
    assert result.status is Status.UNSUPPORTED, (result.status, result.message)
    assert "xp.equal" in result.message
    assert check(_labels_spec(lambda xp, a, b: a != b), b).status is Status.UNSUPPORTED
    ok = check(_labels_spec(lambda xp, a, b: xp.equal(a, b)), b)
    assert ok.status is Status.PASS, ok.message


def test_pytensor_offers_numpys_arithmetic_names(backend) -> None:
    """``negative``, ``multiply``, ``subtract``, ``divide`` are pytensor's ``neg``, ``mul``,
    ``sub``, ``true_div``: offered under numpy's names (62 peer cases were UNSUPPORTED)."""
    b = backend("pytensor")
    spec = Spec("arithmetic-names", lambda xp, x, y: xp.sum(
        xp.divide(xp.multiply(xp.negative(x), y), xp.subtract(y, 3.0 * x)) + xp.true_divide(x, y)),
        {"x": np.array([0.5, -1.2]), "y": np.array([2.0, 1.5])}, ("x", "y"))
    result = check(spec, b)
    assert result.status is Status.PASS, (result.status, result.message)

"""Verdicts at the edges: answers planted wrong (or right) by hand, judged as a run judges.

The answers here are a user's own code (plain numpy with analytic derivatives), checked
through ``FunctionBackend`` exactly as README shows; where a real framework's answer is
needed (the 1 % cases on seed specs), it is autograd's, and the test skips without it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backends.base import FunctionBackend
from conformance import probes
from conformance.catalog import catalog
from conformance.harness import Outcome, check, execute, judge
from conformance.probes import Call, References, plan_calls
from conformance.reference import Reference
from conformance.results import Result, Status
from conformance.spec import Spec
from conformance.tolerance import compare

CATALOG = {s.name: s for s in catalog()}


def answer_with(derivatives: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]],
                name: str = "mine") -> FunctionBackend:
    """A user's backend: ``fn`` on numpy for the value, ``derivatives`` for the rest."""
    def compute(spec: Spec, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        out = {"value": np.asarray(spec.evaluate(np, arrays), dtype=spec.dtype)}
        out.update({k: np.asarray(v, dtype=spec.dtype) for k, v in derivatives(arrays).items()})
        return out
    return FunctionBackend(name, compute)


def verdict(spec: Spec, derivatives: Callable[[dict[str, np.ndarray]], dict[str, Any]]
            ) -> tuple[Status, list[str], str]:
    result = check(spec, answer_with(derivatives))
    return result.status, result.diagnoses, result.message


# -- 1. a reference that does not break at domain edges ---------------------------------

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from reference_accuracy import (  # noqa: E402 - the accuracy suite, shared with the benchmark
    HVP_TANGENT,
    ROUNDING,
    SUITE,
)

EDGES = [case[:4] for case in SUITE if case[4] == "grad"]


@pytest.mark.parametrize(("name", "fn", "x", "derivative"), EDGES, ids=[e[0] for e in EDGES])
def test_reference_at_domain_edges_is_finite_and_accurate(name, fn, x, derivative) -> None:
    spec = Spec("edge", fn, {"x": x}, ("x",))
    reference = References(spec, [Call("base", dict(spec.arrays))])["base"]
    got, want = reference.expected["x"], derivative(x)
    assert np.all(np.isfinite(got)), f"{name}: reference {got}"
    assert np.max(np.abs(got - want) / np.abs(want)) <= 1e-8, f"{name}: {got} vs {want}"
    assert np.all(reference.uncertainty["x"] <= 2e-8 * np.abs(want))
    status, diagnoses, message = verdict(spec, lambda a: {"x": derivative(a["x"])})
    assert (status, diagnoses) == (Status.PASS, []), message


# -- 2. never PASS on a reference that cannot judge --------------------------------------

LOGITS = np.array([[30.0, -12.0, 25.0, 1.0], [-40.0, 33.0, 35.0, 2.0]])
V = np.array([[0.5, -1.0, 2.0, 0.3], [1.0, 0.2, -0.7, 1.5]])


def _lse_hvp(z: np.ndarray, v: np.ndarray) -> np.ndarray:
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return p * v - p * np.sum(p * v, axis=1, keepdims=True)


def _lse(xp: Any, z: Any) -> Any:
    m = xp.max(z, axis=1, keepdims=True)
    return xp.sum(m[:, 0] + xp.log(xp.sum(xp.exp(z - m), axis=1)))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("factor", [1.0, 1.25, 2.0, 1.01])
def test_hvp_of_large_logits_passes_only_when_right(dtype: str, factor: float) -> None:
    spec = Spec("lse-hvp", _lse, {"z": LOGITS}, ("z",), kind="hvp", tangents={"z": V},
                dtype=dtype)
    status, _, message = verdict(spec, lambda a: {"z": factor * _lse_hvp(a["z"], V)})
    if factor == 1.0:
        assert status is Status.PASS, message
    else:
        assert status is Status.FAIL, f"{factor} x the HVP: {status.value} {message}"


def test_a_tenth_of_a_percent_near_a_pole_fails_in_float64() -> None:
    x, v = np.array([1.001, 0.995, 3.0]), np.array([1.0, -0.5, 2.0])
    spec = Spec("pole-hvp", lambda xp, x: xp.sum(1 / (x - 1)), {"x": x}, ("x",), kind="hvp",
                tangents={"x": v})
    hvp = lambda a: {"x": 2 / (a["x"] - 1) ** 3 * v}  # noqa: E731
    assert verdict(spec, hvp)[0] is Status.PASS
    status, _, message = verdict(spec, lambda a: {"x": 1.001 * hvp(a)["x"]})
    assert status is Status.FAIL, message


def _uncertain_references(spec: Spec, share: float) -> References:
    """References whose error bound is ``share`` of every derivative (a poor reference)."""
    references = References(spec, [Call("base", dict(spec.arrays))])
    good = references["base"]
    references._cache["base"] = Reference(
        good.value, good.mode, good.expected,
        {n: share * np.abs(e) + 1e-300 for n, e in good.expected.items()},
        good.directions, good.evaluations, good.arrays, good.scalarize)
    return references


def test_an_uncertain_reference_gives_inconclusive_with_the_reason_never_pass() -> None:
    spec = CATALOG["polynomial-float64"]
    right = {"value": spec.evaluate(np, spec.arrays), "x": 4 * spec.arrays["x"] ** 3
             - 9 * spec.arrays["x"] ** 2 + 1}
    result = judge(spec, _uncertain_references(spec, 0.3), "mine", Outcome(None, [right]))
    assert result.status is Status.INCONCLUSIVE
    assert result.message.startswith("reference uncertain: 3.0e-01 relative at x[")
    # far outside even the uncertain reference's bound: still a FAIL
    wrong = {**right, "x": 3 * right["x"]}
    assert judge(spec, _uncertain_references(spec, 0.3), "mine",
                 Outcome(None, [wrong])).status is Status.FAIL


def test_the_tolerance_grows_at_most_by_a_bounded_factor() -> None:
    want = np.array([1.0, -2.0, 3.0])
    judged = compare("x", want * (1 + 1.4e-6), want, 0.2e-6 * np.abs(want), "float64")
    assert judged.passed and judged.uncertain is None
    assert not compare("x", want * (1 + 1e-3), want, 1e-4 * np.abs(want), "float64").passed


# -- 3. scale-free tolerances -------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e6])
@pytest.mark.parametrize("error", [0.0, 0.01])
def test_rescaling_fn_or_an_input_changes_no_verdict(dtype: str, scale: float,
                                                     error: float) -> None:
    x = np.array([0.3, -1.2, 2.0, 0.7])
    spec = Spec("scaled", lambda xp, x: scale * xp.sum(xp.sin(x) * x), {"x": x}, ("x",),
                dtype=dtype)
    status, _, message = verdict(spec, lambda a: {
        "x": (1 + error) * scale * (np.cos(a["x"]) * a["x"] + np.sin(a["x"]))})
    assert status is (Status.FAIL if error else Status.PASS), message
    # the same function with the input in other units: u = x * 1000
    units = Spec("units", lambda xp, u: xp.sum(xp.sin(u / 1000) * u / 1000), {"u": x * 1000},
                 ("u",), dtype=dtype)
    status, _, message = verdict(units, lambda a: {
        "u": (1 + error) * (np.cos(a["u"] / 1000) * a["u"] / 1000 + np.sin(a["u"] / 1000))
        / 1000})
    assert status is (Status.FAIL if error else Status.PASS), message


def test_one_element_among_thousands_off_by_one_percent_fails_in_float32() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(0.5, 2.0, size=400)
    spec = Spec("many", lambda xp, x: xp.sum(x**3), {"x": x}, ("x",), dtype="float32")

    def one_off(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        g = 3 * a["x"] ** 2
        g[int(np.argmin(g))] *= 1.01  # the smallest element, far below the largest
        return {"x": g}
    status, _, message = verdict(spec, one_off)
    assert status is Status.FAIL, message


@pytest.mark.parametrize("name", ["seed002-hypergradient-float32",
                                  "seed003-output-jacobian-wrt-input-float32",
                                  "seed002-hypergradient-small-float32"])
def test_one_percent_off_fails_where_a_fixed_atol_hid_it(backend, name: str) -> None:
    backend("autograd")
    from backends import load

    spec = CATALOG[name]
    outcome = execute(load("autograd"), spec, [spec.cast()])
    right = outcome.output
    references = References(spec, [Call("base", dict(spec.arrays))])
    assert judge(spec, references, "autograd", outcome).status is Status.PASS
    wrong = {k: (v * 1.01).astype(v.dtype) if k in spec.wrt else v for k, v in right.items()}
    result = judge(spec, references, "planted", Outcome(None, [wrong]))
    assert result.status is Status.FAIL, result.message


# -- 4. diagnoses that hold in both dtypes ------------------------------------------------

def _two_key_spec(dtype: str = "float64") -> Spec:
    rng = np.random.default_rng(5)
    return Spec("two-keys", lambda xp, x, w: xp.mean(xp.tanh(x @ w) ** 2),
                {"x": rng.normal(size=(8, 3)), "w": rng.normal(size=(3, 2))}, ("x", "w"),
                roles={"w": "param"}, dtype=dtype)


def _two_key_gradient(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    t = np.tanh(a["x"] @ a["w"])
    g = 2 * t * (1 - t**2) / t.size
    return {"x": g @ a["w"].T, "w": a["x"].T @ g}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_one_key_all_zeros_is_disconnected(dtype: str) -> None:
    status, diagnoses, message = verdict(
        _two_key_spec(dtype), lambda a: {**_two_key_gradient(a), "w": np.zeros((3, 2))})
    assert (status, diagnoses) == (Status.FAIL, ["disconnected"]), message
    assert "w.r.t. w " in message


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_factor_of_one_eighth_on_one_key_is_a_wrong_reduction(dtype: str) -> None:
    def mean_over_batch_twice(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        g = _two_key_gradient(a)
        return {**g, "x": g["x"] / 8}  # 8 is the batch axis of x
    status, diagnoses, message = verdict(_two_key_spec(dtype), mean_over_batch_twice)
    assert (status, diagnoses) == (Status.FAIL, ["wrong-reduction"]), message
    assert "x: every element is 0.125 times" in message and "axis 0 of 'x'" in message


def test_a_random_factor_of_a_one_element_gradient_is_no_reduction() -> None:
    spec = Spec("scalar", lambda xp, x: xp.sum(xp.sin(x)), {"x": np.array([0.4])}, ("x",))
    status, diagnoses, message = verdict(spec, lambda a: {"x": 3.0 * np.cos(a["x"])})
    assert (status, diagnoses) == (Status.FAIL, []), message


@pytest.mark.parametrize("how", ["swap-rows", "reverse-columns"])
def test_a_jacobian_with_rows_permuted_or_reversed_is_a_shape_mismatch(how: str) -> None:
    x = np.array([0.3, -0.8, 1.1, 0.5])
    spec = Spec("jac", lambda xp, x: xp.stack([xp.sin(x[0]) * x[1], xp.exp(x[2]), x[3] ** 3]),
                {"x": x}, ("x",), kind="jacobian")

    def jacobian(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        x = a["x"]
        j = np.zeros((3, 4))
        j[0, 0], j[0, 1] = np.cos(x[0]) * x[1], np.sin(x[0])
        j[1, 2], j[2, 3] = np.exp(x[2]), 3 * x[3] ** 2
        return {"x": j[[1, 0, 2]] if how == "swap-rows" else j[:, ::-1]}
    status, diagnoses, message = verdict(spec, jacobian)
    assert (status, diagnoses) == (Status.FAIL, ["shape-mismatch"]), message


class _Stale:
    """A user's code that caches its first gradient: stale gradient, value and/or both."""

    def __init__(self, stale: str) -> None:
        self.stale, self.first = stale, None

    def __call__(self, spec: Spec, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        fresh = {"value": np.asarray(spec.evaluate(np, arrays), dtype=spec.dtype),
                 **_two_key_gradient(arrays)}
        fresh = {k: np.asarray(v, dtype=spec.dtype) for k, v in fresh.items()}
        if self.first is None:
            self.first = fresh
        keep = {"gradient": ("x",), "value": ("value",), "both": ("value", "x")}[self.stale]
        return {k: self.first[k] if k in keep else fresh[k] for k in ("value", *spec.wrt)}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("stale", ["gradient", "value", "both"])
def test_stale_weights_are_named_whether_value_gradient_or_both(dtype: str, stale: str) -> None:
    spec = Spec("stale", lambda xp, x, w: xp.mean(xp.tanh(x @ w) ** 2),
                _two_key_spec().arrays, ("x",), roles={"w": "param"}, dtype=dtype)
    result = check(spec, FunctionBackend("cached", _Stale(stale)))
    assert (result.status, result.diagnoses) == (Status.FAIL, ["stale-session"]), result.message
    # the judged call was right: its worst element is shown as within its allowance, and
    # the evidence of the probe is a separate line
    assert result.worst is not None and result.worst.abs_error <= result.worst.allowed
    assert result.probe.startswith("perturbed-weights call: ")


def test_the_weight_probe_moves_the_seed001_reference_well_beyond_float32_noise() -> None:
    spec = CATALOG["seed001-output-wrt-input-at-0.2-float32"]
    references = References(spec, plan_calls(spec))
    before, after = references["base"].expected["x"], references["perturbed"].expected["x"]
    moved = np.max(np.abs(after - before))
    allowed = compare("x", before, before, references["base"].uncertainty["x"],
                      spec.dtype).worst.allowed
    assert moved > probes.MOVED * allowed


# -- 5. the sensitivity README states -----------------------------------------------------

STARTER_AND_SEEDS = [s for s in catalog() if s.name.startswith(
    ("polynomial", "mlp-", "logsumexp", "softmax", "rosenbrock", "vector", "seed"))]


@pytest.mark.parametrize("spec", STARTER_AND_SEEDS, ids=[s.name for s in STARTER_AND_SEEDS])
def test_a_whole_derivative_off_by_2e6_or_2e3_fails(backend, spec: Spec) -> None:
    """README: a whole derivative off by 2e-6 (float64) or 2e-3 (float32) fails."""
    backend("autograd")
    from backends import load

    outcome = execute(load("autograd"), spec, [spec.cast()])
    references = References(spec, [Call("base", dict(spec.arrays))])
    assert judge(spec, references, "autograd", outcome).status is Status.PASS
    e = 2e-6 if spec.dtype == "float64" else 2e-3
    wrong = {k: (v * (1 + e)).astype(v.dtype) if k in spec.wrt else v
             for k, v in outcome.output.items()}
    assert judge(spec, references, "planted", Outcome(None, [wrong])).status is Status.FAIL


def test_a_nan_derivative_is_the_worst_element_the_message_names() -> None:
    """A NaN in one derivative outranks a finite error elsewhere: the message leads with it
    (``max`` never picks a NaN key, so it once named the value with a false inequality)."""
    spec = Spec("sin-nan", lambda xp, x: xp.sum(xp.sin(x)), {"x": np.array([0.3, 1.2])},
                wrt=("x",))
    result = check(spec, answer_with(lambda a: {"x": np.array([np.cos(0.3), np.nan])}))
    assert result.status is Status.FAIL
    assert result.worst.key == "x" and result.worst.index == [1], result.message
    assert "nan" in result.message and "value" not in result.message.split(";")[-1]


# -- 6. a reference never confidently wrong; zeros by cancellation; tight bounds -----------


@pytest.mark.parametrize(("name", "fn", "x", "derivative", "kind"), ROUNDING,
                         ids=[r[0] for r in ROUNDING])
def test_a_function_that_rounds_internally_gets_a_bound_covering_the_truth(
        name, fn, x, derivative, kind) -> None:
    extra = {"tangents": {"x": HVP_TANGENT[: x.size]}} if kind == "hvp" else {}
    reference = References(Spec("rounds", fn, {"x": x}, ("x",), kind=kind, **extra),
                           [Call("base", {"x": x})])["base"]
    error = np.abs(reference.expected["x"] - derivative(x))
    assert np.all(error <= reference.uncertainty["x"]), (name, reference.expected["x"])


def _float32_round_trip(xp: Any, x: Any) -> Any:
    return xp.sum(xp.sin(x.astype("float32").astype("float64")) * x)


def _d_float32_round_trip(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    x = a["x"]
    return {"x": np.cos(x) * x + np.sin(x)}  # the smooth function's, as autodiff returns it


ROUNDS_INTERNALLY = [
    ("float32-round-trip", _float32_round_trip, _d_float32_round_trip),
    ("large-offset", lambda xp, x: xp.sum(xp.sin((x + 2.0**40) - 2.0**40)),
     lambda a: {"x": np.cos(a["x"])}),
]


@pytest.mark.parametrize(("name", "fn", "derivative"), ROUNDS_INTERNALLY,
                         ids=[r[0] for r in ROUNDS_INTERNALLY])
def test_a_function_that_rounds_internally_is_inconclusive_right_or_wrong(
        name, fn, derivative) -> None:
    """Difference quotients of such a function depend on the step: the reference says so
    and judges neither the smooth derivative (what autodiff returns) nor a wrong one."""
    spec = Spec(name, fn, {"x": np.array([0.3, 1.1, -2.0])}, ("x",))
    for factor in (1.0, 1.01, 0.5):
        status, _, message = verdict(
            spec, lambda a, factor=factor: {"x": factor * derivative(a)["x"]})
        assert status is not Status.PASS, f"{factor} x the derivative: {message}"
        if factor == 1.0:
            assert status is Status.INCONCLUSIVE, message
        if status is Status.INCONCLUSIVE:
            assert "rounds internally" in message, message


@pytest.mark.parametrize("name", ["jax", "autograd"])
def test_a_float32_round_trip_inside_fn_is_inconclusive_on_real_backends(backend, name) -> None:
    spec = Spec("round-trip", _float32_round_trip, {"x": np.array([0.3, 1.1, -2.0])}, ("x",))
    result = check(spec, backend(name))
    assert result.status is Status.INCONCLUSIVE, result.message
    assert "rounds internally" in result.message


def _softmax(xp: Any, x: Any) -> Any:
    p = xp.exp(x - xp.max(x))
    return p / xp.sum(p)


X3 = np.array([0.3, -1.2, 2.0])
C3 = np.array([0.5, 2.0, -1.0])
#: (name, fn zero by cancellation, fn of the same terms whose derivative is not zero)
CANCELLING = [
    ("sum-of-softmax", lambda xp, x, c: xp.sum(_softmax(xp, x)),
     lambda xp, x, c: xp.sum(_softmax(xp, x) * c)),
    ("std-of-x-and-x-plus-c", lambda xp, x, c: xp.std(xp.stack([x[0], x[0] + 3.0])),
     lambda xp, x, c: xp.std(xp.stack([x[0], 2.0 * x[0] + 3.0]))),
    ("centred-sum", lambda xp, x, c: xp.sum(x - xp.mean(x)),
     lambda xp, x, c: xp.sum((x - xp.mean(x)) * c)),
    ("gradient-at-an-optimum", lambda xp, x, c: xp.sum(xp.cos(x)),
     lambda xp, x, c: xp.sum(xp.cos(x + 0.1))),
]
POINTS = {"gradient-at-an-optimum": np.array([np.pi, 2 * np.pi, -np.pi])}


def _planted(spec: Spec, name: str, backend_: Any, factor: float) -> tuple[Result, Result]:
    """The backend's verdict on ``spec``, and that of its answer times ``factor``."""
    outcome = execute(backend_, spec, [spec.cast()])
    references = References(spec, [Call("base", dict(spec.arrays))])
    right = judge(spec, references, name, outcome)
    wrong = {k: (v * factor).astype(v.dtype) if k in spec.wrt else v
             for k, v in outcome.output.items()}
    return right, judge(spec, references, "planted", Outcome(None, [wrong]))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["jax", "autograd"])
@pytest.mark.parametrize(("case", "zero", "nonzero"), CANCELLING,
                         ids=[c[0] for c in CANCELLING])
def test_a_zero_by_cancellation_passes_and_one_percent_off_elsewhere_fails(
        backend, name, dtype, case, zero, nonzero) -> None:
    arrays = {"x": POINTS.get(case, X3), "c": C3}
    spec = Spec(case, zero, arrays, ("x",), dtype=dtype)
    result = check(spec, backend(name))
    assert (result.status, result.diagnoses) == (Status.PASS, []), result.message
    right, wrong = _planted(Spec(case, nonzero, arrays, ("x",), dtype=dtype), name,
                            backend(name), 1.01)
    assert right.status is Status.PASS, right.message
    assert wrong.status is Status.FAIL, wrong.message


rng6 = np.random.default_rng(16)
_M = rng6.normal(size=(4, 4))
SPD = _M @ _M.T + np.eye(4)
LARGE_LOGITS = rng6.normal(size=(3, 5)) * 30


def _sym(a: Any) -> Any:
    return (a + a.T) / 2  # every namespace's eigh then sees the same symmetric matrix


#: (name, fn, arrays, extra Spec fields): bounds the reference used to claim far too wide
TIGHT_BOUNDS = [
    ("logsumexp-large-logits-hvp", lambda xp, z: xp.sum(_lse(xp, z)), {"z": LARGE_LOGITS},
     {"kind": "hvp", "tangents": {"z": rng6.normal(size=LARGE_LOGITS.shape)}}),
    ("slogdet", lambda xp, a: xp.linalg.slogdet(a)[1], {"a": SPD}, {}),
    ("slogdet-hvp", lambda xp, a: xp.linalg.slogdet(a)[1], {"a": SPD},
     {"kind": "hvp", "tangents": {"a": rng6.normal(size=SPD.shape)}}),
    ("eigh", lambda xp, a: xp.sum(xp.linalg.eigh(_sym(a))[0] ** 3), {"a": SPD}, {}),
    ("eigh-hvp", lambda xp, a: xp.sum(xp.linalg.eigh(_sym(a))[0] ** 3), {"a": SPD},
     {"kind": "hvp", "tangents": {"a": rng6.normal(size=SPD.shape)}}),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["jax", "autograd"])
@pytest.mark.parametrize(("case", "fn", "arrays", "extra"), TIGHT_BOUNDS,
                         ids=[c[0] for c in TIGHT_BOUNDS])
def test_hard_derivatives_pass_when_right_and_fail_one_percent_off(
        backend, name, dtype, case, fn, arrays, extra) -> None:
    spec = Spec(case, fn, arrays, tuple(arrays), dtype=dtype, **extra)
    right, wrong = _planted(spec, name, backend(name), 1.01)
    assert right.status is Status.PASS, right.message
    assert wrong.status is Status.FAIL, wrong.message

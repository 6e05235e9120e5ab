"""A diagnosis only on evidence specific to its mistake; CONVENTION only where no derivative
is right (a kink or a jump, confirmed by shrinking steps).

Each wrong answer here resembles a named mistake without being it (a mean for a sum that
follows the weights, a factor of 2 that is calculus, values that are merely float32
numbers, a wrong slope between two one-sided ones at a smooth point) and must be a FAIL
with no name or with the right one. The answers are a user's own numpy code with analytic
derivatives, judged through ``FunctionBackend`` as a run judges.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from backends.base import FunctionBackend
from conformance.harness import Outcome, check, judge
from conformance.probes import References, plan_calls
from conformance.results import Result, Status
from conformance.spec import Spec

Derivatives = Callable[[dict[str, np.ndarray]], dict[str, Any]]


def run(spec: Spec, derivatives: Derivatives, value: Callable[[dict], Any] | None = None
        ) -> Result:
    """Judge a user's answer: ``value`` (default: ``fn`` on numpy) and ``derivatives``."""
    def compute(spec: Spec, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        out = {"value": np.asarray(value(arrays) if value else spec.evaluate(np, arrays),
                                   dtype=spec.dtype)}
        out.update({k: v if v is None else np.asarray(v, dtype=spec.dtype)
                    for k, v in derivatives(arrays).items()})
        return out
    return check(spec, FunctionBackend("mine", compute))


def verdict(result: Result) -> tuple[Status, list[str]]:
    return result.status, result.diagnoses


# -- dtype-downcast: float32 rounding, not representability --------------------------------

def test_a_right_answer_of_float32_numbers_passes() -> None:
    x = np.array([0.25, 0.125, 0.375, 1.5, -0.75])
    spec = Spec("squares", lambda xp, x: xp.sum(x**2), {"x": x}, ("x",))
    result = run(spec, lambda a: {"x": 2 * a["x"]})  # 0.5, 0.25, 0.75, 3, -1.5: all float32
    assert verdict(result) == (Status.PASS, []), result.message


def test_an_answer_computed_in_float32_and_cast_back_is_a_downcast() -> None:
    x = np.array([0.3, -1.7, 2.2, 0.9])
    spec = Spec("wave", lambda xp, x: xp.sum(xp.sin(100 * x)) / 100, {"x": x}, ("x",))
    result = run(spec, lambda a: {"x": np.cos(100 * a["x"].astype(np.float32))})
    assert verdict(result) == (Status.FAIL, ["dtype-downcast"]), result.message


def test_a_wrong_answer_of_short_float32_numbers_is_no_downcast() -> None:
    x = np.array([0.3, -1.7, 2.2, 0.9])
    spec = Spec("wave", lambda xp, x: xp.sum(xp.sin(x)), {"x": x}, ("x",))
    # cos rounded to 1/1024: float32 numbers, but short ones, and off by more than float32
    result = run(spec, lambda a: {"x": np.round(np.cos(a["x"]) * 1024) / 1024})
    assert verdict(result) == (Status.FAIL, []), result.message


# -- kinks and jumps: CONVENTION only where confirmed, the same for every valid choice ------

def _relu_spec() -> Spec:
    return Spec("relu", lambda xp, x: xp.sum(xp.maximum(x, 0.0) * xp.asarray([1.0, 2.0, 3.0])),
                {"x": np.array([0.0, 0.5, -1.0])}, ("x",))


@pytest.mark.parametrize("choice", [0.0, 0.5, 1.0, 0.25])
def test_every_valid_choice_at_a_kink_gets_the_same_status(choice: float) -> None:
    result = run(_relu_spec(), lambda a: {"x": np.array([choice, 2.0, 0.0])})
    assert verdict(result) == (Status.CONVENTION, ["kink"]), result.message
    assert result.convention_values == {"x": [choice, 2.0, 0.0]}
    assert "x[0]" in result.message and "left 0, right 1" in result.message


def test_a_choice_outside_the_one_sided_derivatives_fails_and_says_so() -> None:
    result = run(_relu_spec(), lambda a: {"x": np.array([1.5, 2.0, 0.0])})
    assert result.status is Status.FAIL, result.message
    assert "kink" not in result.diagnoses
    assert "non-differentiable point, where only values from 0 to 1" in result.message


def test_a_valid_choice_at_a_kink_does_not_hide_another_wrong_element() -> None:
    result = run(_relu_spec(), lambda a: {"x": np.array([0.0, 2.02, 0.0])})
    assert result.status is Status.FAIL and "x[1]" in result.message, result.message


def test_the_value_is_still_judged_at_a_kink() -> None:
    result = run(_relu_spec(), lambda a: {"x": np.array([0.0, 2.0, 0.0])},
                 value=lambda a: 1.001)
    assert result.status is Status.FAIL and result.message.startswith("value"), result.message


@pytest.mark.parametrize(("name", "fn", "x"), [
    ("log", lambda xp, x: xp.sum(xp.log(x)), [1e-4, 0.5]),
    ("reciprocal", lambda xp, x: xp.sum(1 / x), [1e-4, 2.0]),
    ("log-small", lambda xp, x: xp.sum(xp.log(x)), [3e-7, 1.0]),
])
def test_a_wrong_slope_at_a_smooth_point_of_high_curvature_is_a_fail(name, fn, x) -> None:
    """log and 1/x at 1e-4: one-sided slopes with a step of 1e-6 differ by 1 %; an answer
    0.2 % off lies between them, but the point is smooth: the gap shrinks with the step."""
    spec = Spec(name, fn, {"x": np.array(x)}, ("x",))
    derivative = (lambda x: 1 / x) if name.startswith("log") else (lambda x: -1 / x**2)
    assert verdict(run(spec, lambda a: {"x": derivative(a["x"])})) == (Status.PASS, [])
    result = run(spec, lambda a: {"x": derivative(a["x"]) * np.array([1.002, 1.0])})
    assert verdict(result) == (Status.FAIL, []), result.message


JUMPS = [
    ("sign", lambda xp, x: xp.sum(xp.sign(x) + x), [0.0, 0.7], [1.0, 1.0]),
    ("floor", lambda xp, x: xp.sum(xp.floor(x) + x**2), [1.0, 1.5], [2.0, 3.0]),
    ("where", lambda xp, x: xp.sum(xp.where(x > 0, x + 1.0, 2 * x)), [0.0, 0.4], [2.0, 1.0]),
    ("tie", lambda xp, x, y: xp.sum(xp.where(x == y, 1.0, 0.0) + x * y),
     [1.0, 2.0], [1.0, 3.0]),
]


@pytest.mark.parametrize(("name", "fn", "x", "smooth"), JUMPS, ids=[j[0] for j in JUMPS])
def test_a_jump_is_a_convention_with_each_backend_answer_recorded(name, fn, x, smooth) -> None:
    """Derivatives a backend returns at x[0], where the function jumps: 0 (TF, JAX), a
    one-sided slope, NaN; all are recorded, none is judged (no INCONCLUSIVE)."""
    arrays = {"x": np.array(x)} | ({"y": np.array([1.0, 3.0])} if name == "tie" else {})
    spec = Spec(name, fn, arrays, ("x",))
    for at_jump in (0.0, smooth[0], np.nan):
        result = run(spec, lambda a, at_jump=at_jump: {"x": np.array([at_jump, smooth[1]])})
        assert verdict(result) == (Status.CONVENTION, ["kink"]), (at_jump, result.message)
        assert "jumps there" in result.message
    wrong_elsewhere = run(spec, lambda a: {"x": np.array([0.0, smooth[1] * 1.01])})
    assert wrong_elsewhere.status is Status.FAIL, wrong_elsewhere.message
    # a NaN at the jump is a valid answer there: the failure elsewhere is not a nan-gradient
    nan_at_jump = run(spec, lambda a: {"x": np.array([np.nan, smooth[1] * 1.01])})
    assert verdict(nan_at_jump) == (Status.FAIL, []), nan_at_jump.message


# -- stale-session: only an answer that does not follow the weights ------------------------

def _model_spec() -> Spec:
    rng = np.random.default_rng(5)
    return Spec("mean-loss", lambda xp, x, w: xp.mean(xp.tanh(x @ w) ** 2),
                {"x": rng.normal(size=(8, 3)), "w": rng.normal(size=(3, 2))}, ("x",),
                roles={"w": "param"})


def _model_gradient(a: dict[str, np.ndarray]) -> np.ndarray:
    t = np.tanh(a["x"] @ a["w"])
    return (2 * t * (1 - t**2) / t.size) @ a["w"].T


@pytest.mark.parametrize(("factor", "diagnoses"), [(1 / 16, []), (1 / 24, ["wrong-reduction"]),
                                                   (16.0, [])])
def test_an_answer_off_by_a_constant_factor_follows_the_weights(factor, diagnoses) -> None:
    """c times the gradient at every weight setting (c = 1/16: no length of the spec; 1/24:
    x's element count): it moves with the weights, so it is not stale."""
    result = run(_model_spec(), lambda a: {"x": factor * _model_gradient(a)})
    assert verdict(result) == (Status.FAIL, diagnoses), result.message


def test_an_answer_that_ignores_the_weights_is_stale() -> None:
    first = []

    def cached(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        first.append(_model_gradient(a) / 16)  # wrong by a factor too: still stale
        return {"x": first[0]}
    assert verdict(run(_model_spec(), cached)) == (Status.FAIL, ["stale-session"])


# -- the other detectors, each against a look-alike ------------------------------------------

def test_a_factor_of_two_is_a_wrong_reduction_only_when_the_value_agrees() -> None:
    x = np.array([[0.3, -1.2, 0.8], [1.1, 0.4, -0.6]])  # an axis of length 2
    spec = Spec("cubes", lambda xp, x: xp.sum(x**3) / 3, {"x": x}, ("x",))
    calculus = run(spec, lambda a: {"x": 2 * a["x"] ** 2})  # d/dx x**3 / 3 taken as 2 x**2
    assert verdict(calculus) == (Status.FAIL, []), calculus.message
    summed = run(spec, lambda a: {"x": 2 * a["x"] ** 2},
                 value=lambda a: 2 * np.sum(a["x"] ** 3) / 3)
    assert verdict(summed) == (Status.FAIL, ["wrong-reduction"]), summed.message


def test_a_1d_answer_in_another_order_is_no_layout_mistake() -> None:
    x = np.array([0.3, -1.2, 0.8, 2.0])
    spec = Spec("weighted", lambda xp, x: xp.sum(xp.asarray([1.0, 2.0, 3.0, 4.0]) * x**2),
                {"x": x}, ("x",))
    result = run(spec, lambda a: {"x": (2 * np.array([1.0, 2.0, 3.0, 4.0]) * a["x"])[::-1]})
    assert verdict(result) == (Status.FAIL, []), result.message


def test_zeros_at_kinks_are_a_convention_not_a_disconnected_path() -> None:
    spec = Spec("relu-all-0", lambda xp, x: xp.sum(xp.maximum(x, 0.0)),
                {"x": np.zeros(3)}, ("x",))
    assert verdict(run(spec, lambda a: {"x": np.zeros(3)})) == (Status.CONVENTION, ["kink"])


def test_nan_at_a_smooth_point_is_a_nan_gradient() -> None:
    x = np.array([0.3, -1.2, 0.8])
    spec = Spec("sin", lambda xp, x: xp.sum(xp.sin(x)), {"x": x}, ("x",))
    result = run(spec, lambda a: {"x": np.where(a["x"] > 0, np.cos(a["x"]), np.nan)})
    assert verdict(result) == (Status.FAIL, ["nan-gradient"]), result.message


class _Accumulating:
    """A user's code that adds each call's gradient into a variable it never resets."""

    def __init__(self) -> None:
        self.total = 0.0

    def __call__(self, a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        self.total = self.total + 2 * a["x"]
        return {"x": self.total}


def test_gradients_accumulated_across_calls_are_not_called_random() -> None:
    spec = Spec("squares", lambda xp, x: xp.sum(x**2), {"x": np.array([0.3, -1.2, 0.8])},
                ("x",))
    result = run(spec, _Accumulating())
    assert verdict(result) == (Status.FAIL, []), result.message
    assert "2 times the first" in result.message
    rng = np.random.default_rng()
    noisy = run(spec, lambda a: {"x": 2 * a["x"] + rng.normal(0, 1e-3, 3)})
    assert verdict(noisy) == (Status.FAIL, ["nondeterministic"]), noisy.message


@pytest.mark.parametrize("size", [2, 600])  # a full reference, and a directional one
def test_none_for_an_input_the_output_does_not_use_is_its_zero_derivative(size: int) -> None:
    spec = Spec("unused", lambda xp, x, y: xp.sum(x**2), {"x": np.array([0.3, -1.2]),
                                                          "y": np.linspace(1.0, 2.0, size)},
                ("x", "y"))
    unused = run(spec, lambda a: {"x": 2 * a["x"], "y": None})
    assert verdict(unused) == (Status.PASS, []), unused.message
    assert "no gradient (None) for y, judged as zeros" in unused.message
    used = Spec("used", lambda xp, x, y: xp.sum(x**2) * xp.sum(y), spec.arrays, ("x", "y"))
    unwatched = run(used, lambda a: {"x": 2 * a["x"] * np.sum(a["y"]), "y": None})
    assert verdict(unwatched) == (Status.FAIL, ["unwatched-input"]), unwatched.message


def test_an_unrelated_runtime_error_is_no_eager_gradients() -> None:
    spec = Spec("squares", lambda xp, x: xp.sum(x**2), {"x": np.array([0.3])}, ("x",))
    outcome = Outcome(Status.ERROR, message="RuntimeError: gradients are not supported here")
    result = judge(spec, References(spec, plan_calls(spec)), "mine", outcome)
    assert verdict(result) == (Status.ERROR, [])


# -- the probe on the convention catalog: its points found, its differentiable cases not --------

def test_the_probe_finds_the_convention_catalogs_kinks_and_jumps_and_nothing_else() -> None:
    from conformance.catalog.conventions import convention_specs
    from conformance.findings import nondifferentiable

    kinds = {}
    with np.errstate(all="ignore"):
        for spec in convention_specs():
            points = nondifferentiable(spec, References(spec, plan_calls(spec)))
            kinds[spec.name.removeprefix("convention-")] = {p.kind for p in points.values()}
    for name in ("relu-maximum-at-0", "relu-where-at-0", "abs-at-0", "maximum-tie",
                 "minimum-tie", "max-reduction-tie", "min-reduction-tie", "sort-tie",
                 "norm-at-0", "clip-at-bounds", "std-of-constant"):
        assert kinds[name] == {"kink"}, name
    for name in ("sign-at-0", "floor-at-integer", "round-at-half", "eigh-repeated-eigenvalue"):
        assert kinds[name] == {"jump"}, name
    # differentiable there (exactly 0 or a finite slope), or a domain edge (no two sides)
    for name in ("prod-with-zero", "cumprod-with-zero", "power-int-2-at-0",
                 "power-int-0-at-0", "sqrt-at-0", "arcsin-at-1"):
        assert kinds[name] == set(), name


def test_accumulated_gradients_of_a_dropout_model_are_no_learning_phase() -> None:
    """The model has Dropout (inference mode), but the calls differ by a factor of exactly
    2: state carried between calls, not dropout's random units."""
    from conformance.model import Dense, Dropout, ModelSpec
    from conformance.reference import compute_reference

    rng = np.random.default_rng(2)
    model = ModelSpec([Dense(4, "tanh"), Dropout(0.5), Dense(1)], input_dim=3,
                      weights=[rng.normal(size=(3, 4)), rng.normal(size=4) * 0.1,
                               rng.normal(size=(4, 1)), rng.normal(size=1) * 0.1],
                      objective="sum")
    spec = model.spec("dropout-model", {"x": rng.normal(size=(2, 3))}, "x")
    total = []

    def accumulating(spec: Spec, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        gradient = compute_reference(spec, arrays).expected["x"]
        total.append(gradient + (total[-1] if total else 0))
        return {"value": np.asarray(spec.evaluate(np, arrays)), "x": total[-1]}
    result = check(spec, FunctionBackend("mine", accumulating))
    assert verdict(result) == (Status.FAIL, []), result.message
    assert "2 times the first" in result.message

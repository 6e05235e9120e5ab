"""The float64 reference against derivatives known in closed form."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.differences import numeric_grad
from conformance.reference import compute_reference
from conformance.spec import Spec

rng = np.random.default_rng(7)
X = rng.uniform(-1.5, 1.5, size=6)
W = rng.normal(size=(6, 4)) / 2


def rel_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


def _mlp_grad_x(x: np.ndarray) -> np.ndarray:
    t = np.tanh(x @ W)
    return W @ (2 * t * (1 - t**2))


ANALYTIC = [
    ("polynomial", lambda xp, x: xp.sum(x**5 - 2 * x**2 + 3 * x), lambda x: 5 * x**4 - 4 * x + 3),
    ("sin", lambda xp, x: xp.sum(xp.sin(3 * x)), lambda x: 3 * np.cos(3 * x)),
    ("exp", lambda xp, x: xp.sum(xp.exp(x) * x), lambda x: np.exp(x) * (1 + x)),
    ("logsumexp", lambda xp, x: xp.log(xp.sum(xp.exp(x))), lambda x: np.exp(x) / np.exp(x).sum()),
    ("tanh-mlp", lambda xp, x: xp.sum(xp.tanh(x @ W) ** 2), _mlp_grad_x),
]


@pytest.mark.parametrize(("name", "fn", "derivative"), ANALYTIC, ids=[a[0] for a in ANALYTIC])
def test_full_gradient_matches_analytic_to_1e8(name, fn, derivative) -> None:
    ref = compute_reference(Spec(name, fn, {"x": X}, ("x",)))
    assert ref.mode == "full"
    error = rel_error(ref.expected["x"], derivative(X))
    assert error <= 1e-8, f"{name}: reference gradient off by {error:.2e} relative (want <= 1e-8)"
    assert np.all(ref.uncertainty["x"] <= 2e-8 * np.max(np.abs(derivative(X))))


def test_full_jacobian_has_output_axes_first() -> None:
    spec = Spec("jac", lambda xp, x, w: xp.tanh(x @ w), {"x": X, "w": W}, ("x", "w"),
                kind="jacobian")
    ref = compute_reference(spec)
    s = 1 - np.tanh(X @ W) ** 2  # (4,)
    assert ref.expected["x"].shape == (4, 6)
    assert rel_error(ref.expected["x"], (W * s).T) <= 1e-8
    want_w = np.zeros((4, 6, 4))
    for k in range(4):
        want_w[k, :, k] = X * s[k]
    assert rel_error(ref.expected["w"], want_w) <= 1e-8


def test_hvp_matches_analytic_hessian() -> None:
    a = rng.normal(size=(6, 6))
    a = a + a.T
    v = rng.normal(size=6)
    spec = Spec("hvp", lambda xp, x: 0.5 * x @ a @ x + xp.sum(xp.sin(x)), {"x": X}, ("x",),
                kind="hvp", tangents={"x": v})
    hessian = a - np.diag(np.sin(X))
    assert rel_error(compute_reference(spec).expected["x"], hessian @ v) <= 1e-8


def test_jvp_and_vjp_match_analytic() -> None:
    t, c = rng.normal(size=6), rng.normal(size=4)
    fn = lambda xp, x: xp.tanh(x @ W)  # noqa: E731
    jac = (W * (1 - np.tanh(X @ W) ** 2)).T
    jvp = compute_reference(Spec("jvp", fn, {"x": X}, ("x",), kind="jvp", tangents={"x": t}))
    vjp = compute_reference(Spec("vjp", fn, {"x": X}, ("x",), kind="vjp", cotangent=c))
    assert rel_error(jvp.expected["x"], jac @ t) <= 1e-8
    assert rel_error(vjp.expected["x"], c @ jac) <= 1e-8


@pytest.mark.parametrize("n", [100, 10_000, 1_000_000])
def test_directional_mode_cost_does_not_grow_with_size(n: int) -> None:
    x = np.linspace(-1, 1, n)
    spec = Spec(f"big-{n}", lambda xp, x: xp.sum(xp.sin(x) * x), {"x": x}, ("x",))
    ref = compute_reference(spec, full_limit=10)
    assert ref.mode == "directional"
    # the value, then per direction 4 levels x 2 points, a spot check (2 points) and one
    # complex step (the float32 noise samples are not counted: they run fn in float32)
    assert ref.evaluations == 1 + 3 * (2 * 4 + 2 + 1)
    projected = ref.observe(spec, "x", np.cos(x) * x + np.sin(x))
    assert rel_error(projected, ref.expected["x"]) <= 1e-8


def test_directional_mode_catches_a_wrong_gradient() -> None:
    x = np.linspace(-1, 1, 500)
    spec = Spec("big", lambda xp, x: xp.sum(x**3), {"x": x}, ("x",))
    ref = compute_reference(spec, full_limit=10)
    wrong = 3 * x**2
    wrong[17] += 0.5  # one element off: a random sign direction still sees it
    assert rel_error(ref.observe(spec, "x", wrong), ref.expected["x"]) > 1e-3


def test_reference_sees_float32_rounded_inputs() -> None:
    x = np.array([0.1, 1 / 3])
    spec = Spec("r32", lambda xp, x: xp.sum(x**2), {"x": x}, ("x",), dtype="float32")
    rounded = x.astype(np.float32).astype(np.float64)
    assert rel_error(compute_reference(spec).expected["x"], 2 * rounded) <= 1e-12


def test_numeric_grad_handles_arrays_and_lists() -> None:
    f = lambda ws: np.sum(ws[0] ** 2) + np.sum(np.sin(ws[1]))  # noqa: E731
    a, b = X[:3], X[3:]
    ga, gb = numeric_grad(f)([a, b])
    assert rel_error(ga, 2 * a) <= 1e-9 and rel_error(gb, np.cos(b)) <= 1e-9
    assert rel_error(numeric_grad(lambda x: np.sum(x**3))(a), 3 * a**2) <= 1e-9

"""Numerically hard but correct specs: where a naive reference or tolerance breaks.

Domain edges, saturation, large logits, near-cancellation, ill-conditioned solves,
near-overflow, large quadratic forms, a 10k-parameter MLP and derivatives that are zero
because terms cancel, over every derivative kind and both dtypes. Correct backends must
PASS every one (no FAIL, no INCONCLUSIVE).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.spec import Spec

rng = np.random.default_rng(2026)


def _lse(xp: Any, z: Any) -> Any:
    m = xp.max(z, axis=-1, keepdims=True)
    return m[..., 0] + xp.log(xp.sum(xp.exp(z - m), axis=-1))


def _quadratic_form(n: int) -> tuple[np.ndarray, np.ndarray]:
    a = rng.normal(size=(n, n)) / np.sqrt(n)
    return a @ a.T + np.eye(n), rng.normal(size=n)


A2000, X2000 = _quadratic_form(2000)
_ILL = np.array([[1.0, 0.999], [0.999, 1.0]])  # condition number about 2000


def _cases() -> list[tuple[str, Any, dict[str, np.ndarray], dict[str, Any]]]:
    """(name, fn, arrays, extra Spec fields); every one is built in both dtypes."""
    hidden = 96  # 100 inputs x 96 + 96 + 96 x 8 + 8: about 10k parameters
    mlp = {"x": rng.normal(size=(16, 100)), "w1": rng.normal(size=(100, hidden)) / 10,
           "b1": rng.normal(size=hidden) * 0.1, "w2": rng.normal(size=(hidden, 8)) / 10,
           "b2": rng.normal(size=8) * 0.1}
    mlp_roles = {"w1": "param", "b1": "param", "w2": "param", "b2": "param"}
    logits = rng.normal(size=(3, 5)) * 30  # large logits: one class dominates each row
    return [
        ("log-at-domain-edge", lambda xp, x: xp.sum(xp.log(x)),
         {"x": np.array([1e-6, 3e-7, 2.0, 5e-5])}, {}),
        ("sqrt-at-domain-edge", lambda xp, x: xp.sum(xp.sqrt(x) * x[::-1]),
         {"x": np.array([1e-8, 2e-6, 4.0])}, {}),
        ("log1p-near-minus-one", lambda xp, x: xp.sum(xp.log1p(x)),
         {"x": np.array([-0.9999, 0.5])}, {}),
        ("arcsin-near-one", lambda xp, x: xp.sum(xp.arcsin(x)),
         {"x": np.array([0.9999, -0.999, 0.1])}, {}),
        ("exp-near-overflow", lambda xp, x: xp.sum(xp.exp(x)),
         {"x": np.array([700.0, 1.0, -3.0])}, {"float64_only": True}),
        ("exp-near-float32-overflow", lambda xp, x: xp.sum(xp.exp(x)),
         {"x": np.array([85.0, 1.0, -3.0])}, {}),
        ("tanh-saturated", lambda xp, x: xp.sum(xp.tanh(x) * x),
         {"x": np.array([8.0, -9.0, 0.3, 12.0])}, {}),
        ("sigmoid-saturated", lambda xp, x: xp.sum(1 / (1 + xp.exp(-x)) * x),
         {"x": np.array([15.0, -14.0, 0.5])}, {}),
        ("logsumexp-large-logits", lambda xp, z: xp.sum(_lse(xp, z)), {"z": logits}, {}),
        ("logsumexp-large-logits-hvp", lambda xp, z: xp.sum(_lse(xp, z)), {"z": logits},
         {"kind": "hvp", "tangents": {"z": rng.normal(size=logits.shape)}}),
        ("near-cancellation", lambda xp, x: xp.sum((1 + x) ** 2 - 1 - 2 * x),
         {"x": np.array([1e-3, -2e-3, 5e-4])}, {}),
        ("rational-near-pole", lambda xp, x: xp.sum(1 / (x - 1)),
         {"x": np.array([1.01, 0.98, 3.0])}, {}),
        ("rational-near-pole-hvp", lambda xp, x: xp.sum(1 / (x - 1)),
         {"x": np.array([1.01, 0.98, 3.0])},
         {"kind": "hvp", "tangents": {"x": np.array([1.0, -0.5, 2.0])}}),
        ("ill-conditioned-solve", lambda xp, b, m: xp.sum(xp.linalg.solve(m, b) ** 2),
         {"b": np.array([1.0, -0.5]), "m": _ILL}, {}),
        ("large-magnitude", lambda xp, x: 1e6 * xp.sum(xp.sin(x) * x),
         {"x": np.array([0.3, -1.1, 2.0])}, {}),
        ("small-magnitude", lambda xp, x: 1e-6 * xp.sum(xp.sin(x) * x),
         {"x": np.array([0.3, -1.1, 2.0])}, {}),
        ("large-inputs", lambda xp, x: xp.sum(xp.log(x) * x),
         {"x": np.array([3e5, 7e4, 1e6])}, {}),
        ("quadratic-form-2000", lambda xp, x, a: 0.5 * x @ (a @ x), {"x": X2000, "a": A2000},
         {}),
        ("quadratic-form-2000-hvp", lambda xp, x, a: 0.5 * x @ (a @ x),
         {"x": X2000, "a": A2000},
         {"kind": "hvp", "tangents": {"x": rng.normal(size=2000)}}),
        ("mlp-10k-params", lambda xp, x, w1, b1, w2, b2:
            xp.mean((xp.tanh(x @ w1 + b1) @ w2 + b2) ** 2), mlp,
         {"wrt": ("w1", "b1", "w2", "b2"), "roles": mlp_roles}),
        ("saturated-jacobian", lambda xp, x: xp.tanh(x * x[::-1]),
         {"x": np.array([3.0, -2.5, 0.2, 4.0])}, {"kind": "jacobian"}),
        ("domain-edge-jvp", lambda xp, x: xp.log(x) * x[::-1],
         {"x": np.array([1e-5, 0.7, 2.0])},
         {"kind": "jvp", "tangents": {"x": np.array([1.0, -1.0, 0.5])}}),
        ("large-logits-vjp", lambda xp, z: xp.exp(z - _lse(xp, z)[:, None]), {"z": logits},
         {"kind": "vjp", "cotangent": rng.normal(size=logits.shape)}),
        # zeros by cancellation: every framework computes them as its terms' rounding noise
        ("zero-centred-sum", lambda xp, x: xp.sum(x - xp.mean(x)),
         {"x": np.array([0.3, -1.2, 2.0, 0.7])}, {}),
        ("zero-std-of-x-and-x-plus-c", lambda xp, x: xp.std(xp.stack([x[0], x[0] + 3.0])),
         {"x": np.array([0.7])}, {}),
    ]


def hard_specs() -> list[Spec]:
    """Every hard case in float64, and in float32 unless marked float64-only."""
    specs = []
    for name, fn, arrays, extra in _cases():
        extra = dict(extra)
        float64_only = extra.pop("float64_only", False)
        wrt = extra.pop("wrt", tuple(arrays)[:1])
        spec = Spec(f"hard-{name}", fn, arrays, wrt, **extra)
        specs.append(spec.as_dtype("float64"))
        if not float64_only:
            specs.append(spec.as_dtype("float32"))
    return specs

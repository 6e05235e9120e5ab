"""The starter catalog: small function specs covering every derivative kind.

Each ``fn`` uses only what numpy, jax.numpy, autograd.numpy and
tensorflow.experimental.numpy share (``@``, sum, mean, max, exp, log, tanh, sin, slicing).
Arrays come from a fixed seed so every run checks the same numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.spec import Spec


def _logsumexp(xp: Any, z: Any) -> Any:
    m = xp.max(z, axis=-1, keepdims=True)
    return m[..., 0] + xp.log(xp.sum(xp.exp(z - m), axis=-1))


def polynomial(xp: Any, x: Any) -> Any:
    """sum(x^4 - 3x^3 + x - 2): d/dx = 4x^3 - 9x^2 + 1."""
    return xp.sum(x**4 - 3 * x**3 + x - 2)


def mlp_tanh_loss(xp: Any, x: Any, w1: Any, b1: Any, w2: Any, b2: Any, y: Any) -> Any:
    """Mean squared error of a one-hidden-layer tanh MLP."""
    hidden = xp.tanh(x @ w1 + b1)
    return xp.mean((hidden @ w2 + b2 - y) ** 2)


def logsumexp(xp: Any, z: Any) -> Any:
    """Sum over rows of the stable log-sum-exp; d/dz = softmax(z)."""
    return xp.sum(_logsumexp(xp, z))


def softmax_cross_entropy(xp: Any, x: Any, w: Any, b: Any, y: Any) -> Any:
    """Mean softmax cross-entropy of a linear classifier with one-hot targets y."""
    logits = x @ w + b
    return xp.mean(_logsumexp(xp, logits) - xp.sum(y * logits, axis=-1))


def rosenbrock(xp: Any, x: Any) -> Any:
    """The n-dimensional Rosenbrock function."""
    return xp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def vector_field(xp: Any, x: Any) -> Any:
    """A vector function R^4 -> R^3 mixing sin, exp and products (for Jacobians)."""
    return xp.stack([xp.sin(x[0]) * x[1], xp.exp(x[2] - x[3]), x[0] * x[1] * x[2] + x[3] ** 2])


def mlp_tanh_output(xp: Any, x: Any, w1: Any, b1: Any, w2: Any) -> Any:
    """Outputs of a tanh MLP for a batch (for JVPs and VJPs)."""
    return xp.tanh(x @ w1 + b1) @ w2


def _mlp_arrays(rng: np.random.Generator, batch: int, n_in: int, hidden: int,
                n_out: int) -> dict[str, np.ndarray]:
    return {
        "x": rng.normal(size=(batch, n_in)),
        "w1": rng.normal(size=(n_in, hidden)) / np.sqrt(n_in),
        "b1": rng.normal(size=(hidden,)) * 0.1,
        "w2": rng.normal(size=(hidden, n_out)) / np.sqrt(hidden),
    }


MLP_ROLES = {"w1": "param", "b1": "param", "w2": "param", "b2": "param", "y": "target"}


def starter_specs() -> list[Spec]:
    """The starter catalog, each case in float64 and float32."""
    rng = np.random.default_rng(20261124)
    mlp = {**_mlp_arrays(rng, 6, 4, 8, 2), "b2": rng.normal(size=(2,)) * 0.1,
           "y": rng.normal(size=(6, 2))}
    classifier = {"x": rng.normal(size=(8, 5)), "w": rng.normal(size=(5, 3)) * 0.5,
                  "b": rng.normal(size=(3,)) * 0.1,
                  "y": np.eye(3)[rng.integers(0, 3, size=8)]}
    features = _mlp_arrays(rng, 3, 4, 6, 2)
    feature_roles = {"w1": "param", "b1": "param", "w2": "param"}
    rosen_x = rng.uniform(-1.5, 1.5, size=6)
    base = [
        Spec("polynomial", polynomial, {"x": rng.uniform(-2, 2, size=7)}, ("x",),
             description="sum of quartic polynomials; analytic gradient 4x^3 - 9x^2 + 1"),
        Spec("mlp-tanh-loss-wrt-inputs", mlp_tanh_loss, mlp, ("x",), roles=MLP_ROLES,
             description="MSE loss of a 4-8-2 tanh MLP w.r.t. its inputs (saliency)"),
        Spec("mlp-tanh-loss-wrt-weights", mlp_tanh_loss, mlp, ("w1", "b1", "w2", "b2"),
             roles=MLP_ROLES, description="the same loss w.r.t. every weight (training)"),
        Spec("logsumexp", logsumexp, {"z": rng.normal(size=(4, 5)) * 3}, ("z",),
             description="row-wise stable log-sum-exp; gradient is the softmax"),
        Spec("softmax-cross-entropy", softmax_cross_entropy, classifier, ("x", "w", "b"),
             roles={"w": "param", "b": "param", "y": "target"},
             description="linear softmax classifier loss w.r.t. inputs and weights"),
        Spec("rosenbrock-hvp", rosenbrock, {"x": rosen_x}, ("x",), kind="hvp",
             tangents={"x": rng.normal(size=6)},
             description="Hessian-vector product of the 6-d Rosenbrock function"),
        Spec("vector-jacobian", vector_field, {"x": rng.uniform(-1, 1, size=4)}, ("x",),
             kind="jacobian", description="full 3x4 Jacobian of a vector function"),
        Spec("mlp-jvp", mlp_tanh_output, features, ("x", "w1"), kind="jvp", roles=feature_roles,
             tangents={"x": rng.normal(size=(3, 4)), "w1": rng.normal(size=(4, 6))},
             description="forward-mode product of a tanh MLP's outputs"),
        Spec("mlp-vjp", mlp_tanh_output, features, ("x", "w1", "w2"), kind="vjp",
             roles=feature_roles, cotangent=rng.normal(size=(3, 2)),
             description="reverse-mode product of a tanh MLP's outputs"),
    ]
    return [s.as_dtype(dtype) for s in base for dtype in ("float64", "float32")]

"""Real objectives: the three of ADBench ("A benchmark of automatic differentiation", Srajer,
Kolmogorov, Fitzgibbon), written once against ``xp`` from their published mathematics.

* ``gmm``: the log-likelihood of a Gaussian mixture with a Wishart prior on each precision
  factor ``Q_k``, a lower-triangular matrix built functionally (``stack``, no
  in-place writes) from the log of its diagonal and its packed strict lower triangle.
* ``lstm``: ADBench's language-model loss of a stacked LSTM (elementwise gates) predicting
  each step's one-hot character from the previous one; unrolled in Python at small sizes,
  through the spec's ``scan`` at ADBench's size (2 layers, 1024 steps, 14 characters).
* ``ba``: the bundle-adjustment residuals (Rodrigues rotation, perspective division, radial
  distortion, focal length and principal point, weighted; plus each weight's ``1 - w^2``),
  kind ``jacobian``, as ADBench differentiates them.

Each is at two sizes, in float64 and float32; the ADBench-size LSTM is tagged ``slow``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from conformance.catalog import SLOW
from conformance.loops import python_scan
from conformance.spec import Spec

#: Time budget (seconds) of the ADBench-size LSTM, above the run's default timeout.
LSTM_TIMEOUT = 180.0


def logsumexp(xp: Any, a: Any, axis: int = -1) -> Any:
    """``log(sum(exp(a)))`` along ``axis``, shifted by the maximum for stability."""
    top = xp.max(a, axis=axis, keepdims=True)
    return xp.squeeze(top, axis=axis) + xp.log(xp.sum(xp.exp(a - top), axis=axis))


# -- Gaussian mixture model ----------------------------------------------------------------


def packed_position(d: int, row: int, col: int) -> int:
    """Where entry ``(row, col)``, ``row > col``, of a d x d strict lower triangle sits in
    ADBench's packing: column after column, top to bottom."""
    return col * (2 * d - col - 1) // 2 + row - col - 1


def precision_factor(xp: Any, icf: Any, d: int) -> Any:
    """``Q_k`` for every component, shape ``(k, d, d)``: ``exp`` of the first ``d`` entries of
    ``icf[k]`` on the diagonal, the packed rest below it, zeros above; built by ``stack``."""
    zero = xp.zeros_like(icf[:, 0])
    rows = []
    for i in range(d):
        entries = [icf[:, d + packed_position(d, i, j)] for j in range(i)]
        entries.append(xp.exp(icf[:, i]))
        entries.extend([zero] * (d - i - 1))
        rows.append(xp.stack(entries, axis=-1))
    return xp.stack(rows, axis=-2)


def log_multigamma(a: float, p: int) -> float:
    """The log of the multivariate gamma function Gamma_p(a) (a constant of the prior)."""
    return p * (p - 1) / 4 * math.log(math.pi) + sum(math.lgamma(a + (1 - j) / 2)
                                                     for j in range(1, p + 1))


def gmm_objective(xp: Any, alphas: Any, means: Any, icf: Any, x: Any, gamma: float = 1.0,
                  m: int = 0) -> Any:
    """ADBench's GMM objective: the log-likelihood of ``x`` (n x d) under k
    Gaussians with weights ``softmax(alphas)``, means ``means`` and precision ``Q_k^T Q_k``,
    plus the log of a Wishart prior (``gamma``, ``m``) on each ``Q_k``."""
    n, d = x.shape
    k = alphas.shape[0]
    q = precision_factor(xp, icf, d)
    sum_qs = xp.sum(icf[:, :d], axis=1)
    centered = x[:, None, :] - means[None, :, :]
    mahalanobis = xp.sum((q[None] @ centered[..., None])[..., 0] ** 2, axis=-1)
    per_point = logsumexp(xp, alphas[None, :] + sum_qs[None, :] - 0.5 * mahalanobis, axis=1)
    frobenius = xp.sum(xp.exp(icf[:, :d]) ** 2) + xp.sum(icf[:, d:] ** 2)
    dof = d + m + 1
    prior_constant = dof * d * (math.log(gamma) - 0.5 * math.log(2)) \
        - log_multigamma(0.5 * dof, d)
    log_prior = 0.5 * gamma**2 * frobenius - m * xp.sum(sum_qs) - k * prior_constant
    return (-0.5 * n * d * math.log(2 * math.pi) + xp.sum(per_point)
            - n * logsumexp(xp, alphas, axis=0) + log_prior)


def gmm_arrays(rng: np.random.Generator, d: int, k: int, n: int) -> dict[str, np.ndarray]:
    """ADBench-style GMM inputs: random weights, means and precision factors, and points."""
    return {"alphas": rng.normal(size=k), "means": rng.uniform(-1, 1, size=(k, d)),
            "icf": rng.normal(size=(k, d * (d + 1) // 2)) * 0.3,
            "x": rng.uniform(-1, 1, size=(n, d))}


# -- LSTM ----------------------------------------------------------------------------------


def sigmoid(xp: Any, z: Any) -> Any:
    """The logistic function."""
    return 1 / (1 + xp.exp(-z))


def lstm_cell(xp: Any, weight: Any, bias: Any, hidden: Any, cell: Any, inputs: Any
              ) -> tuple[Any, Any]:
    """One ADBench LSTM cell, its four elementwise gates computed as one vector: forget
    (from the input), input gate (hidden), output gate (input), change (hidden, tanh).
    Returns the new (hidden, cell)."""
    b = hidden.shape[-1]
    pre = xp.concatenate([inputs, hidden, inputs, hidden]) * weight + bias
    gates = sigmoid(xp, pre[:3 * b])
    change = xp.tanh(pre[3 * b:])
    cell = cell * gates[:b] + gates[b:2 * b] * change
    return gates[2 * b:] * xp.tanh(cell), cell


def lstm_objective(xp: Any, scan: Any, main_params: Any, extra_params: Any, state: Any,
                   sequence: Any) -> Any:
    """ADBench's LSTM loss: the mean negative log-likelihood of each next character.

    ``main_params`` (2l x 4b): each layer's gate weights and biases; ``extra_params`` (3 x b):
    input weight, output weight, output bias; ``state`` (2l x b): each layer's initial hidden
    and cell; ``sequence`` (c x b): one character per step. The loop over steps is ``scan``.
    """
    layers = main_params.shape[0] // 2
    c, b = sequence.shape
    # rows taken once, outside the loop: a framework that records every op records them once
    weight = [main_params[2 * i] for i in range(layers)]
    bias = [main_params[2 * i + 1] for i in range(layers)]
    in_weight, out_weight, out_bias = extra_params[0], extra_params[1], extra_params[2]

    def step(carry: tuple, pair: tuple) -> tuple[tuple, Any]:
        inputs, target = pair
        carry = list(carry)
        flowing = inputs * in_weight
        for i in range(layers):
            carry[2 * i], carry[2 * i + 1] = lstm_cell(xp, weight[i], bias[i], carry[2 * i],
                                                       carry[2 * i + 1], flowing)
            flowing = carry[2 * i]
        prediction = flowing * out_weight + out_bias
        normalized = prediction - logsumexp(xp, prediction, axis=0)
        return tuple(carry), xp.sum(target * normalized)

    initial = tuple(state[i] for i in range(2 * layers))
    _, log_likelihoods = scan(step, initial, (sequence[:-1], sequence[1:]))
    return -xp.sum(log_likelihoods) / ((c - 1) * b)


def lstm_unrolled(xp: Any, **arrays: Any) -> Any:
    """The LSTM loss with its steps unrolled in Python (a graph that grows with the steps)."""
    return lstm_objective(xp, python_scan(xp), **arrays)


def lstm_arrays(rng: np.random.Generator, layers: int, steps: int, chars: int
                ) -> dict[str, np.ndarray]:
    """ADBench-style LSTM inputs: uniform parameters and state, a random one-hot text."""
    return {"main_params": rng.uniform(-1, 1, size=(2 * layers, 4 * chars)),
            "extra_params": rng.uniform(-1, 1, size=(3, chars)),
            "state": rng.uniform(-1, 1, size=(2 * layers, chars)),
            "sequence": np.eye(chars)[rng.integers(0, chars, size=steps)]}


# -- bundle adjustment ---------------------------------------------------------------------


def rodrigues_rotate(xp: Any, rotation: Any, points: Any) -> Any:
    """Rotate each point by its angle-axis ``rotation`` (rows; nonzero angles)."""
    theta = xp.sqrt(xp.sum(rotation**2, axis=-1, keepdims=True))
    axis = rotation / theta
    cos, sin = xp.cos(theta), xp.sin(theta)
    along = xp.sum(axis * points, axis=-1, keepdims=True)
    return points * cos + xp.cross(axis, points) * sin + axis * along * (1 - cos)


def ba_objective(xp: Any, cams: Any, points: Any, w: Any, features: Any) -> Any:
    """ADBench's BA residuals, one row per observation: the weighted reprojection error (2)
    and ``1 - w^2``. Observation ``i`` sees point ``i % n_points`` from camera
    ``i % n_cams``; a camera is rotation (3), center (3), focal (1), principal point (2),
    radial distortion (2)."""
    observations = w.shape[0]
    cam = cams[np.arange(observations) % cams.shape[0]]
    point = points[np.arange(observations) % points.shape[0]]
    in_camera = rodrigues_rotate(xp, cam[:, 0:3], point - cam[:, 3:6])
    projected = in_camera[:, 0:2] / in_camera[:, 2:3]
    radius2 = xp.sum(projected**2, axis=-1, keepdims=True)
    distortion = 1 + cam[:, 9:10] * radius2 + cam[:, 10:11] * radius2**2
    pixel = projected * distortion * cam[:, 6:7] + cam[:, 7:9]
    return xp.concatenate([w[:, None] * (pixel - features), 1 - w[:, None] ** 2], axis=1)


def ba_arrays(rng: np.random.Generator, cams: int, points: int, observations: int
              ) -> dict[str, np.ndarray]:
    """Cameras about 10 units behind points near the origin, small rotations and distortion."""
    cam = np.concatenate([rng.uniform(-0.3, 0.3, size=(cams, 3)),
                          rng.uniform(-1, 1, size=(cams, 3)) + [0, 0, -10],
                          rng.uniform(1, 2, size=(cams, 1)),
                          rng.uniform(-0.1, 0.1, size=(cams, 2)),
                          rng.uniform(-0.1, 0.1, size=(cams, 2))], axis=1)
    return {"cams": cam, "points": rng.uniform(-1, 1, size=(points, 3)),
            "w": rng.uniform(0.5, 1.5, size=observations),
            "features": rng.uniform(-0.2, 0.2, size=(observations, 2))}


# -- the catalog ---------------------------------------------------------------------------

GMM_ROLES = {"alphas": "param", "means": "param", "icf": "param"}
LSTM_ROLES = {"main_params": "param", "extra_params": "param"}
BA_ROLES = {"cams": "param", "points": "param", "w": "param", "features": "target"}


def objective_specs() -> list[Spec]:
    """The real objectives, each at two sizes, in float64 and float32."""
    rng = np.random.default_rng(20261125)
    lstm8 = lstm_arrays(rng, 2, 8, 6)
    base = [
        Spec("gmm-d2-k3", gmm_objective, gmm_arrays(rng, 2, 3, 10), ("alphas", "means", "icf"),
             roles=GMM_ROLES, description="ADBench GMM log-likelihood with Wishart prior, "
             "d=2, k=3, n=10 (full reference)"),
        Spec("gmm-d10-k25", gmm_objective, gmm_arrays(rng, 10, 25, 1000),
             ("alphas", "means", "icf"), roles=GMM_ROLES,
             description="ADBench GMM, d=10, k=25, n=1000 (1650 parameters)"),
        Spec("lstm-l1-c4-unrolled", lstm_unrolled, lstm_arrays(rng, 1, 4, 5),
             ("main_params", "extra_params"), roles=LSTM_ROLES,
             description="ADBench LSTM loss, 1 layer, 4 steps, 5 characters, Python loop"),
        Spec("lstm-l2-c8-unrolled", lstm_unrolled, lstm8,
             ("main_params", "extra_params"), roles=LSTM_ROLES,
             description="ADBench LSTM loss, 2 layers, 8 steps, 6 characters, Python loop"),
        Spec("lstm-l2-c8-scan", lstm_objective, lstm8,
             ("main_params", "extra_params"), roles=LSTM_ROLES, uses_scan=True,
             description="the same through the backend's scan"),
        Spec("lstm-l2-c1024-scan", lstm_objective, lstm_arrays(rng, 2, 1024, 14),
             ("main_params", "extra_params", "sequence"), roles=LSTM_ROLES,
             uses_scan=True, tags=(SLOW,), timeout=LSTM_TIMEOUT,
             description="ADBench-size LSTM loss (2 layers, 1024 steps, 14 characters) "
             "through scan, w.r.t. parameters and text (directional reference)"),
        Spec("ba-c2-p4-o6", ba_objective, ba_arrays(rng, 2, 4, 6), ("cams", "points", "w"),
             kind="jacobian", roles=BA_ROLES,
             description="ADBench BA residual Jacobian, 2 cameras, 4 points, 6 observations"),
        Spec("ba-c3-p8-o10", ba_objective, ba_arrays(rng, 3, 8, 10), ("cams", "points", "w"),
             kind="jacobian", roles=BA_ROLES,
             description="ADBench BA residual Jacobian, 3 cameras, 8 points, 10 observations"),
    ]
    return [s.as_dtype(dtype) for s in base for dtype in ("float64", "float32")]

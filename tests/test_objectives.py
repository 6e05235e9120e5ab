"""The real objectives: their values against independent formulas written with loops and
in-place writes, and every backend against the float64 reference at both sizes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from backends import load
from conformance.catalog import SLOW, catalog, select
from conformance.catalog.objectives import (
    ba_objective,
    gmm_objective,
    lstm_objective,
    lstm_unrolled,
    objective_specs,
    precision_factor,
)
from conformance.harness import check
from conformance.loops import python_scan
from conformance.results import Status

SPECS = objective_specs()
QUICK = [s for s in SPECS if SLOW not in s.tags]


def by_name(name: str):
    return next(s for s in SPECS if s.name == name)


def test_precision_factor_matches_adbench_packing() -> None:
    d = 4
    icf = np.arange(1.0, 11.0)[None, :] / 10  # log-diagonal (4), then 6 packed entries
    expected = np.zeros((d, d))
    np.fill_diagonal(expected, np.exp(icf[0, :d]))
    position = d
    for col in range(d):  # column after column, top to bottom, below the diagonal
        for row in range(col + 1, d):
            expected[row, col] = icf[0, position]
            position += 1
    assert np.array_equal(precision_factor(np, icf, d)[0], expected)


def test_gmm_equals_the_mixture_density_written_out() -> None:
    spec = by_name("gmm-d2-k3-float64")
    a = spec.arrays
    k, d = a["means"].shape
    weights = np.exp(a["alphas"]) / np.sum(np.exp(a["alphas"]))
    total = 0.0
    for x in a["x"]:
        density = 0.0
        for j in range(k):
            q = precision_factor(np, a["icf"][j:j + 1], d)[0]
            precision = q.T @ q
            r = x - a["means"][j]
            density += weights[j] * math.sqrt(np.linalg.det(precision) / (2 * math.pi) ** d) \
                * math.exp(-0.5 * r @ precision @ r)
        total += math.log(density)
    # Wishart prior with gamma=1, m=0: 0.5 * ||Q||_F^2 per component, minus its constant
    frobenius = sum(np.sum(precision_factor(np, a["icf"][j:j + 1], d) ** 2) for j in range(k))
    dof = d + 1
    constant = dof * d * (-0.5 * math.log(2)) - (
        d * (d - 1) / 4 * math.log(math.pi)
        + sum(math.lgamma(0.5 * dof + (1 - j) / 2) for j in range(1, d + 1)))
    expected = total + 0.5 * frobenius - k * constant
    assert np.isclose(gmm_objective(np, **a), expected, rtol=1e-12)


def test_lstm_through_scan_equals_the_loop_written_out() -> None:
    a = by_name("lstm-l2-c8-scan-float64").arrays
    main, extra, state, seq = a["main_params"], a["extra_params"], a["state"], a["sequence"]
    b = seq.shape[1]
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    s = state.copy()
    total = 0.0
    for t in range(len(seq) - 1):
        x = seq[t] * extra[0]
        for layer in range(2):
            w, bias = main[2 * layer], main[2 * layer + 1]
            h, c = s[2 * layer], s[2 * layer + 1]
            forget = sig(x * w[:b] + bias[:b])
            ingate = sig(h * w[b:2 * b] + bias[b:2 * b])
            outgate = sig(x * w[2 * b:3 * b] + bias[2 * b:3 * b])
            change = np.tanh(h * w[3 * b:] + bias[3 * b:])
            s[2 * layer + 1] = c * forget + ingate * change
            s[2 * layer] = outgate * np.tanh(s[2 * layer + 1])
            x = s[2 * layer]
        y = x * extra[1] + extra[2]
        total += np.sum(seq[t + 1] * (y - np.log(np.sum(np.exp(y)))))
    expected = -total / ((len(seq) - 1) * b)
    assert np.isclose(lstm_objective(np, python_scan(np), **a), expected, rtol=1e-12)
    assert lstm_unrolled(np, **a) == lstm_objective(np, python_scan(np), **a)


def test_ba_residuals_equal_the_rotation_matrix_form() -> None:
    a = by_name("ba-c2-p4-o6-float64").arrays
    cams, points, w, features = a["cams"], a["points"], a["w"], a["features"]
    out = ba_objective(np, **a)
    for i in range(len(w)):
        cam, point = cams[i % len(cams)], points[i % len(points)]
        theta = np.linalg.norm(cam[:3])
        k = np.cross(np.eye(3), cam[:3] / theta)  # the cross-product matrix of the axis
        rotation = np.eye(3) + np.sin(theta) * k + (1 - np.cos(theta)) * k @ k
        p = rotation @ (point - cam[3:6])
        p = p[:2] / p[2]
        r2 = p @ p
        pixel = p * (1 + cam[9] * r2 + cam[10] * r2**2) * cam[6] + cam[7:9]
        assert np.allclose(out[i], [*(w[i] * (pixel - features[i])), 1 - w[i] ** 2], rtol=1e-12)


def test_objectives_come_in_two_sizes_both_dtypes_and_only_the_long_lstm_is_slow() -> None:
    families = {s.name.split("-")[0] for s in SPECS}
    assert families == {"gmm", "lstm", "ba"}
    for family in families:
        bases = {s.name.rsplit("-", 1)[0] for s in SPECS if s.name.startswith(family)}
        assert len(bases) >= 2
        assert all({f"{b}-float64", f"{b}-float32"} <= {s.name for s in SPECS} for b in bases)
    assert [s.name for s in SPECS if SLOW in s.tags] == [
        "lstm-l2-c1024-scan-float64", "lstm-l2-c1024-scan-float32"]
    assert all(s.timeout and s.uses_scan for s in SPECS if SLOW in s.tags)
    long = by_name("lstm-l2-c1024-scan-float64")
    page = Path(__file__).resolve().parents[1] / "docs" / "guide" / "loops-objectives.md"
    assert f"{long.wrt_size:,} scalars" in page.read_text()  # the figure the docs give
    assert f"timeout={long.timeout:g}" in page.read_text()
    assert long.arrays["sequence"].shape == (1024, 14) and long.arrays["main_params"].shape[0] == 4
    names = {s.name for s in select(catalog(), None)}
    assert "lstm-l2-c1024-scan-float64" not in names and "gmm-d2-k3-float64" in names
    assert [s.name for s in select(catalog(), ["lstm-l2-c1024*"])] == [
        "lstm-l2-c1024-scan-float64", "lstm-l2-c1024-scan-float32"]


@pytest.mark.parametrize("backend_name", ["autograd", "jax", "tf-eager", "tf-graph"])
@pytest.mark.parametrize("spec", QUICK, ids=[s.name for s in QUICK])
def test_objective_passes_on_every_backend(backend, backend_name: str, spec) -> None:
    backend(backend_name)
    result = check(spec, load(backend_name))
    assert result.status is Status.PASS, f"{spec.name} on {backend_name}: {result.message}"


def test_on_pytensor_an_objective_passes_or_says_why_not(backend) -> None:
    """Its inputs have symbolic shapes: sizes read as ints, ``cross`` and ``scan`` are gaps."""
    backend("pytensor")
    results = {s.name: check(s, load("pytensor")) for s in QUICK if s.dtype == "float64"}
    assert all(r.status in (Status.PASS, Status.UNSUPPORTED) and r.message.strip()
               for r in results.values() if r.status is not Status.PASS), {
        n: r.message for n, r in results.items()}
    assert "cannot be converted to Python integer" in results["gmm-d2-k3-float64"].message

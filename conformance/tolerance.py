"""Tolerances from the dtype, and the comparison of a backend's numbers with the reference.

An element passes when ``|observed - expected| <= atol + rtol * scale + 4 * uncertainty``:
``scale`` is the largest ``|expected|`` of that output (errors are judged relative to the
output's size, not element by element, so tiny entries cannot blow up the ratio) and
``uncertainty`` is the reference's own error estimate for that element.

Measured on the catalog: correct float64 backends stay below 1e-10 relative and correct
float32 ones below 1e-5, so the tolerances below leave a wide margin on both sides while a
gradient off by 1 % fails in either dtype.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from conformance.results import Worst

#: Relative and absolute tolerance per dtype.
TOLERANCES: dict[str, dict[str, float]] = {
    "float64": {"rtol": 1e-6, "atol": 1e-12},
    "float32": {"rtol": 1e-3, "atol": 1e-6},
}
#: How many reference error estimates an element may additionally be off.
UNCERTAINTY_FACTOR = 4.0


@dataclass
class Comparison:
    """Errors of one output key against the reference."""

    key: str
    max_abs_error: float
    max_rel_error: float
    passed: bool
    worst: Worst
    failing: list[list[int]]  # indices of out-of-tolerance elements (at most FAILING_LIMIT)


#: How many failing element indices a comparison keeps (for kink checks).
FAILING_LIMIT = 32


def compare(key: str, observed: np.ndarray, expected: np.ndarray, uncertainty: np.ndarray,
            dtype: str) -> Comparison:
    """Compare one output with its reference values under the dtype's tolerance."""
    tol = TOLERANCES[dtype]
    observed = np.asarray(observed, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    error = np.abs(observed - expected)
    allowed = tol["atol"] + tol["rtol"] * scale + UNCERTAINTY_FACTOR * np.asarray(uncertainty)
    allowed = np.broadcast_to(allowed, error.shape)
    excess = np.where(np.isfinite(error), error - allowed, np.inf)
    worst_flat = int(np.argmax(excess)) if excess.size else 0
    index = [int(i) for i in np.unravel_index(worst_flat, error.shape)] if error.ndim else []
    max_abs = float(np.max(error)) if error.size else 0.0
    worst = Worst(key=key, index=index, value=float(observed.reshape(-1)[worst_flat]),
                  reference=float(expected.reshape(-1)[worst_flat]),
                  abs_error=float(error.reshape(-1)[worst_flat]),
                  allowed=float(allowed.reshape(-1)[worst_flat]))
    failing = [[int(i) for i in idx] for idx in np.argwhere(excess > 0)[:FAILING_LIMIT]]
    return Comparison(key=key, max_abs_error=max_abs,
                      max_rel_error=max_abs / scale if scale > 0 else max_abs,
                      passed=not failing, worst=worst, failing=failing)

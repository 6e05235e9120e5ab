"""Tolerances from an error model of the dtype, and the comparison with the reference.

Each element ``i`` of an output is held to

    allowed_i = rtol * (|ref_i| + (floor / rtol) * scale) + UNCERTAINTY_FACTOR * u_i

- ``rtol``: the dtype's rounding, accumulated (a correct float32 backend stays near 1e-6
  relative on the catalog, float64 near 1e-12);
- ``floor * scale``: the noise a correct backend leaves on elements much smaller than the
  output's largest one (cancellation in sums of larger terms); ``scale`` is the largest
  ``|ref|`` of that output, or, where the reference cannot tell the whole output from zero
  (a derivative that is zero because terms cancel), the size of the terms that cancel
  (:func:`conformance.reference.natural_scale`). The rule has no absolute term:
  multiplying ``fn`` by 1e-6, or rescaling an input's units, changes no verdict;
- ``noise_i`` (values only): how far numpy's own evaluation of ``fn`` in the spec's dtype
  lands from float64 (for float64 specs: float32's, scaled by the ratio of the epsilons),
  times ``NOISE_FACTOR``: a value with cancellation is only as good as that;
- ``u_i``: the reference's own error bound, allowed at most ``UNCERTAINTY_FACTOR`` times.
  Where ``u_i`` is more than ``JUDGEABLE`` of the tolerance, the reference cannot judge the
  element: unless another element fails outright, the verdict is INCONCLUSIVE, never PASS.

The relative error shown for an element is ``|got - ref| / (|ref_i| + (floor/rtol) scale)``,
so an element passes when it is at most ``rtol`` (plus the reference's allowance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from conformance.results import Worst

#: Per dtype: ``rtol`` relative to each element, ``floor`` relative to the output's scale.
TOLERANCES: dict[str, dict[str, float]] = {
    "float64": {"rtol": 1e-6, "floor": 1e-9},
    "float32": {"rtol": 1e-3, "floor": 1e-5},
}
#: How many times the measured rounding noise of the value in the spec's dtype it may be off.
NOISE_FACTOR = 4.0
#: How many of the reference's error bounds an element may additionally be off.
UNCERTAINTY_FACTOR = 2.0
#: The reference can judge an element when its allowance is at most this part of the
#: dtype's tolerance (so the tolerance grows by at most this factor).
JUDGEABLE = 0.5
#: How many failing element indices a comparison keeps (for kink checks).
FAILING_LIMIT = 32

RULE = ("per element: |got - ref| <= rtol * |ref| + floor * scale + "
        f"{UNCERTAINTY_FACTOR:g} * reference uncertainty; scale = max |ref| of the output "
        "(where the reference cannot tell it from zero: the size of the terms that cancel); "
        f"INCONCLUSIVE where that uncertainty allowance exceeds {JUDGEABLE:g} x the rest")


def describe(dtype: str) -> dict[str, float | str]:
    """The tolerance of a dtype as the JSON report and the header show it."""
    return {**TOLERANCES[dtype], "uncertainty_factor": UNCERTAINTY_FACTOR, "rule": RULE}


@dataclass
class Comparison:
    """Errors of one output key against the reference."""

    key: str
    max_abs_error: float
    #: largest relative error (see the module docstring) and the allowance at that element
    max_rel_error: float
    allowed_rel: float
    passed: bool
    worst: Worst
    failing: list[list[int]]  # indices of out-of-tolerance elements (at most FAILING_LIMIT)
    #: where the reference cannot judge: its uncertainty relative to the element, and where
    uncertain: tuple[float, list[int]] | None = None


def allowed(expected: np.ndarray, uncertainty: np.ndarray | float, dtype: str,
            scale: float | None = None) -> np.ndarray:
    """Each element's allowance (module docstring, without the value's noise term):
    ``rtol * |ref| + floor * scale + UNCERTAINTY_FACTOR * uncertainty``."""
    expected = np.asarray(expected, dtype=np.float64)
    rtol, floor = TOLERANCES[dtype]["rtol"], TOLERANCES[dtype]["floor"]
    if scale is None:
        scale = output_scale(expected, 0.0)
    return rtol * np.abs(expected) + floor * scale + UNCERTAINTY_FACTOR * np.asarray(uncertainty)


def output_scale(expected: np.ndarray, fallback: float) -> float:
    """The scale of one output: its largest |ref|, or ``fallback`` where it is all zero."""
    largest = float(np.max(np.abs(expected))) if np.size(expected) else 0.0
    return largest if largest > 0 else fallback


def compare(key: str, observed: np.ndarray, expected: np.ndarray, uncertainty: np.ndarray,
            dtype: str, scale: float | None = None, noise: np.ndarray | float = 0.0
            ) -> Comparison:
    """Compare one output with its reference values under the dtype's tolerance."""
    rtol, floor = TOLERANCES[dtype]["rtol"], TOLERANCES[dtype]["floor"]
    observed = np.asarray(observed, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    uncertainty = np.broadcast_to(np.asarray(uncertainty, dtype=np.float64), expected.shape)
    if scale is None:
        scale = output_scale(expected, 0.0)
    denominator = np.abs(expected) + (floor / rtol) * scale
    tolerance = rtol * denominator + NOISE_FACTOR * np.broadcast_to(noise, expected.shape)
    allowance = UNCERTAINTY_FACTOR * uncertainty
    with np.errstate(invalid="ignore", divide="ignore"):
        error = np.abs(observed - expected)
        excess = np.where(np.isfinite(error), error - tolerance - allowance, np.inf)
        relative = np.where(denominator > 0, error / denominator, np.where(error > 0, np.inf, 0))
        ratio = np.where(tolerance + allowance > 0, error / (tolerance + allowance),
                         np.where(error > 0, np.inf, 0.0))
    ratio = np.where(np.isfinite(error), ratio, np.inf)
    worst_flat = int(np.argmax(ratio)) if ratio.size else 0
    index = [int(i) for i in np.unravel_index(worst_flat, error.shape)] if error.ndim else []
    allowed = (tolerance + allowance).reshape(-1)
    worst = Worst(key=key, index=index, value=float(observed.reshape(-1)[worst_flat]),
                  reference=float(expected.reshape(-1)[worst_flat]),
                  abs_error=float(error.reshape(-1)[worst_flat]),
                  allowed=float(allowed[worst_flat]) if allowed.size else 0.0)
    failing = [[int(i) for i in idx] for idx in np.argwhere(excess > 0)[:FAILING_LIMIT]]
    uncertain = None
    unjudgeable = allowance > JUDGEABLE * tolerance
    if np.any(unjudgeable):
        share = np.where(unjudgeable, uncertainty / np.maximum(denominator, 1e-300), 0)
        at = int(np.argmax(share))
        uncertain = (float(share.reshape(-1)[at]),
                     [int(i) for i in np.unravel_index(at, share.shape)] if share.ndim else [])
    with np.errstate(invalid="ignore"):
        max_rel = float(np.max(relative)) if relative.size else 0.0
    return Comparison(
        key=key, max_abs_error=float(np.max(error)) if error.size else 0.0,
        max_rel_error=max_rel,
        allowed_rel=float(allowed[worst_flat] / max(denominator.reshape(-1)[worst_flat], 1e-300))
        if allowed.size else rtol,
        passed=not failing, worst=worst, failing=failing, uncertain=uncertain)

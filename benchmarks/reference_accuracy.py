"""The float64 reference alone against derivatives known in closed form.

A wide suite of scalar functions with analytic gradients (and Hessian-vector products):
domain edges (log, sqrt, arcsin, log1p a hair from where they end), large and small
magnitudes, near-cancellation, poles, overflow margins, a non-analytic function (where the
complex step must be refused), functions that round internally on a coarse grid (where
the reference must say it cannot judge rather than give a confident wrong number), and n up
to 1e6 (directional mode). For each: the largest relative error of the reference against
the analytic derivative, the largest error bound it claims (relative), whether the bound
covers the true error, whether a float64 case can be judged with that bound, and the
evaluations it made.
"Relative" divides by |d_i| + 1e-3 max |d|, the float64 tolerance's own denominator (an
element a billion times smaller than the largest is judged against that floor; where the
derivative is all 0, the figures are absolute).

    python benchmarks/reference_accuracy.py
    python benchmarks/reference_accuracy.py --smoke
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import _timing  # first: it puts the repository on sys.path
import numpy as np

from conformance.reference import compute_reference
from conformance.spec import Spec

Derivative = Callable[[np.ndarray], np.ndarray]
_rng = np.random.default_rng(11)
_A = _rng.normal(size=(6, 6))
_A = _A + _A.T


def _softmax(x: np.ndarray) -> np.ndarray:
    p = np.exp(x - x.max())
    return p / p.sum()


#: The tangent of the ``hvp`` cases, cut to the input's size.
HVP_TANGENT = np.array([0.5, -1.0, 2.0, 0.3, 1.1, -0.4])


def _v(x: np.ndarray) -> np.ndarray:
    return HVP_TANGENT[: x.size]


def _lse_hvp(x: np.ndarray) -> np.ndarray:
    p = _softmax(x)
    return p * _v(x) - p * np.sum(p * _v(x))


#: (name, fn, x, derivative, kind): the gradient, or for ``hvp`` cases x -> H @ _v(x).
SUITE: list[tuple[str, Callable[..., Any], np.ndarray, Derivative, str]] = [
    ("log a hair above 0", lambda xp, x: xp.sum(xp.log(x)), np.array([1e-6, 3e-7, 2.0]),
     lambda x: 1 / x, "grad"),
    ("sqrt a hair above 0", lambda xp, x: xp.sum(xp.sqrt(x)), np.array([1e-8, 1e-3, 4.0]),
     lambda x: 0.5 / np.sqrt(x), "grad"),
    ("arcsin a hair below 1", lambda xp, x: xp.sum(xp.arcsin(x)),
     np.array([0.999999, -0.9999]), lambda x: 1 / np.sqrt(1 - x**2), "grad"),
    ("log1p a hair above -1", lambda xp, x: xp.sum(xp.log1p(x)), np.array([-0.999999, 3.0]),
     lambda x: 1 / (1 + x), "grad"),
    ("exp near overflow", lambda xp, x: xp.sum(xp.exp(x)), np.array([709.0, 708.5, 1.0]),
     np.exp, "grad"),
    ("pole at 1", lambda xp, x: xp.sum(1 / (x - 1)), np.array([1.001, 0.999, 3.0]),
     lambda x: -1 / (x - 1) ** 2, "grad"),
    ("large magnitude (1e8)", lambda xp, x: xp.sum(x**2), np.array([1e8, 3e9, -2e7]),
     lambda x: 2 * x, "grad"),
    ("small magnitude (1e-12)", lambda xp, x: 1e-12 * xp.sum(xp.sin(x)), np.array([0.3, 1.2]),
     lambda x: 1e-12 * np.cos(x), "grad"),
    ("near-cancellation", lambda xp, x: xp.sum((1 + x) ** 2 - 1 - 2 * x),
     np.array([1e-5, 2e-5]), lambda x: 2 * x, "grad"),
    ("abs (not analytic)", lambda xp, x: xp.sum(xp.abs(x) * x), np.array([0.5, -0.3]),
     lambda x: 2 * np.abs(x), "grad"),
    ("logsumexp, logits ~ 30", lambda xp, x: xp.log(xp.sum(xp.exp(x - 30.0))) + 30.0,
     np.array([30.0, -12.0, 25.0, 1.0]), _softmax, "grad"),
    ("tanh saturated", lambda xp, x: xp.sum(xp.tanh(x)), np.array([8.0, -9.0, 0.3]),
     lambda x: 1 - np.tanh(x) ** 2, "grad"),
    ("quadratic + sin, HVP", lambda xp, x: 0.5 * x @ _A @ x + xp.sum(xp.sin(x)),
     _rng.normal(size=6), lambda x: (_A - np.diag(np.sin(x))) @ _v(x), "hvp"),
    ("pole at 1, HVP", lambda xp, x: xp.sum(1 / (x - 1)), np.array([1.01, 0.995, 3.0]),
     lambda x: 2 / (x - 1) ** 3 * _v(x), "hvp"),
    ("logsumexp logits ~ 30, HVP", lambda xp, x: xp.log(xp.sum(xp.exp(x - 30.0))) + 30.0,
     np.array([30.0, 29.0, 25.0, 1.0]), _lse_hvp, "hvp"),
    # found by the JAX peer suite (tests/peer/GRADPARITY_FLAWS.md)
    ("arctan at 1000", lambda xp, x: xp.sum(xp.arctan(x)), np.array([1000.0, 3.0]),
     lambda x: 1 / (1 + x**2), "grad"),
    ("0.9 sin at pi and 1, HVP", lambda xp, x: 0.9 * xp.sum(xp.sin(x)), np.array([np.pi, 1.0]),
     lambda x: -0.9 * np.sin(x) * _v(x), "hvp"),
    ("cbrt at 11..16, HVP (no complex step)", lambda xp, x: xp.sum(xp.cbrt(x)),
     np.array([16.037, 11.091, 13.389]), lambda x: -2 / 9 * x ** (-5 / 3) * _v(x), "hvp"),
]
#: Functions that round internally on a grid coarser than float64's: difference quotients
#: depend on the step there. The truth is what autodiff frameworks return: through a cast
#: or an offset, the derivative of the smooth function before the rounding; through
#: ``round``, whose derivative they define as 0, the derivative almost everywhere (0 here).
#: The reference must either match it or claim a bound that covers the gap (INCONCLUSIVE),
#: never a confident wrong number.
ROUNDING: list[tuple[str, Callable[..., Any], np.ndarray, Derivative, str]] = [
    ("float32 round trip inside", lambda xp, x: xp.sum(xp.sin(x.astype(np.float32)
                                                              .astype(np.float64))),
     np.array([0.3, 1.1, -2.0]), np.cos, "grad"),
    ("(x + 2**40) - 2**40 inside", lambda xp, x: xp.sum(xp.sin((x + 2.0**40) - 2.0**40)),
     np.array([0.3, 1.1, -2.0]), np.cos, "grad"),
    ("(x + 2**20) - 2**20 inside", lambda xp, x: xp.sum(xp.sin((x + 2.0**20) - 2.0**20)),
     np.array([0.3, 1.1, -2.0]), np.cos, "grad"),
    ("round(x * 1e4) / 1e4 inside", lambda xp, x: xp.sum(xp.exp(xp.round(x * 1e4) / 1e4)),
     np.array([0.3, 1.1, -2.0]), np.zeros_like, "grad"),
    ("float32 round trip, HVP", lambda xp, x: xp.sum(xp.sin(x.astype(np.float32)
                                                            .astype(np.float64)) * x),
     np.array([0.3, 1.1, -2.0]), lambda x: (2 * np.cos(x) - x * np.sin(x)) * _v(x), "hvp"),
    # not rounding, but step dependent too: the wide stencils straddle a kink 1e-9 away
    ("relu 1e-9 from its kink", lambda xp, x: xp.sum(xp.maximum(x, 0.0)),
     np.array([1e-9, -3e-9, 0.5]), lambda x: (x > 0).astype(float), "grad"),
]
#: Sizes of the directional-mode rows (sum(sin(x) x) on n inputs).
SIZES = (1_000, 100_000, 1_000_000)


def measure(name: str, fn: Callable[..., Any], x: np.ndarray, derivative: Derivative,
            kind: str) -> list[Any]:
    extra = {"tangents": {"x": _v(x)}} if kind == "hvp" else {}
    spec = Spec("accuracy", fn, {"x": x}, ("x",), kind=kind, **extra)
    start = time.perf_counter()
    reference = compute_reference(spec)
    seconds = time.perf_counter() - start
    want = derivative(x)
    if reference.mode == "directional":
        want = reference.observe(spec, "x", want)
    got, bound = reference.expected["x"], reference.uncertainty["x"]
    from conformance.tolerance import TOLERANCES

    tol = TOLERANCES["float64"]
    scale = np.abs(want) + tol["floor"] / tol["rtol"] * np.max(np.abs(want))
    scale = np.where(scale > 0, scale, 1.0)  # a derivative that is all 0: absolute figures
    error = float(np.max(np.abs(got - want) / scale))
    claimed = float(np.max(bound / scale))
    covered = "yes" if np.all(np.abs(got - want) <= np.maximum(bound, 4e-16 * scale)) else "NO"
    judged = "no" if claimed > JUDGEABLE else "yes"
    return [name, x.size, kind, reference.mode, f"{error:.1e}", f"{claimed:.1e}", covered,
            judged, reference.evaluations, _timing.duration(seconds)]


#: A reference whose bound (relative) exceeds this leaves a float64 case INCONCLUSIVE:
#: twice the bound must stay within half the float64 tolerance (conformance.tolerance).
JUDGEABLE = 0.25e-6


def main() -> None:
    args = _timing.parser(__doc__.split("\n\n")[0], rounds=1).parse_args()
    cases = SUITE[:2] if args.smoke else SUITE
    sizes = SIZES[:1] if args.smoke else SIZES
    rows = [measure(*case) for case in cases]
    rows += [measure(*case) for case in (ROUNDING[:1] if args.smoke else ROUNDING)]
    for n in sizes:
        x = np.linspace(-1, 1, n)
        rows.append(measure(f"sum(sin(x) x), n = {n:.0e}", lambda xp, x: xp.sum(xp.sin(x) * x),
                            x, lambda x: np.cos(x) * x + np.sin(x), "grad"))
    worst = max(float(row[4]) for row in rows if row[7] == "yes")
    uncovered = [row[0] for row in rows if row[6] == "NO"]
    body = _timing.table(["function", "n", "kind", "mode", "rel. error", "claimed bound",
                          "bound covers", "judgeable", "evaluations", "time"], rows)
    body += (f"\n\nlargest relative error {worst:.1e} over the judgeable of {len(rows)} cases "
             f"(a bound above {JUDGEABLE:.1e} leaves a float64 case INCONCLUSIVE); the claimed "
             f"bound fails to cover the true error on: {', '.join(uncovered) or 'none'}")
    _timing.report("the reference against analytic derivatives",
                   " ".join(["python benchmarks/reference_accuracy.py", *sys.argv[1:]]), body)


if __name__ == "__main__":
    main()

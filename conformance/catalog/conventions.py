"""Convention cases: derivatives at non-differentiable or degenerate points.

At a kink (relu at 0), a tie (max of equal values), the edge of a domain (sqrt at 0) or a
degenerate point (the eigenvectors of a repeated eigenvalue), there is no single right
derivative; each framework picks one (a subgradient, 0, NaN, inf). These cases are tagged
``convention``: the harness records every backend's answer as CONVENTION with its values
instead of judging it against the central-difference reference, and ``gradparity
conventions`` prints them side by side (see :mod:`conformance.conventions`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from conformance.spec import Spec

#: The tag that makes a spec a convention case.
TAG = "convention"


def _logsumexp(xp: Any, z: Any) -> Any:
    top = xp.max(z)
    return top + xp.log(xp.sum(xp.exp(z - top)))


#: Each case's function by name, filled by :func:`convention_specs`.
_FORMULAS: dict[str, Callable[..., Any]] = {}


def _formula(name: str, xp: Any, **arrays: Any) -> Any:
    """Case ``name``'s function, looked up by name: a spec holding ``partial(_formula,
    name)`` pickles, so a spawned worker process can receive it."""
    if name not in _FORMULAS:
        convention_specs()
    return _FORMULAS[name](xp, **arrays)


def _case(name: str, fn: Callable[..., Any], arrays: dict[str, Any], description: str) -> Spec:
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
    _FORMULAS[name] = fn
    return Spec(f"convention-{name}", functools.partial(_formula, name), arrays, tuple(arrays),
                tags=(TAG,), description=description)


def convention_specs() -> list[Spec]:
    """The convention cases (float64; the point, not the precision, is the question)."""
    weights = [1.0, 2.0, 3.0, 4.0]
    with np.errstate(all="ignore"):  # log(0) and friends, on purpose
        return [
            _case("relu-maximum-at-0", lambda xp, x: xp.sum(xp.maximum(x, 0.0)), {"x": [0.0]},
                  "d/dx maximum(x, 0) at x = 0 (relu)"),
            _case("relu-where-at-0", lambda xp, x: xp.sum(xp.where(x > 0, x, 0.0)), {"x": [0.0]},
                  "d/dx where(x > 0, x, 0) at x = 0"),
            _case("abs-at-0", lambda xp, x: xp.sum(xp.abs(x)), {"x": [0.0]},
                  "d/dx abs(x) at x = 0"),
            _case("maximum-tie", lambda xp, x, y: xp.sum(xp.maximum(x, y)),
                  {"x": [1.0], "y": [1.0]}, "d/dx, d/dy maximum(x, y) at x = y = 1"),
            _case("minimum-tie", lambda xp, x, y: xp.sum(xp.minimum(x, y)),
                  {"x": [1.0], "y": [1.0]}, "d/dx, d/dy minimum(x, y) at x = y = 1"),
            _case("max-reduction-tie", lambda xp, x: xp.max(x), {"x": [1.0, 3.0, 3.0, 2.0]},
                  "gradient of max(x) at x = [1, 3, 3, 2]"),
            _case("min-reduction-tie", lambda xp, x: xp.min(x), {"x": [2.0, -1.0, -1.0, 0.0]},
                  "gradient of min(x) at x = [2, -1, -1, 0]"),
            _case("sort-tie",
                  lambda xp, x: xp.sum(xp.sort(x) * xp.asarray(weights, dtype=x.dtype)),
                  {"x": [2.0, 1.0, 2.0, 0.0]},
                  "gradient of sum([1, 2, 3, 4] * sort(x)) at x = [2, 1, 2, 0]"),
            _case("sqrt-at-0", lambda xp, x: xp.sum(xp.sqrt(x)), {"x": [0.0]},
                  "d/dx sqrt(x) at x = 0"),
            _case("norm-at-0", lambda xp, x: xp.linalg.norm(x), {"x": [0.0, 0.0, 0.0]},
                  "gradient of linalg.norm(x) at x = 0"),
            _case("clip-at-bounds", lambda xp, x: xp.sum(xp.clip(x, 0.0, 1.0)),
                  {"x": [0.0, 1.0]}, "d/dx clip(x, 0, 1) at x = [0, 1] (both bounds)"),
            _case("sign-at-0", lambda xp, x: xp.sum(xp.sign(x)), {"x": [0.0]},
                  "d/dx sign(x) at x = 0"),
            _case("floor-at-integer", lambda xp, x: xp.sum(xp.floor(x)), {"x": [1.0]},
                  "d/dx floor(x) at x = 1"),
            _case("round-at-half", lambda xp, x: xp.sum(xp.round(x)), {"x": [0.5]},
                  "d/dx round(x) at x = 0.5"),
            _case("where-sqrt-at-0",
                  lambda xp, x: xp.sum(xp.where(x > 0, xp.sqrt(x), 0.0)), {"x": [0.0]},
                  "d/dx where(x > 0, sqrt(x), 0) at x = 0 (the where trap)"),
            _case("power-at-0", lambda xp, x, y: xp.sum(x ** y), {"x": [0.0], "y": [2.5]},
                  "d/dx, d/dy x ** y at x = 0, y = 2.5"),
            _case("power-int-2-at-0", lambda xp, x: xp.sum(x ** 2), {"x": [0.0]},
                  "d/dx x ** 2 at x = 0"),
            _case("power-int-0-at-0", lambda xp, x: xp.sum(x ** 0), {"x": [0.0]},
                  "d/dx x ** 0 at x = 0"),
            _case("arcsin-at-1", lambda xp, x: xp.sum(xp.arcsin(x)), {"x": [1.0]},
                  "d/dx arcsin(x) at x = 1"),
            _case("logsumexp-neg-inf",
                  lambda xp, x, m: _logsumexp(xp, x + xp.log(m)),
                  {"x": [0.5, -0.3, 1.2], "m": [1.0, 1.0, 0.0]},
                  "d/dx, d/dm logsumexp(x + log(m)) at m = [1, 1, 0] (a -inf entry)"),
            _case("prod-with-zero", lambda xp, x: xp.prod(x), {"x": [2.0, 0.0, 3.0]},
                  "gradient of prod(x) at x = [2, 0, 3] (differentiable: exactly [0, 6, 0])"),
            _case("cumprod-with-zero", lambda xp, x: xp.sum(xp.cumprod(x)),
                  {"x": [2.0, 0.0, 3.0]},
                  "gradient of sum(cumprod(x)) at x = [2, 0, 3] "
                  "(differentiable: exactly [1, 8, 0])"),
            _case("std-of-constant", lambda xp, x: xp.std(x), {"x": [1.0, 1.0, 1.0]},
                  "gradient of std(x) at x = [1, 1, 1]"),
            _case("eigh-repeated-eigenvalue",
                  lambda xp, a: xp.sum(xp.linalg.eigh(a + a.T)[1][:, 0] ** 2
                                       * xp.asarray([1.0, 2.0], dtype=a.dtype)),
                  {"a": [[0.5, 0.0], [0.0, 0.5]]},
                  "gradient of an eigenvector's squares of eigh(a + a.T) at a = I / 2 "
                  "(eigenvalue 1 twice)"),
        ]

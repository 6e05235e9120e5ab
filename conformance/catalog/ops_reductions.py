"""Op catalog: reductions (sum, mean, prod, max, std, ...), over everything and along an
axis, and the cumulative ones (cumsum, cumprod, diff)."""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.catalog._ops import Op, away, between, op_specs, rng_for, spread
from conformance.spec import Spec

FAMILY = "reductions"
SHAPE = (3, 4)


def _reduction(name: str, fn: Any, x: np.ndarray, description: str,
               kinds: tuple[str, ...] = ("grad",), **fixed: np.ndarray) -> Op:
    """``fn(xp, x, **fixed)``, differentiated w.r.t. ``x`` only."""
    return Op(name, fn, {"x": x, **fixed}, kinds, ("x",), description=description)


def ops() -> list[Op]:
    """The reductions, each at its point."""
    rng = rng_for(FAMILY, "points")
    x = away(rng, SHAPE, 0.5, 1.5)
    near_one = away(rng, SHAPE, 0.7, 1.3)
    return [
        _reduction("sum", lambda xp, x: xp.sum(x), x, "sum(x)"),
        _reduction("sum-axis", lambda xp, x: xp.sum(x, axis=0), x, "sum(x, axis=0)",
                   ("grad", "vjp")),
        _reduction("sum-keepdims", lambda xp, x: xp.sum(x, axis=1, keepdims=True), x,
                   "sum(x, axis=1, keepdims=True)"),
        _reduction("mean", lambda xp, x: xp.mean(x), x, "mean(x)"),
        _reduction("mean-axis", lambda xp, x: xp.mean(x, axis=1), x, "mean(x, axis=1)",
                   ("grad", "jvp")),
        _reduction("prod", lambda xp, x: xp.prod(x), near_one, "prod(x)", ("grad", "hvp")),
        _reduction("prod-axis", lambda xp, x: xp.prod(x, axis=0), x, "prod(x, axis=0)",
                   ("grad", "vjp")),
        _reduction("max", lambda xp, x: xp.max(x), spread(rng, SHAPE), "max(x)"),
        _reduction("max-axis", lambda xp, x: xp.max(x, axis=1), spread(rng, SHAPE),
                   "max(x, axis=1)", ("grad", "vjp")),
        _reduction("min", lambda xp, x: xp.min(x), spread(rng, SHAPE), "min(x)"),
        _reduction("min-axis", lambda xp, x: xp.min(x, axis=0), spread(rng, SHAPE),
                   "min(x, axis=0)"),
        _reduction("amax", lambda xp, x: xp.amax(x, axis=0), spread(rng, SHAPE),
                   "amax(x, axis=0)"),
        _reduction("amin", lambda xp, x: xp.amin(x), spread(rng, SHAPE), "amin(x)"),
        _reduction("ptp", lambda xp, x: xp.ptp(x, axis=1), spread(rng, SHAPE), "ptp(x, axis=1)"),
        _reduction("std", lambda xp, x: xp.std(x), x, "std(x)", ("grad", "hvp")),
        _reduction("std-axis-ddof", lambda xp, x: xp.std(x, axis=0, ddof=1), x,
                   "std(x, axis=0, ddof=1)"),
        _reduction("var", lambda xp, x: xp.var(x), x, "var(x)", ("grad", "hvp")),
        _reduction("var-axis", lambda xp, x: xp.var(x, axis=1), x, "var(x, axis=1)"),
        _reduction("average", lambda xp, x: xp.average(x, axis=0), x, "average(x, axis=0)"),
        _reduction("average-weighted", lambda xp, x, v: xp.average(x, axis=1, weights=v), x,
                   "average(x, axis=1, weights=v), v fixed", v=between(rng, (4,), 0.5, 2.0)),
        _reduction("nansum", lambda xp, x: xp.nansum(x), x, "nansum(x)"),
        _reduction("nanmean", lambda xp, x: xp.nanmean(x, axis=0), x, "nanmean(x, axis=0)"),
        _reduction("nanprod", lambda xp, x: xp.nanprod(x), near_one, "nanprod(x)"),
        _reduction("median", lambda xp, x: xp.median(x, axis=0), spread(rng, SHAPE),
                   "median(x, axis=0)"),
        _reduction("trace", lambda xp, x: xp.trace(x), x, "trace(x)"),
        _reduction("cumsum", lambda xp, x: xp.cumsum(x, axis=1), x, "cumsum(x, axis=1)",
                   ("grad", "vjp")),
        _reduction("cumsum-flat", lambda xp, x: xp.cumsum(x), x, "cumsum(x)"),
        _reduction("cumprod", lambda xp, x: xp.cumprod(x, axis=0), x, "cumprod(x, axis=0)",
                   ("grad", "vjp")),
        _reduction("diff", lambda xp, x: xp.diff(x, axis=1), x, "diff(x, axis=1)"),
        _reduction("diff-n2", lambda xp, x: xp.diff(x, n=2, axis=0), x, "diff(x, n=2, axis=0)"),
    ]


def specs() -> list[Spec]:
    """Every reduction case, in float64 and float32."""
    return op_specs(FAMILY, ops())

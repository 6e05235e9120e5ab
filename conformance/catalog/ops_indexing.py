"""Op catalog: indexing and selection (slicing, take, take_along_axis, where, select,
sort). Indices are constants inside ``fn`` (specs hold float arrays only). ``compress`` is
left out: its output shape depends on the mask's values, and ``jax.numpy.compress`` raises
TracerBoolConversionError under ``jax.jit`` unless given ``size=``, which numpy lacks."""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.catalog._ops import Op, away, op_specs, rng_for, spread
from conformance.spec import Spec

FAMILY = "indexing"


def _op(name: str, fn: Any, description: str, kinds: tuple[str, ...] = ("grad",),
        wrt: tuple[str, ...] = (), **arrays: np.ndarray) -> Op:
    return Op(name, fn, arrays, kinds, wrt, description=description)


def ops() -> list[Op]:
    """The indexing ops, each at its point."""
    rng = rng_for(FAMILY, "points")

    def normal(*shape: int) -> np.ndarray:
        return rng.normal(size=shape)

    order = [[2, 0, 1], [1, 2, 0]]
    return [
        _op("slice", lambda xp, x: x[1:, ::2], "x[1:, ::2]", ("grad", "vjp"), x=normal(3, 4)),
        _op("slice-negative-step", lambda xp, x: x[::-1], "x[::-1]", x=normal(5)),
        _op("integer-index", lambda xp, x: x[1] * x[-1], "x[1] * x[-1]", x=normal(4)),
        _op("newaxis", lambda xp, x: x[:, None] * x[None, :], "x[:, None] * x[None, :]",
            ("grad", "hvp"), x=normal(3)),
        _op("ellipsis", lambda xp, x: x[..., 1], "x[..., 1]", x=normal(2, 2, 3)),
        _op("take", lambda xp, x: xp.take(x, xp.asarray([3, 0, 0, 2])),
            "take(x, [3, 0, 0, 2]), repeats",
            ("grad", "vjp"), x=normal(4)),
        _op("take-axis", lambda xp, x: xp.take(x, xp.asarray([2, 0]), axis=1),
            "take(x, [2, 0], axis=1)",
            x=normal(2, 3)),
        _op("take_along_axis",
            lambda xp, x: xp.take_along_axis(x, xp.asarray(order), axis=1),
            "take_along_axis(x, [[2, 0, 1], [1, 2, 0]], axis=1)", x=normal(2, 3)),
        _op("where", lambda xp, x, y: xp.where(x > 0, x * y, y ** 2),
            "where(x > 0, x * y, y ** 2), no x near 0", ("grad", "vjp"),
            x=away(rng, (2, 3)), y=normal(2, 3)),
        _op("select", lambda xp, x: xp.select([x < -0.5, x > 0.5], [x ** 2, xp.sin(x)], x),
            "select([x < -0.5, x > 0.5], [x ** 2, sin(x)], x)",
            x=np.array([-1.2, -0.9, -0.2, 0.1, 0.8, 1.3])),
        _op("sort", lambda xp, x: xp.sort(x), "sort(x), distinct values", ("grad", "vjp"),
            x=spread(rng, (6,))),
        _op("sort-axis", lambda xp, x: xp.sort(x, axis=0), "sort(x, axis=0), distinct values",
            x=spread(rng, (3, 2))),
        _op("argsort-gather", lambda xp, x: xp.take(x, xp.argsort(x)),
            "take(x, argsort(x)), distinct values", x=spread(rng, (5,))),
        _op("argmax-gather", lambda xp, x: x[xp.argmax(x)] * x[0],
            "x[argmax(x)] * x[0], distinct values", x=spread(rng, (4,))),
    ]


def specs() -> list[Spec]:
    """Every indexing case, in float64 and float32."""
    return op_specs(FAMILY, ops())

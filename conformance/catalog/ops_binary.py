"""Op catalog: elementwise functions of two arrays, differentiated w.r.t. both, and the
arithmetic operators with broadcasting."""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.catalog._ops import Op, away, between, op_specs, rng_for
from conformance.spec import Spec

FAMILY = "binary"
SHAPE = (2, 3)


def _binary(name: str, x: np.ndarray, y: np.ndarray, kinds: tuple[str, ...] = ("grad",),
            times_x: bool = False, wrt: tuple[str, ...] = ()) -> Op:
    """``xp.<name>(x, y)`` (``times_x``: ``x * xp.<name>(x, y)``, for zero-derivative ops)."""
    def op(xp: Any, x: Any, y: Any) -> Any:
        out = getattr(xp, name)(x, y)
        return x * out if times_x else out

    return Op(name, op, {"x": x, "y": y}, kinds, wrt,
              description=f"x * {name}(x, y)" if times_x else f"{name}(x, y)")


def _operator(name: str, fn: Any, x: np.ndarray, y: np.ndarray, description: str,
              kinds: tuple[str, ...] = ("grad",)) -> Op:
    return Op(name, fn, {"x": x, "y": y}, kinds, description=description)


def ops() -> list[Op]:
    """The binary ops, each at its point."""
    rng = rng_for(FAMILY, "points")

    def pair(low: float = 0.3, high: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
        return away(rng, SHAPE, low, high), away(rng, SHAPE, low, high)

    def positive(low: float = 0.4, high: float = 2.0) -> np.ndarray:
        return between(rng, SHAPE, low, high)

    # maximum/minimum and fmax/fmin: the two arrays differ by at least 0.3 everywhere
    x_far = away(rng, SHAPE, 0.3, 1.5)
    y_far = x_far + away(rng, SHAPE, 0.3, 1.0)
    # mod-like ops: x / y stays at least 0.1 away from an integer
    y_mod = between(rng, SHAPE, 0.6, 1.4)
    x_mod = (rng.integers(-2, 3, SHAPE) + rng.uniform(0.15, 0.85, SHAPE)) * y_mod
    return [
        _binary("add", *pair(), ("grad", "vjp")),
        _binary("subtract", *pair()),
        _binary("multiply", *pair(), ("grad", "jvp", "hvp")),
        _binary("divide", away(rng, SHAPE), away(rng, SHAPE, 0.5, 2), ("grad", "hvp")),
        _binary("true_divide", away(rng, SHAPE), away(rng, SHAPE, 0.5, 2)),
        _binary("power", positive(), between(rng, SHAPE, -1.5, 2.5), ("grad", "jvp", "hvp")),
        _binary("float_power", positive(), between(rng, SHAPE, -1.5, 2.5)),
        _binary("pow", positive(), between(rng, SHAPE, -1.5, 2.5)),
        _binary("arctan2", *pair(), ("grad", "hvp")),
        _binary("atan2", *pair()),
        _binary("hypot", *pair(), ("grad", "hvp")),
        _binary("logaddexp", *pair(), ("grad", "hvp")),
        _binary("logaddexp2", *pair()),
        _binary("maximum", x_far, y_far, ("grad", "vjp")),
        _binary("minimum", y_far, x_far),
        _binary("fmax", x_far, y_far),
        _binary("fmin", y_far, x_far),
        _binary("mod", x_mod, y_mod),
        _binary("remainder", x_mod, y_mod),
        _binary("fmod", x_mod, y_mod),
        _binary("copysign", *pair()),
        _binary("floor_divide", x_mod, y_mod, times_x=True),
        _binary("heaviside", *pair(), times_x=True, wrt=("x",)),
        _operator("add-broadcast", lambda xp, x, y: x + y, rng.normal(size=(3, 1)),
                  rng.normal(size=(4,)), "x + y, shapes (3, 1) and (4,)", ("grad", "vjp")),
        _operator("multiply-broadcast", lambda xp, x, y: x * y, rng.normal(size=(2, 3)),
                  rng.normal(size=(3,)), "x * y, shapes (2, 3) and (3,)", ("grad", "jvp")),
        _operator("divide-broadcast", lambda xp, x, y: x / y, rng.normal(size=(2, 3)),
                  away(rng, (2, 1), 0.5, 2), "x / y, shapes (2, 3) and (2, 1)"),
        _operator("power-operator", lambda xp, x, y: x ** y, positive(),
                  between(rng, SHAPE, -1.5, 2.5), "x ** y"),
        _operator("subtract-scalar", lambda xp, x, y: 2.0 * x - y / 3.0 + 1.0, *pair(),
                  "2 x - y / 3 + 1 (Python scalars on both sides)"),
    ]


def specs() -> list[Spec]:
    """Every binary op case, in float64 and float32."""
    return op_specs(FAMILY, ops())

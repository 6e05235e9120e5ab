"""Op catalog: elementwise functions of one array (trigonometric, hyperbolic, exponential,
logarithmic, powers, rounding), each inside its domain and away from its kinks.

Rounding and sign functions have a zero derivative wherever they are differentiable, so they
are checked as ``x * op(x)``: the gradient is then ``op(x)``, not trivially zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.catalog._ops import Op, away, between, op_specs, rng_for
from conformance.spec import Spec

FAMILY = "elementwise"
SHAPE = (2, 3)


def _unary(name: str, low: float, high: float, kinds: tuple[str, ...] = ("grad",),
           signed: bool = False, times_x: bool = False, steps: float | None = None) -> Op:
    """``xp.<name>(x)`` at a 2x3 array drawn from ``[low, high]`` (``signed``: either sign);
    with ``steps``, at integers plus ``steps + [-0.3, 0.3]``, away from a step function's jumps."""
    rng = rng_for(FAMILY, name)
    x = away(rng, SHAPE, low, high) if signed else between(rng, SHAPE, low, high)
    if steps is not None:
        x = rng.integers(-2, 3, SHAPE) + steps + rng.uniform(-0.3, 0.3, SHAPE)

    def op(xp: Any, x: Any) -> Any:
        return getattr(xp, name)(x)

    def x_times(xp: Any, x: Any) -> Any:
        return x * getattr(xp, name)(x)

    return Op(name, x_times if times_x else op, {"x": x}, kinds,
              description=f"x * {name}(x)" if times_x else f"{name}(x)")


def _expression(name: str, fn: Any, x: Any, description: str,
                kinds: tuple[str, ...] = ("grad",)) -> Op:
    return Op(name, fn, {"x": x}, kinds, description=description)


def ops() -> list[Op]:
    """The elementwise ops, each at its point."""
    rng = rng_for(FAMILY, "expressions")
    return [
        _unary("sin", -3, 3, ("grad", "jvp", "hvp")),
        _unary("cos", -3, 3),
        _unary("tan", -1.2, 1.2, ("grad", "hvp")),
        _unary("arcsin", -0.8, 0.8, ("grad", "hvp")),
        _unary("arccos", -0.8, 0.8),
        _unary("arctan", -3, 3, ("grad", "vjp")),
        _unary("asin", -0.8, 0.8),
        _unary("acos", -0.8, 0.8),
        _unary("atan", -3, 3),
        _unary("sinh", -2, 2),
        _unary("cosh", -2, 2),
        _unary("tanh", -2, 2, ("grad", "jvp", "hvp")),
        _unary("arcsinh", -3, 3),
        _unary("arccosh", 1.2, 3),
        _unary("arctanh", -0.8, 0.8),
        _unary("asinh", -3, 3),
        _unary("acosh", 1.2, 3),
        _unary("atanh", -0.8, 0.8),
        _unary("exp", -2, 2, ("grad", "vjp", "hvp")),
        _unary("exp2", -2, 2),
        _unary("expm1", -2, 2),
        _unary("log", 0.3, 3, ("grad", "hvp")),
        _unary("log2", 0.3, 3),
        _unary("log10", 0.3, 3),
        _unary("log1p", -0.6, 3),
        _unary("sqrt", 0.3, 3, ("grad", "jvp", "hvp")),
        _unary("cbrt", 0.3, 3, signed=True),
        _unary("square", 0.3, 2, signed=True),
        _unary("reciprocal", 0.4, 2, ("grad", "hvp"), signed=True),
        _unary("negative", 0.3, 2, signed=True),
        _unary("positive", 0.3, 2, signed=True),
        _unary("abs", 0.3, 2, signed=True),
        _unary("absolute", 0.3, 2, signed=True),
        _unary("fabs", 0.3, 2, signed=True),
        _unary("sinc", 0.2, 1.8, ("grad", "hvp"), signed=True),
        _unary("deg2rad", -90, 90),
        _unary("rad2deg", -2, 2),
        _unary("degrees", -2, 2),
        _unary("radians", -90, 90),
        _unary("real", 0.3, 2, signed=True),
        _unary("conj", 0.3, 2, signed=True),
        _unary("conjugate", 0.3, 2, signed=True),
        _unary("sign", 0.3, 2, signed=True, times_x=True),
        _unary("floor", 0, 0, times_x=True, steps=0.5),
        _unary("ceil", 0, 0, times_x=True, steps=0.5),
        _unary("round", 0, 0, times_x=True, steps=0.0),
        _unary("around", 0, 0, times_x=True, steps=0.0),
        _unary("rint", 0, 0, times_x=True, steps=0.0),
        _unary("trunc", 0, 0, times_x=True, steps=0.5),
        _expression("clip", lambda xp, x: xp.clip(x, -1.0, 1.0),
                    np.array([[-1.6, -0.55, 0.3], [0.75, 1.4, -1.3]]),
                    "clip(x, -1, 1), points inside and outside the bounds"),
        _expression("power-scalar", lambda xp, x: x ** 3, away(rng, SHAPE), "x ** 3",
                    ("grad", "hvp")),
        _expression("power-half", lambda xp, x: x ** 0.5, between(rng, SHAPE, 0.3, 3),
                    "x ** 0.5"),
        _expression("power-negative", lambda xp, x: x ** -2.0, away(rng, SHAPE, 0.5, 2),
                    "x ** -2"),
        _expression("scalar-power", lambda xp, x: 2.0 ** x, between(rng, SHAPE, -2, 2), "2 ** x"),
        _expression("sigmoid", lambda xp, x: 1 / (1 + xp.exp(-x)), between(rng, SHAPE, -3, 3),
                    "1 / (1 + exp(-x)), the logistic sigmoid", ("grad", "hvp")),
        _expression("softplus", lambda xp, x: xp.log1p(xp.exp(x)), between(rng, SHAPE, -3, 3),
                    "log1p(exp(x))"),
    ]


def specs() -> list[Spec]:
    """Every elementwise op case, in float64 and float32."""
    return op_specs(FAMILY, ops())

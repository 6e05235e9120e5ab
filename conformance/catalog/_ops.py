"""Building op-catalog cases: one :class:`Op` becomes specs of several kinds in both dtypes.

An op is a function ``op(xp, **arrays)`` of a few small arrays, evaluated at a point inside
its domain, away from every kink (the reference's stencil, about ``2e-3 * max(1, |x|)``
wide, must not cross one). Its cases are named ``op-<family>-<op>-<kind>-<dtype>`` and
tagged ``op`` and ``op-<family>``:

* ``grad``: the gradient of ``sum(w * op(...))`` with a fixed random weight ``w`` (an array
  of the spec with role ``target``), so every output element counts with its own weight;
* ``jvp`` / ``vjp``: ``op`` itself, with a random tangent / cotangent;
* ``hvp``: the Hessian of ``sum(w * op(...))`` times a random tangent.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.spec import DTYPES, Spec

#: Name of the weight array that ``grad`` and ``hvp`` cases add to the op's arrays.
WEIGHT = "w"


@dataclass(frozen=True)
class Op:
    """One function of the shared numpy API at one point, and the kinds worth checking."""

    name: str
    fn: Callable[..., Any]
    arrays: dict[str, np.ndarray]
    kinds: tuple[str, ...] = ("grad",)
    wrt: tuple[str, ...] = ()  # empty: every array
    description: str = ""


def rng_for(family: str, name: str) -> np.random.Generator:
    """A generator seeded by the case's name: its arrays do not move when others are added."""
    return np.random.default_rng(zlib.crc32(f"{family}:{name}".encode()))


def away(rng: np.random.Generator, shape: Any, low: float = 0.3, high: float = 1.5) -> np.ndarray:
    """Values of random sign with ``low <= |x| <= high``: away from a kink at zero."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def between(rng: np.random.Generator, shape: Any, low: float, high: float) -> np.ndarray:
    """Uniform values in ``[low, high]``, for ops with a bounded domain."""
    return rng.uniform(low, high, shape)


def spread(rng: np.random.Generator, shape: Any) -> np.ndarray:
    """Distinct values in ``[-1.6, 1.6]``, shuffled, any two at least half the even spacing
    apart: no ties, so sort, max and min have no kink within the stencil."""
    size = int(np.prod(shape))
    step = 3.0 / max(size - 1, 1)
    values = np.linspace(-1.5, 1.5, size) + rng.uniform(-0.25, 0.25, size) * step
    return rng.permutation(values).reshape(shape)


def spd(rng: np.random.Generator, n: int) -> np.ndarray:
    """A well-conditioned symmetric positive definite matrix."""
    a = rng.normal(size=(n, n)) / np.sqrt(n)
    return a @ a.T + np.eye(n)


def _weight(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return away(rng, shape, 0.5, 1.5)


def _weighted_sum(op: Callable[..., Any]) -> Callable[..., Any]:
    def fn(xp: Any, w: Any, **arrays: Any) -> Any:
        return xp.sum(w * op(xp, **arrays))
    return fn


def op_specs(family: str, ops: Sequence[Op], group: str = "op") -> list[Spec]:
    """Every case of ``ops``: each kind of each op, in float64 and float32, named
    ``<group>-<family>-<op>-<kind>-<dtype>`` and tagged ``group`` and ``<group>-<family>``.

    An op the installed numpy lacks, or whose arguments it does not take (numpy 1.x has no
    array-API names such as ``asin``, nor ``clip(min=)``, nor numpy 2's ``solve`` of a stack
    with a vector), is left out: the reference runs on
    numpy, so it could not judge it; so is a dtype numpy does not compute the op in.
    """
    specs = []
    for op in ops:
        if WEIGHT in op.arrays:
            raise ValueError(f"op {op.name}: the array name {WEIGHT!r} is the cases' weight")
        rng = rng_for(family, op.name)
        try:
            with np.errstate(all="raise"):
                out_shape = np.shape(op.fn(np, **op.arrays))
        except (AttributeError, TypeError, ValueError):  # not in this numpy, or not so called
            continue
        wrt = op.wrt or tuple(op.arrays)
        what = op.description or op.name
        tags = (group, f"{group}-{family}")
        for kind in op.kinds:
            name = f"{group}-{family}-{op.name}-{kind}"
            if kind in ("grad", "hvp"):
                arrays = {**op.arrays, WEIGHT: _weight(rng, out_shape)}
                extra: dict[str, Any] = {}
                if kind == "hvp":
                    extra["tangents"] = {n: rng.normal(size=op.arrays[n].shape) for n in wrt}
                spec = Spec(name, _weighted_sum(op.fn), arrays, wrt, kind=kind,
                            roles={WEIGHT: "target"}, tags=tags,
                            description=f"{kind} of sum(w * {what})", **extra)
            elif kind == "jvp":
                spec = Spec(name, op.fn, op.arrays, wrt, kind=kind, tags=tags,
                            tangents={n: rng.normal(size=op.arrays[n].shape) for n in wrt},
                            description=f"jvp of {what}")
            elif kind == "vjp":
                spec = Spec(name, op.fn, op.arrays, wrt, kind=kind, tags=tags,
                            cotangent=rng.normal(size=out_shape), description=f"vjp of {what}")
            else:
                raise ValueError(f"op {op.name}: kind {kind!r} is not an op-catalog kind")
            specs += [spec.as_dtype(dtype) for dtype in DTYPES if _keeps(op, dtype)]
    return specs


def _keeps(op: Op, dtype: str) -> bool:
    """Whether numpy computes ``op`` in ``dtype`` for arrays of that dtype: an op it defines
    in float64 whatever the input (``float_power``, ``vander``) has no float32 case."""
    arrays = {n: np.asarray(a, dtype=dtype) for n, a in op.arrays.items()}
    with np.errstate(all="ignore"):
        return np.asarray(op.fn(np, **arrays)).dtype == np.dtype(dtype)

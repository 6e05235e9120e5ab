"""Op catalog: products and contractions (matmul, dot, inner, outer, tensordot, einsum,
kron, cross) and polynomials, differentiated w.r.t. every operand."""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.catalog._ops import Op, op_specs, rng_for
from conformance.spec import Spec

FAMILY = "products"


def _product(name: str, fn: Any, description: str, kinds: tuple[str, ...] = ("grad",),
             **arrays: np.ndarray) -> Op:
    return Op(name, fn, arrays, kinds, description=description)


def ops() -> list[Op]:
    """The products, each at its point."""
    rng = rng_for(FAMILY, "points")

    def normal(*shape: int) -> np.ndarray:
        return rng.normal(size=shape)

    return [
        _product("matmul", lambda xp, a, b: xp.matmul(a, b), "matmul(a, b), (2, 3) @ (3, 4)",
                 ("grad", "jvp", "vjp"), a=normal(2, 3), b=normal(3, 4)),
        _product("matmul-operator", lambda xp, a, b: a @ b, "a @ b, (3, 3) @ (3,)",
                 a=normal(3, 3), b=normal(3)),
        _product("matmul-batched", lambda xp, a, b: a @ b, "a @ b, (2, 2, 3) @ (3, 2)",
                 ("grad", "vjp"), a=normal(2, 2, 3), b=normal(3, 2)),
        _product("dot", lambda xp, a, b: xp.dot(a, b), "dot(a, b), (2, 3) and (3, 2)",
                 a=normal(2, 3), b=normal(3, 2)),
        _product("dot-vectors", lambda xp, a, b: xp.dot(a, b), "dot(a, b) of two vectors",
                 ("grad", "hvp"), a=normal(4), b=normal(4)),
        _product("inner", lambda xp, a, b: xp.inner(a, b), "inner(a, b), (2, 3) and (4, 3)",
                 a=normal(2, 3), b=normal(4, 3)),
        _product("outer", lambda xp, a, b: xp.outer(a, b), "outer(a, b)", ("grad", "vjp"),
                 a=normal(3), b=normal(4)),
        _product("vdot", lambda xp, a, b: xp.vdot(a, b), "vdot(a, b) of (2, 3) arrays",
                 a=normal(2, 3), b=normal(2, 3)),
        _product("tensordot", lambda xp, a, b: xp.tensordot(a, b, axes=1),
                 "tensordot(a, b, axes=1)", a=normal(2, 3), b=normal(3, 2)),
        _product("tensordot-axes", lambda xp, a, b: xp.tensordot(a, b, axes=([0, 2], [1, 0])),
                 "tensordot(a, b, axes=([0, 2], [1, 0]))", a=normal(2, 3, 2), b=normal(2, 2, 3)),
        _product("einsum-matmul", lambda xp, a, b: xp.einsum("ij,jk->ik", a, b),
                 "einsum('ij,jk->ik', a, b)", ("grad", "jvp"), a=normal(2, 3), b=normal(3, 2)),
        _product("einsum-batched", lambda xp, a, b: xp.einsum("bij,bj->bi", a, b),
                 "einsum('bij,bj->bi', a, b)", ("grad", "vjp"), a=normal(2, 3, 2),
                 b=normal(2, 2)),
        _product("einsum-trace", lambda xp, a: xp.einsum("ii->", a), "einsum('ii->', a)",
                 a=normal(3, 3)),
        _product("einsum-quadratic", lambda xp, a, x: xp.einsum("i,ij,j->", x, a, x),
                 "einsum('i,ij,j->', x, a, x), a quadratic form", ("grad", "hvp"),
                 a=normal(3, 3), x=normal(3)),
        _product("kron", lambda xp, a, b: xp.kron(a, b), "kron(a, b), (2, 2) and (2, 1)",
                 a=normal(2, 2), b=normal(2, 1)),
        _product("cross", lambda xp, a, b: xp.cross(a, b), "cross(a, b) of 3-vectors, batched",
                 ("grad", "vjp"), a=normal(2, 3), b=normal(2, 3)),
        _product("polyval", lambda xp, p, x: xp.polyval(p, x), "polyval(p, x), cubic p",
                 ("grad", "hvp"), p=normal(4), x=normal(3)),
        _product("vander", lambda xp, x: xp.vander(x, 3), "vander(x, 3)", x=normal(3)),
    ]


def specs() -> list[Spec]:
    """Every product case, in float64 and float32."""
    return op_specs(FAMILY, ops())

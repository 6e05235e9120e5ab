"""Op catalog: ``xp.linalg`` (norms, det, slogdet, inv, solve, cholesky, eigh, qr, svd,
pinv, matrix_power, multi_dot). Matrices are well conditioned; decompositions are checked
through quantities that do not depend on their sign conventions (squares of the factors'
entries, eigen- and singular values), and eigh and cholesky get a symmetric input built
inside ``fn``, so the derivative does not depend on which triangle a framework reads."""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.catalog._ops import Op, away, op_specs, rng_for, spd
from conformance.spec import Spec

FAMILY = "linalg"


def _op(name: str, fn: Any, description: str, kinds: tuple[str, ...] = ("grad",),
        **arrays: np.ndarray) -> Op:
    return Op(name, fn, arrays, kinds, description=description)


def _symmetric(xp: Any, a: Any) -> Any:
    """A symmetric positive definite matrix from any square ``a``."""
    return a @ a.T + a.shape[0] * xp.eye(a.shape[0], dtype=a.dtype)


def ops() -> list[Op]:
    """The linalg ops, each at its point."""
    rng = rng_for(FAMILY, "points")

    def normal(*shape: int) -> np.ndarray:
        return rng.normal(size=shape)

    well = spd(rng, 3) + 0.3 * normal(3, 3)  # well conditioned, not symmetric
    return [
        _op("norm", lambda xp, x: xp.linalg.norm(x), "linalg.norm(x) of a vector",
            ("grad", "hvp"), x=normal(4)),
        _op("norm-fro", lambda xp, x: xp.linalg.norm(x), "linalg.norm(x) of a matrix (Frobenius)",
            x=normal(2, 3)),
        _op("norm-axis", lambda xp, x: xp.linalg.norm(x, axis=1), "linalg.norm(x, axis=1)",
            ("grad", "vjp"), x=normal(3, 2)),
        _op("norm-ord1", lambda xp, x: xp.linalg.norm(x, ord=1), "linalg.norm(x, ord=1)",
            x=away(rng, (4,))),
        _op("norm-ord3", lambda xp, x: xp.linalg.norm(x, ord=3), "linalg.norm(x, ord=3)",
            x=away(rng, (4,))),
        _op("norm-nuc", lambda xp, x: xp.linalg.norm(x, ord="nuc"),
            "linalg.norm(x, ord='nuc'), distinct singular values", x=well),
        _op("det", lambda xp, a: xp.linalg.det(a), "linalg.det(a)", ("grad", "hvp"), a=well),
        _op("slogdet", lambda xp, a: xp.linalg.slogdet(a)[1], "linalg.slogdet(a)[1]", a=well),
        _op("inv", lambda xp, a: xp.linalg.inv(a), "linalg.inv(a)", ("grad", "vjp", "jvp"),
            a=well),
        _op("solve", lambda xp, a, b: xp.linalg.solve(a, b), "linalg.solve(a, b), vector b",
            ("grad", "vjp"), a=well, b=normal(3)),
        _op("solve-matrix", lambda xp, a, b: xp.linalg.solve(a, b),
            "linalg.solve(a, b), (3, 2) b", a=well, b=normal(3, 2)),
        _op("cholesky", lambda xp, a: xp.linalg.cholesky(_symmetric(xp, a)),
            "linalg.cholesky(a a^T + 3 I)", ("grad", "vjp"), a=normal(3, 3)),
        _op("eigh-values", lambda xp, a: xp.linalg.eigh(_symmetric(xp, a))[0],
            "linalg.eigh(a a^T + 3 I)[0]", a=normal(3, 3)),
        _op("eigh-vectors", lambda xp, a: xp.linalg.eigh(_symmetric(xp, a))[1] ** 2,
            "linalg.eigh(a a^T + 3 I)[1] ** 2 (sign-free)", a=normal(3, 3)),
        _op("eigvalsh", lambda xp, a: xp.linalg.eigvalsh(_symmetric(xp, a)),
            "linalg.eigvalsh(a a^T + 3 I)", a=normal(3, 3)),
        _op("qr", lambda xp, a: xp.concatenate([q ** 2 for q in xp.linalg.qr(a)], axis=0),
            "linalg.qr(a), squares of q and r (sign-free)", a=normal(3, 3)),
        _op("svd-values", lambda xp, a: xp.linalg.svd(a, compute_uv=False),
            "linalg.svd(a, compute_uv=False)", ("grad", "vjp"), a=normal(3, 2)),
        _op("svd-vectors",
            lambda xp, a: xp.linalg.svd(a, full_matrices=False)[0] ** 2,
            "linalg.svd(a, full_matrices=False)[0] ** 2 (sign-free)", a=normal(3, 2)),
        _op("pinv", lambda xp, a: xp.linalg.pinv(a), "linalg.pinv(a) of a (3, 2) matrix",
            a=normal(3, 2)),
        _op("matrix_power", lambda xp, a: xp.linalg.matrix_power(a, 3),
            "linalg.matrix_power(a, 3)", a=normal(3, 3) / 2),
        _op("matrix_power-negative", lambda xp, a: xp.linalg.matrix_power(a, -2),
            "linalg.matrix_power(a, -2)", a=well),
        _op("multi_dot", lambda xp, a, b, c: xp.linalg.multi_dot([a, b, c]),
            "linalg.multi_dot([a, b, c])", a=normal(2, 3), b=normal(3, 3), c=normal(3, 2)),
    ]


def specs() -> list[Spec]:
    """Every linalg case, in float64 and float32."""
    return op_specs(FAMILY, ops())

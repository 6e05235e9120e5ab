"""Op catalog: array manipulation (reshape, transpose, concatenate, split, tile, flip, pad,
triangles, diagonals, ...). Their derivatives move values around, so the weighted sum and the
vjp check that every element lands where it should."""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.catalog._ops import Op, op_specs, rng_for
from conformance.spec import Spec

FAMILY = "manipulation"


def _op(name: str, fn: Any, description: str, kinds: tuple[str, ...] = ("grad",),
        **arrays: np.ndarray) -> Op:
    return Op(name, fn, arrays, kinds, description=description)


def _weighted_parts(parts: Any) -> Any:
    """Split pieces, each scaled by its position, so a piece swapped with another is seen."""
    return [p * (i + 1.0) for i, p in enumerate(parts)]


def ops() -> list[Op]:
    """The manipulation ops, each at its point."""
    rng = rng_for(FAMILY, "points")

    def normal(*shape: int) -> np.ndarray:
        return rng.normal(size=shape)

    return [
        _op("reshape", lambda xp, x: xp.reshape(x, (3, 2)), "reshape(x, (3, 2))",
            ("grad", "vjp"), x=normal(2, 3)),
        _op("reshape-method", lambda xp, x: x.reshape(-1), "x.reshape(-1)", x=normal(2, 3)),
        _op("ravel", lambda xp, x: xp.ravel(x), "ravel(x)", x=normal(2, 3)),
        _op("transpose", lambda xp, x: xp.transpose(x), "transpose(x)", ("grad", "jvp"),
            x=normal(2, 3)),
        _op("transpose-axes", lambda xp, x: xp.transpose(x, (1, 2, 0)),
            "transpose(x, (1, 2, 0))", x=normal(2, 3, 2)),
        _op("permute_dims", lambda xp, x: xp.permute_dims(x, (2, 0, 1)),
            "permute_dims(x, (2, 0, 1))", x=normal(2, 3, 2)),
        _op("T", lambda xp, x: x.T, "x.T", x=normal(2, 3)),
        _op("swapaxes", lambda xp, x: xp.swapaxes(x, 0, 2), "swapaxes(x, 0, 2)",
            x=normal(2, 3, 2)),
        _op("moveaxis", lambda xp, x: xp.moveaxis(x, 0, -1), "moveaxis(x, 0, -1)",
            x=normal(2, 3, 2)),
        _op("squeeze", lambda xp, x: xp.squeeze(x, axis=1), "squeeze(x, axis=1)",
            x=normal(3, 1, 2)),
        _op("expand_dims", lambda xp, x: xp.expand_dims(x, 1), "expand_dims(x, 1)",
            x=normal(2, 3)),
        _op("concatenate", lambda xp, x, y: xp.concatenate([x, y], axis=1),
            "concatenate([x, y], axis=1)", ("grad", "vjp"), x=normal(2, 3), y=normal(2, 2)),
        _op("concat", lambda xp, x, y: xp.concat([x, y], axis=0), "concat([x, y], axis=0)",
            x=normal(2, 3), y=normal(1, 3)),
        _op("stack", lambda xp, x, y: xp.stack([x, y], axis=1), "stack([x, y], axis=1)",
            x=normal(2, 3), y=normal(2, 3)),
        _op("hstack", lambda xp, x, y: xp.hstack([x, y]), "hstack([x, y])",
            x=normal(2, 3), y=normal(2, 1)),
        _op("vstack", lambda xp, x, y: xp.vstack([x, y]), "vstack([x, y])",
            x=normal(2, 3), y=normal(3)),
        _op("dstack", lambda xp, x, y: xp.dstack([x, y]), "dstack([x, y])",
            x=normal(2, 3), y=normal(2, 3)),
        _op("column_stack", lambda xp, x, y: xp.column_stack([x, y]), "column_stack([x, y])",
            x=normal(3), y=normal(3, 2)),
        _op("split", lambda xp, x: xp.concatenate(_weighted_parts(xp.split(x, 3))),
            "split(x, 3), the pieces weighted by position", ("grad", "vjp"), x=normal(6)),
        _op("array_split", lambda xp, x: xp.concatenate(_weighted_parts(xp.array_split(x, 2))),
            "array_split(x, 2), weighted by position", x=normal(5)),
        _op("hsplit", lambda xp, x: xp.concatenate(_weighted_parts(xp.hsplit(x, 2)), axis=1),
            "hsplit(x, 2), weighted by position", x=normal(2, 4)),
        _op("vsplit", lambda xp, x: xp.concatenate(_weighted_parts(xp.vsplit(x, 2))),
            "vsplit(x, 2), weighted by position", x=normal(4, 2)),
        _op("dsplit", lambda xp, x: xp.concatenate(_weighted_parts(xp.dsplit(x, 2)), axis=2),
            "dsplit(x, 2), weighted by position", x=normal(2, 1, 4)),
        _op("tile", lambda xp, x: xp.tile(x, (2, 1)), "tile(x, (2, 1))", ("grad", "vjp"),
            x=normal(2, 3)),
        _op("repeat", lambda xp, x: xp.repeat(x, 2, axis=0), "repeat(x, 2, axis=0)",
            x=normal(2, 3)),
        _op("flip", lambda xp, x: xp.flip(x, axis=1), "flip(x, axis=1)", x=normal(2, 3)),
        _op("fliplr", lambda xp, x: xp.fliplr(x), "fliplr(x)", x=normal(2, 3)),
        _op("flipud", lambda xp, x: xp.flipud(x), "flipud(x)", x=normal(2, 3)),
        _op("roll", lambda xp, x: xp.roll(x, 2, axis=1), "roll(x, 2, axis=1)", ("grad", "vjp"),
            x=normal(2, 4)),
        _op("rot90", lambda xp, x: xp.rot90(x), "rot90(x)", x=normal(2, 3)),
        _op("pad", lambda xp, x: xp.pad(x, ((1, 0), (0, 2)), mode="constant"),
            "pad(x, ((1, 0), (0, 2)), mode='constant')",
            ("grad", "vjp"), x=normal(2, 3)),
        _op("pad-reflect", lambda xp, x: xp.pad(x, ((2, 1),), mode="reflect"),
            "pad(x, ((2, 1),), mode='reflect')",
            x=normal(4)),
        _op("broadcast_to", lambda xp, x: xp.broadcast_to(x, (3, 2, 3)),
            "broadcast_to(x, (3, 2, 3))", x=normal(2, 3)),
        _op("broadcast_arrays", lambda xp, x, y: xp.stack(xp.broadcast_arrays(x, y)),
            "stack(broadcast_arrays(x, y)), shapes (2, 1) and (3,)", x=normal(2, 1), y=normal(3)),
        _op("atleast_2d", lambda xp, x: xp.atleast_2d(x), "atleast_2d(x)", x=normal(3)),
        _op("atleast_3d", lambda xp, x: xp.atleast_3d(x), "atleast_3d(x)", x=normal(2, 3)),
        _op("append", lambda xp, x, y: xp.append(x, y, axis=0), "append(x, y, axis=0)",
            x=normal(2, 3), y=normal(1, 3)),
        _op("diag", lambda xp, x: xp.diag(x), "diag(x) of a matrix", x=normal(3, 3)),
        _op("diag-vector", lambda xp, x: xp.diag(x, k=1), "diag(x, k=1) of a vector", x=normal(3)),
        _op("diagflat", lambda xp, x: xp.diagflat(x), "diagflat(x)", x=normal(2, 2)),
        _op("diagonal", lambda xp, x: xp.diagonal(x, offset=1), "diagonal(x, offset=1)",
            x=normal(3, 4)),
        _op("tril", lambda xp, x: xp.tril(x), "tril(x)", ("grad", "vjp"), x=normal(3, 3)),
        _op("triu", lambda xp, x: xp.triu(x, k=1), "triu(x, k=1)", x=normal(3, 4)),
        _op("copy", lambda xp, x: xp.copy(x), "copy(x)", x=normal(2, 3)),
    ]


def specs() -> list[Spec]:
    """Every manipulation case, in float64 and float32."""
    return op_specs(FAMILY, ops())

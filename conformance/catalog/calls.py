"""Calling conventions: numpy names called the ways numpy users call them.

The op catalog checks each function once, at its point; these cases check that every name an
``xp`` offers means what numpy means with numpy's positional and keyword arguments too
(``std(x, 0)``, ``var(x, ddof=1)``, ``clip(x, min=..., max=...)``, ``linalg.eigh(a, "U")``,
``x[[0, 2]]``, ``x.reshape(2, 6)``, ``pad(x, 1, "edge")``), since a namespace that takes an
argument and silently gives it another meaning (TensorFlow's ``linalg.eigh(a, name)`` reads
numpy's ``UPLO`` as an op name) is a wrong value, not a missing name. Each case is the
gradient of ``sum(w * f(...))``, so the value and the derivative are both judged; cases are
named ``calls-<topic>-<form>-grad-<dtype>`` and tagged ``calls`` and ``calls-<topic>``. A
namespace that cannot take a form must say so (UNSUPPORTED naming it), never compute
something else.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.catalog._ops import Op, away, op_specs, rng_for, spd, spread
from conformance.spec import Spec

#: The case's tag, and the first part of every case's name.
GROUP = "calls"
#: A point of clip cases: no value within the stencil of the bounds -0.5 and 0.5.
CLIPPED = np.array([[-1.2, -0.7, -0.3, 0.1], [0.35, 0.6, 0.9, 1.4], [-0.9, 0.2, 1.1, -0.1]])


def _ops(forms: dict[str, tuple[str, Any]], **arrays: np.ndarray) -> list[Op]:
    """One op per form ``name -> (description, fn)``, all at the same arrays."""
    return [Op(name, fn, dict(arrays), description=description)
            for name, (description, fn) in forms.items()]


def reductions() -> list[Op]:
    """Axis, ddof and keepdims positionally and by keyword, and the array methods."""
    rng = rng_for(GROUP, "reductions")
    x = away(rng, (3, 4), 0.5, 1.5)
    return _ops({
        "std-axis-positional": ("std(x, 0)", lambda xp, x: xp.std(x, 0)),
        "std-ddof": ("std(x, ddof=1)", lambda xp, x: xp.std(x, ddof=1)),
        "std-axis-ddof-keepdims": ("std(x, axis=1, ddof=1, keepdims=True)",
                                   lambda xp, x: xp.std(x, axis=1, ddof=1, keepdims=True)),
        "var-ddof": ("var(x, ddof=1)", lambda xp, x: xp.var(x, ddof=1)),
        "var-axis-positional-keepdims": ("var(x, 1, keepdims=True)",
                                         lambda xp, x: xp.var(x, 1, keepdims=True)),
        "var-correction": ("var(x, axis=0, correction=1)",
                           lambda xp, x: xp.var(x, axis=0, correction=1)),
        "std-method-ddof": ("x.std(ddof=1)", lambda xp, x: x.std(ddof=1)),
        "var-method-axis-ddof": ("x.var(axis=0, ddof=1)", lambda xp, x: x.var(axis=0, ddof=1)),
        "sum-axis-tuple": ("sum(x, axis=(0, 1))", lambda xp, x: xp.sum(x, axis=(0, 1))),
        "sum-axis-positional-keepdims": ("sum(x, 1, keepdims=True)",
                                         lambda xp, x: xp.sum(x, 1, keepdims=True)),
        "sum-method": ("x.sum(0)", lambda xp, x: x.sum(0)),
        "mean-axis-negative": ("mean(x, axis=-1)", lambda xp, x: xp.mean(x, axis=-1)),
        "mean-method-keepdims": ("x.mean(axis=1, keepdims=True)",
                                 lambda xp, x: x.mean(axis=1, keepdims=True)),
        "prod-method": ("x.prod(axis=1)", lambda xp, x: x.prod(axis=1)),
        "cumsum-positional": ("cumsum(x, 0)", lambda xp, x: xp.cumsum(x, 0)),
        "cumsum-method": ("x.cumsum(axis=1)", lambda xp, x: x.cumsum(axis=1)),
        "diff-positional": ("diff(x, 1, 0)", lambda xp, x: xp.diff(x, 1, 0)),
        "diff-n": ("diff(x, 2)", lambda xp, x: xp.diff(x, 2)),
        "trace-offset-positional": ("trace(x, 1)", lambda xp, x: xp.trace(x, 1)),
        "trace-offset-keyword": ("trace(x, offset=-1)", lambda xp, x: xp.trace(x, offset=-1)),
        "average-weights-positional": (
            "average(x, 0, [1, 2, 3])",
            lambda xp, x: xp.average(x, 0, xp.asarray([1.0, 2.0, 3.0], dtype=x.dtype))),
        "nanmean-axis-positional": ("nanmean(x, 1)", lambda xp, x: xp.nanmean(x, 1)),
        "size-and-len": ("sum(x) / x.size + len(x) * mean(x)",
                         lambda xp, x: xp.sum(x) / x.size + len(x) * xp.mean(x)),
    }, x=x) + _ops({
        "max-axis-positional": ("max(x, 1)", lambda xp, x: xp.max(x, 1)),
        "max-method": ("x.max(axis=0)", lambda xp, x: x.max(axis=0)),
        "min-keepdims": ("min(x, axis=1, keepdims=True)",
                         lambda xp, x: xp.min(x, axis=1, keepdims=True)),
        "amax-positional-keepdims": ("amax(x, 0, keepdims=True)",
                                     lambda xp, x: xp.amax(x, 0, keepdims=True)),
        "median-axis-positional": ("median(x, 1)", lambda xp, x: xp.median(x, 1)),
        "ptp-positional": ("ptp(x, 0)", lambda xp, x: xp.ptp(x, 0)),
        "sort-axis-positional": ("sort(x, 0)", lambda xp, x: xp.sort(x, 0)),
        "sort-flattened": ("sort(x, axis=None)", lambda xp, x: xp.sort(x, axis=None)),
    }, x=spread(rng, (3, 4)))


def clipping() -> list[Op]:
    """``clip`` with numpy's bounds by position, as ``a_min``/``a_max`` and as numpy 2's
    ``min``/``max``, one bound left out, and the method."""
    return _ops({
        "positional": ("clip(x, -0.5, 0.5)", lambda xp, x: xp.clip(x, -0.5, 0.5)),
        "a_min-a_max": ("clip(x, a_min=-0.5, a_max=0.5)",
                        lambda xp, x: xp.clip(x, a_min=-0.5, a_max=0.5)),
        "min-max": ("clip(x, min=-0.5, max=0.5)", lambda xp, x: xp.clip(x, min=-0.5, max=0.5)),
        "upper-only": ("clip(x, None, 0.5)", lambda xp, x: xp.clip(x, None, 0.5)),
        "lower-only": ("clip(x, -0.5, None)", lambda xp, x: xp.clip(x, -0.5, None)),
        "max-only": ("clip(x, max=0.5)", lambda xp, x: xp.clip(x, max=0.5)),
        "method": ("x.clip(-0.5, 0.5)", lambda xp, x: x.clip(-0.5, 0.5)),
        "method-max-only": ("x.clip(max=0.5)", lambda xp, x: x.clip(max=0.5)),
    }, x=CLIPPED)


def indexing() -> list[Op]:
    """Python lists as indices (numpy's advanced indexing), index pairs, boolean masks."""
    rng = rng_for(GROUP, "indexing")
    mask = np.array([True, False, True, True])
    return _ops({
        "list": ("x[[0, 2]]", lambda xp, x: x[[0, 2]]),
        "list-repeated": ("x[[0, 2, 0]]", lambda xp, x: x[[0, 2, 0]]),
        "list-negative": ("x[[-1, 0]]", lambda xp, x: x[[-1, 0]]),
        "list-columns": ("x[:, [2, 0]]", lambda xp, x: x[:, [2, 0]]),
        "list-pairs": ("x[[0, 1, 3], [2, 0, 1]]", lambda xp, x: x[[0, 1, 3], [2, 0, 1]]),
        "numpy-array": ("x[np.array([3, 1])]", lambda xp, x: x[np.array([3, 1])]),
        "numpy-mask": ("x[np.array([True, False, True, True])]", lambda xp, x: x[mask]),
        "take-list": ("take(x, [2, 0], axis=1)", lambda xp, x: xp.take(x, [2, 0], axis=1)),
        "take-flat-list": ("take(x, [5, 1])", lambda xp, x: xp.take(x, [5, 1])),
    }, x=rng.normal(size=(4, 3)))


def _nonsymmetric(rng: np.random.Generator) -> np.ndarray:
    """A positive definite lower triangle under an unrelated upper one: numpy's ``eigh``
    and ``cholesky`` read one triangle only, so the other must not change the answer."""
    lower = spd(rng, 3)
    return np.tril(lower) + np.triu(rng.normal(size=(3, 3)), 1)


def linalg() -> list[Op]:
    """Which triangle ``eigh``/``eigvalsh``/``cholesky`` read, ``norm``'s ``ord`` by position,
    the modes of ``qr`` and ``svd``, numpy 2's named results, a stack of matrices."""
    rng = rng_for(GROUP, "linalg")
    a = _nonsymmetric(rng)
    upper = np.triu(spd(rng, 3)) + np.tril(rng.normal(size=(3, 3)), -1)
    m = rng.normal(size=(3, 2))
    v = away(rng, (4,))
    return _ops({
        "eigh-lower-default": ("linalg.eigh(a)[0], a not symmetric",
                               lambda xp, a: xp.linalg.eigh(a)[0]),
        "eigh-vectors-lower-default": ("linalg.eigh(a)[1] ** 2, a not symmetric",
                                       lambda xp, a: xp.linalg.eigh(a)[1] ** 2),
        "eigvalsh-lower-default": ("linalg.eigvalsh(a), a not symmetric",
                                   lambda xp, a: xp.linalg.eigvalsh(a)),
        "cholesky-lower-default": ("linalg.cholesky(a), a not symmetric",
                                   lambda xp, a: xp.linalg.cholesky(a)),
        "eigh-named-result": ("linalg.eigh(a).eigenvalues",
                              lambda xp, a: xp.linalg.eigh(a).eigenvalues),
    }, a=a) + _ops({
        "eigh-upper-positional": ('linalg.eigh(a, "U")[0]',
                                  lambda xp, a: xp.linalg.eigh(a, "U")[0]),
        "eigh-upper-keyword": ('linalg.eigh(a, UPLO="U")[1] ** 2',
                               lambda xp, a: xp.linalg.eigh(a, UPLO="U")[1] ** 2),
        "eigvalsh-upper-positional": ('linalg.eigvalsh(a, "U")',
                                      lambda xp, a: xp.linalg.eigvalsh(a, "U")),
        "cholesky-upper": ("linalg.cholesky(a, upper=True)",
                           lambda xp, a: xp.linalg.cholesky(a, upper=True)),
    }, a=upper) + _ops({
        "norm-ord-positional": ("linalg.norm(m, 1): the largest column sum",
                                lambda xp, m: xp.linalg.norm(m, 1)),
        "norm-spectral": ("linalg.norm(m, 2)", lambda xp, m: xp.linalg.norm(m, 2)),
        "norm-inf": ("linalg.norm(m, inf): the largest row sum",
                     lambda xp, m: xp.linalg.norm(m, np.inf)),
        "norm-fro-keepdims": ("linalg.norm(m, 'fro', keepdims=True)",
                              lambda xp, m: xp.linalg.norm(m, "fro", keepdims=True)),
        "norm-axis-positional": ("linalg.norm(m, 3, 0)", lambda xp, m: xp.linalg.norm(m, 3, 0)),
        "qr-mode-r": ('linalg.qr(m, "r") ** 2', lambda xp, m: xp.linalg.qr(m, "r") ** 2),
        "qr-complete": ('linalg.qr(m, mode="complete")[0] ** 2',
                        lambda xp, m: xp.linalg.qr(m, mode="complete")[0] ** 2),
        "svd-reduced-positional": ("linalg.svd(m, False)[0] ** 2",
                                   lambda xp, m: xp.linalg.svd(m, False)[0] ** 2),
        "svd-values-positional": ("linalg.svd(m, False, False)",
                                  lambda xp, m: xp.linalg.svd(m, False, False)),
    }, m=np.array([[1.3, -0.4], [0.2, 0.9], [-0.7, 0.5]]) + 0.1 * m) + _ops({
        "norm-vector-inf": ("linalg.norm(v, inf)", lambda xp, v: xp.linalg.norm(v, np.inf)),
        "norm-vector-keepdims": ("linalg.norm(v, keepdims=True)",
                                 lambda xp, v: xp.linalg.norm(v, keepdims=True)),
    }, v=v) + _ops({
        "solve-stack-vector": ("linalg.solve(a, b), a a stack (2, 3, 3), b a vector (3,)",
                               lambda xp, a, b: xp.linalg.solve(a, b)),
    }, a=np.stack([spd(rng, 3), spd(rng, 3)]), b=rng.normal(size=3)) + _ops({
        "slogdet-named-result": ("linalg.slogdet(a).logabsdet",
                                 lambda xp, a: xp.linalg.slogdet(a).logabsdet),
        "det-stack": ("linalg.det(a), a stack of matrices", lambda xp, a: xp.linalg.det(a)),
        "inv-stack": ("linalg.inv(a), a stack of matrices", lambda xp, a: xp.linalg.inv(a)),
    }, a=np.stack([spd(rng, 3), spd(rng, 3) + 0.2 * rng.normal(size=(3, 3))]))


def manipulation() -> list[Op]:
    """Shapes and axes: reshape forms, transposes, split, tile/repeat, pad modes, roll, flip,
    triangles and diagonals, sorting, constructors in the array's dtype."""
    rng = rng_for(GROUP, "manipulation")
    x = rng.normal(size=(3, 4))
    cube = rng.normal(size=(2, 3, 4))
    return _ops({
        "reshape-tuple": ("reshape(x, (2, 6))", lambda xp, x: xp.reshape(x, (2, 6))),
        "reshape-minus-one": ("reshape(x, -1)", lambda xp, x: xp.reshape(x, -1)),
        "reshape-method-varargs": ("x.reshape(2, 6)", lambda xp, x: x.reshape(2, 6)),
        "reshape-method-minus-one": ("x.reshape(-1)", lambda xp, x: x.reshape(-1)),
        "reshape-order-f": ('reshape(x, (2, 6), order="F")',
                            lambda xp, x: xp.reshape(x, (2, 6), order="F")),
        "flatten-method": ("x.flatten()", lambda xp, x: x.flatten()),
        "ravel-method": ("x.ravel()", lambda xp, x: x.ravel()),
        "transpose-method-t": ("x.T", lambda xp, x: x.T),
        "split-sections": ("concatenate(split(x, 2, axis=1)[::-1], 1)",
                           lambda xp, x: xp.concatenate(xp.split(x, 2, axis=1)[::-1], 1)),
        "split-indices": ("split(x, [1, 3], axis=1)[1]",
                          lambda xp, x: xp.split(x, [1, 3], axis=1)[1]),
        "concatenate-axis-none": ("concatenate([x, x ** 2], axis=None)",
                                  lambda xp, x: xp.concatenate([x, x ** 2], axis=None)),
        "stack-axis-positional": ("stack([x, x ** 2], 1)", lambda xp, x: xp.stack([x, x ** 2], 1)),
        "tile-int": ("tile(x, 2)", lambda xp, x: xp.tile(x, 2)),
        "tile-tuple": ("tile(x, (2, 1))", lambda xp, x: xp.tile(x, (2, 1))),
        "repeat-flat": ("repeat(x, 2)", lambda xp, x: xp.repeat(x, 2)),
        "repeat-axis-positional": ("repeat(x, 2, 0)", lambda xp, x: xp.repeat(x, 2, 0)),
        "repeat-counts": ("repeat(x, [1, 2, 1], axis=0)",
                          lambda xp, x: xp.repeat(x, [1, 2, 1], axis=0)),
        "repeat-method": ("x.repeat(2, axis=1)", lambda xp, x: x.repeat(2, axis=1)),
        "pad-int": ("pad(x, 1)", lambda xp, x: xp.pad(x, 1)),
        "pad-pairs": ("pad(x, ((1, 0), (0, 2)))", lambda xp, x: xp.pad(x, ((1, 0), (0, 2)))),
        "pad-pair": ("pad(x, (1, 2))", lambda xp, x: xp.pad(x, (1, 2))),
        "pad-constant-values": ("pad(x, 1, constant_values=0.5)",
                                lambda xp, x: xp.pad(x, 1, constant_values=0.5)),
        "pad-mode-positional": ('pad(x, 1, "edge")', lambda xp, x: xp.pad(x, 1, "edge")),
        "pad-reflect": ('pad(x, 1, mode="reflect")', lambda xp, x: xp.pad(x, 1, mode="reflect")),
        "roll-flat": ("roll(x, 1)", lambda xp, x: xp.roll(x, 1)),
        "roll-axis-positional": ("roll(x, -1, 1)", lambda xp, x: xp.roll(x, -1, 1)),
        "roll-tuple": ("roll(x, (1, 2), axis=(0, 1))",
                       lambda xp, x: xp.roll(x, (1, 2), axis=(0, 1))),
        "flip-all": ("flip(x)", lambda xp, x: xp.flip(x)),
        "flip-axis-positional": ("flip(x, 0)", lambda xp, x: xp.flip(x, 0)),
        "rot90-k": ("rot90(x, 2)", lambda xp, x: xp.rot90(x, 2)),
        "tril-k-positional": ("tril(x, -1)", lambda xp, x: xp.tril(x, -1)),
        "triu-k-keyword": ("triu(x, k=1)", lambda xp, x: xp.triu(x, k=1)),
        "diag-offset": ("diag(x, 1)", lambda xp, x: xp.diag(x, 1)),
        "diagonal-offset-positional": ("diagonal(x, 1)", lambda xp, x: xp.diagonal(x, 1)),
        "expand-dims-tuple": ("expand_dims(x, (0, 2))", lambda xp, x: xp.expand_dims(x, (0, 2))),
        "squeeze-axis-positional": ("squeeze(x[None], 0)", lambda xp, x: xp.squeeze(x[None], 0)),
        "where-scalar": ("where(x > 0, x, 0.0)", lambda xp, x: xp.where(x > 0.05, x, 0.0)),
        "maximum-scalar": ("maximum(x, 0.2)", lambda xp, x: xp.maximum(x, 0.25)),
        "eye-offset-dtype": ("x * eye(3, 4, 1, dtype=x.dtype)",
                             lambda xp, x: x * xp.eye(3, 4, 1, dtype=x.dtype)),
        "full-like": ("x * full_like(x, 2.0)", lambda xp, x: x * xp.full_like(x, 2.0)),
        "arange-dtype": ("x * arange(4, dtype=x.dtype)",
                         lambda xp, x: x * xp.arange(4, dtype=x.dtype)),
        "linspace-dtype": ("x * linspace(0, 1, 4, dtype=x.dtype)",
                           lambda xp, x: x * xp.linspace(0, 1, 4, dtype=x.dtype)),
        "astype": ("x * (x > 0).astype(x.dtype)", lambda xp, x: x * (x > 0).astype(x.dtype)),
    }, x=x) + _ops({
        "transpose-axes-positional": ("transpose(x, (2, 0, 1))",
                                      lambda xp, x: xp.transpose(x, (2, 0, 1))),
        "transpose-method-varargs": ("x.transpose(1, 2, 0)", lambda xp, x: x.transpose(1, 2, 0)),
        "swapaxes": ("swapaxes(x, 0, 2)", lambda xp, x: xp.swapaxes(x, 0, 2)),
        "moveaxis-lists": ("moveaxis(x, [0, 1], [-1, -2])",
                           lambda xp, x: xp.moveaxis(x, [0, 1], [-1, -2])),
        "diagonal-axes-keyword": ("diagonal(x, axis1=1, axis2=2)",
                                  lambda xp, x: xp.diagonal(x, axis1=1, axis2=2)),
        "sum-method-axis-tuple": ("x.sum(axis=(0, 2))", lambda xp, x: x.sum(axis=(0, 2))),
    }, x=cube)


def products() -> list[Op]:
    """Products with numpy's argument conventions: ``tensordot`` axes, ``einsum`` forms,
    ``vdot`` flattening, ``dot`` of vectors, the methods."""
    rng = rng_for(GROUP, "products")
    return _ops({
        "tensordot-int-positional": ("tensordot(a, b, 1)",
                                     lambda xp, a, b: xp.tensordot(a, b, 1)),
        "tensordot-default-axes": ("tensordot(a, b.T): axes=2, a scalar",
                                   lambda xp, a, b: xp.tensordot(a, b.T)),
        "tensordot-axes-lists": ("tensordot(a, b, axes=([1, 0], [0, 1]))",
                                 lambda xp, a, b: xp.tensordot(a, b, axes=([1, 0], [0, 1]))),
        "einsum-implicit": ('einsum("ij,jk", a, b)', lambda xp, a, b: xp.einsum("ij,jk", a, b)),
        "einsum-ellipsis": ('einsum("...j,jk->...k", a, b)',
                            lambda xp, a, b: xp.einsum("...j,jk->...k", a, b)),
        "dot-method": ("a.dot(b)", lambda xp, a, b: a.dot(b)),
        "vdot-flattens": ("vdot(a, b.T)", lambda xp, a, b: xp.vdot(a, b.T)),
        "inner-matrices": ("inner(a, b.T)", lambda xp, a, b: xp.inner(a, b.T)),
        "outer-flattens": ("outer(a, b)", lambda xp, a, b: xp.outer(a, b)),
        "matmul-operator": ("a @ b", lambda xp, a, b: a @ b),
        "kron": ("kron(a, b)", lambda xp, a, b: xp.kron(a, b)),
    }, a=rng.normal(size=(2, 3)), b=rng.normal(size=(3, 2)))


def specs() -> list[Spec]:
    """Every calling-convention case, in float64 and float32."""
    return [spec for topic, ops in (("reductions", reductions()), ("clip", clipping()),
                                     ("indexing", indexing()), ("linalg", linalg()),
                                     ("manipulation", manipulation()), ("products", products()))
            for spec in op_specs(topic, ops, group=GROUP)]

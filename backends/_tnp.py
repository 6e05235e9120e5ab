"""What function specs run on under TensorFlow: its numpy namespace and the ``scan`` loop.

:func:`numpy_namespace` is ``tensorflow.experimental.numpy`` with what it lacks supplied from
TensorFlow's own API: the array-API names (``acos``, ``atan2``, ``pow``, ``concat``...),
``rint``, ``fmod``, ``linalg`` and dtype-keeping ``log2``/``log10``/``logaddexp2``; and where
its names read numpy's arguments another way, numpy's meaning (``var``/``std`` with ``ddof``,
``clip``'s keywords, ``pad``'s forms, ``linspace``'s ``dtype``, ``linalg.eigh``'s ``UPLO``:
:mod:`backends._numpy_names`). What it
still lacks makes a case UNSUPPORTED naming it (``backends._namespace``). :func:`scan` is the
specs' ``scan`` on ``tf.scan``. Both are shared by ``tf-eager`` and ``tf-graph``; importing
and configuring TensorFlow is :mod:`backends._tf`'s.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from backends._numpy_names import clip, concatenate, numpy_linalg, pad, variance
from backends.base import Unsupported

#: Array-API and numpy names that tensorflow.experimental.numpy spells another way.
ALIASES: dict[str, str] = {
    "acos": "arccos", "asin": "arcsin", "atan": "arctan", "acosh": "arccosh",
    "asinh": "arcsinh", "atanh": "arctanh", "atan2": "arctan2", "pow": "power",
    "concat": "concatenate", "permute_dims": "transpose", "degrees": "rad2deg",
    "radians": "deg2rad", "trunc": "fix",
}


class _Namespace:
    """``tensorflow.experimental.numpy`` plus what specs use that it lacks, from TF's own API:
    the :data:`ALIASES`, ``rint``, ``fmod`` and the ``linalg`` functions; and ``log2``,
    ``log10``, ``logaddexp2`` in the input's dtype (tnp's return float64 for float32 input:
    measured, TensorFlow 2.21)."""

    def __init__(self, tnp: Any, tf: Any) -> None:
        self._tnp = tnp
        self.__name__ = tnp.__name__  # what an UNSUPPORTED reason calls it
        self.var = variance(tnp, lambda a, axis, keepdims: tnp.var(a, axis=axis,
                                                                   keepdims=keepdims), False)
        self.std = variance(tnp, lambda a, axis, keepdims: tnp.std(a, axis=axis,
                                                                   keepdims=keepdims), True)
        self.clip = clip(tnp.clip)
        self.pad = pad(tnp.pad, ("constant", "reflect", "symmetric"))
        self.concatenate = concatenate(tnp, tnp.concatenate)
        self.expand_dims = lambda a, axis: _expand_dims(tnp, a, axis)
        self.linspace = functools.partial(_linspace, tnp)
        self.log2 = lambda x: _log_base(tf, x, 2.0)
        self.log10 = lambda x: _log_base(tf, x, 10.0)
        self.logaddexp2 = lambda x, y: _logaddexp2(tf, tnp, x, y)
        self.rint = tf.math.rint
        self.fmod = tf.truncatemod  # C's fmod: the remainder takes the dividend's sign
        self.linalg = types.SimpleNamespace(
            norm=lambda x, ord=None, axis=None, keepdims=False: _norm(tf, x, ord, axis, keepdims),
            solve=lambda a, b: _solve(tf, a, b),
            inv=tf.linalg.inv, det=tf.linalg.det,
            **numpy_linalg(tnp, eigh=tf.linalg.eigh, eigvalsh=tf.linalg.eigvalsh,
                           cholesky=tf.linalg.cholesky, slogdet=tf.linalg.slogdet),
            qr=lambda a, mode="reduced": _qr(tf, a, mode),
            svd=lambda a, full_matrices=True, compute_uv=True: _svd(tf, a, full_matrices,
                                                                   compute_uv),
            pinv=tf.linalg.pinv,
            matrix_power=lambda a, n: _matrix_power(tf, a, n),
            multi_dot=lambda arrays: functools.reduce(tnp.matmul, arrays))

    def __getattr__(self, name: str) -> Any:
        name = ALIASES.get(name, name)
        return self.__dict__[name] if name in self.__dict__ else getattr(self._tnp, name)


def _linspace(tnp: Any, start: Any, stop: Any, num: int = 50, endpoint: bool = True,
              retstep: bool = False, dtype: Any = None, axis: int = 0) -> Any:
    """numpy's ``linspace``, in ``dtype`` when given (tnp's returns float64 whatever
    ``dtype`` says: measured, TensorFlow 2.21)."""
    found = tnp.linspace(start, stop, num, endpoint, retstep, axis=axis)
    if dtype is None:
        return found
    if retstep:
        return tnp.asarray(found[0], dtype=dtype), tnp.asarray(found[1], dtype=dtype)
    return tnp.asarray(found, dtype=dtype)


def _expand_dims(tnp: Any, a: Any, axis: Any) -> Any:
    """numpy's ``expand_dims``: ``axis`` an int or a tuple of positions in the result."""
    if isinstance(axis, int):
        return tnp.expand_dims(a, axis)
    ndim = len(a.shape) + len(axis)
    for position in sorted(p % ndim for p in axis):
        a = tnp.expand_dims(a, position)
    return a


def _norm(tf: Any, x: Any, ord: Any, axis: Any, keepdims: bool) -> Any:  # noqa: A002 - numpy's name
    """numpy's ``linalg.norm`` on ``tf.norm``: a 2-d array without ``axis`` is a matrix."""
    if ord is not None and axis is None and len(x.shape) == 2:
        axis = (-2, -1)
    if ord == "nuc":
        s = tf.linalg.svd(x if axis is None else tf.experimental.numpy.moveaxis(
            x, axis, (-2, -1)), compute_uv=False)
        norm = tf.reduce_sum(s, axis=-1)
        if keepdims:
            raise Unsupported("xp.linalg.norm(ord='nuc', keepdims=True) on TensorFlow")
        return norm
    try:
        return tf.norm(x, ord="euclidean" if ord is None else ord,
                       axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=keepdims)
    except ValueError as exc:
        raise Unsupported(f"xp.linalg.norm(ord={ord!r}) on TensorFlow: {exc}") from None


def _log_base(tf: Any, x: Any, base: float) -> Any:
    """``log(x) / log(base)`` with the constant in ``x``'s dtype, so float32 stays float32."""
    x = tf.convert_to_tensor(x)
    return tf.math.log(x) / tf.math.log(tf.constant(base, x.dtype))


def _logaddexp2(tf: Any, tnp: Any, x: Any, y: Any) -> Any:
    """``log2(2**x + 2**y)`` as ``logaddexp(x ln 2, y ln 2) / ln 2``, in the inputs' dtype."""
    x, y = tf.convert_to_tensor(x), tf.convert_to_tensor(y)
    ln2 = tf.math.log(tf.constant(2.0, x.dtype))
    return tnp.logaddexp(x * ln2, y * ln2) / ln2


#: numpy 2 reads ``solve``'s ``b`` as a vector only when it has one axis (numpy 1.x: when
#: it has one axis fewer than ``a``).
_VECTOR_ONLY_WHEN_1D = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


def _solve(tf: Any, a: Any, b: Any) -> Any:
    """numpy's solve: a vector right-hand side is a vector, not a one-column matrix, and a
    stack of matrices ``a`` broadcasts against ``b``."""
    vector = len(b.shape) == 1 if _VECTOR_ONLY_WHEN_1D else len(b.shape) == len(a.shape) - 1
    rhs = b[..., None] if vector else b
    batch = list(np.broadcast_shapes(tuple(a.shape[:-2]), tuple(rhs.shape[:-2])))
    a = tf.broadcast_to(a, batch + list(a.shape[-2:]))
    rhs = tf.broadcast_to(rhs, batch + list(rhs.shape[-2:]))
    x = tf.linalg.solve(a, rhs)
    return x[..., 0] if vector else x


def _qr(tf: Any, a: Any, mode: str) -> Any:
    """numpy's ``qr`` modes ``reduced``, ``complete`` and ``r`` on ``tf.linalg.qr``."""
    q, r = tf.linalg.qr(a, full_matrices=mode == "complete")
    return r if mode == "r" else (q, r)


def _svd(tf: Any, a: Any, full_matrices: bool, compute_uv: bool) -> Any:
    """numpy's ``svd``: ``(u, s, vh)``, where ``tf.linalg.svd`` returns ``(s, u, v)``."""
    if not compute_uv:
        return tf.linalg.svd(a, compute_uv=False)
    s, u, v = tf.linalg.svd(a, full_matrices=full_matrices)
    return u, s, tf.linalg.adjoint(v)


def _matrix_power(tf: Any, a: Any, n: int) -> Any:
    """``a`` to an integer power by repeated products (``inv`` first for a negative one)."""
    base = tf.linalg.inv(a) if n < 0 else a
    result = tf.eye(a.shape[-1], batch_shape=a.shape[:-2], dtype=a.dtype)
    for _ in range(abs(n)):
        result = result @ base
    return result


@functools.cache
def numpy_namespace(tf: Any) -> Any:
    """``tensorflow.experimental.numpy`` with what it lacks supplied, for the TensorFlow
    module ``tf`` as :func:`backends._tf.tensorflow` configured it."""
    import tensorflow.experimental.numpy as tnp

    return _Namespace(tnp, tf)


def scan(step: Callable[[Any, Any], tuple[Any, Any]], carry: Any, xs: Any) -> tuple[Any, Any]:
    """The specs' ``scan`` (``jax.lax.scan`` semantics) as ``tf.scan``, in eager and graph mode.

    ``tf.scan`` carries one structure and stacks it at every step, so the step's ``(carry,
    y)`` is that structure; the first step runs before the loop, which gives the initial
    ``y`` its structure (and the carry the dtypes the step returns).
    """
    import tensorflow as tf  # imported and configured by the adapter that runs this spec

    length = tf.nest.flatten(xs)[0].shape[0]
    carry, y = step(carry, tf.nest.map_structure(lambda a: a[0], xs))
    if length == 1:
        return carry, tf.nest.map_structure(lambda a: a[None], y)
    rest = tf.nest.map_structure(lambda a: a[1:], xs)
    if y is None:
        carries = tf.scan(lambda state, x: step(state, x)[0], rest, initializer=carry)
        return tf.nest.map_structure(lambda c: c[-1], carries), None
    carries, ys = tf.scan(lambda state, x: step(state[0], x), rest, initializer=(carry, y))
    return (tf.nest.map_structure(lambda c: c[-1], carries),
            tf.nest.map_structure(lambda first, others: tf.concat([first[None], others], 0),
                                  y, ys))

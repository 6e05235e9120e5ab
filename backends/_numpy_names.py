"""numpy's meaning on a framework's functions, shared by the adapters' namespaces.

A namespace offers a name only with numpy's meaning, arguments included: where the
framework's function of that name reads an argument another way (TensorFlow's
``linalg.eigh(a, name)`` takes numpy's ``UPLO`` as an op name, pytensor's ``eigh(a, b)`` a
second matrix, jax's ``eigh`` symmetrizes the input where numpy reads one triangle), the name
is one of these, built on the framework's own op; where it cannot match, it raises
:class:`~backends.base.Unsupported` naming the argument. ``tests/test_namespace_fidelity.py``
and the catalog's ``calls-*`` cases check every offered name against numpy.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from backends.base import Unsupported

#: numpy 2's named results of ``linalg`` functions (plain tuples in numpy 1.x, which index
#: the same way).
EighResult = collections.namedtuple("EighResult", "eigenvalues eigenvectors")
SlogdetResult = collections.namedtuple("SlogdetResult", "sign logabsdet")
#: Marks an argument the caller did not give (None is a value for ``clip``'s bounds).
_ABSENT: Any = object()


class Names:
    """A numpy-like namespace: ``base``'s names, with some replaced (``names``) by functions
    that give them numpy's meaning. ``__name__`` is what an UNSUPPORTED reason calls it."""

    def __init__(self, base: Any, label: str, **names: Any) -> None:
        self._base = base
        self.__name__ = label
        self.__dict__.update(names)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)


def symmetric(xp: Any, a: Any, uplo: str) -> Any:
    """The symmetric matrix numpy's ``eigh(a, UPLO)`` and ``cholesky`` read from ``a``: its
    lower (``"L"``) or upper (``"U"``) triangle, mirrored. Built with the framework's ops, so
    the derivative w.r.t. ``a`` is numpy's (the other triangle does not matter) whatever
    convention the framework's decomposition has for a non-symmetric input."""
    if str(uplo).upper() not in ("L", "U"):
        raise ValueError(f"UPLO must be 'L' or 'U', got {uplo!r}")
    lower = str(uplo).upper() == "L"
    triangle = xp.tril if lower else xp.triu
    return triangle(a) + xp.swapaxes(triangle(a, -1 if lower else 1), -1, -2)


def numpy_linalg(xp: Any, eigh: Callable[[Any], Any] | None = None,
                 eigvalsh: Callable[[Any], Any] | None = None,
                 cholesky: Callable[[Any], Any] | None = None,
                 slogdet: Callable[[Any], Any] | None = None) -> dict[str, Callable[..., Any]]:
    """numpy's ``eigh(a, UPLO)``, ``eigvalsh(a, UPLO)``, ``cholesky(a, upper)`` and
    ``slogdet(a)`` (named results) on the framework's functions of a symmetric matrix, for
    those given."""
    names: dict[str, Callable[..., Any]] = {}
    if eigh is not None:
        def numpy_eigh(a: Any, UPLO: str = "L") -> Any:  # noqa: N803 - numpy's name
            values, vectors = eigh(symmetric(xp, a, UPLO))
            return EighResult(values, vectors)
        names["eigh"] = numpy_eigh
    if eigvalsh is not None:
        def numpy_eigvalsh(a: Any, UPLO: str = "L") -> Any:  # noqa: N803 - numpy's name
            return eigvalsh(symmetric(xp, a, UPLO))
        names["eigvalsh"] = numpy_eigvalsh
    if cholesky is not None:
        def numpy_cholesky(a: Any, upper: bool = False) -> Any:
            factor = cholesky(symmetric(xp, a, "U" if upper else "L"))
            return xp.swapaxes(factor, -1, -2) if upper else factor
        names["cholesky"] = numpy_cholesky
    if slogdet is not None:
        def numpy_slogdet(a: Any) -> Any:
            return SlogdetResult(*slogdet(a))
        names["slogdet"] = numpy_slogdet
    return names


def clip(framework_clip: Callable[[Any, Any, Any], Any]) -> Callable[..., Any]:
    """numpy's ``clip``: bounds by position, as ``a_min``/``a_max`` or as numpy 2's
    ``min``/``max``, either one None; ``framework_clip(a, low, high)`` takes them by position
    (None: no bound)."""
    def numpy_clip(a: Any, a_min: Any = _ABSENT, a_max: Any = _ABSENT, *, min: Any = _ABSENT,  # noqa: A002
                   max: Any = _ABSENT) -> Any:  # noqa: A002 - numpy's names
        if (a_min is not _ABSENT and min is not _ABSENT) or (a_max is not _ABSENT
                                                             and max is not _ABSENT):
            raise TypeError("clip: give each bound once (a_min or min, a_max or max)")
        low = None if a_min is _ABSENT and min is _ABSENT else (min if a_min is _ABSENT
                                                               else a_min)
        high = None if a_max is _ABSENT and max is _ABSENT else (max if a_max is _ABSENT
                                                                else a_max)
        return framework_clip(a, low, high)
    return numpy_clip


def one_sided_clip(xp: Any, framework_clip: Callable[[Any, Any, Any], Any]
                   ) -> Callable[[Any, Any, Any], Any]:
    """``framework_clip(a, low, high)`` for a framework whose ``clip`` takes no None bound:
    ``maximum`` or ``minimum`` alone where one is None."""
    def clipped(a: Any, low: Any, high: Any) -> Any:
        if low is None and high is None:
            raise ValueError("clip: give at least one of the bounds")
        if low is None:
            return xp.minimum(a, high)
        if high is None:
            return xp.maximum(a, low)
        return framework_clip(a, low, high)
    return clipped


def _reduced_size(x: Any, axis: Any) -> int:
    """How many elements each result of a reduction of ``x`` along ``axis`` combines."""
    shape = tuple(getattr(getattr(x, "type", None), "shape", None) or x.shape)
    axes = range(len(shape)) if axis is None else (axis,) if isinstance(axis, int) else axis
    sizes = [shape[a] for a in axes]
    if not all(isinstance(s, int | np.integer) for s in sizes):
        raise Unsupported("xp.var/xp.std(ddof=) needs the reduced axes' sizes, which are not "
                          "known before the run here")
    return int(np.prod(sizes))


def variance(xp: Any, framework: Callable[..., Any], root: bool) -> Callable[..., Any]:
    """numpy's ``var`` (``std`` with ``root``) with ``ddof`` and ``correction``: the
    framework's population ``var``/``std`` (``framework(x, axis=, keepdims=)``) rescaled by
    ``n / (n - ddof)`` (its square root for ``std``)."""
    def numpy_variance(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
                       ddof: float = 0, keepdims: bool = False, *,
                       correction: Any = _ABSENT) -> Any:
        if dtype is not None or out is not None:
            raise Unsupported(f"xp.{'std' if root else 'var'}(dtype=, out=) is not mapped")
        if correction is not _ABSENT:
            ddof = correction
        axis = tuple(axis) if isinstance(axis, list) else axis
        result = framework(a, axis=axis, keepdims=bool(keepdims))
        if not ddof:
            return result
        n = _reduced_size(a, axis)
        scale = n / (n - ddof)
        return result * (float(np.sqrt(scale)) if root else scale)
    return numpy_variance


def pad(framework_pad: Callable[..., Any], modes: tuple[str, ...] | None = None
        ) -> Callable[..., Any]:
    """numpy's ``pad(array, pad_width, mode="constant", constant_values=0)`` with
    ``pad_width`` in any of numpy's forms (``1``, ``(1, 2)``, one pair per axis), on
    ``framework_pad(array, pad_width_per_axis, mode, **kwargs)``; a mode outside ``modes``
    (None: any) is UNSUPPORTED."""
    def numpy_pad(array: Any, pad_width: Any, mode: str = "constant",
                  constant_values: Any = 0) -> Any:
        if modes is not None and mode not in modes:
            raise Unsupported(f"xp.pad(mode={mode!r}) is not offered here (modes: "
                              f"{', '.join(modes)})")
        widths = np.broadcast_to(np.asarray(pad_width, dtype=int),
                                 (len(array.shape), 2)).tolist()
        if mode == "constant":
            return framework_pad(array, widths, mode, constant_values=constant_values)
        if constant_values != 0:
            raise TypeError(f"pad: constant_values is for mode='constant', not {mode!r}")
        return framework_pad(array, widths, mode)
    return numpy_pad


def concatenate(xp: Any, framework_concatenate: Callable[..., Any]) -> Callable[..., Any]:
    """numpy's ``concatenate(arrays, axis=0)``, where ``axis=None`` joins the flattened
    arrays."""
    def numpy_concatenate(arrays: Any, axis: int | None = 0) -> Any:
        if axis is None:
            return framework_concatenate([xp.reshape(a, (-1,)) for a in arrays], 0)
        return framework_concatenate(list(arrays), axis)
    return numpy_concatenate


def arrays_for_lists(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with a Python list given as its second argument (the indices of
    ``take``, the counts of ``repeat``) made a numpy array first (a constant, known before
    the run), as numpy takes it."""
    @functools.wraps(function)
    def taking_lists(a: Any, indices: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(indices, list | tuple):
            indices = np.asarray(indices)
        return function(a, indices, *args, **kwargs)
    return taking_lists

"""A peer suite: JAX's own gradient tests of lax and numpy ops, as a gradparity catalog.

Where the facts come from: the JAX repository (github.com/jax-ml/jax), commit
``cec06d116c05f0d52adfceee3d3b730fdbcb0ce5`` (2026-08-08):

* ``tests/lax_autodiff_test.py``: ``LAX_GRAD_OPS`` (op, number of arguments, derivative
  order, input distribution), its shapes ``compatible_shapes``, ``LAX_GRAD_SPECIAL_VALUE_TESTS``
  and the structural tests (``testClampGrad``, ``testConcatenateGrad``, ``testDotGrad``,
  ``testDotGeneralContractAndBatchGrads``, ``testBroadcastGrad``, ``testReshapeGrad``,
  ``testPadGrad``, ``testReverseGrad``, ``testSelectGrad``, ``testSliceGrad``,
  ``testTransposeGrad``, ``testReduceGrad``, ``testCumulativeReduceGrad``, ``testSortGrad``);
* ``tests/lax_numpy_test.py``: ``GRAD_TEST_RECORDS`` and ``GRAD_SPECIAL_VALUE_TEST_RECORDS``;
* ``jax/_src/test_util.py``: the input distributions ``rand_default`` (3 x standard normal),
  ``rand_small`` (1e-3 x normal), ``rand_positive`` (uniform in [1, 3)), ``rand_not_small``
  (3 x normal pushed 10 away from zero), ``rand_uniform(low, high)``, ``rand_unique_int``
  (a permutation of 0..n-1).

Only the facts are taken (which op, which domain, which shapes, which order); the code is
ours. How a JAX test becomes cases:

* a lax op becomes the numpy name every ``xp`` offers (``lax.neg`` -> ``negative``,
  ``lax.atan2`` -> ``arctan2``, ``lax.max`` -> ``maximum``, ``lax.rsqrt`` ->
  ``1 / sqrt(x)``, ``lax.logistic`` -> ``1 / (1 + exp(-x))``, ``lax.dot_general`` ->
  ``einsum``, ``lax.clamp(lo, x, hi)`` -> ``clip(x, lo, hi)``, ``lax.rev`` -> ``flip``,
  ``lax.select`` -> ``where``, ``lax.reduce`` -> ``sum``/``max``/``min``/``prod`` over
  the same dimensions);
* ``check_grads(op, args, order, modes=["fwd", "rev"])`` becomes a ``jvp`` case (fwd) and a
  ``vjp`` case (rev) of the op, a ``grad`` case of ``sum(w * op(...))`` with a fixed weight,
  an ``hvp`` case where the order is 2, and a ``jacobian`` case on a small shape; each kind
  takes the next shape (pair of shapes for two arguments) of the peer's list in turn, so every
  shape JAX tries is tried;
* arguments are drawn from the peer's distribution with a generator seeded by the case's
  name (stable when cases are added); both float64 and float32 (JAX's ``grad_float_dtypes``);
* special values are the peer's points, as 0-d arrays, order 2 except ``sinc`` (order 1).

Left out, with the reason: complex dtypes and ``real``/``imag``/``complex``/``conj`` (a spec's
arrays are real); ``erf``, ``erfc``, ``erf_inv``, ``bessel_i0e``, ``bessel_i1e`` (not numpy
functions, so neither the reference nor the ``xp`` namespaces have them); convolutions,
``reduce_window``, gather/scatter and ``dynamic_slice`` (lax-only signatures); empty shapes
and the empty slice of a (3, 3, 5) array from (0, 2, 0) to (3, 2, 5) (a spec's arrays and
outputs are non-empty). Where the peer's distribution leaves an op's real domain
(``asin``/``acos`` drawn from (-1.3, 1.3), where JAX compares NaN with NaN), values are
drawn from the part inside it, ``|x| <= 0.98``; numpy's ``pad`` has no interior or negative
padding, so ``lax.pad``'s cases keep the positive edge padding only.

Run it: ``gradparity run --catalog tests/peer/jax_autodiff.py``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from conformance.spec import DTYPES, Spec

PEER = "jax-ml/jax@cec06d116c05f0d52adfceee3d3b730fdbcb0ce5"
TAG = "peer-jax"

# -- the peer's input distributions (jax/_src/test_util.py), re-implemented -----------------

Draw = Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]


def rand_default(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 3.0
                 ) -> np.ndarray:
    """``scale`` x standard normal (JAX's ``rand_default``)."""
    return scale * rng.standard_normal(shape)


def rand_small(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """1e-3 x standard normal (``rand_small``)."""
    return 1e-3 * rng.standard_normal(shape)


def rand_positive(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform in [1, 3) (``rand_positive``: 2 x uniform + 1)."""
    return 2.0 * rng.random(shape) + 1.0


def rand_not_small(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """3 x standard normal, moved 10 away from zero (``rand_not_small``)."""
    x = 3.0 * rng.standard_normal(shape)
    return x + np.where(x > 0, 10.0, -10.0)


def rand_uniform(low: float, high: float) -> Draw:
    """Uniform in [low, high) (``rand_uniform``)."""
    def draw(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.random(shape) * (high - low) + low
    return draw


def rand_unique_int(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Distinct integers 0..n-1 in random order (``rand_unique_int``): no ties."""
    return rng.permutation(int(np.prod(shape))).reshape(shape).astype(float)


def inside(draw: Draw, low: float, high: float) -> Draw:
    """``draw``, with the values outside [low, high] drawn again: the part of the peer's
    distribution inside an op's real domain."""
    def within(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        x = draw(rng, shape)
        while np.any(bad := (x < low) | (x > high)):
            x = np.where(bad, draw(rng, shape), x)
        return x
    return within


# -- the peer's shapes ----------------------------------------------------------------------

#: ``compatible_shapes`` of lax_autodiff_test.py: groups of shapes that broadcast together.
COMPATIBLE_SHAPES = [[(3,)], [(), (3, 4), (3, 1), (1, 4)], [(2, 3, 4), (2, 1, 4)]]


def shape_tuples(nargs: int) -> list[tuple[tuple[int, ...], ...]]:
    """The peer's argument shapes: ``combinations_with_replacement`` within each group."""
    from itertools import combinations_with_replacement
    return [shapes for group in COMPATIBLE_SHAPES
            for shapes in combinations_with_replacement(group, nargs)]


#: Small shapes for the jacobian kind (at most 12 elements per argument).
JACOBIAN_SHAPES = {1: [((3,),), ((3, 1),), ((),), ((1, 4),)],
                   2: [((3,), (3,)), ((), (3, 1)), ((3, 1), (1, 4)), ((), ())]}

# -- the ops, as functions of xp (module level: specs are sent to worker processes) -------


def ufunc(name: str, xp: Any, *args: Any) -> Any:
    """``xp.<name>(*args)``."""
    return getattr(xp, name)(*args)


def rsqrt(xp: Any, x: Any) -> Any:
    """``lax.rsqrt``."""
    return 1.0 / xp.sqrt(x)


def logistic(xp: Any, x: Any) -> Any:
    """``lax.logistic``."""
    return 1.0 / (1.0 + xp.exp(-x))


def unary(op: Callable[..., Any], xp: Any, x: Any) -> Any:
    """An op of one array, called with the array named ``x``."""
    return op(xp, x)


def binary(op: Callable[..., Any], xp: Any, x: Any, y: Any) -> Any:
    """An op of two arrays, called with the arrays named ``x`` and ``y``."""
    return op(xp, x, y)


def weighted_sum(op: Callable[..., Any], xp: Any, w: Any, **arrays: Any) -> Any:
    """``sum(w * op(...))``: a scalar in which every output element counts."""
    return xp.sum(w * op(xp, **arrays))


# (JAX name, numpy name or function, nargs, order, draw): LAX_GRAD_OPS and GRAD_TEST_RECORDS
# restricted to real dtypes and to functions numpy has.
ELEMENTWISE: list[tuple[str, str | Callable[..., Any], int, int, Draw]] = [
    ("neg", "negative", 1, 2, rand_default),
    ("floor", "floor", 1, 2, rand_uniform(0.1, 0.4)),
    ("ceil", "ceil", 1, 2, rand_uniform(0.1, 0.4)),
    ("round", "round", 1, 2, rand_uniform(0.1, 0.4)),
    ("exp", "exp", 1, 2, rand_small),
    ("exp2", "exp2", 1, 2, rand_small),
    ("expm1", "expm1", 1, 2, rand_default),
    ("log", "log", 1, 2, rand_positive),
    ("log1p", "log1p", 1, 2, rand_positive),
    ("sinh", "sinh", 1, 2, rand_default),
    ("cosh", "cosh", 1, 2, rand_default),
    ("tanh", "tanh", 1, 2, rand_default),
    ("sin", "sin", 1, 2, rand_default),
    ("cos", "cos", 1, 2, rand_default),
    ("tan", "tan", 1, 2, rand_uniform(-1.3, 1.3)),
    ("asin", "arcsin", 1, 2, inside(rand_uniform(-1.3, 1.3), -0.98, 0.98)),
    ("acos", "arccos", 1, 2, inside(rand_uniform(-1.3, 1.3), -0.98, 0.98)),
    ("atan2", "arctan2", 2, 2, rand_default),
    ("abs", "abs", 1, 2, rand_positive),
    ("pow", "power", 2, 2, rand_positive),
    ("sqrt", "sqrt", 1, 2, rand_positive),
    ("rsqrt", rsqrt, 1, 2, rand_positive),
    ("cbrt", "cbrt", 1, 2, rand_not_small),
    ("logistic", logistic, 1, 2, rand_default),
    ("add", "add", 2, 2, rand_default),
    ("sub", "subtract", 2, 2, rand_default),
    ("mul", "multiply", 2, 2, rand_default),
    ("div", "divide", 2, 1, rand_not_small),
    ("max", "maximum", 2, 2, rand_default),
    ("min", "minimum", 2, 2, rand_default),
    # lax_numpy_test.py GRAD_TEST_RECORDS
    ("arcsinh", "arcsinh", 1, 2, rand_positive),
    ("arccosh", "arccosh", 1, 1, rand_positive),
    ("arctanh", "arctanh", 1, 2, rand_uniform(-0.9, 0.9)),
    ("logaddexp", "logaddexp", 2, 1, rand_uniform(-0.9, 0.9)),
    ("logaddexp2", "logaddexp2", 2, 2, rand_uniform(-0.9, 0.9)),
]

# (numpy name, points, order): LAX_GRAD_SPECIAL_VALUE_TESTS and
# GRAD_SPECIAL_VALUE_TEST_RECORDS (erf and erfc left out: not numpy functions).
SPECIAL_VALUES: list[tuple[str, list[tuple[str, float]], int]] = [
    ("sinh", [("0", 0.0)], 2),
    ("cosh", [("0", 0.0)], 2),
    ("tanh", [("0", 0.0), ("1000", 1000.0)], 2),
    ("sin", [("0", 0.0), ("pi", np.pi), ("pi_2", np.pi / 2), ("pi_4", np.pi / 4)], 2),
    ("cos", [("0", 0.0), ("pi", np.pi), ("pi_2", np.pi / 2), ("pi_4", np.pi / 4)], 2),
    ("tan", [("0", 0.0)], 2),
    ("arcsin", [("0", 0.0)], 2),
    ("arccos", [("0", 0.0)], 2),
    ("arctan", [("0", 0.0), ("1000", 1000.0)], 2),
    ("arcsinh", [("0", 0.0), ("1000", 1000.0)], 2),
    ("arccosh", [("1000", 1000.0)], 2),
    ("arctanh", [("0", 0.0)], 2),
    ("sinc", [("0", 0.0)], 1),
]


def shape_tag(shapes: Sequence[tuple[int, ...]]) -> str:
    """``3x4_3x1``: the arguments' shapes in a case name (``s`` for a 0-d array)."""
    return "_".join("x".join(map(str, s)) if s else "s" for s in shapes)


def seeded(name: str) -> np.random.Generator:
    """A generator seeded by the case's name."""
    return np.random.default_rng(zlib.crc32(name.encode()))


def cases(name: str, op: Callable[..., Any], arrays: dict[str, np.ndarray], kind: str,
          description: str, wrt: tuple[str, ...] | None = None,
          roles: dict[str, str] | None = None) -> list[Spec]:
    """One kind of ``op`` at ``arrays``, in both dtypes.

    ``grad`` and ``hvp`` differentiate ``sum(w * op(...))``; the other kinds ``op`` itself.
    Weights, tangents and cotangents are drawn with the case's own generator.
    """
    rng = seeded(name)
    wrt = wrt or tuple(n for n in arrays if not (roles or {}).get(n) == "index")
    roles = dict(roles or {})
    out_shape = np.shape(op(np, **arrays))
    extra: dict[str, Any] = {}
    fn = op
    if kind in ("grad", "hvp"):
        fn = partial(weighted_sum, op)
        arrays = {**arrays, "w": rng.uniform(0.5, 1.5, out_shape)
                  * rng.choice([-1.0, 1.0], out_shape)}
        roles["w"] = "target"
    if kind in ("jvp", "hvp"):
        extra["tangents"] = {n: rng.standard_normal(np.shape(arrays[n])) for n in wrt}
    if kind == "vjp":
        extra["cotangent"] = rng.standard_normal(out_shape)
    what = f"sum(w * {description})" if kind in ("grad", "hvp") else description
    spec = Spec(name, fn, arrays, wrt, kind=kind, roles=roles, tags=(TAG,),
                description=f"{kind} of {what} [{PEER}]", **extra)
    return [spec.as_dtype(dtype) for dtype in DTYPES]


def elementwise_specs() -> list[Spec]:
    """LAX_GRAD_OPS and GRAD_TEST_RECORDS: every kind of every op, shapes taken in turn."""
    specs: list[Spec] = []
    for index, (jax_name, numpy_op, nargs, order, draw) in enumerate(ELEMENTWISE):
        base = partial(ufunc, numpy_op) if isinstance(numpy_op, str) else numpy_op
        op = partial(unary, base) if nargs == 1 else partial(binary, base)
        label = numpy_op if isinstance(numpy_op, str) else jax_name
        all_shapes = shape_tuples(nargs)
        kinds = ["grad", "jvp", "vjp"] + (["hvp"] if order == 2 else []) + ["jacobian"]
        for k, kind in enumerate(kinds):
            pool = JACOBIAN_SHAPES[nargs] if kind == "jacobian" else all_shapes
            shapes = pool[(index * 3 + k) % len(pool)]
            name = f"jax-lax-{jax_name}-{shape_tag(shapes)}-{kind}"
            rng = seeded(name + ":args")
            arrays = {n: draw(rng, s) for n, s in zip("xy", shapes)}
            args = ", ".join("xy"[:nargs])
            specs += cases(name, op, arrays, kind, f"{label}({args})")
    return specs


def special_value_specs() -> list[Spec]:
    """The peer's special points, as 0-d arrays: grad, and hvp where the order is 2."""
    specs: list[Spec] = []
    for numpy_name, points, order in SPECIAL_VALUES:
        op = partial(unary, partial(ufunc, numpy_name))
        for label, value in points:
            for kind in ["grad", "jvp"] + (["hvp"] if order == 2 else []):
                name = f"jax-special-{numpy_name}-at-{label}-{kind}"
                specs += cases(name, op, {"x": np.array(value)}, kind,
                               f"{numpy_name}(x) at x = {value!r}")
    return specs


# -- structural ops (lax_autodiff_test.py's shape-manipulating and reducing tests) --------


def clip_op(xp: Any, x: Any, lo: Any, hi: Any) -> Any:
    """``lax.clamp(lo, x, hi)`` as numpy writes it."""
    return xp.clip(x, lo, hi)


def concatenate(axis: int, xp: Any, a: Any, b: Any, c: Any) -> Any:
    """``lax.concatenate((a, b, c), axis)``."""
    return xp.concatenate([a, b, c], axis=axis)


def dot(xp: Any, x: Any, y: Any) -> Any:
    """``lax.dot``."""
    return xp.dot(x, y)


def einsum(subscripts: str, xp: Any, x: Any, y: Any) -> Any:
    """``lax.dot_general`` as an einsum."""
    return xp.einsum(subscripts, x, y)


def broadcast_to(shape: tuple[int, ...], xp: Any, x: Any) -> Any:
    """``lax.broadcast(x, sizes)``: new leading dimensions."""
    return xp.broadcast_to(x, shape)


def reshape(shape: tuple[int, ...], perm: tuple[int, ...] | None, xp: Any, x: Any) -> Any:
    """``lax.reshape(x, shape, dimensions=perm)``: transpose by ``perm``, then reshape."""
    return xp.reshape(x if perm is None else xp.transpose(x, perm), shape)


def pad(widths: tuple[tuple[int, int], ...], xp: Any, x: Any) -> Any:
    """``lax.pad`` with zero padding at the edges."""
    return xp.pad(x, widths)


def flip(xp: Any, x: Any) -> Any:
    """``lax.rev(x, (0,))``."""
    return xp.flip(x, 0)


def select(xp: Any, pred: Any, x: Any, y: Any) -> Any:
    """``lax.select(pred, x, y)``."""
    return xp.where(pred, x, y)


def take_slice(index: tuple[slice, ...], xp: Any, x: Any) -> Any:
    """``lax.slice(x, starts, limits, strides)`` as basic indexing."""
    return x[index]


def transpose(perm: tuple[int, ...], xp: Any, x: Any) -> Any:
    """``lax.transpose``."""
    return xp.transpose(x, perm)


def reduce(name: str, axis: tuple[int, ...], xp: Any, x: Any) -> Any:
    """``lax.reduce(x, init, op, dims)`` as ``xp.<name>(x, axis=dims)``."""
    return getattr(xp, name)(x, axis=axis)


def cumulative(name: str, axis: int, reverse: bool, xp: Any, x: Any) -> Any:
    """``lax.cumsum``/``lax.cumprod`` with ``reverse`` as flips around the scan."""
    if reverse:
        return xp.flip(getattr(xp, name)(xp.flip(x, axis), axis=axis), axis)
    return getattr(xp, name)(x, axis=axis)


def sort(xp: Any, x: Any) -> Any:
    """``lax.sort`` along the last dimension."""
    return xp.sort(x, axis=-1)


# lax_autodiff_test.py's slice cases: (shape, starts, limits, strides)
SLICES = [((3,), (1,), (2,), None), ((7,), (4,), (7,), None), ((5,), (1,), (5,), (2,)),
          ((8,), (1,), (6,), (2,)), ((5, 3), (1, 1), (3, 2), None),
          ((7, 5, 3), (4, 0, 1), (7, 1, 3), None), ((5, 3), (1, 1), (5, 3), (2, 1))]
# testDotGeneralContractAndBatchGrads: shapes and dimension numbers, as einsum subscripts
DOT_GENERAL = [((3, 2), (2, 4), "ij,jk->ik"), ((3, 5), (2, 5), "ij,kj->ik"),
               ((5, 3), (5, 2), "ji,jk->ik"), ((3, 3, 2), (3, 2, 4), "bij,bjk->bik"),
               ((3, 5, 2), (2, 4, 5), "abc,cdb->bad"),
               ((7, 3, 5, 2), (2, 2, 4, 5), "aebc,cfdb->baefd")]
RESHAPES = [((3, 4), (12,), None), ((2, 1, 4), (8,), None), ((2, 2, 4), (2, 8), None),
            ((3, 4), (12,), (1, 0)), ((2, 1, 4), (8,), (2, 0, 1)), ((2, 2, 4), (2, 8), (0, 2, 1))]
REDUCE_DIMS = [((3, 4, 5), (0,)), ((3, 4, 5), (1, 2)), ((3, 4, 5), (0, 2)),
               ((3, 4, 5), (0, 1, 2)), ((3, 1), (1,))]


def structural_ops() -> list[tuple[str, Callable[..., Any], dict[str, np.ndarray], list[str],
                                   dict[str, str]]]:
    """(name, op, arrays, kinds, roles) of the structural tests, arrays drawn as the peer
    draws them."""
    rng = seeded("jax-struct:args")
    out: list[tuple[str, Callable[..., Any], dict[str, np.ndarray], list[str],
                    dict[str, str]]] = []
    linear = ["grad", "jvp", "vjp"]
    for shape in [(), (2, 3)]:  # testClampGrad: the operand in each of clamp's three places
        x = rand_default(rng, shape)
        tag = shape_tag([shape])
        out += [(f"clamp-x-inside-{tag}", clip_op, {"x": x, "lo": x - 10, "hi": x + 10},
                 ["grad", "jvp", "vjp", "hvp"], {}),
                (f"clamp-x-below-{tag}", clip_op, {"x": x - 10, "lo": x, "hi": x + 10},
                 ["grad", "vjp"], {}),
                (f"clamp-x-above-{tag}", clip_op, {"x": x + 10, "lo": x - 10, "hi": x},
                 ["grad", "jvp"], {})]
    for base in [(4,), (3, 4), (2, 3, 4)]:  # testConcatenateGrad: sizes 3, 1, 4 along dim
        for dim in range(len(base)):
            shapes = [base[:dim] + (size,) + base[dim + 1:] for size in (3, 1, 4)]
            arrays = {n: rand_default(rng, s) for n, s in zip("abc", shapes)}
            out.append((f"concatenate-{shape_tag([base])}-axis{dim}",
                        partial(concatenate, dim), arrays, ["vjp", "jvp"], {}))
    for lhs in [(2,), (3, 2)]:  # testDotGrad
        for rhs in [(2,), (2, 4)]:
            out.append((f"dot-{shape_tag([lhs, rhs])}", dot,
                        {"x": rand_default(rng, lhs), "y": rand_default(rng, rhs)},
                        ["grad", "vjp", "hvp"], {}))
    for lhs, rhs, subscripts in DOT_GENERAL:
        out.append((f"dot_general-{shape_tag([lhs, rhs])}", partial(einsum, subscripts),
                    {"x": rand_small(rng, lhs), "y": rand_small(rng, rhs)},
                    ["grad", "vjp"], {}))
    for shape in [(), (2, 3)]:  # testBroadcastGrad
        for sizes in [(2,), (1, 2)]:
            out.append((f"broadcast-{shape_tag([shape])}-to-{shape_tag([sizes + shape])}",
                        partial(broadcast_to, sizes + shape), {"x": rand_default(rng, shape)},
                        ["vjp"], {}))
    for arg, new, perm in RESHAPES:
        tag = f"reshape-{shape_tag([arg])}-to-{shape_tag([new])}" + (
            f"-perm{''.join(map(str, perm))}" if perm else "")
        out.append((tag, partial(reshape, new, perm), {"x": rand_default(rng, arg)},
                    ["vjp"], {}))
    out.append(("pad-2x3", partial(pad, ((1, 2), (0, 1))), {"x": rand_small(rng, (2, 3))},
                ["vjp", "jvp"], {}))
    out.append(("rev-3", flip, {"x": np.array([3.0, 2.0, 1.0])}, linear, {}))
    for arg, pred in [((), ()), ((3,), ()), ((3,), (3,)), ((2, 3), ()), ((2, 3), (2, 3))]:
        out.append((f"select-{shape_tag([arg])}-pred-{shape_tag([pred])}", select,
                    {"pred": rng.standard_normal(pred) > 0, "x": rand_default(rng, arg),
                     "y": rand_default(rng, arg)}, ["vjp", "jvp"], {"pred": "index"}))
    for shape, starts, limits, strides in SLICES:
        index = tuple(slice(a, b, s) for a, b, s in
                      zip(starts, limits, strides or (None,) * len(shape)))
        tag = "_".join(f"{a}-{b}" + (f"by{s}" if s else "") for a, b, s in
                       zip(starts, limits, strides or (None,) * len(shape)))
        out.append((f"slice-{shape_tag([shape])}-{tag}", partial(take_slice, index),
                    {"x": rand_default(rng, shape)}, ["vjp"], {}))
    for shape, perm in [((3, 4), (1, 0)), ((3, 4, 5), (2, 1, 0)), ((3, 4, 5), (1, 0, 2))]:
        out.append((f"transpose-{shape_tag([shape])}-{''.join(map(str, perm))}",
                    partial(transpose, perm), {"x": rand_default(rng, shape)}, ["vjp"], {}))
    for name, draw, kinds in [("sum", rand_default, ["grad", "vjp"]),
                              ("max", rand_unique_int, ["grad", "vjp"]),
                              ("min", rand_unique_int, ["grad", "jvp"]),
                              ("prod", partial(rand_default, scale=1.0),
                               ["grad", "vjp", "hvp"])]:
        for shape, dims in REDUCE_DIMS:
            out.append((f"reduce_{name}-{shape_tag([shape])}-axis{''.join(map(str, dims))}",
                        partial(reduce, name, dims), {"x": draw(rng, shape)}, kinds, {}))
    for name in ["cumsum", "cumprod"]:  # testCumulativeReduceGrad
        for shape in [(10,), (3, 4, 5)]:
            for axis in range(len(shape)):
                for reverse in [False, True]:
                    kinds = ["vjp", "hvp"] if name == "cumprod" else ["vjp"]
                    out.append((f"{name}-{shape_tag([shape])}-axis{axis}"
                                + ("-reverse" if reverse else ""),
                                partial(cumulative, name, axis, reverse),
                                {"x": rand_small(rng, shape)}, kinds, {}))
    for shape in [(5,), (5, 7), (4, 9, 3)]:  # testSortGrad
        out.append((f"sort-{shape_tag([shape])}", sort, {"x": rand_unique_int(rng, shape)},
                    ["grad", "vjp"], {}))
    return out


def structural_specs() -> list[Spec]:
    """The structural tests, each kind in both dtypes."""
    specs: list[Spec] = []
    for name, op, arrays, kinds, roles in structural_ops():
        for kind in kinds:
            specs += cases(f"jax-struct-{name}-{kind}", op, arrays, kind, name, roles=roles)
    return specs


def specs() -> list[Spec]:
    """Every case of the peer suite."""
    return elementwise_specs() + special_value_specs() + structural_specs()

"""The float64 reference: central differences with Richardson extrapolation, numpy only.

It shares no code with any adapter. Small specs get full derivatives (one difference
quotient per input element). Large ones get random directional checks: for each array in
``wrt``, a few random directions ``d`` and the derivative along ``d``, compared with the
backend's answer projected on ``d``; their cost does not grow with the input size.

Every estimate carries an error bound from the Richardson table (the gap between the two
best extrapolations), which the harness adds to its tolerance and uses to spot kinks.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from conformance.spec import Spec, is_index_dtype

#: Base step of first-derivative differences, relative to max(1, |x|).
FIRST_STEP = 2e-3
#: Base step of the mixed second differences used for Hessian-vector products.
SECOND_STEP = 2e-2
#: First-derivative base steps tried in turn while the Richardson table is inconsistent.
SHRINKING_STEPS = (FIRST_STEP, FIRST_STEP / 100, FIRST_STEP / 10_000)
#: Error estimate (relative to max(1, |estimate|)) below which a step is trusted.
CONSISTENT = 1e-9
#: Richardson levels: steps h, h/2, h/4, h/8 (2 evaluations each for a first derivative).
LEVELS = 4
#: At or below this many scalars in ``wrt``, the reference computes full derivatives.
FULL_LIMIT = 512
#: Random directions per ``wrt`` array in directional mode.
DIRECTIONS = 3


@dataclass
class Reference:
    """Reference derivatives of one spec at one set of arrays.

    ``expected[name]`` is the full derivative of ``name`` (mode ``full``), or, in mode
    ``directional``, the stack of its projections on ``directions[name]``.
    ``uncertainty[name]`` has the same shape: the estimated error of each entry.
    """

    value: np.ndarray
    mode: str
    expected: dict[str, np.ndarray]
    uncertainty: dict[str, np.ndarray]
    directions: dict[str, np.ndarray] = field(default_factory=dict)
    evaluations: int = 0
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    scalarize: np.ndarray | None = None

    def observe(self, spec: Spec, name: str, derivative: np.ndarray) -> np.ndarray:
        """A backend's derivative for ``name`` seen as the reference measured it."""
        if name not in self.directions:
            return np.asarray(derivative, dtype=np.float64)
        return project(spec, derivative, self.directions[name])


def project(spec: Spec, derivative: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Project an array-shaped derivative on each direction (jacobian: contract input axes)."""
    derivative = np.asarray(derivative, dtype=np.float64)
    axes = directions.ndim - 1
    if spec.kind == "jacobian":
        return np.stack([np.tensordot(derivative, d, axes=axes) for d in directions])
    return np.array([np.sum(derivative * d) for d in directions])


def richardson(difference: Callable[[float], np.ndarray], step: float,
               levels: int = LEVELS) -> tuple[np.ndarray, np.ndarray]:
    """Extrapolate ``difference(h)`` (error even in h) to h -> 0; return (estimate, error)."""
    table: list[list[np.ndarray]] = []
    for i in range(levels):
        row = [np.asarray(difference(step / 2**i), dtype=np.float64)]
        for j in range(1, i + 1):
            factor = 4.0**j
            row.append((factor * row[j - 1] - table[i - 1][j - 1]) / (factor - 1.0))
        table.append(row)
    best = table[-1][-1]
    if levels == 1:
        return best, np.zeros_like(best)
    error = np.maximum(np.abs(best - table[-1][-2]), np.abs(best - table[-2][-1]))
    return best, error


class _FlatFunction:
    """``fn`` as a function of one flat float64 vector of the ``wrt`` arrays, counting calls."""

    def __init__(self, spec: Spec, arrays: Mapping[str, np.ndarray], scalarize: np.ndarray | None):
        self.spec = spec
        self.arrays = dict(arrays)
        self.names = spec.wrt
        self.shapes = [arrays[n].shape for n in self.names]
        self.sizes = [arrays[n].size for n in self.names]
        self.theta = np.concatenate([arrays[n].ravel() for n in self.names])
        self.scalarize = scalarize
        self.calls = 0

    def block(self, name: str) -> slice:
        start = sum(self.sizes[: self.names.index(name)])
        return slice(start, start + self.sizes[self.names.index(name)])

    def embed(self, name: str, local: np.ndarray) -> np.ndarray:
        full = np.zeros_like(self.theta)
        full[self.block(name)] = local.ravel()
        return full

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        self.calls += 1
        arrays = dict(self.arrays)
        for n, piece, shape in zip(self.names, np.split(theta, np.cumsum(self.sizes)[:-1]),
                                   self.shapes):
            arrays[n] = piece.reshape(shape)
        out = np.asarray(self.spec.evaluate(np, arrays), dtype=np.float64)
        if self.scalarize is not None:
            return np.sum(out * self.scalarize)
        return out

    def along(self, direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Derivative of the output along ``direction`` (flat), with its error estimate.

        When the Richardson table disagrees with itself (a ReLU kink inside the stencil),
        the steps shrink by 100x, up to twice, and the most self-consistent estimate wins.
        """
        def difference(h: float) -> np.ndarray:
            return (self(self.theta + h * direction) - self(self.theta - h * direction)) / (2 * h)
        best = None
        for step in SHRINKING_STEPS:
            estimate, error = richardson(difference, step)
            if best is None or np.max(error) < np.max(best[1]):
                best = (estimate, error)
            # a smaller step cannot beat rounding: |f| * eps / h grows as h shrinks
            rounding = 100 * np.finfo(float).eps * self.output_scale / (step / 2 ** (LEVELS - 1))
            if np.max(error) <= CONSISTENT * max(float(np.max(np.abs(estimate))), 1.0) + rounding:
                break
        return best

    @functools.cached_property
    def output_scale(self) -> float:
        """Largest |output| at the point, for the rounding level of difference quotients."""
        return float(np.max(np.abs(self(self.theta))))

    def mixed(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Second derivative along ``a`` and ``b`` (flat), from a four-point difference."""
        t = self.theta

        def difference(h: float) -> np.ndarray:
            return (self(t + h * a + h * b) - self(t + h * a - h * b)
                    - self(t - h * a + h * b) + self(t - h * a - h * b)) / (4 * h * h)
        return richardson(difference, SECOND_STEP)


def _scale(values: np.ndarray) -> np.ndarray:
    """Per-element step scale: relative for large entries, absolute for small ones."""
    return np.maximum(1.0, np.abs(values))


def _rng(spec: Spec) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(spec.name.encode()))


def compute_reference(spec: Spec, arrays: Mapping[str, np.ndarray] | None = None,
                      full_limit: int = FULL_LIMIT, directions: int = DIRECTIONS) -> Reference:
    """The reference derivatives of ``spec`` at ``arrays`` (default: the spec's own).

    Arrays, tangents and cotangent are first rounded to the spec's dtype, so a float32
    backend is judged on the numbers it was actually given.
    """
    def as64(values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {k: v if is_index_dtype(v.dtype) else v.astype(np.float64)
                for k, v in spec.cast(values).items()}

    arrays64 = as64(spec.arrays if arrays is None else arrays)
    scalarize = None
    if spec.kind == "vjp":
        scalarize = as64({"c": spec.cotangent})["c"]
    f = _FlatFunction(spec, arrays64, scalarize)
    value = np.asarray(spec.evaluate(np, arrays64), dtype=np.float64)
    f.calls += 1
    scalar = value if scalarize is None else np.sum(value * scalarize)
    f.output_scale = float(np.max(np.abs(scalar)))

    expected: dict[str, np.ndarray] = {}
    uncertainty: dict[str, np.ndarray] = {}
    chosen: dict[str, np.ndarray] = {}
    if spec.kind == "jvp":
        tangents = as64(spec.tangents)
        for n in spec.wrt:
            expected[n], uncertainty[n] = f.along(f.embed(n, tangents[n]))
        return Reference(value, "full", expected, uncertainty, {}, f.calls, arrays64, scalarize)

    tangent, tangent_scale = None, 1.0
    if spec.kind == "hvp":
        tangents = as64(spec.tangents)
        flat = np.concatenate([tangents[n].ravel() for n in spec.wrt])
        tangent_scale = float(np.max(np.abs(flat))) or 1.0
        tangent = flat / tangent_scale  # steps of at most h per element

    def derivative_along(direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if tangent is None:
            return f.along(direction)
        est, err = f.mixed(direction, tangent)
        return est * tangent_scale, err * tangent_scale

    mode = "full" if spec.wrt_size <= full_limit else "directional"
    rng = _rng(spec)
    for n in spec.wrt:
        x = arrays64[n]
        if mode == "full":
            columns, errors = [], []
            for i, s in enumerate(_scale(x).ravel()):
                local = np.zeros(x.size)
                local[i] = s
                est, err = derivative_along(f.embed(n, local))
                columns.append(est / s)
                errors.append(err / s)
            # each column is d output / d x_i: move the input axes behind the output axes
            stacked = np.stack(columns, axis=-1).reshape(np.shape(columns[0]) + x.shape)
            expected[n] = stacked
            uncertainty[n] = np.stack(errors, axis=-1).reshape(stacked.shape)
        else:
            dirs = rng.choice([-1.0, 1.0], size=(directions, *x.shape)) * _scale(x)
            results = [derivative_along(f.embed(n, d)) for d in dirs]
            chosen[n] = dirs
            expected[n] = np.stack([r[0] for r in results])
            uncertainty[n] = np.stack([r[1] for r in results])
    return Reference(value, mode, expected, uncertainty, chosen, f.calls, arrays64, scalarize)


#: Step of the one-sided differences that probe a suspected kink, relative to max(1, |x|).
ONE_SIDED_STEP = 1e-6


def one_sided(spec: Spec, reference: Reference, name: str,
              index: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Left and right derivatives of the output w.r.t. one element, at the reference's arrays.

    They differ where the function has a kink (max(0, x) at 0), where any value between
    them is a valid subgradient.
    """
    f = _FlatFunction(spec, reference.arrays, reference.scalarize)
    local = np.zeros(reference.arrays[name].shape)
    local[index] = ONE_SIDED_STEP * max(1.0, abs(float(reference.arrays[name][index])))
    step = f.embed(name, local)
    h = float(np.max(np.abs(step)))
    centre = f(f.theta)
    return (centre - f(f.theta - step)) / h, (f(f.theta + step) - centre) / h


def numeric_grad(f: Callable[..., Any]) -> Callable[..., Any]:
    """Numerical ``grad`` for specs that differentiate inside ``fn`` when run on numpy.

    ``numeric_grad(f)(x, *rest)`` is the gradient of the scalar ``f`` w.r.t. ``x``, an array
    or a sequence of arrays, by Richardson central differences, element by element.
    """
    def gradient(x: Any, *rest: Any) -> Any:
        is_sequence = isinstance(x, list | tuple)
        parts = [np.asarray(p, dtype=np.float64) for p in (x if is_sequence else [x])]
        splits = np.cumsum([p.size for p in parts])[:-1]
        theta = np.concatenate([p.ravel() for p in parts])

        def unflatten(flat: np.ndarray) -> Any:
            pieces = [piece.reshape(p.shape) for piece, p in zip(np.split(flat, splits), parts)]
            return type(x)(pieces) if is_sequence else pieces[0]

        def difference(h: float, step: np.ndarray) -> float:
            return (f(unflatten(theta + h * step), *rest)
                    - f(unflatten(theta - h * step), *rest)) / (2 * h)

        flat = np.empty_like(theta)
        for i, s in enumerate(_scale(theta)):
            step = np.zeros_like(theta)
            step[i] = s
            flat[i] = richardson(functools.partial(difference, step=step), FIRST_STEP)[0] / s
        return unflatten(flat)
    return gradient

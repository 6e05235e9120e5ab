"""The float64 reference: numerical derivatives of the spec's ``fn`` run on numpy.

It shares no code with any adapter. Small specs get full derivatives (one directional
derivative per input element). Large ones get random directional checks: for each array in
``wrt``, a few random directions ``d`` and the derivative along ``d``, compared with the
backend's answer projected on ``d``; their cost does not grow with the input size.

First derivatives are complex-step derivatives confirmed by a Richardson difference table,
or the table alone; Hessian-vector products differentiate a complex-step gradient, or use
mixed differences (see :mod:`conformance.differences` for the rules). Every estimate
carries an error bound, which the harness uses to decide whether it can judge at all.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from conformance.differences import (
    EPS,
    Estimate,
    complex_step,
    confirmed,
    directional,
    mixed,
    settle,
)
from conformance.spec import Spec, is_index_dtype

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
    #: |value computed by numpy in the spec's dtype - value in float64|: the rounding noise
    #: a correct backend's value may carry (for float64 specs, scaled from float32's)
    value_noise: np.ndarray | float = 0.0
    #: per ``wrt`` name, the scale of its derivative that the tolerance's floor is relative
    #: to (see :func:`natural_scale`); empty: the largest ``|expected|``
    scales: dict[str, float] = field(default_factory=dict)
    #: why the reference is uncertain, where it knows (e.g. :data:`STEP_DEPENDENT`)
    reason: str = ""

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


class _FlatFunction:
    """``fn`` as a function of one flat vector of the ``wrt`` arrays, counting calls.

    It accepts complex vectors too (for complex steps); other arrays keep their values.
    """

    def __init__(self, spec: Spec, arrays: Mapping[str, np.ndarray], scalarize: np.ndarray | None):
        self.spec = spec
        self.arrays = dict(arrays)
        self.names = spec.wrt
        self.shapes = [arrays[n].shape for n in self.names]
        self.sizes = [arrays[n].size for n in self.names]
        self.theta = np.concatenate([arrays[n].ravel() for n in self.names])
        self.scalarize = scalarize
        self.calls = 0
        #: whether complex steps are worth trying (no inner grad; fn ran on complex so far)
        self.complex_ok = not spec.uses_grad or spec.reference_fn is not None
        #: what the difference tables noticed (e.g. quotients that depend on the step)
        self.notes: set[str] = set()
        #: the size of what fn's value is computed from (``natural_scale``), where known
        self.value_scale = 0.0

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
        with np.errstate(all="ignore"):  # a stencil outside the domain is handled, not noisy
            out = np.asarray(self.spec.evaluate(np, arrays))
            if self.scalarize is not None:
                out = np.sum(out * self.scalarize)
        return out if np.iscomplexobj(out) else out.astype(np.float64)

    @functools.cached_property
    def value(self) -> np.ndarray:
        """The (scalarized) output at the point."""
        return self(self.theta)

    def _complex_step(self, theta: np.ndarray, direction: np.ndarray) -> np.ndarray | None:
        if not self.complex_ok:
            return None
        estimate = complex_step(self, theta, direction)
        if estimate is None:
            self.complex_ok = False  # fn does not run on complex arrays: stop trying
        return estimate

    def along(self, direction: np.ndarray, step_scale: float = 1.0) -> Column:
        """Derivative of the output along ``direction`` (flat): complex step and table.

        Where a complex step is at hand but the table is too imprecise to confirm it, the
        table is retried with wider steps where rounding alone limits it: only a precise
        table can confirm the complex step (arctan at 1000, whose derivative is 1e-6 of its
        value, needs steps near |x|)."""
        step = self._complex_step(self.theta, direction)
        candidate = None if step is None else (step, np.zeros_like(step))

        def table(grow: bool) -> Estimate:
            return directional(self, self.theta, direction, self.value, step_scale,
                               self.notes, grow=grow, value_scale=self.value_scale)
        estimate = table(grow=candidate is None)
        if candidate is not None and not confirmed((candidate, estimate)):
            estimate = table(grow=True)
        return candidate, estimate

    def second(self, a: np.ndarray, b: np.ndarray, step_scale: float = 1.0,
               b_scale: float = 1.0) -> Column:
        """Second derivative along ``a`` and ``b`` (flat): a candidate and a table.

        The candidate: central differences along ``b`` (the tangent, steps ``b_scale``) of
        the complex-step derivative along ``a`` (the column). The quantity differenced is
        then the column's own first derivative, so its rounding is relative to the
        column, not to the whole gradient along ``b`` (which may be far larger: a
        logsumexp of large logits). The table: mixed differences (steps ``step_scale``
        along ``a``).
        """
        inner = self._complex_step(self.theta, a)
        table = mixed(self, self.theta, a * step_scale, b * b_scale, self.value, self.notes,
                      grow=inner is None)
        table = table[0] / (step_scale * b_scale), table[1] / (step_scale * b_scale)
        if inner is None:
            return None, table

        def slope(theta: np.ndarray) -> np.ndarray:
            result = self._complex_step(theta, a)
            return np.full(np.shape(inner), np.nan) if result is None else result
        # rounding-limited where the column's derivative is far below its first derivative
        # (a dominant logit): wider steps then help
        return directional(slope, self.theta, b, inner, b_scale, grow=True), table


#: One derivative column: a complex-step based candidate (or None) and a difference table.
Column = tuple[Estimate | None, Estimate]


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
    f.value = value if scalarize is None else np.sum(value * scalarize)
    noise32 = _float32_noise(spec, arrays64, value)
    f.value_scale = _value_scale(value if scalarize is None else value * scalarize, noise32)

    if spec.kind == "jvp":
        tangents = as64(spec.tangents)
        estimates = []
        for n in spec.wrt:
            tangent, tangent_scale, along_tangent = _unit_tangent(f, f.embed(n, tangents[n]))
            estimate = settle([f.along(tangent, along_tangent)])[0]
            estimates.append((estimate[0] * tangent_scale, estimate[1] * tangent_scale))
        expected = {n: e[0] for n, e in zip(spec.wrt, estimates)}
        uncertainty = {n: e[1] for n, e in zip(spec.wrt, estimates)}
        return _finish(spec, f, value, noise32, "full", expected, uncertainty, {})

    tangent, tangent_scale, along_tangent, analytic = None, 1.0, 1.0, False
    first_scale = 0.0
    if spec.kind == "hvp":
        tangents = as64(spec.tangents)
        tangent, tangent_scale, along_tangent = _unit_tangent(
            f, np.concatenate([tangents[n].ravel() for n in spec.wrt]))
        # a complex step confirmed tightly along the tangent shows fn analytic there: the
        # HVP candidates (differences of complex steps) then keep their own bounds
        first = f.along(tangent, along_tangent)
        analytic = confirmed(first)
        # the size of the gradient along the tangent: an HVP differences it, so an HVP that
        # is zero by cancellation is rounding noise of that size (sin'' at pi)
        first_scale = _largest_finite(settle([first])[0][0]) * tangent_scale

    def column(direction: np.ndarray, step_scale: float = 1.0) -> Column:
        if tangent is None:
            return f.along(direction, step_scale)
        return f.second(direction, tangent, step_scale, along_tangent)

    mode = "full" if spec.wrt_size <= full_limit else "directional"
    rng = _rng(spec)
    columns: dict[str, list[Column]] = {}
    chosen: dict[str, np.ndarray] = {}
    for n in spec.wrt:
        x = arrays64[n]
        if mode == "full":
            columns[n] = [column(f.embed(n, unit), step_scale=s)
                          for unit, s in zip(np.eye(x.size), _scale(x).ravel())]
        else:
            chosen[n] = rng.choice([-1.0, 1.0], size=(directions, *x.shape)) * _scale(x)
            columns[n] = [column(f.embed(n, d)) for d in chosen[n]]
    settled = iter(settle([c for n in spec.wrt for c in columns[n]], analytic))
    expected: dict[str, np.ndarray] = {}
    uncertainty: dict[str, np.ndarray] = {}
    for n in spec.wrt:
        estimates = [next(settled) for _ in columns[n]]
        stacked = np.stack([e[0] * tangent_scale for e in estimates], axis=-1)
        errors = np.stack([e[1] * tangent_scale for e in estimates], axis=-1)
        if mode == "full":
            # each column is d output / d x_i: the input axes go behind the output axes
            shape = np.shape(estimates[0][0]) + arrays64[n].shape
            expected[n], uncertainty[n] = stacked.reshape(shape), errors.reshape(shape)
        else:  # one row per direction
            expected[n], uncertainty[n] = np.moveaxis(stacked, -1, 0), np.moveaxis(errors, -1, 0)
    return _finish(spec, f, value, noise32, mode, expected, uncertainty, chosen, first_scale)


def _unit_tangent(f: _FlatFunction, flat: np.ndarray) -> tuple[np.ndarray, float, float]:
    """A flat tangent as (unit tangent, its scale, the step scale along it): the tangent
    over its largest element (steps of at most h per element), and, since a step along it
    moves every element it touches, the smallest of those elements' own scales
    (``max(1, |x|)``), so the steps suit the point's magnitude as a full column's do."""
    tangent_scale = float(np.max(np.abs(flat), initial=0.0)) or 1.0
    tangent = flat / tangent_scale
    along = float(np.min(_scale(f.theta[tangent != 0]), initial=np.inf)) \
        if np.any(tangent) else 1.0
    return tangent, tangent_scale, along


def _largest_finite(values: np.ndarray) -> float:
    values = np.abs(np.asarray(values, dtype=np.float64))
    values = values[np.isfinite(values)]
    return float(np.max(values, initial=0.0))


#: Points at which numpy's float32 evaluation samples its rounding noise.
NOISE_SAMPLES = 4
EPS32 = float(np.finfo(np.float32).eps)
#: A derivative output whose largest element is at most this many times the reference's
#: bound is not told apart from zero: its scale is the computation's (``natural_scale``).
RESOLVED = 100.0


def _float32_noise(spec: Spec, arrays64: Mapping[str, np.ndarray], value: np.ndarray
                   ) -> np.ndarray:
    """How far numpy's evaluation of ``fn`` in float32 lands from float64 at the same
    (float32-rounded) arrays: the largest gap at the point and at a few points 1e-4
    (relative) away, where every intermediate rounds differently (one may round luckily).
    Zero where ``fn`` does not run in float32."""
    rng = np.random.default_rng(0)
    noise = np.zeros_like(value)
    floats = [n for n, a in arrays64.items() if not is_index_dtype(a.dtype)]
    try:
        with np.errstate(all="ignore"):
            for sample in range(NOISE_SAMPLES):
                point = dict(arrays64)
                for n in floats:
                    moved = arrays64[n] if sample == 0 or n not in spec.wrt else \
                        arrays64[n] * (1 + 1e-4 * rng.uniform(-1, 1, arrays64[n].shape))
                    point[n] = moved.astype(np.float32)
                low = np.asarray(spec.evaluate(np, point), dtype=np.float64)
                high = np.asarray(spec.evaluate(np, {n: a.astype(np.float64) if n in floats
                                                     else a for n, a in point.items()}),
                                  dtype=np.float64)
                noise = np.maximum(noise, np.abs(low - high))
    except Exception:  # noqa: BLE001 - a fn that only runs in float64 gets no noise estimate
        return np.zeros_like(value)
    if np.shape(noise) != np.shape(value):
        return np.zeros_like(value)
    return np.where(np.isfinite(noise), noise, 0.0)


def _value_scale(value: np.ndarray, noise32: np.ndarray) -> float:
    """The size of what the value is computed from: ``|value|``, or where terms cancel,
    the float32 evaluation's noise over float32's epsilon (see :func:`natural_scale`)."""
    noise = float(np.sum(noise32)) if np.ndim(value) == 0 else float(np.max(noise32, initial=0))
    return max(float(np.max(np.abs(value), initial=0.0)), noise / EPS32)


def natural_scale(spec: Spec, arrays64: Mapping[str, np.ndarray], value: np.ndarray,
                  noise32: np.ndarray, name: str, first_scale: float = 0.0) -> float:
    """The size of what the derivative w.r.t. ``name`` is computed from, for a derivative
    that is zero (or rounding noise) because terms cancel: d/dx sum(softmax(x)), the std
    of [x, x + c], a centred sum, a gradient at an optimum.

    Every framework computes such a derivative as the rounding noise of its terms, so its
    tolerance must be relative to the terms' size, not to the zero (or the reference's own
    noise) that is left. The terms' size is estimated from the value's: running ``fn`` in
    float32 shows the rounding noise of the computation, ``eps32`` times the size of what
    it adds up (``|value|`` where nothing cancels, the terms where they do: a centred sum
    is zero, its float32 noise is not); that value scale, over the input's scale (``|x|``
    to the derivative's order), times the seed (tangent, cotangent), is the derivative's
    natural scale. A Hessian-vector product differentiates the gradient, so its scale is
    at least ``first_scale`` (the gradient along the tangent) over ``|x|``: sin'' at pi
    is the rounding noise of cos(pi) ~ 1, not of sin(pi) ~ 1e-16. Multiplying ``fn`` by a
    constant or changing an input's units changes it in proportion, so verdicts stay
    scale-free.
    """
    value_scale = _value_scale(value, noise32)
    size = float(np.max(np.abs(arrays64[name]), initial=0.0)) or max(
        (float(np.max(np.abs(arrays64[n]), initial=0.0)) for n in spec.wrt), default=0.0) or 1.0
    seed = 1.0
    if spec.kind in ("jvp", "hvp"):
        seed = max(float(np.max(np.abs(t), initial=0.0)) for t in spec.tangents.values())
    elif spec.kind == "vjp":
        seed = float(np.max(np.abs(spec.cotangent), initial=0.0))
    order = 2 if spec.kind == "hvp" else 1
    return max(value_scale * (seed or 1.0) / size**order, first_scale / size)


def _finish(spec: Spec, f: _FlatFunction, value: np.ndarray, noise32: np.ndarray, mode: str,
            expected: dict[str, np.ndarray], uncertainty: dict[str, np.ndarray],
            directions: dict[str, np.ndarray], first_scale: float = 0.0) -> Reference:
    """The reference with the value's noise, each derivative's scale and the reason."""
    value_noise = noise32 if spec.dtype == "float32" else noise32 * (EPS / EPS32)
    scales = {}
    for n in spec.wrt:
        largest = float(np.max(np.abs(expected[n]), initial=0.0))
        if largest > RESOLVED * float(np.max(uncertainty[n], initial=0.0)) and largest > 0:
            scales[n] = largest
        else:  # not told apart from zero: judged at the rounding level of what cancels
            scales[n] = max(largest, natural_scale(spec, f.arrays, value, noise32, n,
                                                      first_scale))
    return Reference(value, mode, expected, uncertainty, directions, f.calls, f.arrays,
                     f.scalarize, value_noise, scales, "; ".join(sorted(f.notes)))


#: Steps of the one-sided differences that test a point for non-differentiability, in units
#: of each element's own magnitude (see :func:`magnitudes`), each 100x below the last: what
#: is smooth shrinks 100x from one to the next, while a kink's gap or a jump's size stays.
#: The largest keeps a function that rounds to a fine grid (a float32 round trip) from
#: passing for one with jumps: at 1e-4 its steps are lost in the slope.
SIDE_STEPS = (1e-4, 1e-6, 1e-8)
#: How far (relative) consecutive steps may disagree on what stays.
PERSISTS = 0.1


@dataclass
class Sides:
    """The output's one-sided behaviour along one direction, per output element.

    ``left``/``right``: the one-sided slopes (per unit of the direction) at the smallest
    step, ``error`` how much they moved from the step before; ``kink`` where the slopes
    differ by a gap that stays as the step shrinks; ``jump`` where the value itself does.
    """

    left: np.ndarray
    right: np.ndarray
    error: np.ndarray
    kink: np.ndarray
    jump: np.ndarray


def magnitudes(x: np.ndarray) -> np.ndarray:
    """Each element's own magnitude |x|, or the array's largest |x| (else 1) where x = 0,
    so that the probe's steps stay far below the scale on which a smooth function bends
    (log(x) at x = 1e-4 is smooth on steps of 1e-10, not of 1e-6)."""
    largest = float(np.max(np.abs(x))) if np.size(x) else 0.0
    return np.where(x != 0, np.maximum(np.abs(x), 1e-290), largest or 1.0)


def _stays(sizes: list[np.ndarray], floor: np.ndarray) -> np.ndarray:
    """Where a quantity measured at each of the shrinking steps stays the same size (within
    ``PERSISTS``, plus ``floor``) and is larger than ``floor``."""
    stays = np.abs(sizes[-1]) > floor
    for big, small in zip(sizes, sizes[1:]):
        stays &= np.abs(big - small) <= PERSISTS * np.maximum(np.abs(big), np.abs(small)) + floor
    return stays


def sides(spec: Spec, reference: Reference, direction: Mapping[str, np.ndarray]) -> Sides:
    """One-sided slopes and values of the output along ``direction`` (by ``wrt`` name, in
    the arrays' units) at the reference's arrays, at each of the ``SIDE_STEPS``.

    At a smooth point the gap between left and right slopes shrinks with the step (it is
    curvature times the step); at a kink (max(0, x) at 0) it stays; at a jump (sign(x) at
    0, floor at an integer, a comparison at a tie) the difference of values stays and the
    slopes grow like 1 / step. Differences within the function's rounding never count.
    """
    f = _FlatFunction(spec, reference.arrays, reference.scalarize)
    d = np.concatenate([np.asarray(direction[n], dtype=np.float64).ravel()
                        if n in direction else np.zeros(size)
                        for n, size in zip(f.names, f.sizes)])
    centre = f(f.theta)
    rounding = np.abs(centre)
    lefts, rights, falls, rises = [], [], [], []
    with np.errstate(all="ignore"):
        for h in SIDE_STEPS:
            after, before = f(f.theta + h * d), f(f.theta - h * d)
            rounding = np.maximum(rounding, np.maximum(np.abs(after), np.abs(before)))
            falls.append(centre - before)
            rises.append(after - centre)
            lefts.append(falls[-1] / h)
            rights.append(rises[-1] / h)
        rounding = 16 * EPS * rounding  # of one evaluation of f
        jump = _stays(falls, 1e3 * rounding) | _stays(rises, 1e3 * rounding)
        gaps = [r - left for left, r in zip(lefts, rights)]
        kink = ~jump & _stays(gaps, 40 * rounding / SIDE_STEPS[-1])
        error = np.abs(lefts[-2] - lefts[-1]) + np.abs(rights[-2] - rights[-1])
    finite = np.isfinite(lefts[-1]) & np.isfinite(rights[-1])
    return Sides(lefts[-1], rights[-1], error, kink & finite, jump & np.isfinite(centre))

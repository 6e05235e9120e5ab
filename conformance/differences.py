"""Numerical derivatives that do not break: the machinery under the float64 reference.

numpy only, and nothing else of the project: :mod:`conformance.spec` (for ``numeric_grad``)
and :mod:`conformance.reference` both build on it.

Rules (each one a failure seen in practice):

- A first derivative comes from central differences with Richardson extrapolation. When
  the table disagrees with itself (a kink or a pole inside the stencil) the step shrinks,
  100x at a time, until the estimate is self-consistent or rounding would dominate.
- A stencil that leaves the function's domain (log or sqrt at a tiny x, exp near overflow)
  never becomes the estimate: a non-finite central difference makes way for a one-sided
  one away from the bad side, and only finite estimates are ever compared or kept.
- Where ``f`` also runs on complex arrays, the complex-step derivative
  ``Im f(x + i h d) / h`` (no subtractive cancellation, float64-accurate) is taken instead,
  but only when the difference table confirms it: functions that are not analytic there
  (abs, sign, a cast to real) give a wrong complex step, and the table catches that.
- Every estimate carries an error bound: the Richardson table's own disagreement, never
  below the rounding level of its smallest step (or, for a confirmed complex step, the
  gap between the two methods).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

EPS = float(np.finfo(np.float64).eps)
#: Base step of first-derivative differences, in units of the direction (which the
#: reference scales by max(1, |x|) per element).
FIRST_STEP = 2e-3
#: Base steps tried in turn while the Richardson table is inconsistent or leaves the domain.
SHRINKING_STEPS = tuple(FIRST_STEP * 0.01**k for k in range(5))
#: Base step of the mixed second differences (Hessian-vector products without complex step).
SECOND_STEP = 2e-2
SECOND_STEPS = tuple(SECOND_STEP * 0.1**k for k in range(4))
#: Wider steps tried where rounding alone limits the second differences at ``SECOND_STEP``.
GROWING_SECOND_STEPS = (SECOND_STEP * 10, SECOND_STEP * 100)
#: Richardson levels: steps h, h/2, h/4, h/8.
LEVELS = 4
#: Relative error below which a step is trusted without trying a smaller one.
CONSISTENT = 1e-11
#: Imaginary step of the complex-step derivative (relative to the direction).
COMPLEX_STEP = 1e-20
#: Relative error bound of a complex step on a function shown analytic: numpy's complex
#: elementary functions are not correctly rounded (tanh(8 + ih) loses about 3e-9).
COMPLEX_FLOOR = 1e-8
#: Richardson's error estimate (the gap between its two best extrapolations) times this is
#: the bound it claims: the gap alone undershot by up to 2x on the accuracy suite.
TABLE_SAFETY = 4.0

_COMPLEX_WARNING = getattr(np, "exceptions", np).ComplexWarning

Estimate = tuple[np.ndarray, np.ndarray]  # (estimate, error bound), both output-shaped


def _largest(values: np.ndarray) -> float:
    return float(np.max(np.abs(values))) if np.size(values) else 0.0


def _finite_max(values: np.ndarray) -> float:
    """max |values|, or inf when any entry is not finite (so it never wins a comparison)."""
    values = np.asarray(values)
    return _largest(values) if np.all(np.isfinite(values)) else np.inf


def richardson(difference: Callable[[float], np.ndarray], step: float, levels: int = LEVELS,
               order: int = 2) -> Estimate:
    """Extrapolate ``difference(h)`` to h -> 0 from steps h, h/2, ...; return (estimate, error).

    ``order`` is the power of h of the leading error term: 2 for central differences
    (error even in h), 1 for one-sided ones.
    """
    table: list[list[np.ndarray]] = []
    for i in range(levels):
        row = [np.asarray(difference(step / 2**i), dtype=np.float64)]
        for j in range(1, i + 1):
            factor = 2.0 ** (order * j)
            row.append((factor * row[j - 1] - table[i - 1][j - 1]) / (factor - 1.0))
        table.append(row)
    best = table[-1][-1]
    if levels == 1:
        return best, np.zeros_like(best)
    with np.errstate(invalid="ignore"):
        error = np.maximum(np.abs(best - table[-1][-2]), np.abs(best - table[-2][-1]))
    return best, error


def _with_rounding(estimate: Estimate, rounding: float) -> Estimate:
    return estimate[0], np.maximum(TABLE_SAFETY * estimate[1], rounding)


def directional(f: Callable[[np.ndarray], np.ndarray], theta: np.ndarray, direction: np.ndarray,
                f0: np.ndarray, step_scale: float = 1.0,
                notes: set[str] | None = None, grow: bool = False,
                value_scale: float = 0.0) -> Estimate:
    """The derivative of ``f`` at ``theta`` along ``direction`` by finite differences.

    Central differences first; where they are not finite (the stencil left the domain),
    one-sided differences towards the side where ``f`` is finite. Steps (``SHRINKING_STEPS``
    times ``step_scale``) shrink while the estimate is inconsistent, and with ``grow`` (where
    no complex step will take over) grow (``GROWING_STEPS``) while rounding alone limits
    it; the best finite, self-consistent estimate wins. ``value_scale``: the size of what
    ``f`` is computed from where it exceeds ``|f|`` (terms that cancel), which sets its
    rounding level. Estimates at different steps that
    disagree beyond their bounds (a
    function that rounds internally on a grid coarser than float64's) widen the bound to
    cover them all, and add :data:`STEP_DEPENDENT` to ``notes``.
    """
    # work on f / 2**k ~ 1, so extrapolating near float64's largest numbers cannot overflow
    size = _finite_max(f0)
    unit = 2.0 ** np.floor(np.log2(size)) if 0 < size < np.inf else 1.0
    with np.errstate(all="ignore"):  # overflow or NaN in a stencil is handled below
        estimate, error = _directional(lambda t: f(t) / unit, theta, direction, f0 / unit,
                                       step_scale, notes, grow, value_scale / unit)
        return estimate * unit, error * unit


#: Larger base steps tried when the base step's estimate is limited by rounding alone
#: and that limit is above ``GROW_ABOVE`` relative: a smooth function (a log-determinant,
#: eigenvalues: no complex step) is then estimated more precisely from wider stencils.
GROWING_STEPS = (FIRST_STEP * 10, FIRST_STEP * 100)
GROW_ABOVE = 1e-10
#: How far beyond both bounds the first step's estimate must be from the best one to show
#: step dependence (a Richardson bound at a too-wide step is only roughly its error).
MARGIN = 4.0
#: The spot check of a table takes a central difference at its smallest step over this.
SPOT = 16.0
#: A spot check within this (relative to the estimate) of its table is never a sign of step
#: dependence: a function's evaluations may carry more than a few ulps of noise (numpy's
#: complex functions, which HVP columns difference, lose up to ``COMPLEX_FLOOR``), while a
#: grid that matters to the float64 tolerance puts the spot check far further off.
SPOT_FLOOR = 1e-7
#: How far (relative) the estimate the steps shrank to must differ from a wider step's with a
#: smaller bound to show a kink inside the wider stencils: such a kink is off by O(1)
#: (relu 1e-9 from 0: 0.5 for 1), while the rounding-limited bound of the smaller step may
#: undershoot its error by a few times (1e-7 relative near a pole).
KINK_GAP = 1e-6
#: Why a reference is uncertain when its difference quotients depend on the step.
STEP_DEPENDENT = ("the function rounds internally (or is not smooth) at the scale of the "
                  "steps: its difference quotients depend on the step")


def _directional(f: Callable[[np.ndarray], np.ndarray], theta: np.ndarray, direction: np.ndarray,
                 f0: np.ndarray, step_scale: float, notes: set[str] | None,
                 grow: bool, value_scale: float) -> Estimate:
    level = 8 * EPS * max(_finite_max(f0), value_scale, np.finfo(float).tiny)
    dependent: list[float] = []  # steps whose spot check disagreed with their table
    base = SHRINKING_STEPS[0] * step_scale

    def attempt(step: float) -> tuple[Estimate | None, float]:
        # differences of f at the smallest step cannot beat |f| eps / h
        smallest = step / 2 ** (LEVELS - 1)
        rounding = level / smallest
        for scheme in _SCHEMES:
            order = 2 if scheme is _central else 1
            quotient = functools.cache(scheme(f, theta, direction, f0))
            estimate = richardson(quotient, step, order=order)
            if not (np.isfinite(_finite_max(estimate[0]))
                    and np.isfinite(_finite_max(estimate[1]))):
                continue
            candidate = _with_rounding(estimate, rounding)
            if step == base and scheme is _central and _largest(candidate[1]) <= max(
                    CONSISTENT * _largest(estimate[0]), 1.01 * rounding):
                # (only a table that would be accepted; one-sided: a domain edge is near)
                # a spot check at a much smaller step: a smooth function's quotient there is
                # off by its truncation (known from the table) plus rounding, no more; one
                # that rounds internally on a grid coarser than float64's is off by more
                spot = quotient(smallest / SPOT)
                expected = (np.abs(quotient(smallest) - estimate[0]) / SPOT**order
                            + level * SPOT / smallest)
                if np.all(np.isfinite(spot)) and np.any(
                        np.abs(spot - estimate[0]) > 4 * expected + candidate[1]
                        + SPOT_FLOOR * _largest(estimate[0])):
                    dependent.append(step)
                    return (estimate[0], np.maximum(candidate[1], np.abs(spot - estimate[0]))
                            ), 0.0
            return candidate, rounding
        return None, rounding

    return _best(attempt, [s * step_scale for s in SHRINKING_STEPS],
                 [s * step_scale for s in GROWING_STEPS if grow], np.shape(f0), notes,
                 dependent)


def _best(attempt: Callable[[float], tuple[Estimate | None, float]], shrinking: Sequence[float],
          growing: Sequence[float], shape: tuple[int, ...], notes: set[str] | None,
          dependent: Sequence[float] = ()) -> Estimate:
    """The estimate with the smallest bound over a ladder of steps (see :func:`directional`).

    Steps shrink while the estimate is inconsistent; where the first step's estimate is
    limited by rounding alone, wider steps are tried. Every estimate made is kept: where the
    first step's spot check disagreed with its table (``dependent``), or the first step's
    estimate is far beyond both bounds from the best, the quotient depends on the step,
    and the result's bound grows to cover each of them (never a confident number picked
    from a smaller step that happened to look consistent: below the grid of a function
    that rounds internally, every quotient is exactly 0). Smaller steps' estimates are not
    compared with each other: their rounding bound counts ``f``'s rounding, not the
    input's along a direction of many elements.
    """
    candidates: list[Estimate] = []
    #: the self-consistent estimate the steps shrank to, if they had to
    settled: list[Estimate] = []

    def consistent(candidate: Estimate, rounding: float) -> bool:
        bound = _largest(candidate[1])
        return bound <= CONSISTENT * max(_largest(candidate[0]), 1e-300) \
            or bound <= 1.01 * rounding

    for i, step in enumerate(shrinking):
        candidate, rounding = attempt(step)
        if candidate is None:
            continue
        candidates.append(candidate)
        if consistent(candidate, rounding):
            if i > 0:  # reached by shrinking: the wider steps' tables were inconsistent
                settled.append(candidate)
            if i == 0 and _largest(candidate[1]) > GROW_ABOVE * _largest(candidate[0]):
                for wider in growing:  # rounding-limited: a wider stencil may do better
                    grown, _ = attempt(wider)
                    if grown is None or _largest(grown[1]) >= _largest(candidates[-1][1]):
                        break
                    candidates.append(grown)
            break
    if not candidates:
        return np.full(shape, np.nan), np.full(shape, np.inf)
    best = min(candidates, key=lambda c: _largest(c[1]))
    with np.errstate(invalid="ignore"):
        # the first step's estimate, if not the best, was rejected as inconsistent (a kink
        # or a pole in its stencil): it must still agree with the best within both bounds,
        # with a margin; far beyond them, or where it is clearly not 0 while the best is
        # exactly 0 (f took one value over the whole smaller stencil), the best one comes
        # from a step below the grid of a function that rounds internally
        first = candidates[0]
        if first is not best and (
                np.any(np.abs(first[0] - best[0]) > MARGIN * (first[1] + best[1]))
                or (not np.any(best[0]) and np.any(np.abs(first[0]) > first[1]))):
            dependent = [*dependent, 0.0]
        # likewise the self-consistent estimate the steps shrank to, where an inconsistent
        # one has the smaller bound: a kink 1e-9 from the point inside every wider stencil
        # makes their quotients agree on a smooth-looking 0.5 where the derivative is 1
        # (by more than KINK_GAP too: a rounding-limited bound may undershoot a little)
        if settled and settled[0] is not best and np.any(
                np.abs(settled[0][0] - best[0]) > MARGIN * (settled[0][1] + best[1])
                + KINK_GAP * np.abs(settled[0][0])):
            dependent = [*dependent, 0.0]
    if not dependent:
        return best
    error = best[1]
    with np.errstate(invalid="ignore"):
        for other in candidates:  # no step is right: as wide as all of them, twice over
            error = np.maximum(error, 2 * (np.abs(other[0] - best[0]) + other[1]))
    if notes is not None:
        notes.add(STEP_DEPENDENT)
    return best[0], error


def _realized(theta: np.ndarray, d: np.ndarray, h: float) -> float:
    """The step actually taken along a one-element direction: x + h rounds, and at a step
    far below |x| that rounding would be a visible error in the quotient."""
    nonzero = np.flatnonzero(d)
    if nonzero.size != 1 or np.iscomplexobj(theta):
        return h
    k = nonzero[0]
    return float((theta[k] + h * d[k]) - theta[k]) / float(d[k]) or h


def _central(f: Callable, theta: np.ndarray, d: np.ndarray, f0: np.ndarray) -> Callable:
    def quotient(h: float) -> np.ndarray:
        h = _realized(theta, d, h)
        return (f(theta + h * d) - f(theta - h * d)) / (2 * h)
    return quotient


def _forward(f: Callable, theta: np.ndarray, d: np.ndarray, f0: np.ndarray) -> Callable:
    def quotient(h: float) -> np.ndarray:
        h = _realized(theta, d, h)
        return (f(theta + h * d) - f0) / h
    return quotient


def _backward(f: Callable, theta: np.ndarray, d: np.ndarray, f0: np.ndarray) -> Callable:
    def quotient(h: float) -> np.ndarray:
        h = _realized(theta, d, -h)
        return (f(theta + h * d) - f0) / h
    return quotient


_SCHEMES = (_central, _forward, _backward)


def complex_step(f: Callable[[np.ndarray], Any], theta: np.ndarray,
                 direction: np.ndarray) -> np.ndarray | None:
    """``Im f(theta + i h direction) / h``, or None where ``f`` does not run on complex
    arrays (it raises, returns real numbers, drops the imaginary part, or is not finite)."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("error", _COMPLEX_WARNING)
            out = np.asarray(f(theta + 1j * COMPLEX_STEP * direction))
    except Exception:  # noqa: BLE001 - any failure on complex input: no complex step
        return None
    if not np.iscomplexobj(out) or not np.all(np.isfinite(out)):
        return None
    with np.errstate(over="ignore"):
        return out.imag / COMPLEX_STEP


#: A complex step that agrees with a difference table this closely (relative), where the
#: table itself is this precise, is evidence that ``f`` is analytic on complex arrays.
TIGHT = 1e-8


def _gap(candidate: Estimate, table: Estimate) -> np.ndarray:
    return np.abs(candidate[0] - table[0])


def _noise(candidate: Estimate) -> np.ndarray:
    """A complex-step candidate's own error: its bound, at least numpy's complex rounding,
    relative to each element and to the column's largest (an exact zero stays zero)."""
    return np.maximum(candidate[1], COMPLEX_FLOOR * np.abs(candidate[0])
                      + 16 * EPS * _largest(candidate[0]))


def confirmed(column: tuple[Estimate | None, Estimate]) -> bool:
    """Whether a complex-step candidate agrees with a precise difference table so tightly
    (``TIGHT``) that ``f`` must be analytic there (a wrong complex step is off by O(1))."""
    c, t = column
    return (c is not None and np.shape(c[0]) == np.shape(t[0]) and _largest(c[0]) > 0
            and _largest(_gap(c, t)) <= TIGHT * _largest(c[0]) + _largest(_noise(c))
            and _largest(t[1]) <= 1e-6 * _largest(c[0]) + _largest(_noise(c)))


def settle(columns: Sequence[tuple[Estimate | None, Estimate]],
           analytic: bool = False) -> list[Estimate]:
    """One estimate per column from its complex-step ``candidate`` (or None) and its
    difference ``table``, deciding for all of a function's columns at once.

    - A candidate that disagrees with its table beyond the table's error bound shows ``f``
      is not analytic on complex arrays (abs, sign, a cast to real): every column then uses
      its table.
    - Where some column confirms the complex step tightly (``TIGHT``), or the caller has
      confirmed it so (``analytic``: a Hessian-vector product whose first derivative
      along the tangent was), ``f`` is analytic there: confirmed candidates keep their own
      (rounding-level) error bound.
    - Otherwise a confirmed candidate is only known to lie within the table's bound of
      the table: its error bound is its gap to the table plus that bound.
    """
    usable = [(c, t) for c, t in columns
              if c is not None and np.shape(c[0]) == np.shape(t[0])
              and np.isfinite(_finite_max(c[0]))]
    if not usable or any(not np.all(_gap(c, t) <= t[1] + _noise(c)) for c, t in usable):
        return [table for _, table in columns]
    analytic = analytic or any(confirmed((c, t)) for c, t in usable)
    settled = []
    for candidate, table in columns:
        if candidate is None or not any(candidate is c for c, _ in usable):
            settled.append(table)
        elif analytic:
            settled.append((candidate[0], _noise(candidate)))
        else:
            settled.append((candidate[0], np.maximum(_gap(candidate, table) + table[1],
                                                     _noise(candidate))))
    return settled


def mixed(f: Callable[[np.ndarray], np.ndarray], theta: np.ndarray, a: np.ndarray,
          b: np.ndarray, f0: np.ndarray, notes: set[str] | None = None,
          grow: bool = False) -> Estimate:
    """Second derivative along ``a`` and ``b`` from four-point differences, over the same
    ladder of steps as :func:`directional` (the fallback when no complex step is available;
    ``grow`` there: a rounding-limited table is retried with wider steps)."""
    level = 8 * EPS * max(_finite_max(f0), np.finfo(float).tiny)

    def difference(h: float) -> np.ndarray:
        return (f(theta + h * a + h * b) - f(theta + h * a - h * b)
                - f(theta - h * a + h * b) + f(theta - h * a - h * b)) / (4 * h * h)

    def attempt(step: float) -> tuple[Estimate | None, float]:
        rounding = level / (step / 2 ** (LEVELS - 1)) ** 2
        with np.errstate(all="ignore"):
            candidate = _with_rounding(richardson(difference, step), rounding)
        if not np.isfinite(_finite_max(candidate[0])) or not np.isfinite(
                _finite_max(candidate[1])):
            return None, rounding
        return candidate, rounding

    return _best(attempt, SECOND_STEPS, GROWING_SECOND_STEPS if grow else (), np.shape(f0),
                 notes)


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

        def flat_f(t: np.ndarray) -> np.ndarray:
            return np.asarray(f(unflatten(t), *rest), dtype=np.float64)

        f0 = flat_f(theta)
        flat = np.empty_like(theta)
        for i, s in enumerate(np.maximum(1.0, np.abs(theta))):
            unit = np.zeros_like(theta)
            unit[i] = 1.0
            flat[i] = directional(flat_f, theta, unit, f0, step_scale=s)[0]
        return unflatten(flat)
    return gradient

"""Detectors that turn a wrong (or suspicious) answer into a named diagnosis.

Each detector looks at one kind of evidence (the adapter's exception, the answer's layout
or dtype, the probe calls, program hooks, the pattern of the error) and returns a
:class:`Finding` or None. :data:`PIPELINE` orders them: the first that fires explains the
case, so a planted mistake gets exactly its own code. Adding a diagnosis is one detector,
one entry in :data:`PIPELINE` and one explanation in :mod:`conformance.diagnoses`.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from conformance.probes import MOVED, References
from conformance.reference import Reference, compute_reference, magnitudes, sides
from conformance.spec import Spec
from conformance.tolerance import TOLERANCES, UNCERTAINTY_FACTOR, Comparison, allowed, compare


@dataclass
class Finding:
    """A diagnosis code with the concrete evidence for this case; an empty code fails the
    case with its evidence but names no mistake (the evidence fits none of them)."""

    code: str
    detail: str
    #: the status the finding gives the case (a kink is a convention, not a failure)
    status: str = "FAIL"


@dataclass
class Evidence:
    """What the diagnosis pipeline sees of one judged case."""

    spec: Spec
    references: References
    #: the answer to each planned call, by label (``base``, ``repeat``, ``perturbed``)
    outputs: dict[str, dict[str, Any]]
    hooks: dict[str, list[Any]]
    #: the arrays each planned call supplied, in call order
    supplied: list[dict[str, np.ndarray]]
    #: comparisons of the judged ``base`` call and of the ``perturbed`` probe that failed
    failed: list[Comparison] = field(default_factory=list)
    probe_failed: list[Comparison] = field(default_factory=list)
    #: the base answer's elements at non-differentiable points that it answered with a
    #: valid choice (left out of ``failed``), with that answer
    admitted: list[tuple[Point, float]] = field(default_factory=list)
    #: whether the reference could not judge some other element (INCONCLUSIVE)
    uncertain: bool = False

    @property
    def base(self) -> dict[str, Any]:
        return self.outputs["base"]


@dataclass(frozen=True)
class Stage:
    """One step of the pipeline: a detector, and whether it needs a wrong answer to run."""

    name: str
    detect: Callable[[Evidence], Finding | None]
    only_when_wrong: bool = True


def diagnose(evidence: Evidence) -> Finding | None:
    """The first finding of :data:`PIPELINE` for this case, or None."""
    wrong = bool(evidence.failed or evidence.probe_failed)
    for stage in PIPELINE:
        if stage.only_when_wrong and not wrong:
            continue
        finding = stage.detect(evidence)
        if finding is not None:
            return finding
    return None


def _largest(array: np.ndarray) -> float:
    """max |array|, 0 for an empty one."""
    return float(np.max(np.abs(array))) if np.size(array) else 0.0


def _rtol(spec: Spec) -> float:
    return TOLERANCES[spec.dtype]["rtol"]


# -- from the adapter's exception -------------------------------------------------------

_EAGER_GRADIENTS = re.compile(r"tf\.gradients is not supported when eager execution is enabled")


def from_exception(message: str) -> Finding | None:
    """A known user mistake behind an adapter's exception."""
    if _EAGER_GRADIENTS.search(message):
        return Finding("eager-gradients", message)
    return None


# -- from the answer's layout and type, before numbers are compared ---------------------

def independent(reference: Reference, name: str) -> bool:
    """Whether the output does not depend on ``name`` at all: its reference derivative is
    zero within the reference's own error everywhere (a constant function's differences
    are exactly zero), so a framework's None for it is the true answer, not a lost path."""
    return bool(np.all(np.abs(reference.expected[name])
                       <= UNCERTAINTY_FACTOR * reference.uncertainty[name]))


def unwatched(spec: Spec, references: References, output: dict[str, Any]) -> Finding | None:
    """A ``wrt`` key that came back None although the output depends on it: the framework
    gave no gradient at all."""
    missing = [n for n in spec.wrt if n in output and output[n] is None
               and not independent(references["base"], n)]
    if missing:
        return Finding("unwatched-input", f"no gradient (None) for {', '.join(missing)}, "
                       "on which the output depends")
    return None


def dtype_downcast(spec: Spec, output: dict[str, Any]) -> Finding | None:
    """A float64 spec answered with float32 arrays: the dtype itself says what was computed."""
    if spec.dtype != "float64":
        return None
    for name in ("value", *spec.wrt):
        got = output.get(name)
        if isinstance(got, np.ndarray | np.generic) and got.dtype == np.float32:
            return Finding("dtype-downcast", f"{name}: float32 returned for a float64 spec")
    return None


#: Significant bits above which a float32 number is no short binary fraction (0.5, 0.375,
#: an integer): a computed float64 number has 29 more, all zero by chance once in 2**29.
SHORT_FRACTION_BITS = 12


def _significant_bits(values: np.ndarray) -> np.ndarray:
    """How many leading bits of each (finite, non-zero) float64's mantissa are in use."""
    mantissa = np.frexp(np.abs(values))[0]  # in [0.5, 1): times 2**53 it is a whole number
    whole = (mantissa * 2.0**53).astype(np.int64)
    lowest = whole & -whole
    return 53 - np.log2(lowest.astype(np.float64)).astype(int)


def float32_rounding(spec: Spec, references: References, output: dict[str, Any],
                     failed: list[Comparison]) -> Finding | None:
    """A float64 answer wrong by float32 rounding: every key that failed is within the
    float32 tolerance of the reference (but not the float64 one), and its values are all
    float32 numbers, some of them long ones. Values that are merely representable (0.5,
    integers, zeros) prove nothing: a correct float64 answer has them too."""
    if spec.dtype != "float64" or not failed:
        return None
    reference = references["base"]
    long_values = 0
    for comparison in failed:
        key = comparison.key
        got = np.asarray(output[key])
        if key == "value":
            observed, expected, error = got, reference.value, np.zeros_like(reference.value)
        else:
            observed = reference.observe(spec, key, got)
            expected, error = reference.expected[key], reference.uncertainty[key]
        numbers = got[np.isfinite(got) & (got != 0)].astype(np.float64)
        if numbers.size == 0 or np.any(numbers.astype(np.float32) != numbers) \
                or not compare(key, observed, expected, error, "float32").passed:
            return None
        long_values += int(np.sum(_significant_bits(numbers) > SHORT_FRACTION_BITS))
    if not long_values:
        return None
    keys = ", ".join(c.key for c in failed)
    return Finding("dtype-downcast", f"{keys}: off by float32 rounding (within the float32 "
                   "tolerance, outside the float64 one), and every value is exactly a float32 "
                   "number: computed in float32, then cast to float64")


def shape_mismatch(spec: Spec, references: References, output: dict[str, Any]) -> Finding | None:
    """The right numbers in another layout: transposed, axes swapped, reshaped, or the
    entries along one axis permuted (rows or columns swapped, reversed)."""
    reference = references["base"]
    for name in spec.wrt:
        if not isinstance(output[name], np.ndarray) \
                or not np.issubdtype(output[name].dtype, np.floating):
            continue  # not a real array: the contract check names it
        got = np.asarray(output[name], dtype=np.float64)
        want = reference.expected[name]
        if reference.mode != "full" or got.size != want.size:
            continue

        def matches(candidate: np.ndarray, name: str = name, want: np.ndarray = want) -> bool:
            return compare(name, candidate, want, reference.uncertainty[name], spec.dtype).passed

        candidates = [("transposed", got.T), ("reshaped", got.reshape(want.shape))]
        if spec.kind == "jacobian":
            n_out, n_in = reference.value.ndim, spec.arrays[name].ndim
            if got.ndim == n_out + n_in:
                axes = list(range(n_in, n_in + n_out)) + list(range(n_in))
                candidates.append(("input axes first", np.transpose(got, axes)))
        if got.shape == want.shape and matches(got):
            continue  # this derivative is right as it is
        for how, candidate in candidates:
            if candidate.shape == want.shape \
                    and not np.array_equal(candidate, got.reshape(want.shape)) \
                    and matches(candidate):
                return Finding("shape-mismatch", f"{name}: got shape {got.shape}; the numbers "
                               f"match the reference only {how} to {want.shape}")
        if got.shape == want.shape and want.ndim >= 2:  # whole slices, not single numbers
            for axis in range(want.ndim):
                order = _permutation(got, want, axis)
                if order is not None and matches(np.take(got, order, axis=axis)):
                    how = "reversed" if order == list(range(want.shape[axis]))[::-1] \
                        else f"permuted ({order})"
                    return Finding("shape-mismatch", f"{name}: the entries along axis {axis} "
                                   f"are {how}; otherwise they match the reference")
    return None


def _permutation(got: np.ndarray, want: np.ndarray, axis: int) -> list[int] | None:
    """The order of ``got``'s slices along ``axis`` that best matches ``want``'s, when it is
    a permutation other than the identity (each slice matched to its nearest). Only for
    arrays of two or more axes: a 1-d answer whose numbers are the right ones in another
    order is a wrong scatter, not a layout."""
    length = want.shape[axis]
    if length < 2:
        return None
    g = np.moveaxis(got, axis, 0).reshape(length, -1)
    w = np.moveaxis(want, axis, 0).reshape(length, -1)
    distance = np.linalg.norm(w[:, None, :] - g[None, :, :], axis=-1)
    order = [int(j) for j in np.argmin(distance, axis=1)]
    if sorted(order) != list(range(length)) or order == list(range(length)):
        return None
    return order


# -- from the probes and the program's hooks --------------------------------------------

def from_hooks(hooks: dict[str, list[Any]]) -> Finding | None:
    """Graph ops or traces that keep being added: more after the last call than after the
    one before (a one-off addition on the second call that stops is no growth per call)."""
    ops = hooks.get("graph_op_count", [])
    if len(ops) >= 2 and ops[-1] > ops[-2]:
        return Finding("graph-growth", f"graph op count per call: {ops}")
    traces = hooks.get("trace_count", [])
    if len(traces) >= 2 and traces[-1] > traces[-2]:
        return Finding("retracing", f"trace count per call: {traces}")
    return None


def _max_difference(spec: Spec, a: dict[str, Any], b: dict[str, Any]) -> float:
    """Largest difference between two answers, relative to each derivative's size."""
    worst = 0.0
    for name in spec.wrt:
        x, y = np.asarray(a[name], dtype=np.float64), np.asarray(b[name], dtype=np.float64)
        with np.errstate(invalid="ignore"):  # inf - inf: a NaN answer differs, as it should
            worst = max(worst, _largest(x - y) / max(_largest(x), _largest(y), 1e-300))
    return worst


def from_repeat(spec: Spec, outputs: dict[str, dict[str, Any]]) -> Finding | None:
    """Two identical calls that disagree: dropout left on, or another source of randomness."""
    if "repeat" not in outputs:
        return None
    change = _max_difference(spec, outputs["base"], outputs["repeat"])
    if change <= _rtol(spec):
        return None
    detail = f"two identical calls differ by {change:.2g} (relative)"
    factor = _proportional(spec, outputs["base"], outputs["repeat"])
    if factor is not None:
        return Finding("", f"{detail}: the second answer is {factor:.6g} times the first, "
                       "a pattern of state carried from one call to the next (gradients "
                       "accumulated into a variable) or of a random scale on the whole "
                       "answer, not of dropout or noise")
    if _has_dropout(spec):
        return Finding("learning-phase", detail + "; the model has Dropout")
    return Finding("nondeterministic", detail)


def _proportional(spec: Spec, first: dict[str, Any], second: dict[str, Any]) -> float | None:
    """c where the second answer's derivatives are c times the first's (c != 1), over at
    least two non-zero elements; one element is proportional to anything."""
    a = np.concatenate([np.ravel(np.asarray(first[n], dtype=np.float64)) for n in spec.wrt])
    b = np.concatenate([np.ravel(np.asarray(second[n], dtype=np.float64)) for n in spec.wrt])
    if np.count_nonzero(a) < 2 or not np.all(np.isfinite(a) & np.isfinite(b)):
        return None
    c = float(a @ b / (a @ a))
    if abs(c - 1) <= _rtol(spec) or _largest(b - c * a) > _rtol(spec) * _largest(b):
        return None
    return c


def disconnected(spec: Spec, failed: list[Comparison], output: dict[str, Any]
                 ) -> Finding | None:
    """A derivative that is exactly zero everywhere while the reference's is not: a cut
    path filled with zeros. Named per key, before the weight probe (zeros stay put too)."""
    failing = {c.key for c in failed}
    cut = [n for n in spec.wrt
           if n in failing and _largest(np.asarray(output[n], dtype=np.float64)) == 0]
    if cut:
        return Finding("disconnected", f"the derivative w.r.t. {', '.join(cut)} is exactly "
                       "zero everywhere; the reference's is not")
    return None


def _has_dropout(spec: Spec) -> bool:
    """Whether the spec's model has a Dropout layer that training mode would switch on."""
    layers = getattr(spec.model, "layers", ())
    return any(layer.class_name == "Dropout" and layer.config.get("rate", 0) > 0
               for layer in layers)


#: An answer that moves less than this share of what the reference's move predicts for it
#: (the reference's move times the answer's size over the reference's, so that an answer
#: off by a constant factor still follows) is stale, where the reference moved by
#: ``probes.MOVED`` tolerances.
STALE_SHARE = 0.1


def from_weights(evidence: Evidence) -> Finding | None:
    """An answer that ignores the supplied weights (read back, or frozen under perturbation).

    The value and each derivative are judged on their own: a stale gradient with a fresh
    value, a stale value with a fresh gradient, or both.
    """
    spec, outputs = evidence.spec, evidence.outputs
    for used, given in zip(evidence.hooks.get("weights_in_use", []), evidence.supplied):
        for name, array in (used or {}).items():
            if name in given and not np.allclose(np.asarray(array), given[name],
                                                 rtol=_rtol(spec), atol=0):
                return Finding("stale-session", f"weights in use for {name} differ from the "
                               "ones supplied")
    if "perturbed" not in outputs or not (evidence.failed or evidence.probe_failed):
        return None
    before, after = evidence.references["base"], evidence.references["perturbed"]
    stale = []
    for key in ("value", *spec.wrt):
        if key == "value":
            ref0, ref1, noise = before.value, after.value, 0.0
            got0, got1 = outputs["base"]["value"], outputs["perturbed"]["value"]
        else:
            ref0, ref1 = before.expected[key], after.expected[key]
            noise = before.uncertainty[key] + after.uncertainty[key]
            got0 = before.observe(spec, key, outputs["base"][key])
            got1 = after.observe(spec, key, outputs["perturbed"][key])
        ref_move = np.abs(np.asarray(ref1) - ref0)
        if not np.any(ref_move > MOVED * allowed(ref0, noise, spec.dtype)):
            continue  # the reference itself did not clearly move: nothing to learn here
        got0, got1 = np.asarray(got0, dtype=np.float64), np.asarray(got1, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            moved = _largest(got1 - got0)
        size = _largest(got0) / max(_largest(ref0), 1e-300)  # a mean for a sum still follows
        if moved <= STALE_SHARE * size * _largest(ref_move):
            stale.append(f"{key} (reference moved {_largest(ref_move):.2g}, answer {moved:.2g})")
    if stale:
        return Finding("stale-session", "perturbing the weights moved the reference but not "
                       f"the answer: {'; '.join(stale)}; it ignores the supplied weights")
    return None


# -- from the pattern of the numeric error ----------------------------------------------

def from_error_pattern(spec: Spec, references: References, output: dict[str, Any],
                       admitted: list[tuple[Point, float]] = ()) -> Finding | None:
    """NaN where the reference is finite, or one derivative off by a reduction's factor.
    Elements ``admitted`` as valid choices at non-differentiable points (a NaN at a jump
    too) are no evidence either way: they are left out."""
    reference = references["base"]
    observed, expected = {}, {}
    for name in spec.wrt:
        observed[name] = np.array(reference.observe(spec, name, output[name]))
        expected[name] = np.array(reference.expected[name])
        for point, _ in admitted:
            if point.key == name:
                observed[name][point.index] = expected[name][point.index] = 0.0
    for name in spec.wrt:
        got = np.asarray(output[name], dtype=np.float64)
        if name not in reference.directions:
            got = observed[name]
        if not np.all(np.isfinite(got)) and np.all(np.isfinite(expected[name])):
            bad = np.argwhere(~np.isfinite(got))[0].tolist() if got.ndim else []
            return Finding("nan-gradient", f"{name}{bad}: {got[tuple(bad)]} where the "
                           "reference is finite")
    factors = reduction_factors(spec, reference.value.shape)
    for name in spec.wrt:
        factor = _whole_factor(observed[name], expected[name], factors)
        if factor is None:
            continue
        c, whole = factor
        also = ""
        if whole <= COMMON_FACTOR:  # a 2 is as often calculus (x**2, 0.5 * r**2) as a sum
            value = np.asarray(output["value"], dtype=np.float64)
            if not np.allclose(value, c * reference.value, rtol=1e-4, atol=0) \
                    or not np.any(reference.value):
                continue
            also = "; the value is off by the same factor"
        return Finding("wrong-reduction", f"{name}: every element is {c:.6g} times the "
                       f"reference ({'1/' if abs(c) < 1 else ''}{whole}: {factors[whole]})"
                       + also)
    return None


#: Whole factors up to this one are as often a calculus slip as a reduction's length, so
#: ``wrong-reduction`` needs the value off by the same factor too.
COMMON_FACTOR = 2


def reduction_factors(spec: Spec, output_shape: tuple[int, ...]) -> dict[int, str]:
    """The whole numbers a sum-vs-mean mistake can multiply by: the length of every axis
    and the element count of every array of the spec (and of its output), with where from."""
    factors: dict[int, str] = {}
    shapes = [(f"'{n}'", a.shape) for n, a in spec.arrays.items()]
    shapes.append(("the output", tuple(output_shape)))
    for where, shape in shapes:
        for axis, length in enumerate(shape):
            factors.setdefault(int(length), f"the length of axis {axis} of {where}")
        factors.setdefault(int(np.prod(shape, dtype=int)), f"the element count of {where}")
    return {k: v for k, v in factors.items() if k >= 2}


def _whole_factor(got: np.ndarray, want: np.ndarray, factors: dict[int, str]
                  ) -> tuple[float, int] | None:
    """(c, n) with got = c * want and |c| or 1/|c| = n, one of ``factors``, when at least two
    elements inform it."""
    got, want = np.ravel(got), np.ravel(want)
    if np.count_nonzero(want) < 2 or not np.all(np.isfinite(got)):
        return None
    c = float(got @ want / (want @ want))
    if not np.isfinite(c) or c == 0 or _largest(got - c * want) > 1e-4 * _largest(got):
        return None
    for candidate in (abs(c), 1 / abs(c)):
        whole = round(candidate)
        if whole in factors and abs(candidate - whole) < 1e-3 * whole:
            return c, whole
    return None


# -- non-differentiable points ----------------------------------------------------------

#: Kinds of derivative the non-differentiability probe serves (full-mode references).
PROBED_KINDS = ("grad", "vjp", "jacobian", "jvp")
#: Random directions per ``wrt`` array of the screen that looks for any such point at all.
SCREENS = 2
#: Most elements probed one by one for one answer beyond the screen (its failing ones).
PROBE_LIMIT = 16


@dataclass(frozen=True)
class Point:
    """An element of a derivative at a non-differentiable point: no single answer is right.

    At a ``kink`` the one-sided derivatives ``left`` and ``right`` differ, and each of them,
    or any value between them (a subgradient), is a valid choice. At a ``jump`` the function
    itself is discontinuous (sign at 0, floor at an integer, a comparison at a tie): the
    derivative is infinite or undefined, and every answer (0, a one-sided slope, NaN) is a
    convention. ``slack`` is how far outside [left, right] an answer may still lie.
    """

    key: str
    index: tuple[int, ...]
    kind: str
    left: float
    right: float
    slack: float

    def admits(self, got: float) -> bool:
        """Whether ``got`` is a valid choice here."""
        if self.kind == "jump":
            return True
        low, high = sorted((self.left, self.right))
        return low - self.slack <= got <= high + self.slack

    def describe(self, got: float) -> str:
        """This point and the answer ``got`` there, as the CONVENTION message shows it."""
        where = f"{self.key}{list(self.index)}"
        if self.kind == "jump":
            return f"{where}: {got:.6g} (the function jumps there)"
        return f"{where}: {got:.6g} (left {self.left:.6g}, right {self.right:.6g})"


def _probe(spec: Spec, reference: Reference, name: str, local: np.ndarray, unit: float,
           in_index: tuple[int, ...] = ()) -> list[Point]:
    """The points found along ``local`` (a direction of ``name``, ``unit`` times the one
    the derivative is taken along: one element's, at ``in_index``, or a jvp's tangent),
    per output element."""
    found = sides(spec, reference, {name: local})
    rtol, floor = TOLERANCES[spec.dtype]["rtol"], TOLERANCES[spec.dtype]["floor"]
    expected, error = reference.expected[name], reference.uncertainty[name]
    # the derivative's scale, from the elements the reference knows (not a jump's 1 / step)
    scale = _largest(expected[np.isfinite(expected) & (np.abs(expected) > 2 * error)])
    points = []
    for out_index in zip(*np.nonzero(np.atleast_1d(found.kink | found.jump))):
        out_index = out_index if np.ndim(found.kink) else ()
        left, right = (float(np.asarray(a)[out_index]) / unit for a in (found.left, found.right))
        index = tuple(int(i) for i in out_index) + in_index
        kind = "jump" if np.asarray(found.jump)[out_index] else "kink"
        slack = rtol * max(abs(left), abs(right)) + floor * scale \
            + float(np.asarray(found.error)[out_index]) / unit
        if kind == "jump" or abs(right - left) > 10 * slack:  # a kink the tolerance sees
            points.append(Point(name, index, kind, left, right, slack))
    return points


def _element(spec: Spec, reference: Reference, name: str, index: tuple[int, ...]
             ) -> list[Point]:
    """The points of one input element (grad, vjp, jacobian), probed on its own magnitude."""
    local = np.zeros(reference.arrays[name].shape)
    local[index] = magnitudes(reference.arrays[name])[index]
    return _probe(spec, reference, name, local, float(local[index]), index)


def probed(spec: Spec, reference: Reference) -> bool:
    """Whether :func:`nondifferentiable` looks at this spec's derivatives at all: full-mode
    first derivatives (a directional reference has no element to point at)."""
    return reference.mode == "full" and spec.kind in PROBED_KINDS


def nondifferentiable(spec: Spec, references: References, label: str = "base",
                      suspects: list[tuple[str, tuple[int, ...]]] = ()) -> dict[tuple, Point]:
    """The derivative elements at non-differentiable points of ``references[label]``, by
    (key, index), for full-mode grad, vjp, jacobian and jvp specs.

    A screen along a few random directions per array (steps relative to each element's
    magnitude) finds whether there is any; only then is each element of that array probed
    on its own. ``suspects`` (derivative indices an answer failed at) are probed too, in
    case the screen's directions cancelled them out. Shared by every backend (``memo``).
    """
    reference = references[label]
    if not probed(spec, reference):
        return {}
    memo = references.memo.setdefault(("nondifferentiable", label), {"screened": False,
                                                                     "probed": set(),
                                                                     "points": {}})
    points: dict[tuple, Point] = memo["points"]

    def add(found: list[Point]) -> None:
        points.update({(p.key, p.index): p for p in found})

    if not memo["screened"]:
        memo["screened"] = True
        rng = np.random.default_rng(zlib.crc32(f"kinks:{spec.name}".encode()))
        for name in spec.wrt:
            x = reference.arrays[name]
            if spec.kind == "jvp":
                tangent = np.asarray(spec.cast(spec.tangents)[name], dtype=np.float64)
                moving = tangent != 0
                if np.any(moving):  # each element's step within its own magnitude
                    reach = float(np.min(magnitudes(x)[moving] / np.abs(tangent[moving])))
                    add(_probe(spec, reference, name, tangent * reach, reach))
                continue
            for _ in range(SCREENS):
                direction = rng.choice([-1.0, 1.0], x.shape) * rng.uniform(0.5, 1.5, x.shape)
                found = sides(spec, reference, {name: direction * magnitudes(x)})
                if np.any(found.kink | found.jump):
                    for index in np.ndindex(x.shape):
                        memo["probed"].add((name, index))
                        add(_element(spec, reference, name, index))
                    break
    if spec.kind != "jvp":
        n_out = reference.value.ndim if spec.kind == "jacobian" else 0
        for name, index in suspects[:PROBE_LIMIT]:
            element = (name, tuple(index[n_out:]))
            if element not in memo["probed"]:
                memo["probed"].add(element)
                add(_element(spec, reference, *element))
    return points


def _kink_stage(evidence: Evidence) -> Finding | None:
    """CONVENTION where the answer is right everywhere except at non-differentiable points,
    where it made a valid choice: every backend that does gets this same status."""
    if not evidence.admitted or evidence.failed or evidence.probe_failed or evidence.uncertain:
        return None
    shown = [point.describe(got) for point, got in evidence.admitted[:4]]
    more = len(evidence.admitted) - len(shown)
    return Finding("kink", "non-differentiable point, where any one-sided derivative or value "
                   "between is valid; this backend chose " + "; ".join(shown)
                   + (f"; and {more} more" if more > 0 else ""), status="CONVENTION")


def batchnorm_training(spec: Spec, references: References, output: dict[str, Any]
                       ) -> Finding | None:
    """``learning-phase`` when an inference-mode BatchNormalization model's answer matches
    the same model in training mode (the batch's own statistics, not the moving ones).

    Dropout in training mode shows itself by randomness; BatchNormalization does not: it is
    wrong the same way at every call, and its trace is the training-mode reference.
    """
    model = spec.model
    if model is None or model.training or not any(
            layer.class_name == "BatchNormalization" for layer in model.layers):
        return None
    trained = model.with_training(True)
    as_training = replace(spec, fn=trained.apply, model=trained)
    reference = compute_reference(as_training, references.calls[0].arrays)
    keys = [("value", np.asarray(output["value"]), reference.value,
             np.zeros_like(reference.value))]
    keys += [(n, reference.observe(spec, n, output[n]), reference.expected[n],
              reference.uncertainty[n]) for n in spec.wrt]
    if all(compare(k, got, expected, error, spec.dtype).passed
           for k, got, expected, error in keys):
        return Finding("learning-phase", "the answer matches the model with "
                       "BatchNormalization in training mode (the batch's own statistics, not "
                       "the moving ones): training=True where inference was meant")
    return None


#: The diagnosis pipeline, in order: the first finding explains the case. Stages that do
#: not need a wrong answer run on every case (growth, randomness, weights read back).
PIPELINE: list[Stage] = [
    Stage("hooks", lambda e: from_hooks(e.hooks), only_when_wrong=False),
    Stage("repeat", lambda e: from_repeat(e.spec, e.outputs), only_when_wrong=False),
    Stage("disconnected", lambda e: disconnected(e.spec, e.failed, e.base)),
    Stage("weights", from_weights, only_when_wrong=False),
    Stage("batchnorm-training", lambda e: batchnorm_training(e.spec, e.references, e.base)),
    Stage("precision", lambda e: float32_rounding(e.spec, e.references, e.base, e.failed)),
    Stage("layout", lambda e: shape_mismatch(e.spec, e.references, e.base)),
    Stage("error-pattern",
          lambda e: from_error_pattern(e.spec, e.references, e.base, e.admitted)),
    Stage("kink", _kink_stage, only_when_wrong=False),
]

"""Detectors that turn a wrong (or suspicious) answer into a named diagnosis.

Each detector looks at one kind of evidence (the adapter's exception, the answer's layout
or dtype, the probe calls, program hooks, the pattern of the error) and returns a
:class:`Finding` or None. :data:`PIPELINE` orders them: the first that fires explains the
case, so a planted mistake gets exactly its own code. Adding a diagnosis is one detector,
one entry in :data:`PIPELINE` and one explanation in :mod:`conformance.diagnoses`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from conformance.probes import MOVED, References
from conformance.reference import compute_reference, one_sided
from conformance.spec import Spec
from conformance.tolerance import TOLERANCES, Comparison, allowed, compare


@dataclass
class Finding:
    """A diagnosis code with the concrete evidence for this case."""

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

def unwatched(spec: Spec, output: dict[str, Any]) -> Finding | None:
    """A ``wrt`` key that came back None: the framework gave no gradient at all."""
    missing = [n for n in spec.wrt if n in output and output[n] is None]
    if missing:
        return Finding("unwatched-input", f"no gradient (None) for {', '.join(missing)}")
    return None


def dtype_downcast(spec: Spec, output: dict[str, Any]) -> Finding | None:
    """A float64 spec answered in float32, or in float64 values that are all float32 numbers."""
    if spec.dtype != "float64":
        return None
    for name in ("value", *spec.wrt):
        got = output.get(name)
        if not isinstance(got, np.ndarray | np.generic) or not np.issubdtype(got.dtype,
                                                                              np.floating):
            continue  # missing, not an array, or not real: the contract check reports it
        if got.dtype == np.float32:
            return Finding("dtype-downcast", f"{name}: float32 returned for a float64 spec")
        informative = got[(got != 0) & np.isfinite(got) & (got != np.round(got))]
        if informative.size >= 3 and np.all(informative.astype(np.float32) == informative):
            return Finding("dtype-downcast", f"{name}: every value is exactly a float32 number "
                           "(computed in float32, then cast)")
    return None


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
        if got.shape == want.shape:
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
    a permutation other than the identity (each slice matched to its nearest)."""
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
    """Graph ops or traces that keep being added after the first call."""
    ops = hooks.get("graph_op_count", [])
    if len(ops) >= 2 and ops[-1] > ops[0]:
        return Finding("graph-growth", f"graph op count per call: {ops}")
    traces = hooks.get("trace_count", [])
    if len(traces) >= 2 and traces[-1] > traces[0]:
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
    if _has_dropout(spec):
        return Finding("learning-phase", detail + "; the model has Dropout")
    return Finding("nondeterministic", detail)


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


#: An answer that moves less than this share of the reference under the weight
#: perturbation (where the reference moved by ``probes.MOVED`` tolerances) is stale.
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
        with np.errstate(invalid="ignore"):
            moved = _largest(np.asarray(got1, dtype=np.float64) - np.asarray(got0, np.float64))
        if moved <= STALE_SHARE * _largest(ref_move):
            stale.append(f"{key} (reference moved {_largest(ref_move):.2g}, answer {moved:.2g})")
    if stale:
        return Finding("stale-session", "perturbing the weights moved the reference but not "
                       f"the answer: {'; '.join(stale)}; it ignores the supplied weights")
    return None


# -- from the pattern of the numeric error ----------------------------------------------

def from_error_pattern(spec: Spec, references: References, output: dict[str, Any]
                       ) -> Finding | None:
    """NaN where the reference is finite, or one derivative off by a reduction's factor."""
    reference = references["base"]
    for name in spec.wrt:
        got = np.asarray(output[name], dtype=np.float64)
        if not np.all(np.isfinite(got)) and np.all(np.isfinite(reference.expected[name])):
            bad = np.argwhere(~np.isfinite(got))[0].tolist() if got.ndim else []
            return Finding("nan-gradient", f"{name}{bad}: {got[tuple(bad)]} where the "
                           "reference is finite")
    factors = reduction_factors(spec, reference.value.shape)
    for name in spec.wrt:
        got = reference.observe(spec, name, output[name])
        factor = _whole_factor(got, reference.expected[name], factors)
        if factor is not None:
            c, whole = factor
            return Finding("wrong-reduction", f"{name}: every element is {c:.6g} times the "
                           f"reference ({'1/' if abs(c) < 1 else ''}{whole}: {factors[whole]})")
    return None


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


def kink(spec: Spec, references: References, output: dict[str, Any],
         failing: list[tuple[str, list[int]]], limit: int = 16) -> Finding | None:
    """All failing elements sit where left and right derivatives differ: a subgradient choice."""
    reference = references["base"]
    if reference.mode != "full" or spec.kind not in ("grad", "vjp", "jacobian") \
            or not failing or len(failing) > limit:
        return None
    choices = []
    scale = max(_largest(reference.expected[n]) for n in spec.wrt) or 1.0
    for name, index in failing:
        input_index = index[reference.value.ndim:] if spec.kind == "jacobian" else index
        left, right = one_sided(spec, reference, name, tuple(input_index))
        output_index = tuple(index[:reference.value.ndim]) if spec.kind == "jacobian" else ()
        lo, hi = sorted((float(np.asarray(left)[output_index]),
                         float(np.asarray(right)[output_index])))
        got = float(np.asarray(output[name], dtype=np.float64)[tuple(index)])
        slack = 1e-6 * scale + _rtol(spec) * scale
        if hi - lo <= 10 * slack or not (lo - slack <= got <= hi + slack):
            return None
        choices.append(f"{name}{index}: {got:.6g} (left {lo:.6g}, right {hi:.6g}, central "
                       f"{float(reference.expected[name][tuple(index)]):.6g})")
    return Finding("kink", "non-differentiable point; this backend chose " + "; ".join(choices),
                   status="CONVENTION")


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


def _kink_stage(evidence: Evidence) -> Finding | None:
    failing = [(c.key, index) for c in evidence.failed for index in c.failing]
    if not failing or any(key == "value" for key, _ in failing):
        return None
    return kink(evidence.spec, evidence.references, evidence.base, failing)


#: The diagnosis pipeline, in order: the first finding explains the case. Stages that do
#: not need a wrong answer run on every case (growth, randomness, weights read back).
PIPELINE: list[Stage] = [
    Stage("hooks", lambda e: from_hooks(e.hooks), only_when_wrong=False),
    Stage("repeat", lambda e: from_repeat(e.spec, e.outputs), only_when_wrong=False),
    Stage("disconnected", lambda e: disconnected(e.spec, e.failed, e.base)),
    Stage("weights", from_weights, only_when_wrong=False),
    Stage("batchnorm-training", lambda e: batchnorm_training(e.spec, e.references, e.base)),
    Stage("layout", lambda e: shape_mismatch(e.spec, e.references, e.base)),
    Stage("error-pattern", lambda e: from_error_pattern(e.spec, e.references, e.base)),
    Stage("kink", _kink_stage),
]

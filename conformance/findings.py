"""Detectors that turn a wrong (or suspicious) answer into a named diagnosis.

Each detector looks at one kind of evidence (the adapter's exception, the answer's layout
or dtype, the probe calls, program hooks, the pattern of the error) and returns a
:class:`Finding` or None. They are ordered: the first that fires explains the case, so a
planted mistake gets exactly its own code. Explanations live in
:mod:`conformance.diagnoses`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.probes import References
from conformance.reference import one_sided
from conformance.spec import Spec
from conformance.tolerance import TOLERANCES, compare


@dataclass
class Finding:
    """A diagnosis code with the concrete evidence for this case."""

    code: str
    detail: str


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


def shape_mismatch(spec: Spec, references: References, output: dict[str, Any]) -> Finding | None:
    """The right numbers in another layout: transposed, axes swapped, or reshaped."""
    reference = references["base"]
    for name in spec.wrt:
        if not isinstance(output[name], np.ndarray) \
                or not np.issubdtype(output[name].dtype, np.floating):
            continue  # not a real array: the contract check names it
        got = np.asarray(output[name], dtype=np.float64)
        want = reference.expected[name]
        if reference.mode != "full" or got.size != want.size:
            continue
        candidates = [got.T, got.reshape(want.shape)]
        if spec.kind == "jacobian":
            n_out = reference.value.ndim
            n_in = spec.arrays[name].ndim
            if got.ndim == n_out + n_in:
                axes = list(range(n_in, n_in + n_out)) + list(range(n_in))
                candidates.append(np.transpose(got, axes))
        for candidate in candidates:
            if candidate.shape == want.shape and not np.allclose(got.reshape(want.shape), want) \
                    and compare(name, candidate, want, reference.uncertainty[name],
                                spec.dtype).passed:
                return Finding("shape-mismatch", f"{name}: got shape {got.shape}; the numbers "
                               f"match the reference only rearranged to {want.shape}")
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


def disconnected(spec: Spec, references: References, output: dict[str, Any]) -> Finding | None:
    """Every derivative exactly zero while the reference is not: a cut path filled with zeros.

    Checked before the weight probe, since zeros also stay put when the weights move.
    """
    expected = references["base"].expected
    if all(_largest(np.asarray(output[n], dtype=np.float64)) == 0 for n in spec.wrt) \
            and any(_largest(expected[n]) > 0 for n in spec.wrt):
        return Finding("disconnected", "every derivative is exactly zero; the reference is not")
    return None


def _has_dropout(spec: Spec) -> bool:
    """Whether the spec's model has a Dropout layer that training mode would switch on."""
    layers = getattr(spec.model, "layers", ())
    return any(layer.class_name == "Dropout" and layer.config.get("rate", 0) > 0
               for layer in layers)


def from_weights(spec: Spec, references: References, outputs: dict[str, dict[str, Any]],
                 hooks: dict[str, list[Any]], supplied: list[dict[str, np.ndarray]]
                 ) -> Finding | None:
    """An answer that ignores the supplied weights (read back, or frozen under perturbation)."""
    for used, given in zip(hooks.get("weights_in_use", []), supplied):
        for name, array in (used or {}).items():
            if name in given and not np.allclose(np.asarray(array), given[name],
                                                 rtol=_rtol(spec), atol=0):
                return Finding("stale-session", f"weights in use for {name} differ from the "
                               "ones supplied")
    if "perturbed" not in outputs:
        return None
    before, after = references["base"], references["perturbed"]
    moved_ref = _max_difference(spec, before.expected, after.expected)
    noise = max(_largest(before.uncertainty[n]) + _largest(after.uncertainty[n]) for n in spec.wrt)
    moved_abs = max(_largest(before.expected[n] - after.expected[n]) for n in spec.wrt)
    if moved_ref < 100 * _rtol(spec) \
            or moved_abs < 100 * (noise + TOLERANCES[spec.dtype]["atol"]):
        return None  # the reference itself did not clearly move: nothing to learn
    moved = _max_difference(spec, outputs["base"], outputs["perturbed"])
    if moved < 0.01 * moved_ref:
        return Finding("stale-session", f"perturbing the weights moved the reference by "
                       f"{moved_ref:.2g} but the answer by {moved:.2g}: it ignores the "
                       "supplied weights")
    return None


# -- from the pattern of the numeric error ----------------------------------------------

def from_error_pattern(spec: Spec, references: References, output: dict[str, Any]
                       ) -> Finding | None:
    """NaN or constant-factor disagreement with the reference."""
    reference = references["base"]
    for name in spec.wrt:
        got = np.asarray(output[name], dtype=np.float64)
        if not np.all(np.isfinite(got)) and np.all(np.isfinite(reference.expected[name])):
            bad = np.argwhere(~np.isfinite(got))[0].tolist() if got.ndim else []
            return Finding("nan-gradient", f"{name}{bad}: {got[tuple(bad)]} where the "
                           "reference is finite")
    observed = {n: reference.observe(spec, n, output[n]) for n in spec.wrt}
    factor = _constant_factor(observed, reference.expected)
    if factor is not None:
        return Finding("wrong-reduction", f"every element is {factor:.6g} times the reference")
    return None


def _constant_factor(observed: dict[str, np.ndarray], expected: dict[str, np.ndarray]
                     ) -> float | None:
    """The factor c with observed = c * expected, when it is a whole number or its inverse."""
    got = np.concatenate([np.ravel(observed[n]) for n in observed])
    want = np.concatenate([np.ravel(expected[n]) for n in expected])
    if not np.any(want):
        return None
    c = float(got @ want / (want @ want))
    if not np.isfinite(c) or abs(c) < 1e-12 or _largest(got - c * want) > 1e-4 * _largest(got):
        return None
    for candidate in (c, 1 / c):
        whole = round(abs(candidate))
        if whole >= 2 and abs(abs(candidate) - whole) < 1e-3 * whole:
            return c
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
    return Finding("kink", "non-differentiable point; this backend chose " + "; ".join(choices))

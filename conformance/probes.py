"""The probe plan: which arrays each program is called with, and their references.

Every program is called on the spec's arrays (``base``), once more on the same arrays
(``repeat``: a difference means dropout or re-initialization), and, when the spec has
weights, on perturbed weights (``perturbed``: an answer that does not move with them
ignores the supplied weights). That is at most three calls per case, whatever the spec.

The perturbation grows (``PERTURBATIONS``) until the reference moves by ``MOVED`` times the
dtype's tolerance somewhere, so the probe can tell a stale answer in float32 as in float64;
the references computed on the way are kept for judging.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from conformance.reference import Reference, compute_reference
from conformance.spec import Spec, SpecError
from conformance.tolerance import allowed

#: Sizes of the weight perturbation tried in turn, relative to each weight array's spread.
PERTURBATIONS = (0.25, 1.0, 4.0)
#: How many of the dtype's tolerances the reference must move somewhere under perturbation.
MOVED = 4.0


@dataclass(frozen=True)
class Call:
    """One planned call: a label, the float64 arrays (cast to the spec dtype when sent), and
    the reference at those arrays when planning already computed it."""

    label: str
    arrays: dict[str, np.ndarray]
    reference: Reference | None = field(default=None, compare=False, repr=False)


def perturbed_params(spec: Spec, amount: float = PERTURBATIONS[0]
                     ) -> dict[str, np.ndarray] | None:
    """The spec's arrays with every ``param`` array moved by ``amount`` times its spread,
    or None when it has no params (or the moved point is not valid)."""
    if not spec.params:
        return None
    rng = np.random.default_rng(zlib.crc32(f"perturb:{spec.name}".encode()))
    moved = dict(spec.arrays)
    for name in spec.params:
        weights = spec.arrays[name]
        spread = float(np.std(weights)) or float(np.max(np.abs(weights))) or 1.0
        moved[name] = weights + amount * spread * rng.standard_normal(weights.shape)
    try:
        spec.with_arrays(**moved)  # the perturbed point must be valid too (finite output)
    except SpecError:
        return None
    return moved


def moved_enough(spec: Spec, before: Reference, after: Reference) -> bool:
    """Whether some derivative element moved by ``MOVED`` times its tolerance."""
    for name in spec.wrt:
        limit = MOVED * allowed(before.expected[name],
                                before.uncertainty[name] + after.uncertainty[name], spec.dtype)
        if np.any(np.abs(after.expected[name] - before.expected[name]) > limit):
            return True
    return False


def plan_calls(spec: Spec) -> list[Call]:
    """The calls made for every (spec, backend) pair, the judged ``base`` call first."""
    if not spec.params:
        return [Call("base", dict(spec.arrays)), Call("repeat", dict(spec.arrays))]
    base = compute_reference(spec)
    calls = [Call("base", dict(spec.arrays), base), Call("repeat", dict(spec.arrays))]
    for amount in PERTURBATIONS:
        moved = perturbed_params(spec, amount)
        if moved is None:
            break
        perturbed = Call("perturbed", moved, compute_reference(spec, moved))
        if moved_enough(spec, base, perturbed.reference) or amount == PERTURBATIONS[-1]:
            calls.append(perturbed)
            break
    return calls


def random_draws(spec: Spec, count: int, seed: int = 0) -> list[Spec]:
    """``count`` variants of the spec with its inputs and weights redrawn near the originals.

    Targets keep their values (a one-hot stays one-hot), and so do index arrays (ids, labels,
    masks) and a model's token ids. Each array moves by about half its spread, so the draws
    explore the function, not just the catalog's one point.
    """
    rng = np.random.default_rng(seed)
    ids = getattr(spec.model, "index_inputs", {})  # token ids stay token ids
    moving = [n for n in spec.arrays
              if spec.roles[n] not in ("target", "index") and n not in ids]
    variants = []
    while len(variants) < count:
        moved = {n: spec.arrays[n] + 0.5 * (float(np.std(spec.arrays[n])) or 1.0)
                 * rng.standard_normal(spec.arrays[n].shape) for n in moving}
        try:
            variants.append(spec.with_arrays(**moved))
        except SpecError:
            continue  # a draw where fn is not finite: draw again
    return variants


class References:
    """Reference derivatives for a spec's planned calls, computed once and shared by backends."""

    def __init__(self, spec: Spec, calls: list[Call]) -> None:
        self.spec = spec
        self.calls = calls
        self._cache: dict[str, Reference] = {}
        #: what detectors learn about a reference once for every backend (its
        #: non-differentiable points), keyed by the detector
        self.memo: dict[Any, Any] = {}

    def __getitem__(self, label: str) -> Reference:
        key = "base" if label == "repeat" else label
        if key not in self._cache:
            call = next(c for c in self.calls if c.label == key)
            self._cache[key] = call.reference or compute_reference(self.spec, call.arrays)
        return self._cache[key]

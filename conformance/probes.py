"""The probe plan: which arrays each program is called with, and their references.

Every program is called on the spec's arrays (``base``), once more on the same arrays
(``repeat``: a difference means dropout or re-initialization), and, when the spec has
weights, on perturbed weights (``perturbed``: an answer that does not move with them
ignores the supplied weights). That is at most three calls per case, whatever the spec.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from conformance.reference import Reference, compute_reference
from conformance.spec import Spec, SpecError

#: Size of the weight perturbation, relative to each weight array's spread.
PERTURBATION = 0.25


@dataclass(frozen=True)
class Call:
    """One planned call: a label and the float64 arrays (cast to the spec dtype when sent)."""

    label: str
    arrays: dict[str, np.ndarray]


def perturbed_params(spec: Spec) -> dict[str, np.ndarray] | None:
    """The spec's arrays with every ``param`` array moved, or None when it has no params."""
    if not spec.params:
        return None
    rng = np.random.default_rng(zlib.crc32(f"perturb:{spec.name}".encode()))
    moved = dict(spec.arrays)
    for name in spec.params:
        weights = spec.arrays[name]
        spread = float(np.std(weights)) or float(np.max(np.abs(weights))) or 1.0
        moved[name] = weights + PERTURBATION * spread * rng.standard_normal(weights.shape)
    try:
        spec.with_arrays(**moved)  # the perturbed point must be valid too (finite output)
    except SpecError:
        return None
    return moved


def plan_calls(spec: Spec) -> list[Call]:
    """The calls made for every (spec, backend) pair, the judged ``base`` call first."""
    calls = [Call("base", dict(spec.arrays)), Call("repeat", dict(spec.arrays))]
    moved = perturbed_params(spec)
    if moved is not None:
        calls.append(Call("perturbed", moved))
    return calls


def random_draws(spec: Spec, count: int, seed: int = 0) -> list[Spec]:
    """``count`` variants of the spec with its inputs and weights redrawn near the originals.

    Targets and a model's token ids keep their values (a one-hot stays one-hot). Each array
    moves by about half its spread, so the draws explore the function, not just the catalog's
    one point.
    """
    rng = np.random.default_rng(seed)
    ids = getattr(spec.model, "index_inputs", {})  # token ids stay token ids
    moving = [n for n in spec.arrays if spec.roles[n] != "target" and n not in ids]
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

    def __getitem__(self, label: str) -> Reference:
        key = "base" if label == "repeat" else label
        if key not in self._cache:
            arrays = next(c.arrays for c in self.calls if c.label == key)
            self._cache[key] = compute_reference(self.spec, arrays)
        return self._cache[key]

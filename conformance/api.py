"""The Python API for users' own specs: several backends, one shared reference, every array.

``check(spec, backends)`` runs each backend on the spec in this process (probes included,
as ``gradparity run`` does), computes the float64 reference once for all of them, judges
each answer, and returns a :class:`Checked`: each backend's verdict *and* its output arrays,
and the reference's arrays, so a user can look at the numbers, not only the verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from conformance.harness import execute, judge_spec
from conformance.probes import References, plan_calls
from conformance.results import Result, Status

if TYPE_CHECKING:
    from typing import TypeAlias

    from backends.base import Arrays, Backend
    from conformance.reference import Reference
    from conformance.spec import Spec

    #: A backend, a backend name (``"jax"``, ``"pkg.mod:Class"``), or ``compute(spec, arrays)``.
    BackendLike: TypeAlias = Backend | str | Callable[[Spec, Arrays], dict[str, Any]]


def as_backend(backend: BackendLike) -> Backend:
    """A :class:`~backends.base.Backend` from a backend, a name, or a plain compute function."""
    from backends import Backend, FunctionBackend, load

    if isinstance(backend, Backend):
        return backend
    if isinstance(backend, str):
        return load(backend)
    return FunctionBackend(getattr(backend, "__name__", "user-code"), backend)


@dataclass
class Answer:
    """One backend's verdict on the spec and, when it ran, what it returned for the spec's
    own arrays: ``{"value": ..., <wrt name>: ...}`` (None when SKIPPED, UNSUPPORTED, ERROR)."""

    result: Result
    output: dict[str, np.ndarray] | None

    @property
    def status(self) -> Status:
        """The verdict: PASS, FAIL, CONVENTION, UNSUPPORTED, ERROR or SKIPPED."""
        return self.result.status


@dataclass
class Checked:
    """What :func:`check` found: every backend's answer against one shared reference."""

    spec: Spec
    answers: dict[str, Answer]
    #: The full reference (mode, error bounds, directions); see :attr:`reference`.
    references: References

    @property
    def reference(self) -> dict[str, np.ndarray]:
        """The float64 reference arrays, keyed like a backend's output: ``"value"`` and one
        derivative per ``wrt`` name. For a spec with more than 512 scalars in ``wrt`` the
        reference is directional: a name's entry is then its projections on
        ``reference_details.directions[name]``, not the full derivative."""
        base = self.reference_details
        return {"value": base.value, **base.expected}

    @property
    def reference_details(self) -> Reference:
        """The reference at the spec's arrays, with its mode and error bounds."""
        return self.references["base"]

    @property
    def results(self) -> list[Result]:
        """The verdicts, in the order the backends were given."""
        return [a.result for a in self.answers.values()]

    @property
    def ok(self) -> bool:
        """True when no backend FAILed or ERRORed."""
        return not any(r.status.is_problem for r in self.results)

    def __iter__(self) -> Iterator[tuple[str, Answer]]:
        return iter(self.answers.items())


def check(spec: Spec, backends: Sequence[BackendLike]) -> Checked:
    """Run every backend on ``spec`` in this process and judge each against one reference.

    ``backends``: :class:`~backends.base.Backend` instances, names for
    :func:`backends.load`, or plain ``compute(spec, arrays)`` functions. The reference is
    computed once and shared (``conformance.harness.check`` judges one backend at a time).
    """
    loaded = [as_backend(b) for b in backends]
    names = [b.name for b in loaded]
    if len(set(names)) != len(names):
        raise ValueError(f"backends: two share a name ({', '.join(names)}); give each its own")
    calls = plan_calls(spec)
    references = References(spec, calls)
    outcomes = {j: execute(b, spec, [spec.cast(c.arrays) for c in calls])
                for j, b in enumerate(loaded)}
    results = judge_spec(spec, references, loaded, outcomes)
    answers = {}
    for j, result in enumerate(results):
        outcome = outcomes[j]
        ran = outcome.status is None and isinstance(outcome.output, dict)
        answers[result.backend] = Answer(result, dict(outcome.output) if ran else None)
    return Checked(spec, answers, references)

"""Run specs on backends and judge every answer against the float64 reference.

``execute`` runs one backend on one spec and keeps its raw output (or why there is none);
``judge`` turns that into a :class:`Result`. Keeping the two apart lets execution move
into worker processes while judging stays here, next to the reference.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backends.base import Backend
from conformance import conventions, findings
from conformance.contract import contract_violation
from conformance.probes import Call, References, plan_calls
from conformance.reference import Reference
from conformance.results import Report, Result, Status
from conformance.spec import Spec, derivative_shape
from conformance.timing import time_case
from conformance.tolerance import TOLERANCES, Comparison, compare, describe, output_scale

#: Program hooks read after every call when an adapter offers them (see backends.base).
HOOKS = ("graph_op_count", "trace_count", "weights_in_use", "none_gradients")


@dataclass
class Outcome:
    """What one backend produced for one spec: one output per planned call, or why none."""

    status: Status | None  # None: it ran and ``outputs`` holds its answers
    outputs: list[Any] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0
    hooks: dict[str, list[Any]] = field(default_factory=dict)
    #: With ``--timings``: median seconds of one derivative call (``"call"``) and of one
    #: forward call (``"forward"``, when the backend offers one); see conformance.timing.
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def output(self) -> Any:
        """The answer to the first call, the one judged against the reference."""
        return self.outputs[0]


def execute(backend: Backend, spec: Spec, calls: Sequence[dict[str, np.ndarray]],
            timings: bool = False) -> Outcome:
    """Prepare ``backend`` for ``spec`` and call it once per array set in ``calls``; with
    ``timings``, then time a derivative call against a forward call (``Outcome.timings``).

    Never raises for the backend's faults: they become the outcome's status and message.
    """
    if skipped := not_installed(backend):
        return skipped
    reason = backend.unsupported_reason(spec)
    if reason:
        return Outcome(Status.UNSUPPORTED, message=reason)
    outcome = Outcome(None)
    start = time.perf_counter()
    try:
        program = backend.prepare(spec)
        for arrays in calls:
            outcome.outputs.append(program(arrays))
            for hook in HOOKS:
                if callable(getattr(program, hook, None)):
                    outcome.hooks.setdefault(hook, []).append(getattr(program, hook)())
    except Exception as exc:  # noqa: BLE001 - an adapter's fault becomes an ERROR row
        outcome.status, outcome.message = Status.ERROR, f"{type(exc).__name__}: {exc}"
        # the framework's own refusal (no derivative rule, a method its tensors lack), unless
        # the exception is a known user mistake that judging names (K.gradients in eager mode)
        if not findings.from_exception(outcome.message) and (reason := backend.refusal(exc)):
            outcome.status, outcome.message = Status.UNSUPPORTED, reason
    outcome.seconds = time.perf_counter() - start
    if timings and outcome.status is None:
        outcome.timings = time_case(backend, spec, program, calls[0])
    return outcome


def not_installed(backend: Backend) -> Outcome | None:
    """SKIPPED with the install command when a module ``backend`` requires is missing."""
    missing = backend.missing_modules()
    if not missing:
        return None
    return Outcome(Status.SKIPPED, message=f"not installed: {', '.join(missing)} "
                   f"({backend.install_hint()})")


def judge(spec: Spec, references: References, backend_name: str, outcome: Outcome) -> Result:
    """The verdict on one outcome: numbers against the reference, then named diagnoses.

    The ``base`` call is compared with the reference; the ``perturbed`` probe call with
    its own reference; the diagnosis pipeline (:data:`conformance.findings.PIPELINE`)
    then names the mistake, and can turn even a numerically right answer into a FAIL (a
    graph that grows per call). Where the reference cannot judge, the verdict is
    INCONCLUSIVE, never PASS.
    """
    if conventions.is_convention(spec):  # no right answer to judge: record the backend's
        return conventions.record(spec, backend_name, outcome)
    result = Result(spec=spec.name, backend=backend_name, status=Status.PASS, kind=spec.kind,
                    dtype=spec.dtype, message=outcome.message, seconds=outcome.seconds)
    if "call" in outcome.timings:
        result.median_call_seconds = outcome.timings["call"]
        if outcome.timings.get("forward"):
            result.forward_ratio = outcome.timings["call"] / outcome.timings["forward"]
    if outcome.status is not None:
        finding = findings.from_exception(outcome.message) if outcome.status is Status.ERROR \
            else None
        if finding:
            return _diagnosed(result, finding)
        result.status = outcome.status
        return result
    reference = references["base"]
    outputs = dict(zip((c.label for c in references.calls), outcome.outputs))
    if isinstance(outputs["base"], dict):
        if finding := findings.unwatched(spec, references, outputs["base"]) \
                or findings.dtype_downcast(spec, outputs["base"]):
            return _diagnosed(result, finding)
        outputs, result.message = _none_as_zero(spec, reference, outputs, result.message)
    base = outputs["base"]
    for label, output in outputs.items():
        violation = contract_violation(spec, output, reference.value.shape)
        if violation and label == "base" and "shape" in violation \
                and (finding := findings.shape_mismatch(spec, references, base)):
            return _diagnosed(result, finding)
        if violation:
            result.status = Status.ERROR
            result.message = violation if label == "base" else f"{label} call: {violation}"
            return result
    result.reference_mode = reference.mode
    comparisons, admitted = _judged(spec, references, "base", base)
    worst = max(comparisons, key=_badness)
    result.max_abs_error = max(c.max_abs_error for c in comparisons)
    result.max_rel_error = max(c.max_rel_error for c in comparisons)
    result.tolerance = {**describe(spec.dtype), "allowed": worst.allowed_rel}
    result.worst = worst.worst
    evidence = findings.Evidence(spec, references, outputs, outcome.hooks,
                                 [c.arrays for c in references.calls],
                                 failed=[c for c in comparisons if not c.passed],
                                 admitted=admitted)
    if evidence.failed:
        result.status = Status.FAIL
        result.message = _describe_worst(worst, findings.nondifferentiable(spec, references))
    elif "perturbed" in outputs:
        evidence.probe_failed = [c for c in _judged(spec, references, "perturbed",
                                                    outputs["perturbed"])[0] if not c.passed]
        if evidence.probe_failed:
            probe = max(evidence.probe_failed, key=_badness)
            result.status = Status.FAIL
            result.probe = f"perturbed-weights call: {_describe_worst(probe)}"
            result.message = result.probe
    if result.status is Status.PASS:
        uncertain = [(c.uncertain, c.key) for c in comparisons if c.uncertain]
        if uncertain:
            (share, index), key = max(uncertain)
            result.status = Status.INCONCLUSIVE
            evidence.uncertain = True
            result.message = (f"reference uncertain: {share:.1e} relative at {key}{index}, "
                              f"too wide to judge to the {spec.dtype} tolerance"
                              + (f" ({reference.reason})" if reference.reason else ""))
    finding = findings.diagnose(evidence)
    if finding and finding.code == "kink":  # each backend's choice, as the catalog's cases
        result.convention_values = {n: np.asarray(base[n], dtype=np.float64).tolist()
                                    for n in dict.fromkeys(p.key for p, _ in admitted)}
    return _diagnosed(result, finding) if finding else result


def _badness(comparison: Comparison) -> float:
    """How far a comparison's worst element is beyond its allowance; a NaN or infinite
    error ranks worst (``max`` never picks a NaN key, and the message must name it)."""
    error = comparison.worst.abs_error
    return error / max(comparison.worst.allowed, 1e-300) if np.isfinite(error) else np.inf


def _describe_worst(comparison: Comparison,
                    points: dict[tuple, findings.Point] | None = None) -> str:
    w = comparison.worst
    text = (f"{w.key}{w.index}: got {w.value:.6g}, reference {w.reference:.6g} "
            f"(|error| {w.abs_error:.3g} > allowed {w.allowed:.3g})")
    point = (points or {}).get((w.key, tuple(w.index)))
    if point is not None and point.kind == "kink":  # a choice outside every valid one
        text += (f"; a non-differentiable point, where only values from {point.left:.6g} to "
                 f"{point.right:.6g} (the one-sided derivatives) are valid")
    return text


def _none_as_zero(spec: Spec, reference: Reference, outputs: dict[str, Any], message: str
                  ) -> tuple[dict[str, Any], str]:
    """Every output with the None a framework gives for an input the output does not depend
    on (``findings.independent``) replaced by the zeros that are the true derivative."""
    none = [n for n in spec.wrt if outputs["base"].get(n, 0) is None
            and findings.independent(reference, n)]
    if not none:
        return outputs, message
    zeros = {n: np.zeros(derivative_shape(spec, n, reference.value.shape), dtype=spec.dtype)
             for n in none}
    note = (f"no gradient (None) for {', '.join(none)}, judged as zeros: the output does not "
            "depend on it")
    return ({label: {**out, **{n: zeros[n] for n in none if out.get(n, 0) is None}}
             if isinstance(out, dict) else out for label, out in outputs.items()},
            f"{message}; {note}" if message else note)


def _judged(spec: Spec, references: References, label: str, output: dict[str, Any]
            ) -> tuple[list[Comparison], list[tuple[findings.Point, float]]]:
    """Compare one answer with ``references[label]``, leaving out the elements at
    non-differentiable points where the answer is a valid choice (returned, with the
    answer there). The elements that fail, or that the reference cannot judge, are probed
    for such points first (``findings.PROBE_LIMIT`` of them)."""
    reference = references[label]
    probed: set[tuple[str, tuple[int, ...]]] = set()
    while True:
        points = findings.nondifferentiable(spec, references, label, sorted(probed))
        admitted = []
        for point in points.values():
            got = reference.observe(spec, point.key, output[point.key])[point.index]
            if point.admits(float(got)):
                admitted.append((point, float(got)))
        comparisons = _compare(spec, reference, output, [p for p, _ in admitted])
        fresh = {(c.key, tuple(index)) for c in comparisons[1:]
                 for index in c.failing + ([c.uncertain[1]] if c.uncertain else [])} - probed
        if not fresh or not findings.probed(spec, reference) \
                or len(probed) >= findings.PROBE_LIMIT:
            return comparisons, admitted
        probed |= fresh


def _compare(spec: Spec, reference: Reference, output: dict[str, Any],
             left_out: Sequence[findings.Point] = ()) -> list[Comparison]:
    """Compare the value and every derivative of one answer with one reference; the
    elements ``left_out`` (valid choices at non-differentiable points) count as equal."""
    value_scale = output_scale(reference.value, 1.0)
    comparisons = [compare("value", output["value"], reference.value,
                           np.zeros_like(reference.value), spec.dtype, value_scale,
                           noise=reference.value_noise)]
    for n in spec.wrt:
        observed = reference.observe(spec, n, output[n])
        expected, uncertainty = reference.expected[n], reference.uncertainty[n]
        here = [p.index for p in left_out if p.key == n]
        if here:  # no reference there (a jump's is meaningless): out of the scale too
            observed, expected = np.array(observed), np.array(expected)
            uncertainty = np.array(np.broadcast_to(uncertainty, expected.shape))
            for index in here:
                observed[index] = expected[index] = uncertainty[index] = 0.0
        # a derivative that is zero by cancellation is judged at its terms' scale
        scale = reference.scales.get(n) or output_scale(expected, value_scale)
        comparisons.append(compare(n, observed, expected, uncertainty, spec.dtype, scale))
    return comparisons


def _diagnosed(result: Result, finding: findings.Finding) -> Result:
    """Attach a diagnosis: its code in ``diagnoses`` (none for evidence that fits no named
    mistake), its evidence first in the message."""
    result.status = Status(finding.status)
    result.diagnoses = [finding.code] if finding.code else []
    result.message = finding.detail + (f"; {result.message}" if result.message and
                                       result.message != finding.detail else "")
    return result


def check(spec: Spec, backend: Backend) -> Result:
    """Run and judge one spec on one backend in this process (probes included)."""
    calls = plan_calls(spec)
    outcome = execute(backend, spec, [spec.cast(c.arrays) for c in calls])
    return judge(spec, References(spec, calls), backend.name, outcome)


def pairwise_differences(spec: Spec, reference: Reference,
                         answers: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, float]]:
    """For each backend, the largest relative difference from each other backend's answer."""
    scale = {n: max(float(np.max(np.abs(reference.expected[n]))), 1e-300) for n in spec.wrt}
    table: dict[str, dict[str, float]] = {name: {} for name in answers}
    for a, out_a in answers.items():
        for b, out_b in answers.items():
            if a < b:
                diff = max(float(np.max(np.abs(reference.observe(spec, n, out_a[n])
                                               - reference.observe(spec, n, out_b[n])))) / scale[n]
                           for n in spec.wrt)
                table[a][b] = table[b][a] = diff
    return table


def environment(backends: Sequence[Backend]) -> dict[str, Any]:
    """What the run's header shows: platform, numpy, tolerances, each backend's versions."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "tolerances": {dtype: describe(dtype) for dtype in TOLERANCES},
        "backends": {b.name: {"versions": b.versions(), "numerics": b.numerics()}
                     for b in backends},
    }


#: Produces the outcome of every (spec, backend) case, in any order, as
#: ``(spec index, backend index, outcome)``, given the arrays each spec's program is called with.
Executor = Callable[[Sequence[Spec], Sequence[Backend], Sequence[Sequence[dict[str, np.ndarray]]]],
                    Iterable[tuple[int, int, Outcome]]]


def in_process(specs: Sequence[Spec], backends: Sequence[Backend],
               calls: Sequence[Sequence[dict[str, np.ndarray]]],
               timings: bool = False) -> Iterator[tuple[int, int, Outcome]]:
    """Execute every case in this process, spec by spec (``--in-process``, for debugging);
    :func:`conformance.workers.in_workers` is the isolated alternative."""
    for i, spec in enumerate(specs):
        for j, backend in enumerate(backends):
            yield i, j, execute(backend, spec, calls[i], timings)


def judge_spec(spec: Spec, references: References, backends: Sequence[Backend],
               outcomes: dict[int, Outcome]) -> list[Result]:
    """Judge one spec's outcomes (keyed by backend index); backends without one are NOT_RUN."""
    answers: dict[str, dict[str, np.ndarray]] = {}
    spec_results = []
    for j, backend in enumerate(backends):
        if j not in outcomes:
            spec_results.append(Result(spec=spec.name, backend=backend.name, status=Status.NOT_RUN,
                                       kind=spec.kind, dtype=spec.dtype))
            continue
        try:
            result = judge(spec, references, backend.name, outcomes[j])
        except Exception as exc:  # noqa: BLE001 - a judging bug must not cost the run's report
            spec_results.append(Result(
                spec=spec.name, backend=backend.name, status=Status.ERROR, kind=spec.kind,
                dtype=spec.dtype, seconds=outcomes[j].seconds,
                message=f"internal error while judging this answer "
                        f"({type(exc).__name__}: {exc}); please report it"))
            continue
        if result.status in (Status.PASS, Status.FAIL, Status.CONVENTION) \
                and not conventions.is_convention(spec):  # no reference at a convention point
            answers[backend.name] = outcomes[j].output
        spec_results.append(result)
    if answers:
        pairwise = pairwise_differences(spec, references["base"], answers)
        for result in spec_results:
            result.pairwise = pairwise.get(result.backend, {})
    return spec_results


class _Planned(Sequence[Sequence[dict[str, np.ndarray]]]):
    """Each spec's calls (the probe plan's arrays, cast to the spec's dtype), planned when an
    executor first asks for them: workers start at once instead of waiting for every plan,
    and a run stopped early plans nothing more."""

    def __init__(self, specs: Sequence[Spec]) -> None:
        self.specs = specs
        self.plans: dict[int, list[Call]] = {}
        self._calls: dict[int, list[dict[str, np.ndarray]]] = {}

    def __len__(self) -> int:
        return len(self.specs)

    def __getitem__(self, i: int) -> list[dict[str, np.ndarray]]:  # type: ignore[override]
        if i not in self._calls:
            self.plans[i] = plan_calls(self.specs[i])
            self._calls[i] = [self.specs[i].cast(c.arrays) for c in self.plans[i]]
        return self._calls[i]


def _absent(backends: Sequence[Backend]) -> dict[int, Outcome]:
    """The SKIPPED outcome of each backend that is not installed, by backend index."""
    return {j: skipped for j, b in enumerate(backends) if (skipped := not_installed(b))}


def not_run(specs: Sequence[Spec], backends: Sequence[Backend]) -> Report:
    """The report of a run stopped before it began: every case of an installed backend
    NOT_RUN, of the others SKIPPED; ``complete=False``."""
    absent = _absent(backends)
    results = [result for spec in specs
               for result in judge_spec(spec, References(spec, []), backends, absent)]
    return Report(results=results, environment=environment(backends), complete=False)


#: Told of each case's outcome as it arrives (spec, backend, outcome), before judging:
#: what progress displays count.
OnOutcome = Callable[[Spec, Backend, Outcome], None]


def run(specs: Sequence[Spec], backends: Sequence[Backend],
        on_result: Callable[[Result], None] | None = None,
        executor: Executor = in_process, on_outcome: OnOutcome | None = None) -> Report:
    """Run every spec on every backend with ``executor`` and judge the answers here.

    Backends that are not installed are SKIPPED without a worker; each spec's calls are
    planned when first sent. On KeyboardInterrupt (Ctrl-C; the CLI turns SIGTERM into one),
    at any point, execution stops: the cases answered so far are judged, the others of
    installed backends are NOT_RUN, and the report has ``complete=False``.
    """
    absent = _absent(backends)
    outcomes: list[dict[int, Outcome]] = [dict(absent) for _ in specs]
    present = [j for j in range(len(backends)) if j not in absent]
    calls = _Planned(specs)
    judged: dict[int, list[Result]] = {}

    def settle(i: int) -> None:
        judged[i] = judge_spec(specs[i], References(specs[i], calls.plans.get(i, [])), backends,
                               outcomes[i])
        for result in judged[i]:
            if on_result:
                on_result(result)

    complete = True
    try:
        if present:
            for i, k, outcome in executor(specs, [backends[j] for j in present], calls):
                outcomes[i][present[k]] = outcome
                if on_outcome:
                    on_outcome(specs[i], backends[present[k]], outcome)
                if len(outcomes[i]) == len(backends):
                    settle(i)
    except KeyboardInterrupt:
        complete = False
    for i in range(len(specs)):
        if i not in judged:
            settle(i)
    results = [result for i in range(len(specs)) for result in judged[i]]
    return Report(results=results, environment=environment(backends), complete=complete)

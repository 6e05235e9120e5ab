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
from conformance.probes import References, plan_calls
from conformance.reference import Reference
from conformance.results import Report, Result, Status
from conformance.spec import Spec
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
    missing = backend.missing_modules()
    if missing:
        return Outcome(Status.SKIPPED, message=f"not installed: {', '.join(missing)} "
                       f"({backend.install_hint()})")
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
    base = outputs["base"]
    if isinstance(base, dict) and (finding := findings.unwatched(spec, base)
                                   or findings.dtype_downcast(spec, base)):
        return _diagnosed(result, finding)
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
    comparisons = _compare(spec, reference, base)
    worst = max(comparisons, key=lambda c: c.worst.abs_error / max(c.worst.allowed, 1e-300))
    result.max_abs_error = max(c.max_abs_error for c in comparisons)
    result.max_rel_error = max(c.max_rel_error for c in comparisons)
    result.tolerance = {**describe(spec.dtype), "allowed": worst.allowed_rel}
    result.worst = worst.worst
    evidence = findings.Evidence(spec, references, outputs, outcome.hooks,
                                 [c.arrays for c in references.calls],
                                 failed=[c for c in comparisons if not c.passed])
    if evidence.failed:
        result.status = Status.FAIL
        result.message = _describe_worst(worst)
    elif "perturbed" in outputs:
        evidence.probe_failed = [c for c in _compare(spec, references["perturbed"],
                                                     outputs["perturbed"]) if not c.passed]
        if evidence.probe_failed:
            probe = max(evidence.probe_failed,
                        key=lambda c: c.worst.abs_error / max(c.worst.allowed, 1e-300))
            result.status = Status.FAIL
            result.probe = f"perturbed-weights call: {_describe_worst(probe)}"
            result.message = result.probe
    if result.status is Status.PASS:
        uncertain = [(c.uncertain, c.key) for c in comparisons if c.uncertain]
        if uncertain:
            (share, index), key = max(uncertain)
            result.status = Status.INCONCLUSIVE
            result.message = (f"reference uncertain: {share:.1e} relative at {key}{index}, "
                              f"too wide to judge to the {spec.dtype} tolerance")
    finding = findings.diagnose(evidence)
    return _diagnosed(result, finding) if finding else result


def _describe_worst(comparison: Comparison) -> str:
    w = comparison.worst
    return (f"{w.key}{w.index}: got {w.value:.6g}, reference {w.reference:.6g} "
            f"(|error| {w.abs_error:.3g} > allowed {w.allowed:.3g})")


def _compare(spec: Spec, reference: Reference, output: dict[str, Any]) -> list[Comparison]:
    """Compare the value and every derivative of one answer with one reference."""
    value_scale = output_scale(reference.value, 1.0)
    comparisons = [compare("value", output["value"], reference.value,
                           np.zeros_like(reference.value), spec.dtype, value_scale,
                           noise=reference.value_noise)]
    for n in spec.wrt:
        # an all-zero derivative has no scale of its own: d value / d x ~ value / x
        fallback = value_scale / max(float(np.max(np.abs(reference.arrays[n]))), 1.0)
        comparisons.append(compare(n, reference.observe(spec, n, output[n]),
                                   reference.expected[n], reference.uncertainty[n], spec.dtype,
                                   output_scale(reference.expected[n], fallback)))
    return comparisons


def _diagnosed(result: Result, finding: findings.Finding) -> Result:
    """Attach a diagnosis: its code in ``diagnoses``, its evidence first in the message."""
    result.status = Status(finding.status)
    result.diagnoses = [finding.code]
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


def run(specs: Sequence[Spec], backends: Sequence[Backend],
        on_result: Callable[[Result], None] | None = None,
        executor: Executor = in_process) -> Report:
    """Run every spec on every backend with ``executor`` and judge the answers here.

    On KeyboardInterrupt (Ctrl-C; the CLI turns SIGTERM into one) execution stops: the cases
    answered so far are judged, the others are NOT_RUN, and the report has ``complete=False``.
    """
    plans = [plan_calls(spec) for spec in specs]
    calls = [[spec.cast(c.arrays) for c in plan] for spec, plan in zip(specs, plans)]
    outcomes: list[dict[int, Outcome]] = [{} for _ in specs]
    judged: dict[int, list[Result]] = {}

    def settle(i: int) -> None:
        judged[i] = judge_spec(specs[i], References(specs[i], plans[i]), backends, outcomes[i])
        for result in judged[i]:
            if on_result:
                on_result(result)

    complete = True
    try:
        for i, j, outcome in executor(specs, backends, calls):
            outcomes[i][j] = outcome
            if len(outcomes[i]) == len(backends):
                settle(i)
    except KeyboardInterrupt:
        complete = False
    for i in range(len(specs)):
        if i not in judged:
            settle(i)
    results = [result for i in range(len(specs)) for result in judged[i]]
    return Report(results=results, environment=environment(backends), complete=complete)

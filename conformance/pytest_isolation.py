"""``--gradparity-isolate``: the pytest plug-in's catalog cases in the worker processes of
``gradparity run`` (:mod:`conformance.workers`), so a backend that crashes or hangs fails one
test, not the pytest session.

Each backend gets a *stream*: one executor of :func:`conformance.workers.in_workers` over that
backend's cases in the order pytest will run them, whose worker process is started at the
first case and reused for the next ones (the framework is imported once). A stream is pulled
one case at a time, as pytest runs the items, and its worker already computes the next case
while pytest judges this one. A worker that dies (segfault, abort) or runs past the timeout
gives that case an ERROR outcome; a fresh worker takes the backend's next case.

When pytest asks for a case out of the planned order (pytest-xdist hands items out to its
workers, ``--lf``-style reordering plug-ins), the stream is closed and a new one is started
at that case: right in any order, cheapest in the collected one. Judging stays in the pytest
process, exactly as in ``gradparity run`` and in-process plug-in runs.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from conformance.harness import Outcome, judge
from conformance.probes import Call, References, plan_calls
from conformance.workers import WorkerOptions, in_workers

if TYPE_CHECKING:
    from backends.base import Backend
    from conformance.results import Result
    from conformance.spec import Spec

#: How many specs' planned calls (and their references) are kept for the other backends.
_PLANS_KEPT = 64


class _Plans:
    """Each spec's planned calls with their references, computed once for every backend (the
    streams of different backends ask for the same specs at about the same time)."""

    def __init__(self) -> None:
        self._kept: OrderedDict[int, tuple[Spec, list[Call]]] = OrderedDict()

    def get(self, spec: Spec) -> list[Call]:
        key = id(spec)
        if key in self._kept:
            self._kept.move_to_end(key)
        else:
            self._kept[key] = (spec, plan_calls(spec))
            if len(self._kept) > _PLANS_KEPT:
                self._kept.popitem(last=False)
        return self._kept[key][1]


class _Calls(Sequence[list[dict[str, np.ndarray]]]):
    """The arrays each spec's program is called with, planned when its worker needs them."""

    def __init__(self, specs: Sequence[Spec], plans: _Plans) -> None:
        self.specs, self.plans = specs, plans

    def __len__(self) -> int:
        return len(self.specs)

    def __getitem__(self, index: int) -> list[dict[str, np.ndarray]]:  # type: ignore[override]
        spec = self.specs[index]
        return [spec.cast(call.arrays) for call in self.plans.get(spec)]


class _Stream:
    """One backend's cases from one point of pytest's order on, in a reused worker."""

    def __init__(self, backend: Backend, specs: list[Spec], plans: _Plans,
                 options: WorkerOptions) -> None:
        self.specs, self.position = specs, 0
        self.received: dict[int, Outcome] = {}
        self.cases: Iterator[tuple[int, int, Outcome]] = iter(
            in_workers(options)(specs, [backend], _Calls(specs, plans)))

    def expects(self, spec: Spec) -> bool:
        """Whether ``spec`` is this stream's next case."""
        return self.position < len(self.specs) and self.specs[self.position] is spec

    def next_outcome(self) -> Outcome:
        """The outcome of the next case, waiting for its worker."""
        index, self.position = self.position, self.position + 1
        while index not in self.received:
            i, _, outcome = next(self.cases)
            self.received[i] = outcome
        return self.received.pop(index)

    def close(self) -> None:
        """Stop its worker (the executor's clean-up runs when the generator is closed)."""
        close = getattr(self.cases, "close", None)
        if close is not None:
            close()


class IsolatedCases:
    """Runs the plug-in's catalog cases in worker processes, one stream per backend."""

    def __init__(self, options: WorkerOptions) -> None:
        self.options = options
        self.plans = _Plans()
        self.streams: dict[int, _Stream] = {}

    def result(self, spec: Spec, backend: Backend,
               order: Callable[[], Sequence[tuple[Spec, Backend]]]) -> Result:
        """The judged result of ``spec`` on ``backend``, computed in ``backend``'s worker;
        ``order()``: the (spec, backend) cases in the order pytest will run them (skipped and
        deselected items left out), asked for when a stream is started."""
        stream = self.streams.get(id(backend))
        if stream is None or not stream.expects(spec):
            if stream is not None:
                stream.close()
            stream = self.streams[id(backend)] = _Stream(
                backend, _from(spec, [s for s, b in order() if b is backend]), self.plans,
                self.options)
        outcome = stream.next_outcome()
        return judge(spec, References(spec, self.plans.get(spec)), backend.name, outcome)

    def close(self) -> None:
        """Stop every worker (at the end of the session)."""
        streams, self.streams = self.streams, {}
        for stream in streams.values():
            stream.close()


def _from(spec: Spec, specs: list[Spec]) -> list[Spec]:
    """``specs`` from ``spec`` on (``spec`` alone when it is not among them)."""
    for i, other in enumerate(specs):
        if other is spec:
            return specs[i:]
    return [spec]

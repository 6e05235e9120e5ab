"""``gradparity run --timings``: how long one derivative call takes, and how that compares
with one forward call, for each spec on each backend.

Measured in the process that ran the case (a worker), right after the judged calls, so the
program is already compiled. Derivative and forward calls alternate, so a burst of load on
the machine hits both sides alike; each side's median is kept. The number of rounds adapts
to a time budget per case and is bounded both ways, so timing adds a bounded cost to a run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from backends.base import Backend
from conformance.spec import Spec

#: Seconds of timed calls per case (derivative and forward together), once warmed up.
BUDGET_S = 0.25
#: Rounds (one derivative call, one forward call) per case: at least, at most.
MIN_ROUNDS, MAX_ROUNDS = 5, 200


def _seconds(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def measure(program: Callable[[Mapping[str, np.ndarray]], Any],
            forward: Callable[[Mapping[str, np.ndarray]], Any] | None,
            arrays: Mapping[str, np.ndarray], budget_s: float = BUDGET_S) -> dict[str, float]:
    """Median seconds of one ``program`` call (``"call"``) and, when the backend offers a
    forward-only program, of one ``forward`` call (``"forward"``), on ``arrays``.

    ``program`` must be warm (already called); ``forward`` gets one untimed warm-up call.
    """
    sides: dict[str, Callable[[], Any]] = {"call": lambda: program(arrays)}
    if forward is not None:
        forward(arrays)
        sides["forward"] = lambda: forward(arrays)
    samples: dict[str, list[float]] = {name: [] for name in sides}
    deadline = time.perf_counter() + budget_s
    while len(samples["call"]) < MIN_ROUNDS or (
            len(samples["call"]) < MAX_ROUNDS and time.perf_counter() < deadline):
        for name, call in sides.items():
            samples[name].append(_seconds(call))
    return {name: statistics.median(times) for name, times in samples.items()}


def time_case(backend: Backend, spec: Spec, program: Callable[[Mapping[str, np.ndarray]], Any],
              arrays: Mapping[str, np.ndarray]) -> dict[str, float]:
    """:func:`measure` for one case, with the backend's forward program when it has one.

    Timing never changes a verdict: when the forward program cannot be prepared, only the
    derivative call is timed; when timing fails altogether, nothing is reported.
    """
    try:
        forward = backend.prepare_forward(spec)
    except Exception:  # noqa: BLE001 - no ratio, but the derivative time still counts
        forward = None
    try:
        return measure(program, forward, arrays)
    except Exception:  # noqa: BLE001 - a program that fails only when timed: no figures
        return {}

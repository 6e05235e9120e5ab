"""A run's data: :class:`Status`, :class:`Result` (one spec on one backend, with everything
measured to reach its verdict) and :class:`Report` (a run's results and environment).
The files written from a Report are :mod:`conformance.reports`'."""

from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass, field
from typing import Any


class Status(str, enum.Enum):
    """Outcome of one spec on one backend."""

    PASS = "PASS"
    FAIL = "FAIL"  # wrong numbers; ``diagnoses`` names why where it can
    CONVENTION = "CONVENTION"  # disagreement only at a non-differentiable point
    INCONCLUSIVE = "INCONCLUSIVE"  # the reference is too uncertain to judge this case
    UNSUPPORTED = "UNSUPPORTED"  # the backend does not compute this kind of spec
    ERROR = "ERROR"  # the adapter raised, crashed, hung, or returned malformed output
    SKIPPED = "SKIPPED"  # the backend's framework is not installed
    NOT_RUN = "NOT_RUN"  # the run was interrupted before this case

    @property
    def is_problem(self) -> bool:
        """Whether this status makes ``gradparity run`` exit non-zero."""
        return self in (Status.FAIL, Status.ERROR)


@dataclass
class Worst:
    """The element farthest outside its tolerance, for a message a person can act on."""

    key: str
    index: list[int]
    value: float
    reference: float
    abs_error: float
    allowed: float


@dataclass
class Result:
    """One spec on one backend."""

    spec: str
    backend: str
    status: Status
    kind: str = ""
    dtype: str = ""
    diagnoses: list[str] = field(default_factory=list)
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    #: how the allowance was derived (rtol, floor, uncertainty factor, rule) and ``allowed``,
    #: the relative error allowed at the worst element
    tolerance: dict[str, float | str] | None = None
    reference_mode: str | None = None
    worst: Worst | None = None
    pairwise: dict[str, float] = field(default_factory=dict)
    message: str = ""
    #: evidence from a probe call (perturbed weights), apart from the judged call's numbers
    probe: str = ""
    seconds: float = 0.0
    #: ``run --timings`` only (else None): median seconds of one derivative call, and how
    #: many forward calls it is worth (None when the backend has no forward program).
    median_call_seconds: float | None = None
    forward_ratio: float | None = None
    reproduce: str = ""  # a copy-paste snippet for cases that did not pass (see repro.py)
    #: Convention cases (see conformance.conventions), and CONVENTION results at a
    #: non-differentiable point (diagnosis ``kink``, for the keys with such points): the
    #: backend's derivative per ``wrt`` name, as nested lists (NaN and infinities kept;
    #: JSON writes them as text).
    convention_values: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The result as JSON-ready data; NaN and infinities become "nan", "inf", "-inf"
        (JSON has no such numbers, and a backend's NaN must not stop the report)."""
        data = _finite_or_text(asdict(self))
        data["status"] = self.status.value
        return data


def _finite_or_text(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite_or_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_text(v) for v in value]
    return value


@dataclass
class Report:
    """A whole run: the environment it ran in and every result."""

    results: list[Result]
    environment: dict[str, Any] = field(default_factory=dict)
    complete: bool = True

    @property
    def ok(self) -> bool:
        """True when nothing failed or errored and the run finished."""
        return self.complete and not any(r.status.is_problem for r in self.results)

    @property
    def inconclusive(self) -> bool:
        """True when some case could not be judged (counted apart, never as passed)."""
        return any(r.status is Status.INCONCLUSIVE for r in self.results)

"""Name the outlier: which backends stand apart from the reference and the other backends.

A FAIL says one answer is off the reference; when several backends ran, the next question is
who is odd one out. From each spec's results (the status, and ``Result.pairwise``: the
largest relative difference from every other backend's answer) a backend is an **outlier**
on a case when it FAILed there (it differs from the reference) and its answer differs from
more than half of the other backends that answered. Two answers differ when their relative
difference exceeds twice the dtype's ``rtol`` (each may be ``rtol`` off the reference).
When every answering backend FAILs and all agree with each other, it is the reference that
stands apart (a wrong ``fn`` for numpy, or a point the reference cannot judge).

The terminal footer reads ``jax differs from tf-eager, tf-graph, autograd and the reference
on 3 cases``; the JSON report has the same in its ``outliers`` field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.results import Report, Result, Status

#: Statuses whose answers were compared, so ``pairwise`` holds their differences.
ANSWERED = (Status.PASS, Status.FAIL, Status.CONVENTION)
#: Two backends' answers differ when their relative difference exceeds this many ``rtol``.
AGREEMENT_RTOLS = 2.0


@dataclass
class Outlier:
    """A backend that stands apart from the reference and most other backends."""

    backend: str
    #: The backends it differs from on at least one of its cases, in report column order.
    differs_from: list[str]
    cases: list[str] = field(default_factory=list)

    def line(self) -> str:
        """``jax differs from tf-eager, autograd and the reference on 3 cases``."""
        others = [*self.differs_from, "the reference"]
        listed = others[0] if len(others) == 1 else f"{', '.join(others[:-1])} and {others[-1]}"
        count = len(self.cases)
        return f"{self.backend} differs from {listed} on {count} case{'s' * (count != 1)}"

    def to_json(self) -> dict[str, Any]:
        """``{"backend", "differs_from", "cases"}``."""
        return {"backend": self.backend, "differs_from": self.differs_from, "cases": self.cases}


@dataclass
class Outliers:
    """Every outlier backend of a report, and the cases where the reference stands apart."""

    backends: list[Outlier] = field(default_factory=list)
    reference_apart: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The footer lines, outliers first (most cases first)."""
        lines = [o.line() for o in self.backends]
        if self.reference_apart:
            count = len(self.reference_apart)
            lines.append(f"the reference differs from every backend, which agree with each "
                         f"other, on {count} case{'s' * (count != 1)}: "
                         f"{', '.join(self.reference_apart)}")
        return lines

    def to_json(self) -> dict[str, Any]:
        """The report's ``outliers`` field: ``{"backends": [...], "reference_apart": [...]}``."""
        return {"backends": [o.to_json() for o in self.backends],
                "reference_apart": self.reference_apart}


def _agree(result: Result, other: str) -> bool:
    difference = result.pairwise.get(other)
    rtol = (result.tolerance or {}).get("rtol")
    return difference is not None and rtol is not None and difference <= AGREEMENT_RTOLS * rtol


def find_outliers(report: Report) -> Outliers:
    """The outliers of a report, judged case by case from statuses and pairwise differences."""
    columns = list(dict.fromkeys(r.backend for r in report.results))
    by_spec: dict[str, list[Result]] = {}
    for result in report.results:
        if result.status in ANSWERED:
            by_spec.setdefault(result.spec, []).append(result)
    found: dict[str, Outlier] = {}
    reference_apart = []
    for spec, answered in by_spec.items():
        if len(answered) < 2:
            continue
        for result in answered:
            others = [r.backend for r in answered if r is not result]
            differs = [b for b in others if not _agree(result, b)]
            if result.status is Status.FAIL and 2 * len(differs) > len(others):
                outlier = found.setdefault(result.backend, Outlier(result.backend, []))
                outlier.cases.append(spec)
                outlier.differs_from = [b for b in columns
                                        if b in outlier.differs_from or b in differs]
        if all(r.status is Status.FAIL for r in answered) and all(
                _agree(r, o.backend) for r in answered for o in answered if o is not r):
            reference_apart.append(spec)
    ranked = sorted(found.values(), key=lambda o: (-len(o.cases), columns.index(o.backend)))
    return Outliers(ranked, reference_apart)

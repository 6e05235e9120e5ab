"""Turn a :class:`Report` into the terminal table and the JSON document.

JSON schema (``schema_version`` 1): ``{"schema_version", "complete", "environment",
"results": [{"spec", "backend", "status", "kind", "dtype", "diagnoses", "max_abs_error",
"max_rel_error", "tolerance", "reference_mode", "worst", "pairwise", "message",
"seconds"}, ...]}``. The file is written atomically (temporary file, then rename).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from conformance.results import Report, Result, Status

SCHEMA_VERSION = 1


def to_json(report: Report) -> dict[str, Any]:
    """The report as a JSON-ready dict."""
    return {
        "schema_version": SCHEMA_VERSION,
        "complete": report.complete,
        "environment": report.environment,
        "results": [r.to_json() for r in report.results],
    }


def write_json(report: Report, path: str | os.PathLike[str]) -> None:
    """Write the JSON report atomically: readers never see a half-written file."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(to_json(report), handle, indent=2, allow_nan=False, default=_jsonable)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def cell(result: Result) -> str:
    """One table cell: the status and, when numbers were compared, the max relative error."""
    text = result.status.value
    if result.max_rel_error is not None:
        text += f" {result.max_rel_error:.1e}"
    if result.diagnoses:
        text += f" [{','.join(result.diagnoses)}]"
    return text


def table(report: Report) -> str:
    """Spec x backend table, then one line per case that did not pass, then the totals."""
    specs = list(dict.fromkeys(r.spec for r in report.results))
    backends = list(dict.fromkeys(r.backend for r in report.results))
    cells = {(r.spec, r.backend): cell(r) for r in report.results}
    header = ["spec", *backends]
    rows = [[s, *(cells.get((s, b), "") for b in backends)] for s in specs]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    notes = [r for r in report.results
             if r.status not in (Status.PASS, Status.SKIPPED) and r.message]
    skipped = {r.backend: r.message for r in report.results if r.status is Status.SKIPPED}
    if notes or skipped:
        lines.append("")
    lines += [f"{r.status.value} {r.spec} on {r.backend}: {r.message}" for r in notes]
    lines += [f"SKIPPED {b}: {why}" for b, why in skipped.items()]
    lines += ["", summary(report)]
    return "\n".join(lines)


def summary(report: Report) -> str:
    """Counts per status, and whether the run finished."""
    counts: dict[str, int] = {}
    for r in report.results:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    text = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no results"
    return text if report.complete else f"{text} (INCOMPLETE run)"


def header(report: Report) -> str:
    """The run header: platform, numpy, each backend's versions and pinned numerics."""
    env = report.environment
    lines = [f"gradparity: python {env.get('python')}, numpy {env.get('numpy')}, "
             f"{env.get('platform')}"]
    tols = env.get("tolerances", {})
    lines.append("tolerances: " + "; ".join(
        f"{d} rtol={t['rtol']:g} atol={t['atol']:g}" for d, t in tols.items()))
    for name, info in env.get("backends", {}).items():
        versions = ", ".join(f"{m} {v}" for m, v in info["versions"].items()) or "-"
        numerics = ", ".join(f"{k}={v}" for k, v in info["numerics"].items())
        lines.append(f"{name}: {versions}" + (f" ({numerics})" if numerics else ""))
    return "\n".join(lines)

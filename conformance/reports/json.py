"""The JSON report (``run --json``), written atomically (temporary file, then rename).

JSON schema (``schema_version`` 1): ``{"schema_version", "complete", "environment",
"results": [{"spec", "backend", "status", "kind", "dtype", "diagnoses", "max_abs_error",
"max_rel_error", "tolerance", "reference_mode", "worst", "pairwise", "message",
"seconds", "median_call_seconds", "forward_ratio"}, ...]}`` (the last two are null without
``--timings``), and ``"outliers": {"backends": [{"backend", "differs_from", "cases"}],
"reference_apart": [spec, ...]}`` (see conformance.outliers). :mod:`conformance.reports.read`
reads it back.
"""

from __future__ import annotations

import json
import os
from typing import Any

from conformance.outliers import find_outliers
from conformance.reports.files import write_atomic
from conformance.results import Report

SCHEMA_VERSION = 1


def to_json(report: Report) -> dict[str, Any]:
    """The report as a JSON-ready dict."""
    return {
        "schema_version": SCHEMA_VERSION,
        "complete": report.complete,
        "environment": report.environment,
        "results": [r.to_json() for r in report.results],
        "outliers": find_outliers(report).to_json(),
    }


def write_json(report: Report, path: str | os.PathLike[str]) -> None:
    """Write the JSON report atomically."""
    write_atomic(path, json.dumps(to_json(report), indent=2, allow_nan=False, default=_jsonable))


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")

"""Read a JSON report (``gradparity run --json``) back into a :class:`Report`, checking it.

``merge`` and ``diff`` read reports written elsewhere (other machines, older versions), so
anything that is not a report of this ``schema_version`` is a :class:`ReportFileError`
whose one-line message names the file, the field and the fix, never a traceback.
"""

from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path
from typing import Any

from conformance.reports.json import SCHEMA_VERSION
from conformance.results import Report, Result, Status, Worst

#: Result fields holding a number (or null); JSON writes NaN and infinities as text.
NUMBERS = ("max_abs_error", "max_rel_error", "seconds", "median_call_seconds", "forward_ratio")
_FIELDS = {f.name for f in fields(Result)}
_NON_FINITE = {"nan", "inf", "-inf"}


class ReportFileError(ValueError):
    """A file that is not a readable gradparity JSON report; the message is one line."""


def read_report(path: str | os.PathLike[str]) -> Report:
    """The report stored at ``path`` (as written by ``gradparity run --json``)."""
    where = str(path)
    fix = "give a report written by 'gradparity run --json'"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportFileError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise ReportFileError(f"{where}: is a directory; {fix}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportFileError(f"{where}: cannot read it ({exc}); {fix}") from None
    except json.JSONDecodeError as exc:
        raise ReportFileError(f"{where}: not JSON ({exc}); {fix}") from None
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ReportFileError(f"{where}: not a gradparity report (no schema_version); {fix}")
    if data["schema_version"] != SCHEMA_VERSION:
        raise ReportFileError(
            f"{where}: schema_version {data['schema_version']!r}, but this gradparity reads "
            f"{SCHEMA_VERSION}; rerun 'gradparity run --json' with this version")
    environment, results = data.get("environment", {}), data.get("results")
    if not isinstance(environment, dict):
        raise ReportFileError(f"{where}: 'environment' is not an object; {fix}")
    if not isinstance(results, list):
        raise ReportFileError(f"{where}: 'results' is not a list; {fix}")
    return Report([result_from_json(r, f"{where}: results[{i}]") for i, r in enumerate(results)],
                  environment, complete=data.get("complete") is not False)


def result_from_json(data: Any, where: str = "result") -> Result:
    """One :class:`Result` from its JSON form (:meth:`Result.to_json`); unknown keys are
    ignored, so a report from a newer gradparity with extra fields still reads."""
    if not isinstance(data, dict):
        raise ReportFileError(f"{where}: not an object")
    for key in ("spec", "backend"):
        if not isinstance(data.get(key), str):
            raise ReportFileError(f"{where}.{key}: missing or not a string")
    try:
        status = Status(data.get("status"))
    except ValueError:
        raise ReportFileError(f"{where}.status: {data.get('status')!r} is not one of "
                              f"{', '.join(s.value for s in Status)}") from None
    if not isinstance(data.get("diagnoses", []), list):
        raise ReportFileError(f"{where}.diagnoses: not a list of codes")
    known = {k: v for k, v in data.items() if k in _FIELDS}
    for key in NUMBERS:
        value = known.get(key)
        if value is not None and not isinstance(_number(value), (int, float)):
            raise ReportFileError(f"{where}.{key}: {value!r} is not a number or null")
        if value is not None:
            known[key] = _number(value)
    known["pairwise"] = {b: _number(d) for b, d in (known.get("pairwise") or {}).items()}
    worst = known.get("worst")
    if worst is not None:
        try:
            known["worst"] = Worst(**{k: _number(v) for k, v in worst.items()})
        except (AttributeError, TypeError):
            raise ReportFileError(f"{where}.worst: not an object with key, index, value, "
                                  "reference, abs_error, allowed") from None
    return Result(**{**known, "status": status})


def _number(value: Any) -> Any:
    """A float for the text JSON stores in place of NaN and infinities, else ``value``."""
    return float(value) if isinstance(value, str) and value in _NON_FINITE else value

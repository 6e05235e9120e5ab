"""Reproduce a failing case in one step: its arrays saved beside the report, and a snippet.

For every FAIL, ERROR or CONVENTION, ``attach_reproductions`` writes the spec's arrays to
``<dir>/<spec>--<backend>.npz`` and sets ``Result.reproduce`` to a copy-paste Python snippet
that loads them, runs the backend's program and prints its answer next to the reference.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from conformance.results import Report, Status
from conformance.spec import Spec

NEEDS_REPRODUCTION = (Status.FAIL, Status.ERROR, Status.CONVENTION)

SNIPPET = """\
import numpy as np
from backends import load
{finder}
from conformance.harness import check
from conformance.reference import compute_reference
spec = {found}.with_arrays(**np.load({arrays!r}))
print(load({backend!r}).prepare(spec)(spec.cast()))   # the backend's answer
print(compute_reference(spec).expected)              # the float64 reference
print(check(spec, load({backend!r})).message)        # the verdict, probes included"""


def _file_name(spec: str, backend: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", f"{spec}--{backend}") + ".npz"


def attach_reproductions(report: Report, specs: Sequence[Spec], directory: Path,
                         loaders: dict[str, str], origins: dict[str, str] | None = None) -> None:
    """Save the arrays of every case that did not pass and attach its snippet.

    ``loaders`` maps each backend's name to what loads it (``tf-graph``, ``pkg.mod:Class``);
    ``origins`` maps the name of each spec from a user's catalog to what loads that catalog
    (its absolute path or module), so the snippet finds the spec there.
    """
    by_name = {s.name: s for s in specs}
    for result in report.results:
        spec = by_name.get(result.spec)
        if result.status not in NEEDS_REPRODUCTION or spec is None:
            continue
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / _file_name(result.spec, result.backend)
        np.savez(path, **spec.arrays)
        origin = (origins or {}).get(result.spec)
        finder, found = (("from conformance.catalog import find", f"find({result.spec!r})")
                         if origin is None else
                         ("from conformance.user_catalogs import find",
                          f"find({result.spec!r}, {origin!r})"))
        result.reproduce = SNIPPET.format(finder=finder, found=found, arrays=str(path),
                                          backend=loaders.get(result.backend, result.backend))

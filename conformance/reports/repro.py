"""Reproduce a failing case in one step: its arrays saved beside the report, and a snippet.

For every FAIL, ERROR or CONVENTION, ``attach_reproductions`` writes the spec's arrays to
``<dir>/<spec>--<backend>.npz`` and sets ``Result.reproduce`` to a copy-paste Python snippet
that loads them, runs the backend's program and prints its answer next to the reference.
The snippet's first line is a comment saying which case it reproduces. File names never
collide: characters a file name cannot hold become ``_`` plus a hash of the exact names
(``a/b`` and ``a_b`` differ), long names are cut (with the hash), and a name met again (two
specs of one name, or names differing in case only) gets ``-2``, ``-3``, ...
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from conformance.conventions import is_convention
from conformance.results import Report, Status
from conformance.spec import Spec

NEEDS_REPRODUCTION = (Status.FAIL, Status.ERROR, Status.CONVENTION)

#: Longest file-name stem kept as written (file systems allow 255 bytes).
MAX_STEM = 120

SNIPPET = """\
# gradparity reproduce: {status} of spec {spec!r} on backend {backend!r} (run with python)
import numpy as np
from backends import load
{finder}
from conformance.harness import check
from conformance.reference import compute_reference
spec = {found}.with_arrays(**np.load({arrays!r}))
print(load({backend!r}).prepare(spec)(spec.cast()))   # the backend's answer
print(compute_reference(spec).expected)              # the float64 reference
print(check(spec, load({backend!r})).message)        # the verdict, probes included"""


def _file_name(spec: str, backend: str, taken: Counter[str]) -> str:
    """A file name for the case, unique among ``taken`` (lower-cased names used so far)."""
    exact = f"{spec}--{backend}"
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", exact)
    if stem != exact or len(stem) > MAX_STEM:
        digest = hashlib.sha256(exact.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        stem = f"{stem[:MAX_STEM]}-{digest}"
    taken[stem.lower()] += 1
    seen = taken[stem.lower()]
    return f"{stem}.npz" if seen == 1 else f"{stem}-{seen}.npz"


def attach_reproductions(report: Report, specs: Sequence[Spec], directory: Path,
                         loaders: dict[str, str], origins: dict[str, str] | None = None) -> None:
    """Save the arrays of every case that did not pass and attach its snippet.

    ``loaders`` maps each backend's name to what loads it (``tf-graph``, ``pkg.mod:Class``);
    ``origins`` maps the name of each spec from a user's catalog to what loads that catalog
    (its absolute path or module), so the snippet finds the spec there.
    """
    by_name: dict[str, list[Spec]] = defaultdict(list)
    for spec in specs:  # two specs may share a name: the k-th result of a pair is the k-th
        by_name[spec.name].append(spec)
    met: Counter[tuple[str, str]] = Counter()
    taken: Counter[str] = Counter()
    for result in report.results:
        met[result.spec, result.backend] += 1
        named = by_name.get(result.spec, [])
        k = met[result.spec, result.backend] - 1
        spec = named[k] if k < len(named) else None
        if result.status not in NEEDS_REPRODUCTION or spec is None or is_convention(spec):
            continue  # a convention case's answer is a record, not a problem to reproduce
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / _file_name(result.spec, result.backend, taken)
        np.savez(path, **spec.arrays)
        origin = (origins or {}).get(result.spec)
        finder, found = (("from conformance.catalog import find", f"find({result.spec!r})")
                         if origin is None else
                         ("from conformance.user_catalogs import find",
                          f"find({result.spec!r}, {origin!r})"))
        result.reproduce = SNIPPET.format(status=result.status.value, spec=result.spec,
                                          finder=finder, found=found, arrays=str(path),
                                          backend=loaders.get(result.backend, result.backend))

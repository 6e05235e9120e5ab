"""The JAX peer suite (tests/peer/jax_autodiff.py) judged on every installed backend.

JAX's own gradient tests, translated into a catalog, are cases a correct framework passes
upstream; so, per backend: no FAIL and no ERROR except the real framework findings listed in
tests/peer/FINDINGS.md (matched by exact backend and spec name; a listed case that no longer
fails is reported with a warning, as array-api-tests does with its xfail files), and at most
1 % of the judged cases INCONCLUSIVE.

The catalog is run once for all backends (references shared, each backend in its own worker).
``GRADPARITY_PEER_EVERY=N`` runs every N-th case (by a hash of its name, both dtypes of a case
together); the default 3 (274 cases x 5 backends) took 2 to 3.5 minutes on two shared cores,
1 runs all 798 (about 7 minutes there).
"""

from __future__ import annotations

import os
import re
import warnings
import zlib
from pathlib import Path

import pytest
from conftest import installed

from backends import load
from conformance.harness import run
from conformance.results import Report, Status
from conformance.user_catalogs import load_catalog
from conformance.workers import WorkerOptions, in_workers

PEER = Path(__file__).resolve().parent / "peer"
CATALOG = str(PEER / "jax_autodiff.py")
FINDINGS = PEER / "FINDINGS.md"
BACKENDS = ["jax", "autograd", "tf-eager", "tf-graph", "pytensor"]
EVERY = int(os.environ.get("GRADPARITY_PEER_EVERY", "3"))
#: Judged cases that may be INCONCLUSIVE (the reference could not judge them), at most.
INCONCLUSIVE_SHARE = 0.01


def sampled(name: str) -> bool:
    """Whether the case runs: every EVERY-th base name (its dtype suffix left out)."""
    base = name.removesuffix("-float32").removesuffix("-float64")
    return zlib.crc32(base.encode()) % EVERY == 0


def known_findings() -> set[tuple[str, str]]:
    """(backend, spec) pairs of FINDINGS.md's case list: lines ``<backend> <spec name>``
    inside the fenced block after the heading ``## Cases``."""
    text = FINDINGS.read_text()
    found = re.search(r"^## Cases\b.*?```\n(.*?)```", text, re.S | re.M)
    assert found, f"{FINDINGS}: no '## Cases' section with a fenced list of cases"
    pairs = set()
    for line in found.group(1).splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            backend, spec = line.split()
            pairs.add((backend, spec))
    return pairs


@pytest.fixture(scope="module")
def report() -> Report:
    """The peer catalog (sampled) on every installed backend of BACKENDS, in one run."""
    specs = [s for s in load_catalog(CATALOG) if sampled(s.name)]
    backends = [load(name) for name in BACKENDS if installed(name)]
    if not backends:
        pytest.skip("none of the peer suite's backends is installed")
    return run(specs, backends, executor=in_workers(WorkerOptions(jobs=2)))


def test_the_catalog_is_several_hundred_cases_in_both_dtypes() -> None:
    specs = load_catalog(CATALOG)
    names = {s.name for s in specs}
    assert len(specs) >= 500 and len(names) == len(specs)
    assert {s.kind for s in specs} == {"grad", "jvp", "vjp", "hvp", "jacobian"}
    for spec in specs:
        other = "float32" if spec.dtype == "float64" else "float64"
        assert spec.name.removesuffix(spec.dtype) + other in names


def test_findings_name_cases_of_the_catalog() -> None:
    names = {s.name for s in load_catalog(CATALOG)}
    pairs = known_findings()
    assert pairs
    assert {b for b, _ in pairs} <= set(BACKENDS)
    assert {s for _, s in pairs} <= names, sorted({s for _, s in pairs} - names)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_peer_suite_verdicts(backend, report: Report, backend_name: str) -> None:
    backend(backend_name)  # skipped with the install hint when not installed
    results = [r for r in report.results if r.backend == backend_name]
    assert results
    findings = {spec for b, spec in known_findings() if b == backend_name}
    bad = [r for r in results if r.status in (Status.FAIL, Status.ERROR)]
    unexplained = [(r.spec, r.status.value, r.message) for r in bad if r.spec not in findings]
    ran = {r.spec for r in results}
    stale = sorted(s for s in findings & ran if s not in {r.spec for r in bad})
    if stale:
        warnings.warn(f"{backend_name}: FINDINGS.md lists cases that no longer FAIL or ERROR: "
                      f"{stale}", stacklevel=1)
    judged = [r for r in results if r.status in (Status.PASS, Status.FAIL,
                                                 Status.INCONCLUSIVE, Status.CONVENTION)]
    inconclusive = [(r.spec, r.message) for r in judged if r.status is Status.INCONCLUSIVE]
    assert not unexplained, unexplained
    assert len(inconclusive) <= INCONCLUSIVE_SHARE * len(judged), (
        f"{len(inconclusive)} of {len(judged)} judged cases INCONCLUSIVE", inconclusive)

"""JUnit XML for CI systems: one ``<testsuite>`` per backend, one ``<testcase>`` per result.

FAIL becomes ``<failure>``, ERROR ``<error>``; SKIPPED, UNSUPPORTED and NOT_RUN become
``<skipped>`` (never a pass); PASS and CONVENTION have no child element. Every test case
carries its gradparity status and errors as ``<properties>``, so nothing is lost in the
mapping, and each suite carries the backend's versions and numerics.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping

from conformance.reports.files import write_atomic
from conformance.reports.terminal import explain
from conformance.results import Report, Result, Status

#: The JUnit element each non-passing status becomes.
ELEMENTS = {Status.FAIL: "failure", Status.ERROR: "error", Status.SKIPPED: "skipped",
            Status.UNSUPPORTED: "skipped", Status.NOT_RUN: "skipped",
            Status.INCONCLUSIVE: "skipped"}

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: object) -> str:
    """``value`` as text XML 1.0 can hold: an adapter's message may carry control bytes."""
    return _NOT_XML.sub("\N{REPLACEMENT CHARACTER}", str(value))


def _properties(parent: ET.Element, values: Mapping[str, object]) -> None:
    """A ``<properties>`` block of the values that are set (none: no block)."""
    values = {k: v for k, v in values.items() if v not in (None, "")}
    if values:
        props = ET.SubElement(parent, "properties")
        for name, value in values.items():
            ET.SubElement(props, "property", name=name, value=_text(value))


def _testcase(suite: ET.Element, result: Result) -> None:
    case = ET.SubElement(suite, "testcase", classname=f"gradparity.{result.backend}",
                         name=result.spec, time=f"{result.seconds:.3f}")
    _properties(case, {"status": result.status.value, "kind": result.kind,
                       "dtype": result.dtype, "diagnoses": ",".join(result.diagnoses),
                       "max_rel_error": result.max_rel_error,
                       "max_abs_error": result.max_abs_error,
                       "allowed_rel_error": (result.tolerance or {}).get("allowed")})
    element = ELEMENTS.get(result.status)
    if element is not None:
        child = ET.SubElement(case, element, type=result.status.value,
                              message=_text(f"{result.status.value}: {result.message}"))
        if element != "skipped":
            child.text = _text(explain(result))


def _suite(parent: ET.Element, backend: str, results: Iterable[Result],
           info: Mapping[str, Mapping[str, str]]) -> None:
    results = list(results)
    suite = ET.SubElement(parent, "testsuite", name=f"gradparity[{backend}]")
    _properties(suite, {**{f"version.{m}": v for m, v in info.get("versions", {}).items()},
                        **{f"numerics.{k}": v for k, v in info.get("numerics", {}).items()}})
    for result in results:
        _testcase(suite, result)
    _count(suite, results)


def _count(element: ET.Element, results: list[Result]) -> None:
    tally = {name: sum(ELEMENTS.get(r.status) == name for r in results)
             for name in ("failure", "error", "skipped")}
    element.set("tests", str(len(results)))
    element.set("failures", str(tally["failure"]))
    element.set("errors", str(tally["error"]))
    element.set("skipped", str(tally["skipped"]))
    element.set("time", f"{sum(r.seconds for r in results):.3f}")


def to_junit(report: Report) -> ET.ElementTree:
    """The report as a JUnit XML tree (the schema Jenkins, GitLab and GitHub readers accept)."""
    root = ET.Element("testsuites", name="gradparity")
    backends = report.environment.get("backends", {})
    for backend in dict.fromkeys(r.backend for r in report.results):
        _suite(root, backend, (r for r in report.results if r.backend == backend),
               backends.get(backend, {}))
    _count(root, report.results)
    return ET.ElementTree(root)


def write_junit(report: Report, path: str | os.PathLike[str]) -> None:
    """Write the JUnit XML file atomically."""
    tree = to_junit(report)
    ET.indent(tree)
    write_atomic(path, ET.tostring(tree.getroot(), encoding="unicode", xml_declaration=True))

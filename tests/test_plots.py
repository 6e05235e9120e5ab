"""The HTML report's plots (conformance.reports.plots): one point per judged case at its
error/allowed on a log axis, FAIL above the line at 1, bands for what a log axis cannot
hold (zero, NaN, infinity, a FAIL found by a probe), and seconds per call with --timings."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest

from conformance.reports.html import COLOURS, render
from conformance.reports.plots import (
    JUDGED,
    MAX_TICKS,
    LogAxis,
    error_plot,
    ratio,
    timing_chart,
)
from conformance.results import Report, Result, Status, Worst

TOLERANCE = {"rtol": 1e-06, "floor": 1e-09, "allowed": 1e-06}


def judged(name: str, status: Status, error_over_allowed: float) -> Result:
    """A result whose worst element is ``error_over_allowed`` times its allowance."""
    allowed = 2e-6
    worst = Worst("x", [0], 1.0, 1.0, error_over_allowed * allowed, allowed)
    return Result(name, "jax", status, "grad", "float64", max_abs_error=worst.abs_error,
                  max_rel_error=error_over_allowed * 1e-6, tolerance=TOLERANCE, worst=worst)


#: Ratios from 1e-12 to 1e3, the ones a log axis cannot hold, and cases without numbers.
CASES = [
    judged("tiny", Status.PASS, 1e-12), judged("small", Status.PASS, 3e-7),
    judged("near", Status.PASS, 0.9), judged("uncertain", Status.INCONCLUSIVE, 0.01),
    judged("exact", Status.PASS, 0.0), judged("over", Status.FAIL, 2.0),
    judged("far-over", Status.FAIL, 1e3), judged("nan", Status.FAIL, math.nan),
    judged("inf", Status.FAIL, math.inf), judged("by-probe", Status.FAIL, 0.1),
    Result("no-numbers", "jax", Status.FAIL, "grad", "float64", diagnoses=["unwatched"]),
    Result("at-kink", "jax", Status.CONVENTION, "grad", "float64"),  # no error: not judged
    Result("raised", "jax", Status.ERROR, "grad", "float64", message="RuntimeError"),
    Result("hvp", "jax", Status.UNSUPPORTED, "hvp", "float64"),
    None,  # a case this backend has no result for
]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def points(root: ET.Element) -> dict[str, float]:
    return {c.get("data-spec"): float(c.get("cy")) for c in root.iter("circle")
            if "point" in c.get("class", "")}


def the_plot() -> tuple[ET.Element, dict[str, float], float, tuple[float, float]]:
    root = parse(error_plot("jax", CASES, COLOURS))
    line = next(e for e in root.iter("line") if e.get("class") == "allowed")
    frame = next(e for e in root.iter("rect") if e.get("fill") == "none")
    top = float(frame.get("y"))
    return root, points(root), float(line.get("y1")), (top, top + float(frame.get("height")))


def test_one_point_per_judged_case_and_none_for_the_rest() -> None:
    _, found, _, _ = the_plot()
    assert sorted(found) == sorted(r.spec for r in CASES if r and r.status in JUDGED
                                   and r.spec != "at-kink")


def test_fail_points_lie_above_the_line_and_the_others_below() -> None:
    _, found, line, _ = the_plot()
    for result in filter(None, CASES):
        if result.spec in found:
            above = found[result.spec] < line  # SVG's y grows downwards
            assert above == (result.status is Status.FAIL), result.spec


def test_finite_ratios_are_ordered_on_the_log_axis_inside_the_frame() -> None:
    _, found, _, (top, bottom) = the_plot()
    on_axis = [r for r in filter(None, CASES) if r.spec in found and ratio(r) is not None
               and 0 < ratio(r) < math.inf and not (r.status is Status.FAIL and ratio(r) <= 1)]
    finite = sorted((ratio(r), r.spec) for r in on_axis)
    assert len(finite) == 6
    heights = [found[spec] for _, spec in finite]
    assert heights == sorted(heights, reverse=True)  # larger ratio, higher point
    assert len(set(heights)) == len(heights)
    assert all(top < y < bottom for y in heights)  # not clamped onto the frame


def test_zero_nan_inf_and_probe_failures_get_bands_outside_the_log_area() -> None:
    root, found, _, (top, bottom) = the_plot()
    for spec in ("nan", "inf", "by-probe", "no-numbers"):
        assert found[spec] < top, spec
    assert found["exact"] > bottom
    numbers = [v for e in root.iter() for k, v in e.attrib.items() if k in ("cx", "cy", "y", "x")]
    assert not any(re.search("nan|inf", v, re.I) for v in numbers)
    titles = {c.get("data-spec"): c.find("title").text for c in root.iter("circle")}
    assert "error/allowed nan" in titles["nan"] and "error/allowed 0" in titles["exact"]


@pytest.mark.parametrize(("low", "high"), [(1e-12, 1e3), (0.3, 0.5), (1e-300, 1e300), (1, 1)])
def test_log_axis_ticks_are_whole_decades_around_the_values(low: float, high: float) -> None:
    axis = LogAxis.covering([low, high], bottom=200.0, top=20.0)
    ticks = axis.ticks()
    assert axis.low <= math.log10(low) and math.log10(high) <= axis.high
    assert 2 <= len(ticks) <= MAX_TICKS + 1
    assert all(b - a == axis.step for a, b in zip(ticks, ticks[1:]))
    assert 0 in ticks or not axis.low <= 0 <= axis.high  # 1 is labelled when on the axis
    assert axis.y(10.0 ** axis.low) == 200.0 and axis.y(10.0 ** axis.high) == 20.0


def test_ratio_axis_labels_read_as_powers_of_ten() -> None:
    root, _, _, _ = the_plot()
    labels = [e.text for e in root.iter("text") if e.get("class") == "tick-label"]
    assert "1" in labels and "1e-12" in labels and "1e3" in labels
    assert all(re.fullmatch(r"1|1e-?\d+", label) for label in labels)


def test_timing_chart_has_a_point_per_timed_case_and_a_colour_per_backend() -> None:
    def timed(spec: str, backend: str, seconds: float | None) -> Result:
        return Result(spec, backend, Status.PASS, "grad", "float64",
                      median_call_seconds=seconds)
    specs = [("a", [timed("a", "jax", 2e-5), timed("a", "autograd", 3e-3)]),
             ("b", [timed("b", "jax", 0.4), timed("b", "autograd", None)])]
    root = parse(timing_chart(["jax", "autograd"], specs))
    dots = [(c.get("data-spec"), c.get("data-backend"), c.get("fill"))
            for c in root.iter("circle")]
    assert sorted(d[:2] for d in dots) == [("a", "autograd"), ("a", "jax"), ("b", "jax")]
    assert len({fill for _, backend, fill in dots if backend == "jax"}) == 1
    assert len({fill for _, _, fill in dots}) == 2
    assert {e.text for e in root.iter("text")} >= {"jax", "autograd"}
    untimed = [(s, [Result(s, "jax", Status.PASS, "grad", "float64")]) for s in "ab"]
    assert timing_chart(["jax"], untimed) is None


def test_the_page_holds_a_plot_per_backend_with_judged_cases_and_no_url() -> None:
    others = [Result("tiny", "torch", Status.SKIPPED, "grad", "float64")]
    page = render(Report(results=[r for r in CASES if r] + others, environment={}))
    assert page.count('<svg class="plot"') == 1  # jax; torch judged nothing
    assert "Not plotted, no case judged on numbers: torch." in page
    assert "Time per case" not in page  # not a --timings run
    assert not re.search(r"https?:", page) and "<script" not in page

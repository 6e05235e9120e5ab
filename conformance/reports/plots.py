"""Inline SVG plots for the HTML report: error/allowed per case, and time per case.

Written by a small SVG writer (:class:`Svg`), no plotting library: the page stays one
self-contained file that needs no script and no network to be drawn. Each point carries a
``<title>`` (the browser shows it on hover) and ``data-spec`` / ``data-status`` attributes.

:func:`error_plot` draws one backend's judged cases (:func:`plotted`) against the case's
position in the report, on a log axis of *error / allowed* at the worst element: the line
at 1 is the tolerance, FAIL lies above it. Values a log axis cannot hold have bands of their
own: a zero error at the bottom; NaN, infinity, and a FAIL whose judged numbers were
within tolerance (failed by a probe or a diagnosis) at the top, in the FAIL zone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

from conformance.reports.terminal import duration
from conformance.results import Result, Status

#: Statuses whose results can be verdicts on numbers.
JUDGED: tuple[Status, ...] = (Status.PASS, Status.FAIL, Status.INCONCLUSIVE, Status.CONVENTION)
#: At most this many labelled decades on a log axis.
MAX_TICKS = 8
#: Line colours of the timing chart's backends (Okabe-Ito: told apart with colour blindness).
SERIES = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000",
          "#f0e442")

WIDTH, HEIGHT = 960, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 36  # margins around the log area
BAND = 20  # height of the bands above and below it
FAIL_ZONE = "#fdecea"


class Svg:
    """A tiny SVG writer: elements appended as text, escaped, then :meth:`render`."""

    def __init__(self, width: int, height: int, label: str) -> None:
        self.width, self.height, self.label = width, height, label
        self.parts: list[str] = []

    def add(self, tag: str, text: str | None = None, title: str | None = None,
            **attrs: float | str) -> None:
        """One element; ``attrs`` names use ``_`` for ``-`` (``stroke_width``), and a
        trailing ``_`` is dropped (``class_``)."""
        rendered = "".join(f' {k.rstrip("_").replace("_", "-")}="{escape(_number(v))}"'
                           for k, v in attrs.items())
        inner = (f"<title>{escape(title)}</title>" if title else "") + escape(text or "")
        self.parts.append(f"<{tag}{rendered}>{inner}</{tag}>" if inner else f"<{tag}{rendered}/>")

    def render(self) -> str:
        return (f'<svg class="plot" viewBox="0 0 {self.width} {self.height}" '
                f'width="{self.width}" height="{self.height}" role="img" '
                f'aria-label="{escape(self.label)}">{"".join(self.parts)}</svg>')


def _number(value: float | str) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def ratio(result: Result) -> float | None:
    """Error / allowed at the worst element (the judged measure: above 1 fails), from the
    worst element, else from the max relative error and its allowance; None without numbers."""
    if result.worst is not None and result.worst.allowed > 0:
        return result.worst.abs_error / result.worst.allowed
    allowed = (result.tolerance or {}).get("allowed")
    if result.max_rel_error is not None and isinstance(allowed, int | float) and allowed > 0:
        return result.max_rel_error / allowed
    return None


def plotted(result: Result | None) -> bool:
    """Whether the error plot shows ``result``: a case judged against the reference (PASS,
    FAIL, INCONCLUSIVE, a CONVENTION with numbers), or any FAIL (one found by a diagnosis
    alone goes in the top band). A CONVENTION at the kink itself has no error to plot."""
    return result is not None and result.status in JUDGED and (
        result.status is Status.FAIL or ratio(result) is not None)


@dataclass(frozen=True)
class LogAxis:
    """A log10 axis over whole decades ``low`` .. ``high``, drawn from ``bottom`` to ``top``
    pixels, with labelled ticks every ``step`` decades."""

    low: int
    high: int
    bottom: float
    top: float

    @classmethod
    def covering(cls, values: Sequence[float], bottom: float, top: float,
                 always: Sequence[float] = ()) -> LogAxis:
        """The decades holding the finite positive ``values`` and ``always``, with a quarter
        decade of room, so that no point sits on the frame."""
        logs = [math.log10(v) for v in (*values, *always) if math.isfinite(v) and v > 0] or [0.0]
        low, high = math.floor(min(logs) - 0.25), math.ceil(max(logs) + 0.25)
        return cls(low, high if high > low else low + 1, bottom, top)

    @property
    def step(self) -> int:
        return max(1, math.ceil((self.high - self.low) / MAX_TICKS))

    def ticks(self) -> list[int]:
        """The labelled decades: multiples of :attr:`step` (so 1 = 1e0 is one of them)."""
        return [d for d in range(self.low, self.high + 1) if d % self.step == 0]

    def y(self, value: float) -> float:
        share = (math.log10(value) - self.low) / (self.high - self.low)
        return self.bottom - share * (self.bottom - self.top)


def decade_label(decade: int) -> str:
    """``1`` for 10**0, else ``1e-12``, ``1e3``."""
    return "1" if decade == 0 else f"1e{decade}"


def _frame(svg: Svg, axis: LogAxis, title: str, x_label: str,
           fmt: Callable[[float], str] | None = None) -> None:
    """Title, the log axis with its grid and labels, and the x-axis caption."""
    right = svg.width - RIGHT
    svg.add("text", title, x=LEFT, y=16, font_size=14, font_weight="bold")
    svg.add("rect", x=LEFT, y=axis.top, width=right - LEFT, height=axis.bottom - axis.top,
            fill="none", stroke="#9e9e9e")
    for decade in range(axis.low, axis.high + 1):
        y = axis.y(10.0 ** decade)
        labelled = decade in axis.ticks()
        svg.add("line", x1=LEFT, x2=right, y1=y, y2=y, stroke="#e0e0e0" if labelled else "#f2f2f2")
        if labelled:
            svg.add("line", class_="tick", x1=LEFT - 4, x2=LEFT, y1=y, y2=y, stroke="#616161")
            svg.add("text", decade_label(decade) if fmt is None else fmt(10.0 ** decade),
                    class_="tick-label", x=LEFT - 6, y=y + 4, font_size=11, text_anchor="end")
    svg.add("text", x_label, x=LEFT, y=svg.height - 8, font_size=11, fill="#616161")


def error_plot(backend: str, results: Sequence[Result | None],
               colours: Mapping[Status, tuple[str, str]]) -> str:
    """One backend's error/allowed per case as an inline ``<svg>``; ``results`` holds its
    result for each case of the report, in report order (None where it has none), so the
    plots of all backends share one x axis. ``colours``: status -> (fill, stroke)."""
    judged = [(k, r) for k, r in enumerate(results) if r is not None and plotted(r)]
    ratios = {k: ratio(r) for k, r in judged}
    svg = Svg(WIDTH, HEIGHT, f"error / allowed per case on {backend}")
    top, bottom = TOP + BAND, HEIGHT - BOTTOM - BAND
    axis = LogAxis.covering([v for v in ratios.values() if v is not None], bottom, top,
                            always=(0.1, 10.0))
    right = WIDTH - RIGHT
    line = axis.y(1.0)
    svg.add("rect", class_="fail-zone", x=LEFT, y=TOP, width=right - LEFT, height=line - TOP,
            fill=FAIL_ZONE)
    _frame(svg, axis, f"{backend}: error / allowed at the worst element, per case "
           f"({len(judged)} judged; above the line fails)",
           f"cases in report order ({len(results)}); hover over a point for the case")
    svg.add("line", class_="allowed", x1=LEFT, x2=right, y1=line, y2=line, stroke="#b71c1c",
            stroke_width=1.5, stroke_dasharray="6 3")
    svg.add("text", "allowed (1)", x=LEFT + 4, y=line - 4, font_size=11, fill="#b71c1c")
    for text, y in (("NaN/inf", TOP + BAND / 2), ("0", HEIGHT - BOTTOM - BAND / 2)):
        svg.add("text", text, class_="band-label", x=LEFT - 6, y=y + 4, font_size=10,
                fill="#757575", text_anchor="end")
    for k, result in judged:
        value = ratios[k]
        if value is None or math.isnan(value) or value == math.inf or (
                result.status is Status.FAIL and value <= 1):
            y = TOP + BAND / 2  # nothing a log axis can hold, or a FAIL not on the numbers
            shown = "no number" if value is None else f"{value:.3g}"
        elif value <= 0:
            y = HEIGHT - BOTTOM - BAND / 2
            shown = "0"
        else:
            y = min(max(axis.y(value), top), bottom)
            shown = f"{value:.3g}"
        fill, stroke = colours[result.status]
        x = LEFT + (k + 0.5) / max(len(results), 1) * (right - LEFT)
        why = f"; {result.message}" if result.message else ""
        svg.add("circle", title=f"{result.spec}: {result.status.value}, error/allowed "
                f"{shown}{why}", class_=f"point {result.status.value.lower()}", cx=x, cy=y,
                r=3.5, fill=fill, stroke=stroke, data_spec=result.spec,
                data_status=result.status.value)
    return svg.render()


def timing_chart(backends: Sequence[str], specs: Sequence[tuple[str, Sequence[Result | None]]]
                 ) -> str | None:
    """Median seconds of one derivative call per case (``run --timings``), one colour per
    backend, on a log axis; None when no result was timed."""
    timed = [(k, j, r) for k, (_, results) in enumerate(specs) for j, r in enumerate(results)
             if r is not None and r.median_call_seconds is not None]
    if not timed:
        return None
    seconds = [r.median_call_seconds for _, _, r in timed]
    svg = Svg(WIDTH, HEIGHT + 16, "seconds per derivative call, per case and backend")
    axis = LogAxis.covering([s for s in seconds if s is not None], HEIGHT - BOTTOM, TOP)
    _frame(svg, axis, "median seconds of one derivative call, per case",
           f"cases in report order ({len(specs)}); hover over a point for the case",
           fmt=duration)
    right = WIDTH - RIGHT
    for j, backend in enumerate(backends):  # the legend
        y = HEIGHT - BOTTOM + 12
        svg.add("rect", x=LEFT + 150 * j, y=y, width=10, height=10, fill=SERIES[j % len(SERIES)])
        svg.add("text", backend, x=LEFT + 150 * j + 14, y=y + 9, font_size=11)
    for k, j, result in timed:
        value = result.median_call_seconds
        assert value is not None
        y = axis.y(value) if value > 0 and math.isfinite(value) else axis.bottom
        x = LEFT + (k + 0.5) / len(specs) * (right - LEFT)
        svg.add("circle", title=f"{result.spec} on {result.backend}: {duration(value)} per call",
                class_="timing", cx=x, cy=y, r=3, fill=SERIES[j % len(SERIES)],
                fill_opacity="0.8", data_spec=result.spec, data_backend=result.backend)
    return svg.render()

"""A static scoreboard page: counts per backend, a plot per backend of error/allowed over the
cases (and, with ``run --timings``, of seconds per call), the spec x backend grid coloured by
status.

One self-contained file (inline CSS and SVG, no script, no external URL) that any browser
opens from disk. Hovering a cell shows the whole case
(:func:`conformance.reports.terminal.explain`); clicking it unfolds the same text in place.
Every status has its own colour and its name is written in the cell, so SKIPPED and
UNSUPPORTED can never pass for PASS.
"""

from __future__ import annotations

import os
from html import escape

from conformance.reports.files import write_atomic
from conformance.reports.plots import error_plot, plotted, timing_chart
from conformance.reports.terminal import cell, counts, explain, grid, header, summary
from conformance.results import Report, Result, Status

#: Background and text colour of each status (also the legend's order).
COLOURS: dict[Status, tuple[str, str]] = {
    Status.PASS: ("#c8e6c9", "#1b5e20"),
    Status.CONVENTION: ("#b2ebf2", "#006064"),
    Status.INCONCLUSIVE: ("#ffccbc", "#6d2a00"),
    Status.FAIL: ("#ef9a9a", "#7f0000"),
    Status.ERROR: ("#e1bee7", "#4a148c"),
    Status.UNSUPPORTED: ("#cfd8dc", "#263238"),
    Status.SKIPPED: ("#fff59d", "#5d4300"),
    Status.NOT_RUN: ("#ffe0b2", "#6d3200"),
}

#: What each status means, for the legend.
MEANINGS: dict[Status, str] = {
    Status.PASS: "every output within tolerance of the reference",
    Status.CONVENTION: "disagreement only at a non-differentiable point",
    Status.INCONCLUSIVE: "the reference is too uncertain to judge; never counted as passed",
    Status.FAIL: "a wrong number; the cell names the diagnosis",
    Status.ERROR: "the adapter raised or broke the output contract",
    Status.UNSUPPORTED: "the backend does not compute this kind of spec",
    Status.SKIPPED: "the backend's framework is not installed",
    Status.NOT_RUN: "the run stopped before this case",
}

_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #212121; }
h1 { margin: 0 0 .3em; } h2 { margin: 1.2em 0 .4em; font-size: 1.1em; }
pre.env { background: #f5f5f5; padding: .6em; margin: 0; font-size: 12px; }
table { border-collapse: collapse; }
th, td { border: 1px solid #bdbdbd; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #eeeeee; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.zero { color: #9e9e9e; }
ul.legend { list-style: none; padding: 0; margin: 0; }
ul.legend li { display: inline-block; white-space: nowrap; margin: 0 1.2em .4em 0; }
ul.legend span { padding: .15em .5em; border: 1px solid #9e9e9e; }
td.cell { font-family: ui-monospace, monospace; font-size: 12px; white-space: nowrap; }
td.cell summary { cursor: pointer; }
td.cell pre { white-space: pre-wrap; max-width: 60em; margin: .4em 0 0; }
.skipped, .unsupported { background-image: repeating-linear-gradient(
    45deg, transparent 0 6px, rgba(0,0,0,.07) 6px 12px); }
.not_run { border-style: dashed; }
.incomplete { color: #b71c1c; font-weight: bold; }
.conflict { outline: 3px solid #b71c1c; outline-offset: -3px; font-weight: bold; }
svg.plot { display: block; max-width: 100%; height: auto; margin: 0 0 1em;
    font-family: system-ui, sans-serif; }
"""


def _status_css() -> str:
    return "\n".join(f".{s.value.lower()} {{ background-color: {bg}; color: {fg}; }}"
                     for s, (bg, fg) in COLOURS.items())


def cell_html(result: Result | None, label: str | None = None, extra_class: str = "",
              details: str | None = None) -> str:
    """One grid cell coloured by ``result``'s status: ``label`` (default: the table cell's
    text) unfolds into ``details`` (default: the case explained), also shown on hover."""
    if result is None:
        return '<td class="cell"></td>'
    details = explain(result) if details is None else details
    label = cell(result) if label is None else label
    classes = " ".join(filter(None, ["cell", result.status.value.lower(), extra_class]))
    return (f'<td class="{classes}" title="{escape(details)}">'
            f"<details><summary>{escape(label)}</summary><pre>{escape(details)}</pre>"
            "</details></td>")


def summary_table(groups: list[tuple[str, list[Result]]], heading: str = "backend") -> str:
    """Counts per status (columns) for each named group of results (rows)."""
    head = "".join(f'<th class="{s.value.lower()}">{s.value}</th>' for s in COLOURS)
    rows = []
    for name, results in groups:
        tally = counts(results)
        nums = "".join(f'<td class="n {s.value.lower() if tally.get(s) else "zero"}">'
                       f"{tally.get(s, 0)}</td>" for s in COLOURS)
        rows.append(f"<tr><th>{escape(name)}</th>{nums}</tr>")
    return (f'<table class="summary"><tr><th>{escape(heading)}</th>{head}</tr>'
            f"{''.join(rows)}</table>")


def legend() -> str:
    """Every status's colour and meaning."""
    items = "".join(f'<li><span class="{s.value.lower()}">{s.value}</span> '
                    f"{escape(MEANINGS[s])}</li>" for s in COLOURS)
    return f'<ul class="legend">{items}</ul>'


def grid_table(columns: list[str], rows: list[tuple[str, list[str]]]) -> str:
    """The spec x column grid from cells already rendered by :func:`cell_html`."""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(f"<tr><th>{escape(spec)}</th>{''.join(cells)}</tr>" for spec, cells in rows)
    return f'<table class="grid"><tr><th>spec</th>{head}</tr>{body}</table>'


def page(title: str, status_line: str, alert: bool, sections: list[tuple[str, str]]) -> str:
    """A whole self-contained page: title, a status line (red when ``alert``), and
    ``(heading, html)`` sections (headings are HTML too, so entities work)."""
    state = ' class="incomplete"' if alert else ""
    body = "\n".join(f"<h2>{heading}</h2>\n{content}" for heading, content in sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(title)}</title>
<style>{_CSS}{_status_css()}</style></head>
<body>
<h1>{escape(title)}</h1>
<p{state}>{escape(status_line)}</p>
{body}
</body></html>
"""


def plots(backends: list[str], specs: list[tuple[str, list[Result | None]]]) -> list[
        tuple[str, str]]:
    """The plot sections: error/allowed per backend (those with a judged case; the others
    named in one line), and seconds per call when the run was timed."""
    drawn, left_out = [], []
    for j, backend in enumerate(backends):
        column = [results[j] for _, results in specs]
        if any(plotted(r) for r in column):
            drawn.append(error_plot(backend, column, COLOURS))
        else:
            left_out.append(backend)
    if left_out:
        drawn.append(f"<p>Not plotted, no case judged on numbers: "
                       f"{escape(', '.join(left_out))}.</p>")
    sections = [("Error / allowed per case", "<p>One point per case judged against the "
                 "reference (PASS, FAIL, INCONCLUSIVE, CONVENTION), coloured by status, at "
                 "its error over the error allowed at the worst element, on a log scale: "
                 "above the dashed line at 1 a case fails. The top band holds NaN and "
                 "infinite errors, and FAILs whose numbers were within tolerance (failed by "
                 "a probe or a diagnosis); the bottom one exact answers (zero error). Hover "
                 "over a point for the case.</p>\n" + "\n".join(drawn))]
    if chart := timing_chart(backends, specs):
        sections.append(("Time per case", chart))
    return sections


def render(report: Report) -> str:
    """The whole page as one HTML string."""
    backends, specs = grid(report)
    groups = [(b, [r for r in report.results if r.backend == b]) for b in backends]
    rows = [(spec, [cell_html(r) for r in results]) for spec, results in specs]
    return page("gradparity scoreboard", summary(report), alert=not report.complete, sections=[
        ("Per backend", summary_table(groups)),
        ("Legend", legend()),
        *plots(backends, specs),
        ("Spec &times; backend", "<p>Hover over a cell for the details; click it to unfold "
                                 f"them.</p>\n{grid_table(backends, rows)}"),
        ("Environment", f'<pre class="env">{escape(header(report))}</pre>'),
    ])


def write_html(report: Report, path: str | os.PathLike[str]) -> None:
    """Write the scoreboard page atomically."""
    write_atomic(path, render(report))

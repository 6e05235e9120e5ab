"""A static scoreboard page: the spec x backend grid coloured by status, counts per backend.

One self-contained file (inline CSS, no script, no external URL) that any browser opens
from disk. Hovering a cell shows the whole case (:func:`conformance.report.explain`);
clicking it unfolds the same text in place. Every status has its own colour and its name
is written in the cell, so SKIPPED and UNSUPPORTED can never pass for PASS.
"""

from __future__ import annotations

import os
from html import escape

from conformance.report import cell, counts, explain, grid, header, summary, write_atomic
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
"""


def _status_css() -> str:
    return "\n".join(f".{s.value.lower()} {{ background-color: {bg}; color: {fg}; }}"
                     for s, (bg, fg) in COLOURS.items())


def _cell(result: Result | None) -> str:
    if result is None:
        return '<td class="cell"></td>'
    details = explain(result)
    return (f'<td class="cell {result.status.value.lower()}" title="{escape(details)}">'
            f"<details><summary>{escape(cell(result))}</summary><pre>{escape(details)}</pre>"
            "</details></td>")


def _summary_table(report: Report, backends: list[str]) -> str:
    head = "".join(f'<th class="{s.value.lower()}">{s.value}</th>' for s in COLOURS)
    rows = []
    for backend in backends:
        tally = counts(r for r in report.results if r.backend == backend)
        nums = "".join(f'<td class="n {s.value.lower() if tally.get(s) else "zero"}">'
                       f"{tally.get(s, 0)}</td>" for s in COLOURS)
        rows.append(f"<tr><th>{escape(backend)}</th>{nums}</tr>")
    return f"<table class=\"summary\"><tr><th>backend</th>{head}</tr>{''.join(rows)}</table>"


def render(report: Report) -> str:
    """The whole page as one HTML string."""
    backends, specs = grid(report)
    legend = "".join(f'<li><span class="{s.value.lower()}">{s.value}</span> '
                     f"{escape(MEANINGS[s])}</li>" for s in COLOURS)
    head = "".join(f"<th>{escape(b)}</th>" for b in backends)
    body = "".join(f"<tr><th>{escape(spec)}</th>{''.join(_cell(r) for r in results)}</tr>"
                   for spec, results in specs)
    state = "" if report.complete else ' class="incomplete"'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>gradparity scoreboard</title>
<style>{_CSS}{_status_css()}</style></head>
<body>
<h1>gradparity scoreboard</h1>
<p{state}>{escape(summary(report))}</p>
<h2>Per backend</h2>
{_summary_table(report, backends)}
<h2>Legend</h2>
<ul class="legend">{legend}</ul>
<h2>Spec &times; backend</h2>
<p>Hover over a cell for the details; click it to unfold them.</p>
<table class="grid"><tr><th>spec</th>{head}</tr>{body}</table>
<h2>Environment</h2>
<pre class="env">{escape(header(report))}</pre>
</body></html>
"""


def write_html(report: Report, path: str | os.PathLike[str]) -> None:
    """Write the scoreboard page atomically."""
    write_atomic(path, render(report))

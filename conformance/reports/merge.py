"""``gradparity merge``: one scoreboard from the JSON reports of a matrix of runs.

A tox or CI matrix runs the catalog once per environment (framework versions x Python x
machine) and each run writes its own report. Here every result keeps its own cell: the
columns are backend x environment, the rows specs. Verdicts that disagree for the same spec,
backend and framework versions (two runners of one CI job, or one version on two machines)
are flagged as conflicts and every verdict is listed; nothing is averaged away.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from conformance.reports.files import write_atomic
from conformance.reports.terminal import aligned, cell, counts, explain
from conformance.results import Report, Result, Status

MERGE_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Column:
    """One backend in one environment: what a result's verdict may depend on."""

    backend: str
    versions: tuple[tuple[str, str], ...]
    numerics: tuple[tuple[str, str], ...]
    python: str
    numpy: str
    platform: str

    @classmethod
    def of(cls, backend: str, environment: dict[str, Any]) -> Column:
        """The column of ``backend``'s results in a report with this ``environment``."""
        info = environment.get("backends", {}).get(backend, {})
        return cls(backend, tuple((str(m), str(v)) for m, v in info.get("versions", {}).items()),
                   tuple((str(k), str(v)) for k, v in info.get("numerics", {}).items()),
                   str(environment.get("python", "?")), str(environment.get("numpy", "?")),
                   str(environment.get("platform", "?")))

    @property
    def framework(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """Backend and framework versions: results sharing it must agree."""
        return self.backend, self.versions

    def describe(self) -> str:
        """One line: the backend's versions and numerics, Python, numpy and the machine."""
        versions = ", ".join(f"{m} {v}" for m, v in self.versions) or "no versions recorded"
        numerics = ", ".join(f"{k}={v}" for k, v in self.numerics)
        return (f"{self.backend}: {versions}" + (f" ({numerics})" if numerics else "")
                + f"; python {self.python}, numpy {self.numpy}; {self.platform}")


@dataclass
class Verdict:
    """One result and the report it came from."""

    report: str
    column: int
    result: Result

    @property
    def key(self) -> tuple[Status, tuple[str, ...]]:
        """What two verdicts must share to agree: the status and the diagnoses."""
        return self.result.status, tuple(sorted(self.result.diagnoses))

    def describe(self) -> str:
        r = self.result
        codes = f" [{','.join(r.diagnoses)}]" if r.diagnoses else ""
        return f"{r.status.value}{codes} in {self.report} [{self.column}]"


@dataclass
class Cell:
    """Every verdict for one spec in one column (one per report that ran it)."""

    verdicts: list[Verdict] = field(default_factory=list)
    conflict: bool = False  # disagrees with a verdict of the same spec, backend and versions

    @property
    def shown(self) -> Result:
        """The verdict the cell shows: the worst status, then the largest error."""
        return max((v.result for v in self.verdicts),
                   key=lambda r: (r.status.is_problem, r.max_rel_error or 0.0))

    def text(self) -> str:
        """``PASS 2.9e-13``; ``CONFLICT PASS|FAIL`` when this cell's own verdicts disagree;
        a trailing ``!`` when it disagrees with another column of the same versions."""
        keys = dict.fromkeys(v.key for v in self.verdicts)
        if len(keys) > 1:
            return "CONFLICT " + "|".join(status.value + (f"[{','.join(codes)}]" if codes else "")
                                          for status, codes in keys)
        return cell(self.shown) + (" !" if self.conflict else "")


@dataclass
class Scoreboard:
    """The merged matrix: columns, one row of cells per spec, and the reports read."""

    columns: list[Column]
    sources: dict[int, list[str]]  # column number (from 1) -> reports holding it
    rows: list[tuple[str, list[Cell | None]]]
    incomplete: list[str]  # reports of interrupted runs

    def conflicts(self) -> list[tuple[str, str, list[Verdict]]]:
        """(spec, backend and versions, the disagreeing verdicts) for every conflict."""
        found: dict[tuple[str, Any], list[Verdict]] = {}
        for spec, cells in self.rows:
            for column, c in zip(self.columns, cells):
                if c is not None and c.conflict:
                    found.setdefault((spec, column.framework), []).extend(c.verdicts)
        return [(spec, _versions(framework), verdicts)
                for (spec, framework), verdicts in found.items()]

    def results(self) -> list[Result]:
        """Every verdict's result, each once."""
        return [v.result for _, cells in self.rows for c in cells if c for v in c.verdicts]

    @property
    def ok(self) -> bool:
        """No FAIL or ERROR, no conflict, no interrupted run: what ``merge`` exits 0 on."""
        return (not self.incomplete and not self.conflicts()
                and not any(r.status.is_problem for r in self.results()))


def _versions(framework: tuple[str, tuple[tuple[str, str], ...]]) -> str:
    backend, versions = framework
    return f"{backend} ({', '.join(f'{m} {v}' for m, v in versions) or 'no versions'})"


def merge(reports: Sequence[tuple[str, Report]]) -> Scoreboard:
    """The scoreboard of ``(name, report)`` pairs, columns in order of first appearance."""
    columns: dict[Column, int] = {}
    sources: dict[int, list[str]] = {}
    cells: dict[tuple[str, int], Cell] = {}
    specs: dict[str, None] = {}
    for name, report in reports:
        for result in report.results:
            column = Column.of(result.backend, report.environment)
            number = columns.setdefault(column, len(columns) + 1)
            if name not in sources.setdefault(number, []):
                sources[number].append(name)
            specs.setdefault(result.spec)
            cells.setdefault((result.spec, number), Cell()).verdicts.append(
                Verdict(name, number, result))
    order = sorted(columns, key=lambda c: (_first(columns, c.backend), columns[c]))
    renumber = {columns[c]: i for i, c in enumerate(order, 1)}
    for c in cells.values():
        for v in c.verdicts:
            v.column = renumber[v.column]
    _flag_conflicts(cells, columns)
    return Scoreboard(order, {renumber[n]: s for n, s in sources.items()},
                      [(s, [cells.get((s, columns[c])) for c in order]) for s in specs],
                      [name for name, report in reports if not report.complete])


def _first(columns: dict[Column, int], backend: str) -> int:
    return min(n for c, n in columns.items() if c.backend == backend)


def _flag_conflicts(cells: dict[tuple[str, int], Cell], columns: dict[Column, int]) -> None:
    """Mark every cell whose verdicts disagree with another of the same spec, backend and
    framework versions (in the same column or in a column of another Python or machine)."""
    framework = {n: c.framework for c, n in columns.items()}
    groups: dict[tuple[str, Any], list[Cell]] = {}
    for (spec, number), c in cells.items():
        groups.setdefault((spec, framework[number]), []).append(c)
    for group in groups.values():
        if len({v.key for c in group for v in c.verdicts}) > 1:
            for c in group:
                c.conflict = True


# --- the three outputs ----------------------------------------------------------------------


def table(board: Scoreboard) -> str:
    """The terminal scoreboard: the columns' environments, the grid, conflicts, totals."""
    lines = ["columns:"] + [f"  [{n}] {c.describe()}  (from {', '.join(board.sources[n])})"
                            for n, c in enumerate(board.columns, 1)]
    header = ["spec", *(f"{c.backend} [{n}]" for n, c in enumerate(board.columns, 1))]
    rows = [[spec, *(c.text() if c else "" for c in cells)] for spec, cells in board.rows]
    lines += ["", *aligned(header, rows)]
    conflicts = board.conflicts()
    if conflicts:
        lines.append("")
    lines += [f"CONFLICT {spec} on {framework}: " + "; ".join(v.describe() for v in verdicts)
              for spec, framework, verdicts in conflicts]
    lines += [f"INCOMPLETE run: {name}" for name in board.incomplete]
    return "\n".join([*lines, "", summary(board)])


def summary(board: Scoreboard) -> str:
    """Counts per status over every verdict, then the conflicts and reports merged."""
    found = counts(board.results())
    text = ", ".join(f"{n} {s.value}" for s, n in found.items()) or "no results"
    reports = len({r for names in board.sources.values() for r in names})
    return (f"{text}; {len(board.conflicts())} conflicts; {len(board.columns)} columns from "
            f"{reports} reports")


def to_json(board: Scoreboard) -> dict[str, Any]:
    """The scoreboard as JSON: every result as its run wrote it, plus its column and report."""
    return {
        "merge_schema_version": MERGE_SCHEMA_VERSION,
        "ok": board.ok,
        "incomplete": board.incomplete,
        "columns": [{"column": n, "backend": c.backend, "versions": dict(c.versions),
                     "numerics": dict(c.numerics), "python": c.python, "numpy": c.numpy,
                     "platform": c.platform, "reports": board.sources[n]}
                    for n, c in enumerate(board.columns, 1)],
        "results": [{**v.result.to_json(), "column": v.column, "report": v.report}
                    for _, cells in board.rows for c in cells if c for v in c.verdicts],
        "conflicts": [{"spec": spec, "backend": framework,
                       "verdicts": [{"report": v.report, "column": v.column,
                                     "status": v.result.status.value,
                                     "diagnoses": v.result.diagnoses,
                                     "max_rel_error": v.result.max_rel_error}
                                    for v in verdicts]}
                      for spec, framework, verdicts in board.conflicts()],
    }


def write_json(board: Scoreboard, path: str | os.PathLike[str]) -> None:
    """Write the merged JSON atomically."""
    write_atomic(path, json.dumps(to_json(board), indent=2, allow_nan=False))


def render_html(board: Scoreboard) -> str:
    """The merged scoreboard as one self-contained page, in the style of ``run --html``."""
    from conformance.reports import html

    labels = [f"{c.backend} [{n}]" for n, c in enumerate(board.columns, 1)]
    per_column = [(label, [v.result for _, cells in board.rows if (c := cells[i])
                           for v in c.verdicts])
                  for i, label in enumerate(labels)]
    grid = html.grid_table(labels, [(spec, [_cell_html(c) for c in cells])
                                    for spec, cells in board.rows])
    columns = "\n".join(f"[{n}] {c.describe()}  (from {', '.join(board.sources[n])})"
                        for n, c in enumerate(board.columns, 1))
    conflicts = "".join(
        f"<li><b>{escape(spec)}</b> on {escape(framework)}: "
        f"{escape('; '.join(v.describe() for v in verdicts))}</li>"
        for spec, framework, verdicts in board.conflicts()) or "<li>none</li>"
    return html.page("gradparity merged scoreboard", summary(board), alert=not board.ok, sections=[
        ("Per column", html.summary_table(per_column, "column")),
        ("Legend", html.legend() + '<p><span class="conflict">CONFLICT</span> verdicts of '
                                   "the same spec, backend and versions disagree (a cell "
                                   "marked ! disagrees with another column)</p>"),
        ("Spec &times; column", "<p>Hover over a cell for the details; click it to unfold "
                                f"them.</p>{grid}"),
        ("Conflicts", f"<ul>{conflicts}</ul>"),
        ("Columns", f'<pre class="env">{escape(columns)}</pre>'),
    ])


def _cell_html(c: Cell | None) -> str:
    from conformance.reports import html

    if c is None:
        return html.cell_html(None)
    if len(c.verdicts) == 1 and not c.conflict:
        return html.cell_html(c.shown)
    extra = "conflict" if c.conflict else ""
    return html.cell_html(c.shown, label=c.text(), extra_class=extra, details="\n\n".join(
        f"from {v.report}:\n{explain(v.result)}" for v in c.verdicts))


def write_html(board: Scoreboard, path: str | os.PathLike[str]) -> None:
    """Write the merged page atomically."""
    write_atomic(path, render_html(board))

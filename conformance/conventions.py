"""The conventions matrix: what each framework answers where no derivative is right.

Convention cases (tag ``convention``, :mod:`conformance.catalog.conventions`) are not judged
against the central-difference reference: :func:`record` keeps each backend's derivative
values in ``Result.convention_values`` with status CONVENTION (NaN and inf are answers too).
``gradparity conventions`` runs them on the installed backends, through the same harness and
workers as ``gradparity run``, and prints case x backend: on the terminal, as Markdown
(``--markdown``) or as an HTML page (``--html``).
"""

from __future__ import annotations

import argparse
import contextlib
import html
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from conformance.catalog.conventions import TAG
from conformance.contract import contract_violation
from conformance.results import Report, Result, Status
from conformance.spec import Spec

if TYPE_CHECKING:
    from backends.base import Backend
    from conformance.harness import Outcome



def is_convention(spec: Spec) -> bool:
    """Whether ``spec`` asks for a convention (recorded) rather than a derivative (judged)."""
    return TAG in spec.tags


def record(spec: Spec, backend_name: str, outcome: Outcome) -> Result:
    """The backend's answer to a convention case: CONVENTION with its derivative values, or
    the outcome's own status (UNSUPPORTED, ERROR, SKIPPED) when there is no answer."""
    result = Result(spec=spec.name, backend=backend_name, status=Status.CONVENTION,
                    kind=spec.kind, dtype=spec.dtype, message=outcome.message,
                    seconds=outcome.seconds)
    if outcome.status is not None:
        result.status = outcome.status
        return result
    answer = outcome.output
    with np.errstate(all="ignore"):
        value_shape = np.shape(spec.evaluate(np, spec.arrays))
    violation = contract_violation(spec, answer, value_shape)
    if violation:
        result.status, result.message = Status.ERROR, violation
        return result
    # what the framework's own API answered: None where it said None (TF's gradient of
    # floor), though the adapter returned zeros for the harness's judging
    answered_none = set((outcome.hooks.get("none_gradients") or [[]])[0])
    result.convention_values = {n: None if n in answered_none
                                else np.asarray(answer[n], dtype=np.float64).tolist()
                                for n in spec.wrt}
    result.message = describe(spec, result)
    return result


def _number(value: float) -> str:
    if np.isnan(value):
        return "nan"
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    return "0" if value == 0 else f"{value:.4g}"  # -0.0 is 0 too


def _values(values: Any) -> str:
    if values is None:
        return "None"
    flat = np.asarray(values, dtype=np.float64).ravel()
    text = ", ".join(_number(v) for v in flat)
    return text if flat.size == 1 else f"[{text}]"


def describe(spec: Spec, result: Result) -> str:
    """A cell of the matrix: the values returned (``x: 0.5; y: 0.5`` for several names), or
    the status when the backend gave none."""
    if result.convention_values is None:
        return result.status.value
    if len(spec.wrt) == 1:
        return _values(result.convention_values[spec.wrt[0]])
    return "; ".join(f"{n}: {_values(result.convention_values[n])}" for n in spec.wrt)


def unanswering(report: Report) -> list[str]:
    """The backends that answered no convention case (every one UNSUPPORTED, as the Keras 3
    adapters, which check models only): left out of the matrix, named in one note."""
    backends = dict.fromkeys(r.backend for r in report.results)
    return [b for b in backends
            if all(r.status is Status.UNSUPPORTED for r in report.results if r.backend == b)]


def matrix(report: Report, specs: Sequence[Spec]) -> tuple[list[str], list[list[str]]]:
    """The header (case, point, backends...) and one row of cells per convention case; the
    backends that answered none are left out (:func:`unanswering`)."""
    silent = unanswering(report)
    backends = [b for b in dict.fromkeys(r.backend for r in report.results) if b not in silent]
    by_case = {(r.spec, r.backend): r for r in report.results}
    header = ["case", "derivative asked", *backends]
    rows = []
    for spec in specs:
        cells = []
        for backend in backends:
            result = by_case.get((spec.name, backend))
            cells.append(describe(spec, result) if result else "")
        rows.append([spec.name.removeprefix(f"{TAG}-"), spec.description, *cells])
    return header, rows


def notes(report: Report) -> list[str]:
    """Why a backend gave no value, one line per such case; one line for the backends left
    out because they answered none."""
    silent = unanswering(report)
    lines = [f"{r.status.value} {r.spec} on {r.backend}: {r.message}" for r in report.results
             if r.status is not Status.CONVENTION and r.backend not in silent]
    if silent:
        first = next(r for r in report.results if r.backend == silent[0])
        lines.append(f"left out, every case UNSUPPORTED: {', '.join(silent)} ({silent[0]}: "
                     f"{first.message})")
    return lines


def markdown(report: Report, specs: Sequence[Spec]) -> str:
    """The matrix as a Markdown table (cells escaped for ``|``), then the notes."""
    header, rows = matrix(report, specs)

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines = [line(header), line(["---"] * len(header)), *(line(r) for r in rows)]
    extra = notes(report)
    return "\n".join(lines + ([""] + [f"- {n}" for n in extra] if extra else [])) + "\n"


def html_page(report: Report, specs: Sequence[Spec]) -> str:
    """The matrix as a self-contained HTML page."""
    header, rows = matrix(report, specs)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                     for row in rows)
    extra = "".join(f"<li>{html.escape(n)}</li>" for n in notes(report))
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            "<title>gradparity conventions</title><style>body{font-family:sans-serif}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
            "text-align:left}td{font-family:monospace}</style></head><body>\n"
            "<h1>Derivatives at non-differentiable points</h1>\n"
            f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>\n"
            + (f"<ul>{extra}</ul>\n" if extra else "") + "</body></html>\n")


def text(report: Report, specs: Sequence[Spec]) -> str:
    """The matrix as plain aligned text, then the notes."""
    header, rows = matrix(report, specs)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, ["-" * w for w in widths], *rows]]
    return "\n".join(lines + notes(report))


def show(report: Report, specs: Sequence[Spec], console: Any) -> None:
    """Print the matrix: a rich table on a terminal, plain text without one."""
    if console is None:
        print(text(report, specs))
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    header, rows = matrix(report, specs)
    table = Table(box=box.SIMPLE_HEAD, title="derivatives at non-differentiable points")
    for name in header:
        table.add_column(Text(name))
    for row in rows:
        table.add_row(*(Text(c) for c in row))
    console.print(table)
    for note in notes(report):
        console.print(Text(note, style="blue"))


def convention_cases() -> list[Spec]:
    """Every convention case of the built-in catalog."""
    from conformance.catalog import catalog

    return [s for s in catalog() if is_convention(s)]


def run_conventions(backends: Sequence[Backend], jobs: int | None = None,
                    timeout: float | None = None) -> tuple[Report, list[Spec]]:
    """Run every convention case on ``backends`` in worker processes, as ``run`` does."""
    from conformance.harness import run
    from conformance.workers import DEFAULT_TIMEOUT, WorkerOptions, in_workers

    specs = convention_cases()
    options = WorkerOptions(jobs=jobs or min(len(backends), os.cpu_count() or 1),
                            timeout=timeout or DEFAULT_TIMEOUT)
    return run(specs, backends, executor=in_workers(options)), specs


def add_parser(commands: Any) -> None:
    """Register ``gradparity conventions`` on the CLI's subcommands."""
    parser = commands.add_parser(
        "conventions", help="print what each backend answers at non-differentiable points",
        description="Run the convention cases (relu at 0, ties in max and sort, sqrt at 0, "
                    "x ** y at 0, ...) on the installed backends and print the case x backend "
                    "matrix of the derivative values each returns. No value is judged: at "
                    "these points every framework picks its own convention.")
    parser.add_argument("--backend", "-b", action="append", metavar="NAME",
                        help="a backend name or package.module:ClassName; repeat for several "
                             "(default: every installed backend)")
    parser.add_argument("--markdown", metavar="PATH", help="also write the matrix as Markdown")
    parser.add_argument("--html", metavar="PATH", help="also write the matrix as an HTML page")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="a rich table on a terminal (auto, default), or plain text")
    parser.add_argument("--jobs", "-j", metavar="N", type=int,
                        help="backend workers side by side (default: the number of cores)")


def command(args: argparse.Namespace) -> int:
    """``gradparity conventions``: exit 0 with the matrix, 2 for a bad backend or path."""
    from pathlib import Path

    from backends.registry import BackendNotFound, known, load
    from conformance.cli import EXIT_OK, _check_outputs, _fail
    from conformance.reports.files import write_atomic
    from conformance.reports.terminal import terminal

    outputs = {"--markdown": args.markdown, "--html": args.html}
    if problem := _check_outputs({o: None if p is None else Path(p) for o, p in outputs.items()}):
        return _fail(problem)
    if args.jobs is not None and args.jobs < 1:
        return _fail(f"--jobs {args.jobs}: give a whole number >= 1")
    try:
        backends = [load(n) for n in args.backend or ()]
    except BackendNotFound as exc:
        return _fail(str(exc))
    for name in known() if not args.backend else ():
        with contextlib.suppress(BackendNotFound):  # a broken plug-in is not a default
            if not (backend := load(name)).missing_modules():
                backends.append(backend)
    report, specs = run_conventions(backends, jobs=args.jobs)
    show(report, specs, terminal(args.color))
    writers = {"--markdown": markdown, "--html": html_page}
    for option, path in outputs.items():
        if path is not None:
            write_atomic(path, writers[option](report, specs))
            print(f"{option[2:]}: {path}")
    return EXIT_OK

"""Turn a :class:`Report` into the terminal table (plain, or coloured with a progress bar
on a terminal) and the JSON document; :func:`explain` is the one-case text every report shares.

JSON schema (``schema_version`` 1): ``{"schema_version", "complete", "environment",
"results": [{"spec", "backend", "status", "kind", "dtype", "diagnoses", "max_abs_error",
"max_rel_error", "tolerance", "reference_mode", "worst", "pairwise", "message",
"seconds", "median_call_seconds", "forward_ratio"}, ...]}`` (the last two are null without
``--timings``). The file is written atomically (temporary file, then rename).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.diagnoses import DIAGNOSES
from conformance.results import Report, Result, Status

if TYPE_CHECKING:
    from rich.console import Console

SCHEMA_VERSION = 1


def to_json(report: Report) -> dict[str, Any]:
    """The report as a JSON-ready dict."""
    return {
        "schema_version": SCHEMA_VERSION,
        "complete": report.complete,
        "environment": report.environment,
        "results": [r.to_json() for r in report.results],
    }


def write_json(report: Report, path: str | os.PathLike[str]) -> None:
    """Write the JSON report atomically."""
    write_atomic(path, json.dumps(to_json(report), indent=2, allow_nan=False, default=_jsonable))


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to a temporary file, then rename it: readers never see half a report."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def cell(result: Result) -> str:
    """One table cell: the status and, when numbers were compared, the max relative error."""
    text = result.status.value
    if result.max_rel_error is not None:
        text += f" {result.max_rel_error:.1e}"
    if result.diagnoses:
        text += f" [{','.join(result.diagnoses)}]"
    if result.median_call_seconds is not None:
        text += f" {duration(result.median_call_seconds)}"
        if result.forward_ratio is not None:
            text += f" x{result.forward_ratio:.1f}"
    return text


def duration(seconds: float) -> str:
    """A short time for a table cell: ``850us``, ``1.2ms``, ``2.3s``."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f}us"
    return f"{seconds * 1e3:.1f}ms" if seconds < 1 else f"{seconds:.1f}s"


def grid(report: Report) -> tuple[list[str], list[tuple[str, list[Result | None]]]]:
    """The backends (columns) and, per spec, its results in column order (None: not run)."""
    backends = list(dict.fromkeys(r.backend for r in report.results))
    by_case = {(r.spec, r.backend): r for r in report.results}
    specs = dict.fromkeys(r.spec for r in report.results)
    return backends, [(s, [by_case.get((s, b)) for b in backends]) for s in specs]


def notes(report: Report) -> list[tuple[Status, str]]:
    """The lines under the table: why each case did not pass, and each skipped backend once."""
    lines = [(r.status, f"{r.status.value} {r.spec} on {r.backend}: {r.message}"
                        + (f"\n  reproduce: python - <<'EOF'\n{r.reproduce}\nEOF" if r.reproduce
                           else ""))
             for r in report.results if r.status not in (Status.PASS, Status.SKIPPED) and r.message]
    skipped = {r.backend: r.message for r in report.results if r.status is Status.SKIPPED}
    return lines + [(Status.SKIPPED, f"SKIPPED {b}: {why}") for b, why in skipped.items()]


def table(report: Report) -> str:
    """Spec x backend table, then one line per case that did not pass, then the totals."""
    backends, specs = grid(report)
    header = ["spec", *backends]
    rows = [[spec, *(cell(r) if r else "" for r in results)] for spec, results in specs]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    below = notes(report)
    if below:
        lines.append("")
    lines += [text for _, text in below]
    lines += ["", summary(report), *coverage(report)]
    return "\n".join(lines)


def counts(results: Iterable[Result]) -> dict[Status, int]:
    """How many results have each status, in order of first appearance."""
    found: dict[Status, int] = {}
    for r in results:
        found[r.status] = found.get(r.status, 0) + 1
    return found


def coverage(report: Report) -> list[str]:
    """One line per backend: of the cases it ran, how many it computes (not UNSUPPORTED);
    backends that were not installed (all SKIPPED) are left out."""
    lines = []
    for backend in dict.fromkeys(r.backend for r in report.results):
        ran = [r for r in report.results if r.backend == backend
               and r.status not in (Status.SKIPPED, Status.NOT_RUN)]
        if ran:
            supported = sum(r.status is not Status.UNSUPPORTED for r in ran)
            lines.append(f"{backend}: {supported}/{len(ran)} supported")
    return lines


def summary(report: Report) -> str:
    """Counts per status, and whether the run finished."""
    text = ", ".join(f"{n} {s.value}" for s, n in counts(report.results).items()) or "no results"
    return text if report.complete else f"{text} (INCOMPLETE run)"


#: Rich style of each status on a terminal; SKIPPED and UNSUPPORTED never look like PASS.
STYLES: dict[Status, str] = {
    Status.PASS: "green", Status.FAIL: "bold red", Status.ERROR: "bold magenta",
    Status.CONVENTION: "cyan", Status.UNSUPPORTED: "blue", Status.SKIPPED: "yellow",
    Status.NOT_RUN: "dim",
}


def terminal(color: str = "auto") -> Console | None:
    """A rich console for colour and a progress bar (``auto``: only when stdout is a
    terminal), or None where plain text belongs: pipes, files, CI logs."""
    if color == "never" or (color == "auto" and not sys.stdout.isatty()):
        return None
    from rich.console import Console

    return Console(force_terminal=True, highlight=False)


def show(report: Report, console: Console | None) -> None:
    """Print the header and the table: coloured on ``console``, plain text without one."""
    if console is None:
        print(f"{header(report)}\n\n{table(report)}")
        return
    console.print(header(report), markup=False, soft_wrap=True)
    console.print()
    print_table(report, console)


def print_table(report: Report, console: Console) -> None:
    """:func:`table` on a rich console: the same cells, notes and totals, coloured by status."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    backends, specs = grid(report)
    shown = Table(box=box.SIMPLE_HEAD)
    for name in ["spec", *backends]:  # Text, not markup: names may hold brackets
        shown.add_column(Text(name))
    for spec, results in specs:
        shown.add_row(Text(spec),
                      *(Text(cell(r), style=STYLES[r.status]) if r else "" for r in results))
    console.print(shown)
    for status, text in notes(report):
        console.print(Text(text, style=STYLES[status]))
    totals = Text(", ").join(Text(f"{n} {s.value}", style=STYLES[s])
                             for s, n in counts(report.results).items())
    console.print(totals if report.complete else Text.assemble(totals, " (INCOMPLETE run)"))
    for line in coverage(report):
        console.print(line, markup=False, highlight=False)


@contextlib.contextmanager
def progress(console: Console, total: int) -> Iterator[Callable[[Result], None]]:
    """A progress bar over ``total`` cases, gone when done; the yielded callback advances it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=True) as bar:
        task = bar.add_task("gradparity run", total=total)
        yield lambda result: bar.update(task, advance=1,
                                        description=f"{result.spec} on {result.backend}")


def explain(result: Result) -> str:
    """One case in full, for failure messages and reports: status, message, named diagnoses,
    the worst element against its reference, and the tolerance it was held to."""
    lines = [f"{result.status.value}: spec {result.spec!r} on backend {result.backend!r}"]
    if result.message:
        lines.append(f"  {result.message}")
    for code in result.diagnoses:
        known = DIAGNOSES.get(code)
        lines.append(f"  diagnosis {code}: {known.title if known else 'unknown code'} "
                     f"(gradparity explain {code})")
    if result.status is Status.FAIL and not result.diagnoses:
        lines.append("  diagnosis: none named (no probe recognized the mistake)")
    if (w := result.worst) is not None:
        lines.append(f"  worst element: {w.key}{w.index} = {w.value:.8g}, reference "
                     f"{w.reference:.8g} (|error| {w.abs_error:.3g} > allowed {w.allowed:.3g})")
    if result.tolerance is not None:
        measured = ("" if result.max_rel_error is None else
                    f"; max relative error {result.max_rel_error:.2e}, "
                    f"max absolute error {result.max_abs_error:.2e}")
        lines.append(f"  tolerance ({result.dtype}): rtol {result.tolerance['rtol']:g}, "
                     f"atol {result.tolerance['atol']:g}{measured}")
    if result.pairwise:
        lines.append("  relative difference from other backends: " + ", ".join(
            f"{b} {d:.1e}" for b, d in result.pairwise.items()))
    if result.reproduce:
        snippet = "\n".join(f"    {line}" for line in result.reproduce.splitlines())
        lines.append(f"  reproduce:\n{snippet}")
    return "\n".join(lines)


def header(report: Report) -> str:
    """The run header: platform, numpy, each backend's versions and pinned numerics."""
    env = report.environment
    lines = [f"gradparity: python {env.get('python')}, numpy {env.get('numpy')}, "
             f"{env.get('platform')}"]
    tols = env.get("tolerances", {})
    lines.append("tolerances: " + "; ".join(
        f"{d} rtol={t['rtol']:g} atol={t['atol']:g}" for d, t in tols.items()))
    for name, info in env.get("backends", {}).items():
        versions = ", ".join(f"{m} {v}" for m, v in info["versions"].items()) or "-"
        numerics = ", ".join(f"{k}={v}" for k, v in info["numerics"].items())
        lines.append(f"{name}: {versions}" + (f" ({numerics})" if numerics else ""))
    return "\n".join(lines)

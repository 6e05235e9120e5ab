"""The terminal table of a :class:`Report` (plain, or coloured with a progress bar on a
terminal), its header and summary; :func:`explain` is the one-case text every report shares."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from conformance.diagnoses import DIAGNOSES
from conformance.outliers import find_outliers
from conformance.results import Report, Result, Status

if TYPE_CHECKING:
    from rich.console import Console

def cell(result: Result) -> str:
    """One table cell: the status and, when numbers were compared, the max relative error."""
    text = result.status.value
    if result.max_rel_error is not None:
        text += f" {result.max_rel_error:.1e}"
        if result.tolerance is not None and "allowed" in result.tolerance:
            text += f"/{result.tolerance['allowed']:.0e}"
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


#: Reproduce snippets printed under the table; the others are only in the JSON report.
MAX_SNIPPETS = 3


def notes(report: Report) -> list[tuple[Status, str]]:
    """The lines under the table: why each case did not pass (with the first
    :data:`MAX_SNIPPETS` reproduce snippets, and how many more the JSON report holds); one
    line per backend and reason for UNSUPPORTED cases (a reason shared by many cases, such as
    a Keras 3 backend refusing every function spec, is said once); each skipped backend once."""
    lines, shown = [], 0
    unsupported: dict[tuple[str, str], list[str]] = {}
    for r in report.results:
        if r.status in (Status.PASS, Status.SKIPPED) or not r.message \
                or (r.status is Status.CONVENTION and not r.diagnoses):
            continue  # convention cases' values: see 'gradparity conventions'
        if r.status is Status.UNSUPPORTED:
            unsupported.setdefault((r.backend, r.message), []).append(r.spec)
            continue
        text = f"{r.status.value} {r.spec} on {r.backend}: {r.message}"
        if r.reproduce and shown < MAX_SNIPPETS:
            shown += 1
            text += (f"\n  reproduce (the JSON report's \"reproduce\" field, as a shell "
                     f"command):\npython - <<'EOF'\n{r.reproduce}\nEOF")
        lines.append((r.status, text))
    for (backend, why), specs in unsupported.items():
        which = specs[0] if len(specs) == 1 else f"{len(specs)} cases ({specs[0]}, ...)"
        lines.append((Status.UNSUPPORTED, f"UNSUPPORTED {which} on {backend}: {why}"))
    more = sum(bool(r.reproduce) for r in report.results) - shown
    if more:
        lines.append((Status.FAIL, f"... and {more} more reproduce snippet{'s' * (more > 1)} "
                                   "in the JSON report (field \"reproduce\")"))
    skipped = {r.backend: r.message for r in report.results if r.status is Status.SKIPPED}
    return lines + [(Status.SKIPPED, f"SKIPPED {b}: {why}") for b, why in skipped.items()]


def table(report: Report) -> str:
    """Spec x backend table, then one line per case that did not pass, then the totals."""
    backends, specs = grid(report)
    rows = [[spec, *(cell(r) if r else "" for r in results)] for spec, results in specs]
    lines = aligned(["spec", *backends], rows)
    below = notes(report)
    if below:
        lines.append("")
    lines += [text for _, text in below]
    apart = find_outliers(report).lines()
    lines += ["", *apart] if apart else []
    lines += ["", *coverage(report), summary(report)]
    return "\n".join(lines)


def aligned(header: list[str], rows: list[list[str]]) -> list[str]:
    """Plain-text columns: the header, a rule, then the rows, each column as wide as its
    widest entry (shared by every table gradparity prints)."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in [header, ["-" * w for w in widths], *rows]]


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
    for line in find_outliers(report).lines():
        console.print(Text(line, style="bold"))
    for line in coverage(report):
        console.print(line, markup=False, highlight=False)
    totals = Text(", ").join(Text(f"{n} {s.value}", style=STYLES[s])
                             for s, n in counts(report.results).items())
    console.print(totals if report.complete else Text.assemble(totals, " (INCOMPLETE run)"))


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
        sign = ">" if not w.abs_error <= w.allowed else "<="
        lines.append(f"  worst element: {w.key}{w.index} = {w.value:.8g}, reference "
                     f"{w.reference:.8g} (|error| {w.abs_error:.3g} {sign} allowed "
                     f"{w.allowed:.3g})")
    if result.probe and result.probe != result.message:
        lines.append(f"  probe: {result.probe}")
    if result.tolerance is not None:
        lines.append(f"  tolerance ({result.dtype}): {_tolerance_text(result)}")
    if result.pairwise:
        lines.append("  relative difference from other backends: " + ", ".join(
            f"{b} {d:.1e}" for b, d in result.pairwise.items()))
    if result.reproduce:
        snippet = "\n".join(f"    {line}" for line in result.reproduce.splitlines())
        lines.append(f"  reproduce:\n{snippet}")
    return "\n".join(lines)


def _tolerance_text(result: Result) -> str:
    """The tolerance a result was held to and what was measured (older reports: their rtol
    and atol)."""
    tol = result.tolerance or {}
    rule = ", ".join(f"{k} {tol[k]:g}" for k in ("rtol", "atol") if k in tol)
    if "floor" in tol:
        rule = f"rtol {tol['rtol']:g}, floor {tol['floor']:g} x scale"
    if result.max_rel_error is None:
        return rule
    allowed = (f" (allowed {tol['allowed']:.2e} at the worst element)" if "allowed" in tol
               else "")
    return (f"{rule}; max relative error {result.max_rel_error:.2e}{allowed}, "
            f"max absolute error {result.max_abs_error:.2e}")


def header(report: Report) -> str:
    """The run header: platform, numpy, each backend's versions and pinned numerics."""
    env = report.environment
    lines = [f"gradparity: python {env.get('python')}, numpy {env.get('numpy')}, "
             f"{env.get('platform')}"]
    tols = env.get("tolerances", {})
    lines.append("tolerances: " + "; ".join(
        f"{d} " + " ".join(f"{k}={t[k]:g}" for k in ("rtol", "floor", "atol") if k in t)
        for d, t in tols.items())
        + " (per element, relative to the output's scale; see docs/reference/tolerances.md)")
    for name, info in env.get("backends", {}).items():
        missing = [m for m, v in info["versions"].items() if v == "not installed"]
        if missing:  # its pinned numerics would never apply
            lines.append(f"{name}: not installed ({', '.join(missing)})")
            continue
        versions = ", ".join(f"{m} {v}" for m, v in info["versions"].items()) or "-"
        numerics = ", ".join(f"{k}={v}" for k, v in info["numerics"].items())
        lines.append(f"{name}: {versions}" + (f" ({numerics})" if numerics else ""))
    return "\n".join(lines)

"""What ``gradparity run`` prints (plain, or coloured on a terminal): by default the
:func:`brief` view a person acts on (a scoreboard line per backend, then the cases that did
not pass, grouped), with ``--table full`` the whole spec x backend :func:`table`; the run
header and totals; :func:`explain` is the one-case text every report shares."""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING

from conformance.diagnoses import DIAGNOSES
from conformance.outliers import find_outliers
from conformance.results import Report, Result, Status

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

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


#: The width the brief view is wrapped to off a terminal (``COLUMNS`` overrides it).
WIDTH = 100
#: Problem cases (FAIL, ERROR, INCONCLUSIVE) listed per status and backend in the brief
#: view; the rest are counted (``--table full`` and the reports list every one).
MAX_LISTED = 20
#: Characters of an UNSUPPORTED reason shown in the brief view (the reports hold all).
MAX_REASON = 200
#: Characters of a FAIL, ERROR or INCONCLUSIVE reason shown in the brief view.
MAX_MESSAGE = 400
#: Names listed after a reason they share (or vary in); the rest are counted.
MAX_NAMES = 8
#: The statuses listed case by case in the brief view, in this order.
PROBLEMS = (Status.FAIL, Status.ERROR, Status.INCONCLUSIVE)


def width() -> int:
    """The brief view's width: the terminal's, ``COLUMNS``, or :data:`WIDTH` (at least 40)."""
    return max(40, shutil.get_terminal_size((WIDTH, 24)).columns)


def wrap(text: str, columns: int, indent: str = "    ") -> list[str]:
    """``text`` wrapped to ``columns`` at spaces only: a name is never cut or squeezed."""
    return textwrap.wrap(text, columns, subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False) or [""]


def seconds(elapsed: float) -> str:
    """A time for a person: ``41 s``, ``3 min 05 s``, ``2.5 s``, ``0.04 s``."""
    if elapsed < 0.995:
        return f"{elapsed:.2f} s"
    if elapsed < 9.95:
        return f"{elapsed:.1f} s"
    whole = int(round(elapsed))
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"


def installed(report: Report) -> list[str]:
    """The backends that ran (or would have): those not wholly SKIPPED, in report order."""
    backends = dict.fromkeys(r.backend for r in report.results)
    skipped = {r.backend for r in report.results if r.status is Status.SKIPPED}
    return [b for b in backends if b not in skipped
            or any(r.status is not Status.SKIPPED for r in report.results if r.backend == b)]


def scoreboard(report: Report, columns: int) -> list[str]:
    """One line per installed backend: its count of each status, how many cases it computes
    (not UNSUPPORTED) of those it was given, and the time its cases took; an aligned table
    when it fits ``columns``, else one sentence per backend."""
    backends = installed(report)
    by_backend = {b: [r for r in report.results if r.backend == b] for b in backends}
    shown = [s for s in Status if any(r.status is s for b in backends for r in by_backend[b])]
    rows, sentences = [], []
    for backend, results in by_backend.items():
        found = counts(results)
        ran = [r for r in results if r.status is not Status.NOT_RUN]
        supported = (f"{sum(r.status is not Status.UNSUPPORTED for r in ran)}/{len(ran)}"
                     if ran else "-")
        took = seconds(sum(r.seconds for r in results))
        rows.append([backend, *(str(found.get(s, 0)) for s in shown), supported, took])
        sentences.append(f"{backend}: {supported} supported, {took}: " + ", ".join(
            f"{n} {s.value}" for s, n in found.items()))
    header = ["backend", *(s.value for s in shown), "supported", "time"]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths))).rstrip()
             for row in [header, ["-" * w for w in widths], *rows]]
    if max(map(len, lines)) <= columns:
        return lines
    return [line for sentence in sentences for line in wrap(sentence, columns)]


def _template(messages: list[str]) -> dict[str, tuple[str, str]]:
    """Each message's reason and the word it varies in (``""`` when it does not): messages
    that differ in one word only (``VJP of cumprod`` / ``VJP of sort``) share the reason
    ``VJP of ...``, chosen when it groups more messages than the message itself."""
    words = {m: re.findall(r"[\w.]+|[^\w\s]+|\s+", m) for m in set(messages)}
    seen: dict[tuple[str, ...], int] = {}
    for m, tokens in words.items():
        n = messages.count(m)
        seen[tuple(tokens)] = seen.get(tuple(tokens), 0) + n
        for i, token in enumerate(tokens):
            if token.strip() and re.fullmatch(r"[\w.]+", token):
                key = (*tokens[:i], "\0", *tokens[i + 1:])
                seen[key] = seen.get(key, 0) + n
    found = {}
    for m, tokens in words.items():
        best, detail = tuple(tokens), ""
        for i, token in enumerate(tokens):
            key = (*tokens[:i], "\0", *tokens[i + 1:])
            if seen.get(key, 0) > seen[best]:
                best, detail = key, token
        found[m] = ("".join(t if t != "\0" else "..." for t in best), detail)
    return found


def _short(text: str, limit: int = MAX_REASON) -> str:
    """``text``, cut to ``limit`` characters with ``...`` when longer."""
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


def grouped(report: Report, status: Status) -> list[str]:
    """One line per backend and reason of ``status`` (UNSUPPORTED, say): ``autograd: 79
    UNSUPPORTED, NotImplementedError: VJP of ... not defined: cumprod, sort, ...``; a reason
    of three cases or fewer names them."""
    lines = []
    for backend in dict.fromkeys(r.backend for r in report.results):
        cases = [r for r in report.results if r.backend == backend and r.status is status]
        reasons = _template([r.message for r in cases])
        groups: dict[str, list[tuple[str, str]]] = {}
        for r in cases:
            reason, detail = reasons[r.message]
            groups.setdefault(reason, []).append((r.spec, detail))
        for reason, members in sorted(groups.items(), key=lambda g: -len(g[1])):
            details = list(dict.fromkeys(d for _, d in members if d))
            text = f"{backend}: {len(members)} {status.value}, {_short(reason)}"
            if details:
                text += ": " + _names(details)
            elif len(members) <= 3:
                text += f" ({', '.join(spec for spec, _ in members)})"
            lines.append(text)
    return lines


def problems(report: Report) -> list[tuple[Status, str]]:
    """The cases a person acts on, FAIL then ERROR then INCONCLUSIVE, each with its reason
    (at most :data:`MAX_MESSAGE` characters; :data:`MAX_LISTED` per status and backend, the
    rest counted). A reason shared word for word by more than :data:`MAX_NAMES` cases of one
    backend (a backend that timed out twice: all its other cases) is one line naming them."""
    lines: list[tuple[Status, str]] = []
    for status in PROBLEMS:
        for backend in dict.fromkeys(r.backend for r in report.results):
            cases = [r for r in report.results if r.backend == backend and r.status is status]
            shared: dict[tuple[str, tuple[str, ...]], list[str]] = {}
            for r in cases:
                shared.setdefault((r.message, tuple(r.diagnoses)), []).append(r.spec)
            alone = []
            for (message, codes), specs in shared.items():
                if len(specs) <= MAX_NAMES:
                    alone += [r for r in cases if r.message == message
                              and tuple(r.diagnoses) == codes]
                    continue
                lines.append((status, f"{backend}: {len(specs)} {status.value}{_codes(codes)}, "
                                      f"{_short(message, MAX_MESSAGE)}: {_names(specs)}"))
            for r in alone[:MAX_LISTED]:
                lines.append((status, f"{status.value} {r.spec} on {backend}"
                                      f"{_codes(r.diagnoses)}: {_short(r.message, MAX_MESSAGE)}"))
            if len(alone) > MAX_LISTED:
                lines.append((status, f"... and {len(alone) - MAX_LISTED} more {status.value} "
                                      f"on {backend} (--table full lists every case)"))
    return lines


def _codes(codes: Iterable[str]) -> str:
    return f" [{','.join(codes)}]" if codes else ""


def _names(names: list[str]) -> str:
    """The first :data:`MAX_NAMES` names, and how many more."""
    more = len(names) - MAX_NAMES
    return ", ".join(names[:MAX_NAMES]) + (f", ... ({more} more)" if more > 0 else "")


def conventions_line(report: Report) -> list[str]:
    """CONVENTION in a line: how many convention cases each backend answered (their values:
    ``gradparity conventions``), then each case judged CONVENTION by a diagnosis."""
    recorded = counts(r for r in report.results
                      if r.status is Status.CONVENTION and not r.diagnoses)
    per_backend = {b: sum(r.status is Status.CONVENTION and not r.diagnoses
                          for r in report.results if r.backend == b) for b in installed(report)}
    per_backend = {b: n for b, n in per_backend.items() if n}
    lines = []
    if recorded and len(set(per_backend.values())) == 1:
        lines.append(f"CONVENTION: {next(iter(per_backend.values()))} cases at non-differentiable "
                     f"points answered by each of {', '.join(per_backend)} (no right answer to "
                     "judge; the values: gradparity conventions)")
    elif recorded:
        lines.append("CONVENTION: cases at non-differentiable points answered: " + ", ".join(
            f"{b} {n}" for b, n in per_backend.items())
                     + " (no right answer to judge; the values: gradparity conventions)")
    diagnosed = Report([r for r in report.results
                        if r.status is Status.CONVENTION and r.diagnoses])
    return lines + grouped(diagnosed, Status.CONVENTION)


def not_installed(report: Report) -> str | None:
    """The backends that were not installed, in one line with what installs each."""
    skipped = {r.backend: r.message.removeprefix("not installed: ")
               for r in report.results if r.status is Status.SKIPPED}
    missing = [b for b in skipped if b not in installed(report)]
    return ("SKIPPED, not installed: " + "; ".join(f"{b}: {skipped[b]}" for b in missing)
            if missing else None)


def brief(report: Report, columns: int | None = None) -> list[tuple[Status | None, str]]:
    """The default view, wrapped to ``columns``: scoreboard, problem cases, UNSUPPORTED and
    CONVENTION grouped, backends not installed, outliers, and the totals last; each line
    with the status that colours it on a terminal (None: plain)."""
    columns = columns or width()
    out: list[tuple[Status | None, str]] = [(None, line) for line in
                                            scoreboard(report, columns)]
    sections: list[list[tuple[Status | None, str]]] = [
        problems(report),
        [(Status.UNSUPPORTED, line) for line in grouped(report, Status.UNSUPPORTED)],
        [(Status.CONVENTION, line) for line in conventions_line(report)],
        [(Status.SKIPPED, line) for line in filter(None, [not_installed(report)])],
        [(None, line) for line in find_outliers(report).lines()],
    ]
    reproducible = sum(bool(r.reproduce) for r in report.results)
    if reproducible:
        sections[0].append((None, f"reproduce snippets of {reproducible} cases: field "
                                  "\"reproduce\" of the JSON report"))
    for section in filter(None, sections):
        out.append((None, ""))
        out += [(status, line) for status, text in section for line in wrap(text, columns)]
    return [*out, (None, ""), (None, summary(report))]


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


def show(report: Report, console: Console | None, full: bool = False) -> None:
    """Print the header, then the :func:`brief` view (``full``: the whole :func:`table`):
    coloured on ``console``, plain text without one."""
    if console is None:
        if full:
            print(f"{header(report)}\n\n{table(report)}")
            return
        columns = width()
        lines = [line for text in header(report, installed_only=True).splitlines()
                 for line in wrap(text, columns)]
        print("\n".join([*lines, "", *(text for _, text in brief(report, columns))]))
        return
    from rich.text import Text

    console.print(header(report, installed_only=not full), markup=False, highlight=False)
    console.print()
    if full:
        print_table(report, console)
        return
    for status, text in brief(report, console.width)[:-1]:  # already wrapped to the width
        console.print(Text(text, style=STYLES[status] if status else ""), soft_wrap=True)
    console.print(_totals(report))


def print_table(report: Report, console: Console) -> None:
    """:func:`table` on a rich console: the same cells, notes and totals, coloured by status."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    backends, specs = grid(report)
    shown = Table(box=box.SIMPLE_HEAD)
    for name in ["spec", *backends]:  # Text, not markup: names may hold brackets
        shown.add_column(Text(name), no_wrap=True)
    for spec, results in specs:
        shown.add_row(Text(spec),
                      *(Text(cell(r), style=STYLES[r.status]) if r else "" for r in results))
    from rich.measure import Measurement

    natural = Measurement.get(console, console.options.update_width(10**6), shown).maximum
    narrow = console.width
    console.width = max(narrow, natural)  # every cell whole; a narrow terminal wraps the lines
    try:
        console.print(shown)
    finally:
        console.width = narrow
    for status, text in notes(report):
        console.print(Text(text, style=STYLES[status]))
    for line in find_outliers(report).lines():
        console.print(Text(line, style="bold"))
    for line in coverage(report):
        console.print(line, markup=False, highlight=False)
    console.print(_totals(report))


def _totals(report: Report) -> Text:
    """:func:`summary` coloured by status."""
    from rich.text import Text

    totals = Text(", ").join(Text(f"{n} {s.value}", style=STYLES[s])
                             for s, n in counts(report.results).items())
    return totals if report.complete else Text.assemble(totals, " (INCOMPLETE run)")


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


def header(report: Report, installed_only: bool = False) -> str:
    """The run header: platform, numpy, each backend's versions and pinned numerics (with
    ``installed_only``, the backends not installed are left to the brief view's line)."""
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
        if missing and installed_only:
            continue
        if missing:  # its pinned numerics would never apply
            lines.append(f"{name}: not installed ({', '.join(missing)})")
            continue
        versions = ", ".join(f"{m} {v}" for m, v in info["versions"].items()) or "-"
        numerics = ", ".join(f"{k}={v}" for k, v in info["numerics"].items())
        lines.append(f"{name}: {versions}" + (f" ({numerics})" if numerics else ""))
    return "\n".join(lines)

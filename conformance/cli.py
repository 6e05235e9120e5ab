"""The ``gradparity`` command: run the conformance catalog, list backends and specs."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from conformance.reports import FORMATS

if TYPE_CHECKING:
    from rich.console import Console

    from backends.base import Backend
    from conformance.harness import OnOutcome
    from conformance.results import Report
    from conformance.spec import Spec
    from conformance.user_catalogs import Catalogs

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
#: Nothing failed, but the reference could not judge some case (docs/reference/statuses.md).
EXIT_INCONCLUSIVE = 4
#: Nothing was checked (every case SKIPPED or UNSUPPORTED), as pytest's "no tests ran".
EXIT_NOTHING_CHECKED = 5
#: Output closed early (``gradparity specs | head``): what a shell shows for SIGPIPE.
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE
#: The longest ``--timeout``: waits beyond about 24 days overflow the system's poll().
MAX_TIMEOUT = 1e6
#: The largest ``--memory-limit``: RLIMIT_AS is a signed 64-bit byte count.
MAX_MEMORY_MIB = (2**63 - 1) // 2**20


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (exit 2), like all of ours."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"gradparity: error: {message}\n")


def _number(kind: Callable[[str], float], minimum: float, what: str,
            maximum: Callable[[], tuple[float, str]] | None = None) -> Callable[[str], float]:
    """An argparse ``type`` accepting numbers of ``kind`` from ``minimum`` up (and, with
    ``maximum``, up to the bound it gives, with its reason)."""
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not value >= minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        if maximum is not None:
            bound, why = maximum()
            if not value <= bound:
                raise argparse.ArgumentTypeError(f"{text!r} is more than {bound:g} ({why})")
        return value
    return parse


def _timeout_bound() -> tuple[float, str]:
    return MAX_TIMEOUT, "about 11 days; longer waits overflow the system's poll()"


def _memory_bound() -> tuple[float, str]:
    """The largest RLIMIT_AS a worker may set: 2**63 bytes, and the hard limit when one is set."""
    import resource

    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    if hard != resource.RLIM_INFINITY and hard // 2**20 < MAX_MEMORY_MIB:
        return hard // 2**20, "the hard RLIMIT_AS of this process, in MiB"
    return MAX_MEMORY_MIB, "RLIMIT_AS is a 64-bit byte count"


def _parser() -> argparse.ArgumentParser:
    from conformance.workers import DEFAULT_TIMEOUT

    parser = _Parser(
        prog="gradparity",
        description="Check that autodiff backends agree with a float64 reference on "
                    "one gradient specification, and name the mistake when one does not.")
    parser.add_argument("--version", action="version", version=f"gradparity {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run", help="run the catalog on backends and print the verdicts",
        description="Run every selected spec on every selected backend, compare each answer "
                    "with the float64 reference and print what to act on: one scoreboard line "
                    "per backend (cases per status, how many it computes, time), then the "
                    "cases that did not pass (FAIL, ERROR and INCONCLUSIVE with their reasons; "
                    "UNSUPPORTED grouped by reason; CONVENTION counted), the backends not "
                    "installed in one line, and the totals; --table full prints the whole spec "
                    "x backend table instead (the --html report always has it). While it runs: "
                    "a progress bar on a terminal; otherwise (a CI log) a line on stderr as "
                    "each backend finishes and a heartbeat every 10 s. Each backend runs in "
                    "its own worker process; a crash or hang becomes an ERROR row. "
                    "Exit code: 0 when nothing FAILs or ERRORs, 1 otherwise, 2 for bad "
                    "arguments, 3 when the run was interrupted at any point (Ctrl-C, SIGTERM; "
                    "the reports are still written, with \"complete\": false and the cases "
                    "not run marked NOT_RUN), 4 when nothing failed but some case is "
                    "INCONCLUSIVE (the reference could not judge it), 5 when nothing was "
                    "checked (every case SKIPPED or UNSUPPORTED).")
    run.add_argument("--backend", "-b", action="append", metavar="NAME",
                     help="a built-in or plug-in backend name, or package.module:ClassName; "
                          "repeat for several (default: every known backend; those not "
                          "installed are SKIPPED)")
    _selection_options(run)
    for option, report_format in FORMATS.items():
        run.add_argument(f"--{option}", metavar="PATH", type=Path, help=report_format.help)
    run.add_argument("--table", choices=("brief", "full"), default="brief",
                     help="brief (default): the scoreboard and the cases that did not pass, "
                          "wrapped to the terminal's width (COLUMNS; 100 in a log); full: the "
                          "whole spec x backend table, one cell per case")
    run.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                     help="colour the output and show a progress bar: auto (default) does on "
                          "a terminal and prints plain text otherwise")
    run.add_argument("--progress", choices=("auto", "lines", "off"), default="auto",
                     help="auto (default): a progress bar on a colour terminal, else lines on "
                          "stderr (each backend as it finishes, and where the run is every "
                          "10 s); lines: those lines always; off: nothing until the end")
    run.add_argument("--jobs", "-j", metavar="N", type=_number(int, 1, "a whole number >= 1"),
                     help="backend workers running side by side (default: the number of "
                          "cores)")
    run.add_argument("--timeout", metavar="SECONDS", default=DEFAULT_TIMEOUT,
                     type=_number(float, 1e-3, "a number of seconds > 0", _timeout_bound),
                     help="per case (spec x backend, framework import included): a case "
                          "still running after it is ERROR 'timeout' and its worker is "
                          "replaced; after two timeouts in a row a backend's other cases are "
                          f"not tried (default: {DEFAULT_TIMEOUT:g}, at most {MAX_TIMEOUT:g})")
    run.add_argument("--memory-limit", metavar="MIB",
                     type=_number(int, 1, "a whole number >= 1", _memory_bound),
                     help="address-space limit of each worker in MiB (RLIMIT_AS); TensorFlow "
                          "needs about 2500 and JAX about 1600 just to start (default: none)")
    run.add_argument("--in-process", action="store_true",
                     help="run every backend in this process, one case after another, with no "
                          "timeout or crash isolation (for debugging a backend)")
    run.add_argument("--timings", action="store_true",
                     help="also time each case: the median seconds of one derivative call and "
                          "its ratio to one forward call, in the table and the JSON report "
                          "(adds about 0.25 s per case)")

    commands.add_parser("backends", help="list the known backends, installed or not, with versions",
                        description="List built-in and plug-in backends without importing any "
                                    "framework.")
    explain = commands.add_parser(
        "explain", help="explain a diagnosis code (or list them all)",
        description="Print what a diagnosis means, how it shows, and the fix. Without a "
                    "code, list every code with its title.")
    explain.add_argument("code", nargs="?", help="a diagnosis code, e.g. stale-session")
    from conformance.conventions import add_parser as add_conventions

    add_conventions(commands)
    specs = commands.add_parser("specs", help="list the catalog's specs",
                                description="List the specs of the catalog (built-in and "
                                            "registered, or those given with --catalog) with "
                                            "kind, dtype and description, chosen with the "
                                            "same options as run (slow cases are listed, "
                                            "marked).")
    _selection_options(specs)
    merge = commands.add_parser(
        "merge", help="one scoreboard from the JSON reports of a tox or CI matrix",
        description="Merge JSON reports (gradparity run --json) from several environments "
                    "into one scoreboard: columns are backend x environment (framework "
                    "versions, Python, numpy, machine), rows are specs. Verdicts that "
                    "disagree for the same spec, backend and framework versions are flagged "
                    "CONFLICT and each is listed, never averaged. Exit code: 0 when nothing "
                    "FAILs or ERRORs, no verdicts conflict and every run finished; 1 "
                    "otherwise; 2 for a file that is not a report.")
    merge.add_argument("reports", nargs="+", type=Path, metavar="REPORT.json",
                       help="reports written by 'gradparity run --json'")
    merge.add_argument("--json", metavar="PATH", type=Path,
                       help="also write the merged scoreboard as JSON "
                            "(schema: docs/guide/merge-diff.md)")
    merge.add_argument("--html", metavar="PATH", type=Path,
                       help="also write the merged scoreboard as a self-contained HTML page")
    diff = commands.add_parser(
        "diff", help="what changed between two runs; exit 1 on a regression",
        description="Compare two JSON reports case by case (spec, backend): status changes, "
                    "errors grown more than 10x, new diagnoses, cases added or removed, "
                    "changed versions. Exit code: 1 on a regression (a case newly FAIL or "
                    "ERROR, or a new diagnosis code), 0 otherwise (an error grown more than "
                    "10x while the case still passes is shown, not a regression); 2 for a "
                    "file that is not a report.")
    diff.add_argument("old", type=Path, metavar="OLD.json", help="the report before")
    diff.add_argument("new", type=Path, metavar="NEW.json", help="the report after")
    return parser


def version() -> str:
    """gradparity's version: the installed distribution's, else the package's own."""
    import importlib.metadata

    try:
        return importlib.metadata.version("gradparity")
    except importlib.metadata.PackageNotFoundError:
        from conformance import __version__

        return __version__


def _selection_options(command: argparse.ArgumentParser) -> None:
    """The options choosing specs, shared by ``run`` and ``specs`` (one definition): within
    an option any value may match, across options all must."""
    from conformance.spec import KINDS

    command.add_argument("--spec", "-s", action="append", metavar="GLOB",
                         help="only specs whose name matches this glob, e.g. 'seed*'; repeat "
                              "for several (default: the whole catalog except the cases "
                              "tagged slow, such as the 1024-step LSTM: name them to run them)")
    command.add_argument("--kind", "-k", action="append", choices=KINDS, metavar="KIND",
                         help=f"only specs of this kind ({', '.join(KINDS)}); repeat for "
                              "several")
    command.add_argument("--tag", "-t", action="append", metavar="TAG",
                         help="only specs carrying this tag (e.g. seed, convention, slow); "
                              "repeat for several")
    command.add_argument("--catalog", "-c", action="append", metavar="PATH|MODULE",
                         help="a catalog of your own specs: a .py file or an importable "
                              "package.module defining specs() that returns a list of Spec, "
                              "a name registered in the gradparity.catalogs entry-point group, "
                              "or 'builtin'; repeat for several (default: the built-in catalog "
                              "and every registered one)")


def _fail(message: str) -> int:
    one_line = " ".join(message.split())
    print(f"gradparity: error: {one_line}", file=sys.stderr)
    return EXIT_USAGE


def _check_outputs(paths: dict[str, Path | None]) -> str | None:
    """Why the report paths cannot be written, or None: each must be writable, and no two
    may name one file (nor the JSON report's ``-cases`` folder)."""
    from conformance.reports.files import unwritable

    taken: dict[str, str] = {}
    for option, path in paths.items():
        if path is None:
            continue
        if problem := unwritable(path):
            return f"{option} {path}: {problem}"
        where = os.path.realpath(path)
        if where in taken:
            return f"{option} and {taken[where]} both name {path}; give each report its own file"
        taken[where] = option
        if option == "--json":
            taken[os.path.realpath(_cases_folder(path))] = "--json's cases folder"
    return None


def _cases_folder(json_path: Path) -> Path:
    """Where the arrays of the cases that did not pass are saved, beside the JSON report."""
    return json_path.with_name(f"{json_path.stem}-cases")


def _check_backends(backends: Sequence[Backend]) -> str | None:
    """Why the selected backends cannot run side by side, or None: names must differ."""
    seen: set[str] = set()
    for backend in backends:
        if backend.name in seen:
            return (f"backend {backend.name!r} is named twice; give each backend once (two "
                    "backends may not share a name)")
        seen.add(backend.name)
    return None


class _Stop:
    """SIGINT and SIGTERM for ``gradparity run``, handled from the moment ``main`` starts.

    Until the run begins (arguments, catalogs, backends) the first one is noted: the run then
    ends before it starts, every case NOT_RUN. Once ``raising``, the first raises
    KeyboardInterrupt, which the harness turns into NOT_RUN cases. Any later one, while the
    output and the partial reports are being written, is noted on stderr and otherwise
    ignored, so they are finished.
    """

    def __init__(self) -> None:
        self.requested = False  # a signal came
        self.raising = False  # the run is under way: a signal stops it
        self.stopping = False  # only the output is left: signals are ignored

    def __call__(self, signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        if self.stopping or self.requested:  # os.write: print() may be running here
            os.write(2, f"gradparity: {name} ignored: writing the table and the reports\n"
                        .encode())
            return
        self.requested = True
        if self.raising:
            self.stopping = True
            raise KeyboardInterrupt(f"signal {name}")
        os.write(2, f"gradparity: {name}: stopping before the run starts\n".encode())


def _nothing_checked(report: Report) -> str | None:
    """Why no case was checked (every one SKIPPED or UNSUPPORTED), or None when one was."""
    from conformance.results import Status

    if any(r.status not in (Status.SKIPPED, Status.UNSUPPORTED) for r in report.results):
        return None
    skipped = {r.backend: r.message for r in report.results if r.status is Status.SKIPPED}
    why = "; ".join(f"{b}: {m}" for b, m in skipped.items()) or "no backend computes these kinds"
    return (f"nothing was checked: all {len(report.results)} cases were SKIPPED or "
            f"UNSUPPORTED ({why})")


def _chosen_specs(args: argparse.Namespace, keep_slow: bool = False) -> tuple[Catalogs, list[Spec]]:
    """The catalogs and the specs chosen by :func:`_selection_options`' options; raises
    CatalogError or NoSpecMatched."""
    from conformance.catalog import select
    from conformance.user_catalogs import load_catalogs

    catalogs = load_catalogs(args.catalog)
    return catalogs, select(catalogs.specs, args.spec, args.kind, args.tag, keep_slow)


def _display(args: argparse.Namespace, console: Console | None, specs: Sequence[Spec],
             backends: Sequence[Backend]) -> contextlib.AbstractContextManager[OnOutcome | None]:
    """What shows the run's progress: a bar on a colour terminal, lines on stderr otherwise
    (``--progress``)."""
    from conformance.reports import progress

    if args.progress == "off":
        return contextlib.nullcontext(None)
    if console is not None and args.progress == "auto":
        return progress.bar(console, specs, backends)
    return progress.log_lines(specs, backends)


def cmd_run(args: argparse.Namespace) -> int:
    """``gradparity run``, its SIGINT and SIGTERM handled until it returns (``main`` handles
    them from before the arguments are read)."""
    stop = _Stop()
    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _run(args, stop)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _run(args: argparse.Namespace, stop: _Stop) -> int:
    """``gradparity run`` with its signals handled by ``stop``."""
    from backends.registry import BackendNotFound, known, load
    from conformance.catalog import NoSpecMatched
    from conformance.harness import in_process, not_run, run
    from conformance.reports import terminal
    from conformance.reports.repro import attach_reproductions
    from conformance.user_catalogs import CatalogError
    from conformance.workers import WorkerOptions, in_workers

    writers = {f"--{option}": (getattr(args, option), report_format)
               for option, report_format in FORMATS.items()}
    if problem := _check_outputs({option: path for option, (path, _) in writers.items()}):
        return _fail(problem)
    try:
        loaders = list(args.backend or known())
        backends = [load(name) for name in loaders]
        catalogs, specs = _chosen_specs(args)
    except CatalogError as exc:
        return _fail(exc.message())
    except (BackendNotFound, NoSpecMatched) as exc:
        return _fail(str(exc))
    if problem := _check_backends(backends):
        return _fail(problem)
    executor = partial(in_process, timings=args.timings) if args.in_process else in_workers(
        WorkerOptions(jobs=args.jobs or min(len(backends), os.cpu_count() or 1),
                      timeout=args.timeout, memory_limit_mib=args.memory_limit,
                      timings=args.timings))
    console = terminal.terminal(args.color)
    stop.raising = True  # from here on a signal stops the run, its report still written
    try:
        with _display(args, console, specs, backends) as on_outcome:
            result = not_run(specs, backends) if stop.requested else run(
                specs, backends, executor=executor, on_outcome=on_outcome)
            stop.stopping = True  # only the reports and the output are left
    except KeyboardInterrupt:  # in the instant before the harness took over
        stop.stopping = True
        result = not_run(specs, backends)
    if args.json is not None:
        attach_reproductions(result, specs, _cases_folder(args.json),
                             {b.name: ref for b, ref in zip(backends, loaders)},
                             catalogs.origin)
    for path, report_format in writers.values():  # before printing: a closed stdout
        if path is not None:                      # loses no report
            report_format.load()(result, path)
    terminal.show(result, console, full=args.table == "full")
    for option, (path, _) in writers.items():
        if path is not None:
            print(f"{option[2:].upper()} report: {path}")
    if not result.complete:
        return EXIT_INCOMPLETE
    if not result.ok:
        return EXIT_PROBLEMS
    if why := _nothing_checked(result):
        print(f"gradparity: {why}", file=sys.stderr)
        return EXIT_NOTHING_CHECKED
    return EXIT_INCONCLUSIVE if result.inconclusive else EXIT_OK


def cmd_backends(args: argparse.Namespace) -> int:
    from backends.registry import BUILTIN, BackendNotFound, known, load
    from conformance.reports.terminal import aligned

    rows = []
    for name, target in known().items():
        origin = "built-in" if name in BUILTIN else "plug-in"
        try:
            backend = load(name)
        except BackendNotFound as exc:
            rows.append([name, origin, f"broken: {exc}", "", target])
            continue
        missing = backend.missing_modules()
        state = f"not installed ({', '.join(missing)})" if missing else "installed"
        versions = ", ".join(f"{m} {v}" for m, v in backend.versions().items() if not missing)
        rows.append([name, origin, state, versions or "-", target])
    print("\n".join(aligned(["backend", "origin", "state", "versions", "class"], rows)))
    return EXIT_OK


def cmd_specs(args: argparse.Namespace) -> int:
    from conformance.catalog import SLOW, NoSpecMatched
    from conformance.user_catalogs import CatalogError

    try:
        _, specs = _chosen_specs(args, keep_slow=True)
    except CatalogError as exc:
        return _fail(exc.message())
    except NoSpecMatched as exc:
        return _fail(str(exc))
    for spec in specs:
        slow = f" [{SLOW}: run only when named]" if SLOW in spec.tags else ""
        print(f"{spec.name:44} {spec.kind:9} {spec.dtype:8} {spec.description}{slow}")
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from conformance.diagnoses import DIAGNOSES

    if args.code is None:
        for code, diagnosis in DIAGNOSES.items():
            print(f"{code:18} {diagnosis.title}")
        return EXIT_OK
    if args.code not in DIAGNOSES:
        return _fail(f"unknown diagnosis {args.code!r}; known: {', '.join(DIAGNOSES)}")
    print(DIAGNOSES[args.code].explain())
    return EXIT_OK


def cmd_merge(args: argparse.Namespace) -> int:
    from conformance.reports import merge
    from conformance.reports.read import ReportFileError, read_report

    if problem := _check_outputs({"--json": args.json, "--html": args.html}):
        return _fail(problem)
    try:
        board = merge.merge([(str(path), read_report(path)) for path in args.reports])
    except ReportFileError as exc:
        return _fail(str(exc))
    print(merge.table(board))
    for option, path, write in (("--json", args.json, merge.write_json),
                                ("--html", args.html, merge.write_html)):
        if path is not None:
            write(board, path)
            print(f"{option[2:].upper()} scoreboard: {path}")
    return EXIT_OK if board.ok else EXIT_PROBLEMS


def cmd_diff(args: argparse.Namespace) -> int:
    from conformance.reports.diff import diff, text
    from conformance.reports.read import ReportFileError, read_report

    try:
        old, new = read_report(args.old), read_report(args.new)
    except ReportFileError as exc:
        return _fail(str(exc))
    found = diff(old, new)
    print(text(found, str(args.old), str(args.new)))
    return EXIT_PROBLEMS if found.regressions else EXIT_OK


def cmd_conventions(args: argparse.Namespace) -> int:
    from conformance.conventions import command

    return command(args)


COMMANDS = {"run": cmd_run, "backends": cmd_backends, "specs": cmd_specs,
            "explain": cmd_explain, "merge": cmd_merge, "diff": cmd_diff,
            "conventions": cmd_conventions}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gradparity`` console script.

    Output piped into a reader that stops early (``gradparity specs | head``) ends quietly
    with exit code 141, as Python's documentation recommends for SIGPIPE: stdout is pointed
    at devnull so the interpreter's final flush cannot fail again. Ctrl-C outside a run
    ends with one line and exit code 130. A run handles SIGINT and SIGTERM from before the
    arguments are read (:class:`_Stop`): exit 3, with its reports.
    """
    stop = _Stop()  # from the first instant: a run interrupted while it starts still reports
    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        args = _parser().parse_args(argv)
        if args.command == "run":
            code = _run(args, stop)
        else:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if stop.requested:
                raise KeyboardInterrupt
            code = COMMANDS[args.command](args)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("gradparity: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return code


if __name__ == "__main__":
    sys.exit(main())

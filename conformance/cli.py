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
    from backends.base import Backend
    from conformance.results import Report

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
                    "with the float64 reference and print a spec x backend table. Each backend "
                    "runs in its own worker process; a crash or hang becomes an ERROR row. "
                    "Exit code: 0 when nothing FAILs or ERRORs, 1 otherwise, 2 for bad "
                    "arguments, 3 when the run was interrupted (Ctrl-C, SIGTERM; the report "
                    "is still written, with the cases not run marked NOT_RUN), 4 when nothing "
                    "failed but some case is INCONCLUSIVE (the reference could not judge it), "
                    "5 when nothing was checked (every case SKIPPED or UNSUPPORTED).")
    run.add_argument("--backend", "-b", action="append", metavar="NAME",
                     help="a built-in or plug-in backend name, or package.module:ClassName; "
                          "repeat for several (default: every known backend; those not "
                          "installed are SKIPPED)")
    run.add_argument("--spec", "-s", action="append", metavar="GLOB",
                     help="run only specs whose name matches this glob, e.g. 'seed*'; repeat "
                          "for several (default: the whole catalog except the cases tagged "
                          "slow, such as the 1024-step LSTM: name them to run them)")
    _catalog_option(run)
    for option, report_format in FORMATS.items():
        run.add_argument(f"--{option}", metavar="PATH", type=Path, help=report_format.help)
    run.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                     help="colour the table and show a progress bar: auto (default) does on a "
                          "terminal and prints plain text otherwise")
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
                                description="List every spec of the catalog (built-in and "
                                            "registered, or those given with --catalog) with "
                                            "its kind, dtype and description.")
    _catalog_option(specs)
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


def _catalog_option(command: argparse.ArgumentParser) -> None:
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
    """SIGINT and SIGTERM during ``run``: the first stops the run (KeyboardInterrupt, which
    the harness turns into NOT_RUN cases); any later one, while the table and the partial
    report are being written, is noted on stderr and otherwise ignored, so they are finished."""

    def __init__(self) -> None:
        self.stopping = False

    def __call__(self, signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        if self.stopping:  # os.write: print() may be running in the interrupted code
            os.write(2, f"gradparity: {name} ignored: writing the table and the reports\n"
                        .encode())
            return
        self.stopping = True
        raise KeyboardInterrupt(f"signal {name}")


def _nothing_checked(report: Report) -> str | None:
    """Why no case was checked (every one SKIPPED or UNSUPPORTED), or None when one was."""
    from conformance.results import Status

    if any(r.status not in (Status.SKIPPED, Status.UNSUPPORTED) for r in report.results):
        return None
    skipped = {r.backend: r.message for r in report.results if r.status is Status.SKIPPED}
    why = "; ".join(f"{b}: {m}" for b, m in skipped.items()) or "no backend computes these kinds"
    return (f"nothing was checked: all {len(report.results)} cases were SKIPPED or "
            f"UNSUPPORTED ({why})")


def cmd_run(args: argparse.Namespace) -> int:
    from backends.registry import BackendNotFound, known, load
    from conformance.catalog import NoSpecMatched, select
    from conformance.harness import in_process, run
    from conformance.reports import terminal
    from conformance.reports.repro import attach_reproductions
    from conformance.user_catalogs import CatalogError, load_catalogs
    from conformance.workers import WorkerOptions, in_workers

    writers = {f"--{option}": (getattr(args, option), report_format)
               for option, report_format in FORMATS.items()}
    if problem := _check_outputs({option: path for option, (path, _) in writers.items()}):
        return _fail(problem)
    try:
        loaders = list(args.backend or known())
        backends = [load(name) for name in loaders]
        catalogs = load_catalogs(args.catalog)
        specs = select(catalogs.specs, args.spec)
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
    stop = _Stop()  # Ctrl-C and SIGTERM stop the run; more of them cannot stop the report
    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    console = terminal.terminal(args.color)
    bar = (terminal.progress(console, len(specs) * len(backends)) if console
           else contextlib.nullcontext(None))
    try:
        with bar as advance:
            result = run(specs, backends, on_result=advance, executor=executor)
        stop.stopping = True  # from here on, only the reports and the table are left
        if args.json is not None:
            attach_reproductions(result, specs, _cases_folder(args.json),
                                 {b.name: ref for b, ref in zip(backends, loaders)},
                                 catalogs.origin)
        for path, report_format in writers.values():  # before printing: a closed stdout
            if path is not None:                      # loses no report
                report_format.load()(result, path)
        terminal.show(result, console)
        for option, (path, _) in writers.items():
            if path is not None:
                print(f"{option[2:].upper()} report: {path}")
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
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
    from conformance.catalog import SLOW
    from conformance.user_catalogs import CatalogError, load_catalogs

    try:
        specs = load_catalogs(args.catalog).specs
    except CatalogError as exc:
        return _fail(exc.message())
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
    (whose interrupts are handled by ``run`` itself) ends with one line and exit code 130.
    """
    args = _parser().parse_args(argv)
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("gradparity: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    return code


if __name__ == "__main__":
    sys.exit(main())

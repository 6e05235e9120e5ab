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

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (exit 2), like all of ours."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"gradparity: error: {message}\n")


def _number(kind: Callable[[str], float], minimum: float, what: str) -> Callable[[str], float]:
    """An argparse ``type`` accepting numbers of ``kind`` from ``minimum`` up."""
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not value >= minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value
    return parse


def _parser() -> argparse.ArgumentParser:
    from conformance.workers import DEFAULT_TIMEOUT

    parser = _Parser(
        prog="gradparity",
        description="Check that autodiff backends agree with a float64 reference on "
                    "one gradient specification, and name the mistake when one does not.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run", help="run the catalog on backends and print the verdicts",
        description="Run every selected spec on every selected backend, compare each answer "
                    "with the float64 reference and print a spec x backend table. Each backend "
                    "runs in its own worker process; a crash or hang becomes an ERROR row. "
                    "Exit code: 0 when nothing FAILs or ERRORs, 1 otherwise, 2 for bad "
                    "arguments, 3 when the run was interrupted (Ctrl-C, SIGTERM; the report "
                    "is still written, with the cases not run marked NOT_RUN).")
    run.add_argument("--backend", "-b", action="append", metavar="NAME",
                     help="a built-in or plug-in backend name, or package.module:ClassName; "
                          "repeat for several (default: every known backend; those not "
                          "installed are SKIPPED)")
    run.add_argument("--spec", "-s", action="append", metavar="GLOB",
                     help="run only specs whose name matches this glob, e.g. 'seed*'; repeat "
                          "for several (default: the whole catalog except the cases tagged "
                          "slow, such as the 1024-step LSTM: name them to run them)")
    run.add_argument("--json", metavar="PATH", type=Path,
                     help="also write the JSON report (schema in README) to PATH")
    run.add_argument("--junit", metavar="PATH", type=Path,
                     help="also write JUnit XML (one test case per result) to PATH, for CI")
    run.add_argument("--html", metavar="PATH", type=Path,
                     help="also write a self-contained HTML scoreboard page to PATH")
    run.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                     help="colour the table and show a progress bar: auto (default) does on a "
                          "terminal and prints plain text otherwise")
    run.add_argument("--jobs", "-j", metavar="N", type=_number(int, 1, "a whole number >= 1"),
                     help="backend workers running side by side (default: the number of "
                          "cores)")
    run.add_argument("--timeout", metavar="SECONDS", default=DEFAULT_TIMEOUT,
                     type=_number(float, 1e-3, "a number of seconds > 0"),
                     help="per case (spec x backend, framework import included): a case "
                          "still running after it is ERROR 'timeout' and its worker is "
                          f"replaced (default: {DEFAULT_TIMEOUT:g})")
    run.add_argument("--memory-limit", metavar="MIB", type=_number(int, 1, "a whole number >= 1"),
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
    commands.add_parser("specs", help="list the catalog's specs",
                        description="List every spec of the built-in catalog with its kind, "
                                    "dtype and description.")
    return parser


def _fail(message: str) -> int:
    print(f"gradparity: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _check_writable(option: str, path: Path) -> str | None:
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        return f"{option} {path}: is a directory; give a file path"
    if not parent.is_dir():
        return f"{option} {path}: directory {parent} does not exist"
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"{option} {path}: not writable"
    return None


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def cmd_run(args: argparse.Namespace) -> int:
    from backends.registry import BackendNotFound, known, load
    from conformance import report as reporting
    from conformance.catalog import NoSpecMatched, catalog, select
    from conformance.harness import in_process, run
    from conformance.html_report import write_html
    from conformance.junit import write_junit
    from conformance.repro import attach_reproductions
    from conformance.workers import WorkerOptions, in_workers

    writers = {"--json": (args.json, reporting.write_json),
               "--junit": (args.junit, write_junit), "--html": (args.html, write_html)}
    for option, (path, _) in writers.items():
        if path is not None and (problem := _check_writable(option, path)):
            return _fail(problem)
    try:
        loaders = list(args.backend or known())
        backends = [load(name) for name in loaders]
        specs = select(catalog(), args.spec)
    except (BackendNotFound, NoSpecMatched) as exc:
        return _fail(str(exc))
    executor = partial(in_process, timings=args.timings) if args.in_process else in_workers(
        WorkerOptions(jobs=args.jobs or min(len(backends), os.cpu_count() or 1),
                      timeout=args.timeout, memory_limit_mib=args.memory_limit,
                      timings=args.timings))
    previous = signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops the run like Ctrl-C
    console = reporting.terminal(args.color)
    bar = (reporting.progress(console, len(specs) * len(backends)) if console
           else contextlib.nullcontext(None))
    try:
        with bar as advance:
            result = run(specs, backends, on_result=advance, executor=executor)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if args.json is not None:
        attach_reproductions(result, specs, args.json.with_name(f"{args.json.stem}-cases"),
                             {b.name: ref for b, ref in zip(backends, loaders)})
    reporting.show(result, console)
    for option, (path, write) in writers.items():
        if path is not None:
            write(result, path)
            print(f"{option[2:].upper()} report: {path}")
    if not result.complete:
        return EXIT_INCOMPLETE
    return EXIT_OK if result.ok else EXIT_PROBLEMS


def cmd_backends(args: argparse.Namespace) -> int:
    from backends.registry import BUILTIN, BackendNotFound, known, load

    for name, target in known().items():
        origin = "built-in" if name in BUILTIN else "plug-in"
        try:
            backend = load(name)
        except BackendNotFound as exc:
            print(f"{name:12} {origin:8} broken: {exc}")
            continue
        missing = backend.missing_modules()
        state = f"not installed ({', '.join(missing)})" if missing else "installed"
        versions = ", ".join(f"{m} {v}" for m, v in backend.versions().items() if not missing)
        print(f"{name:12} {origin:8} {state:28} {versions}  [{target}]".rstrip())
    return EXIT_OK


def cmd_specs(args: argparse.Namespace) -> int:
    from conformance.catalog import SLOW, catalog

    for spec in catalog():
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


COMMANDS = {"run": cmd_run, "backends": cmd_backends, "specs": cmd_specs,
            "explain": cmd_explain}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gradparity`` console script."""
    args = _parser().parse_args(argv)
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())

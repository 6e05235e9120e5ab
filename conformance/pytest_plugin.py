"""The gradparity pytest plug-in, loaded through the ``pytest11`` entry point.

For users, in any test (same harness, probes and diagnoses as ``gradparity run``)::

    from conformance.pytest_plugin import assert_gradients
    assert_gradients(spec, my_compute)   # a callable, a Backend, or a backend name

For plug-in authors, the catalog as a pytest run with one item per case, ``spec[backend]``::

    pytest --gradparity-backend mine [--gradparity-spec 'seed*'] [--gradparity-xfails FILE]
    pytest --gradparity-backend jax --gradparity-catalog my_specs.py   # a user's own cases
    pytest --gradparity-backend mine --gradparity-isolate   # each backend in a worker process

With ``--gradparity-isolate`` (or ``gradparity_isolate = true`` in the ini file) the cases run
in the worker processes of ``gradparity run`` (:mod:`conformance.pytest_isolation`): a backend
that segfaults, aborts or hangs fails that one test and the session goes on.

Without ``--gradparity-backend`` it collects nothing and only adds header lines, read from
package metadata: loaded into every pytest run of the environment, it imports no framework.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from typing import TypeAlias

    from backends.base import Arrays, Backend
    from conformance.pytest_isolation import IsolatedCases
    from conformance.results import Result
    from conformance.spec import Spec

    #: What ``assert_gradients`` checks: a backend, a backend name, or a compute function.
    BackendLike: TypeAlias = Backend | str | Callable[[Spec, Arrays], dict[str, Any]]

#: The node id of the collector holding the catalog items (``gradparity::spec[backend]``).
COLLECTOR = "gradparity"


class GradientMismatch(AssertionError):
    """A derivative that FAILed or ERRORed; the message says why (:func:`report.explain`)."""


class UnmatchedIdWarning(pytest.PytestWarning):
    """A skip or expected-failure file entry that matches no collected catalog test."""


def verdict(result: Result) -> Result:
    """Turn a result into a test outcome: skip when the case was not computed (framework
    missing, kind unsupported) or could not be judged (INCONCLUSIVE, with the reason),
    raise :class:`GradientMismatch` on FAIL or ERROR."""
    from conformance.reports.terminal import explain
    from conformance.results import Status

    __tracebackhide__ = True
    if result.status in (Status.SKIPPED, Status.UNSUPPORTED, Status.INCONCLUSIVE):
        pytest.skip(f"{result.status.value}: {result.message}")
    if result.status.is_problem:
        raise GradientMismatch(explain(result))
    return result


def assert_gradients(spec: Spec, backend: BackendLike) -> Result:
    """Check ``backend``'s derivative of ``spec`` against the float64 reference.

    ``backend`` is a :class:`backends.Backend`, a backend name (``"jax"``,
    ``"pkg.mod:Class"``) or a plain ``compute(spec, arrays) -> {"value": ..., name: ...}``.
    Returns the PASS (or CONVENTION) result; a FAIL or ERROR raises
    :class:`GradientMismatch` naming the diagnoses, the worst element and the tolerance; a
    backend that is not installed or does not compute this kind skips the test.
    """
    from conformance.api import as_backend
    from conformance.harness import check

    __tracebackhide__ = True
    return verdict(check(spec, as_backend(backend)))


# --- skip and expected-failure files -------------------------------------------------------


@dataclass
class IdFile:
    """A skip or expected-failure file: one catalog test id per line, ``spec[backend]``.

    ``*`` matches any run of characters; a bare spec name means every backend; text after
    ``#`` is a comment, shown as the reason. Entries remember whether they matched a test,
    so the ones that match nothing (typos) can be reported instead of silently ignored.
    """

    path: Path
    entries: dict[str, tuple[re.Pattern[str], str]] = field(default_factory=dict)
    matched: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, path: Path) -> IdFile:
        found = cls(path)
        for line in path.read_text(encoding="utf-8").splitlines():
            entry, _, reason = (part.strip() for part in line.partition("#"))
            if entry:
                pattern = re.compile(re.escape(entry).replace(r"\*", ".*"))
                found.entries[entry] = (pattern, reason)
        return found

    def match(self, spec: str, test_id: str) -> str | None:
        """The reason to mark ``test_id``, when an entry matches it or its spec."""
        for entry, (pattern, reason) in self.entries.items():
            if pattern.fullmatch(test_id) or pattern.fullmatch(spec):
                self.matched.add(entry)
                return f"{self.path}: {entry}" + (f" ({reason})" if reason else "")
        return None

    def unmatched(self) -> list[str]:
        return [entry for entry in self.entries if entry not in self.matched]


# --- command-line options and the run's selection -------------------------------------------


@dataclass
class Selection:
    """What ``--gradparity-*`` asked for, resolved once at configure time."""

    backends: list[Backend]
    specs: list[Spec]
    skips: IdFile | None
    xfails: IdFile | None
    #: the worker processes of ``--gradparity-isolate``; None: cases run in this process
    isolated: IsolatedCases | None = None


SELECTION = pytest.StashKey[Selection]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradparity", "gradparity: run the conformance catalog on backends")
    group.addoption("--gradparity-backend", action="append", default=[], metavar="NAME",
                    help="run the catalog on this backend (built-in, plug-in, "
                         "package.module:Class, or 'all'); repeatable. Without it no catalog "
                         "case is collected. With no test paths given, only the catalog runs.")
    group.addoption("--gradparity-spec", action="append", default=[], metavar="GLOB",
                    help="only catalog specs whose name matches, e.g. 'seed*'; repeatable")
    group.addoption("--gradparity-catalog", action="append", default=[], metavar="PATH|MODULE",
                    help="run the specs of this catalog: a .py file or package.module with "
                         "specs(), a name registered in the gradparity.catalogs entry-point "
                         "group, or 'builtin'; repeatable (default: the built-in catalog and "
                         "every registered one)")
    group.addoption("--gradparity-skips", metavar="PATH", type=Path,
                    help="file of catalog test ids to skip, one 'spec[backend]' per line "
                         "('*' wildcards, '# reason')")
    group.addoption("--gradparity-xfails", metavar="PATH", type=Path,
                    help="file of catalog test ids expected to fail, same format")
    group.addoption("--gradparity-isolate", action="store_true", default=None,
                    help="run the catalog cases in worker processes, one per backend, as "
                         "'gradparity run' does: a backend that crashes or hangs fails one "
                         "test, not the session (costs a worker start per backend, about "
                         "a framework import; ini: gradparity_isolate)")
    group.addoption("--gradparity-timeout", type=float, metavar="SECONDS",
                    help="with isolation: seconds a case may take before its worker is "
                         "killed and the test fails (default 60, as for 'gradparity run')")
    parser.addini("gradparity_isolate", type="bool", default=False,
                  help="run gradparity catalog cases in worker processes (--gradparity-isolate)")


def _id_file(config: pytest.Config, option: str) -> IdFile | None:
    path = config.getoption(option)
    if path is None:
        return None
    if not path.is_file():
        raise pytest.UsageError(f"--{option.replace('_', '-')} {path}: no such file")
    return IdFile.read(path)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gradparity: a gradparity catalog case (spec[backend])")
    names = config.getoption("gradparity_backend")
    if not names:
        return
    from backends.registry import BackendNotFound, known, load
    from conformance.catalog import NoSpecMatched, select
    from conformance.user_catalogs import CatalogError, load_catalogs

    try:
        backends = [load(n) for n in (list(known()) if "all" in names else names)]
        catalogs = load_catalogs(config.getoption("gradparity_catalog"))
        specs = select(catalogs.specs, config.getoption("gradparity_spec"))
    except CatalogError as exc:
        raise pytest.UsageError(exc.message("--gradparity-catalog")) from None
    except (BackendNotFound, NoSpecMatched) as exc:
        raise pytest.UsageError(f"gradparity: {exc}") from None
    config.stash[SELECTION] = Selection(backends, specs, _id_file(config, "gradparity_skips"),
                                        _id_file(config, "gradparity_xfails"), _isolated(config))


def _isolated(config: pytest.Config) -> IsolatedCases | None:
    """The worker processes asked for by ``--gradparity-isolate`` or the ini file, if any."""
    isolate = config.getoption("gradparity_isolate")
    timeout = config.getoption("gradparity_timeout")
    if not (config.getini("gradparity_isolate") if isolate is None else isolate):
        if timeout is not None:
            raise pytest.UsageError("--gradparity-timeout: cases run in this process, where "
                                    "they cannot be timed out; add --gradparity-isolate")
        return None
    if timeout is not None and not timeout > 0:
        raise pytest.UsageError(f"--gradparity-timeout {timeout:g}: give a positive number "
                                "of seconds")
    from conformance.pytest_isolation import IsolatedCases
    from conformance.workers import DEFAULT_TIMEOUT, WorkerOptions

    return IsolatedCases(WorkerOptions(timeout=timeout or DEFAULT_TIMEOUT))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop the worker processes of ``--gradparity-isolate``."""
    selection = session.config.stash.get(SELECTION, None)
    if selection is not None and selection.isolated is not None:
        selection.isolated.close()


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Python, numpy, tolerances, and each backend's versions and pinned numerics."""
    from backends.registry import BackendNotFound, known, load
    from conformance.harness import environment
    from conformance.reports.terminal import header
    from conformance.results import Report

    selection = config.stash.get(SELECTION, None)
    if selection is not None:
        backends, broken = selection.backends, []
    else:
        backends, broken = [], []
        for name in known():
            try:
                backends.append(load(name))
            except BackendNotFound as exc:
                broken.append(f"{name}: broken ({exc})")
    lines = header(Report([], environment(backends))).splitlines() + broken
    if selection is not None:
        lines.append(f"gradparity catalog: {_plural(len(selection.specs), 'spec')} x "
                     f"{_plural(len(selection.backends), 'backend')}"
                     + "".join(f", {kind} {ids.path}" for kind, ids in
                               (("skips", selection.skips), ("xfails", selection.xfails)) if ids)
                     + (f", isolated in worker processes (timeout "
                        f"{selection.isolated.options.timeout:g} s)" if selection.isolated else ""))
    return lines


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


# --- collection -----------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    """Add the catalog to the session's top-level collectors when a backend was asked for.

    With no test paths on the command line (pytest falls back on ``testpaths`` or the current
    directory) the catalog replaces them: ``pytest --gradparity-backend NAME`` runs only it.
    """
    report = yield
    selection = collector.config.stash.get(SELECTION, None)
    if selection is None or not isinstance(collector, pytest.Session) or not report.passed:
        return report
    catalog = Catalog.from_parent(collector, name=COLLECTOR, nodeid=COLLECTOR,
                                  path=collector.config.rootpath / COLLECTOR)
    explicit = collector.config.args_source is pytest.Config.ArgsSource.ARGS
    report.result = [*report.result, catalog] if explicit else [catalog]
    return report


class Catalog(pytest.Collector):
    """The catalog cases of the selection: one item per spec and backend, spec by spec."""

    def collect(self) -> list[CatalogCase]:
        # 1. One item per (spec, backend), named like the test ids in skip/xfail files
        # ----------------------------------------------------------------------------
        selection = self.config.stash[SELECTION]
        items = [CatalogCase.from_parent(self, name=f"{spec.name}[{backend.name}]",
                                         spec=spec, backend=backend)
                 for spec in selection.specs for backend in selection.backends]

        # 2. Mark the items listed in the skip and expected-failure files
        # ---------------------------------------------------------------
        # A skip wins over an expected failure: the case is not run at all.
        for item in items:
            if selection.xfails and (why := selection.xfails.match(item.spec.name, item.name)):
                item.add_marker(pytest.mark.xfail(reason=f"--gradparity-xfails {why}"))
            if selection.skips and (why := selection.skips.match(item.spec.name, item.name)):
                item.add_marker(pytest.mark.skip(reason=f"--gradparity-skips {why}"))

        # 3. Warn about entries that match no item: a typo must not hide a case
        # ---------------------------------------------------------------------
        for option, ids in (("skips", selection.skips), ("xfails", selection.xfails)):
            if ids and (unmatched := ids.unmatched()):
                self.warn(UnmatchedIdWarning(
                    f"{len(unmatched)} entries of --gradparity-{option} {ids.path} match no "
                    f"collected catalog test: {', '.join(unmatched)} (check the spelling; "
                    "'gradparity specs' lists spec names, and the entry must name a backend "
                    "given to --gradparity-backend)"))
        return items


class CatalogCase(pytest.Item):
    """One catalog spec on one backend, judged exactly as ``gradparity run`` judges it."""

    def __init__(self, *, spec: Spec, backend: Backend, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec, self.backend = spec, backend
        self.add_marker(pytest.mark.gradparity)

    def runtest(self) -> None:
        from conformance.harness import check

        isolated = self.config.stash[SELECTION].isolated
        result = check(self.spec, self.backend) if isolated is None else \
            isolated.result(self.spec, self.backend, lambda: _planned(self.session))
        self.user_properties += [("status", result.status.value),
                                 ("diagnoses", ",".join(result.diagnoses)),
                                 ("max_rel_error", result.max_rel_error)]
        verdict(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        """The case explained, not a traceback through the harness."""
        if isinstance(excinfo.value, GradientMismatch):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int, str]:
        # Not the node id's tail: pytest would print a dotted spec name as Class::method.
        return self.path, 0, f"{self.spec.name} on {self.backend.name}"


def _planned(session: pytest.Session) -> list[tuple[Spec, Backend]]:
    """The catalog cases this session will run, in order (items marked skip left out)."""
    return [(item.spec, item.backend) for item in session.items
            if isinstance(item, CatalogCase) and item.get_closest_marker("skip") is None]

"""Run each backend in its own worker process, so crashes, hangs and global state stay there.

One worker per backend is started for a run and reused across specs (a framework is imported
once per run); the workers of different backends run side by side, at most ``jobs`` at a
time. The parent sends one case at a time (a spec's index and the arrays to call with) and
receives the :class:`~conformance.harness.Outcome`, holding numpy arrays only: anything else
is replaced in the worker by a :class:`~conformance.contract.Foreign` description. Workers only
execute; the reference and the judging stay in the parent.

A case with no answer after ``timeout`` seconds becomes ERROR ``timeout``, with the frames
where it was stuck (faulthandler, on ``SIGUSR1``), and its worker is killed; a worker that
dies (abort, segfault, killed for memory) gives ERROR with the signal or exit code and the
last lines of its stderr. A fresh worker then takes the backend's remaining cases; answers
already received are kept. After two timeouts in a row a backend's remaining cases are ERROR
at once ("not run: the backend timed out twice"): a hanging backend costs two timeouts, not
one per spec.

Start method: ``fork`` when no framework is loaded in this process, which is always the case
for the ``gradparity`` command (the parent never imports one): it is fast and needs nothing to
be picklable, so specs may hold lambdas. Once a framework is loaded here (a test process that
imported TensorFlow, say), a forked child would inherit its threads' locks in any state, so
``spawn`` is used instead: specs and backends are pickled, and a case whose spec or backend
cannot be (a lambda ``fn``) becomes an ERROR saying so. Specs from a user's catalog file
travel with the file's path; the worker loads it under the same module name before it
unpickles them (conformance.user_catalogs.Portable).

Workers ignore SIGINT (Ctrl-C is the parent's to handle), write stdout and stderr to a log
file whose tail goes into crash messages, optionally run under an address-space limit
(``RLIMIT_AS``), and exit when the parent is gone.
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import multiprocessing.connection
import os
import pickle
import resource
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backends.base import Backend
from backends.registry import framework_modules
from conformance.contract import portable
from conformance.harness import Executor, Outcome, execute
from conformance.results import Status
from conformance.spec import Spec
from conformance.user_catalogs import Portable

#: Seconds a case may take, importing the framework included, unless told otherwise.
DEFAULT_TIMEOUT = 60.0
#: How many lines of a dead worker's stderr go into its ERROR message.
STDERR_LINES = 6
#: How often an idle worker checks that its parent is still alive.
_PARENT_CHECK_S = 1.0
#: Signal asking a worker to write its Python stack (faulthandler), before a timeout kill.
WHERE_SIGNAL = signal.SIGUSR1
#: How long the parent waits for that stack.
_WHERE_WAIT_S = 1.0
#: How long a worker gets to exit by itself after its last case.
_EXIT_GRACE_S = 2.0
#: Timeouts in a row after which a backend's remaining cases are not run.
TIMEOUTS_IN_A_ROW = 2

Calls = Sequence[dict[str, np.ndarray]]


def default_jobs() -> int:
    """Workers run side by side by default: one per core."""
    return os.cpu_count() or 1


@dataclass(frozen=True)
class WorkerOptions:
    """How cases are executed: parallel workers, the per-case timeout, a memory limit."""

    jobs: int = field(default_factory=default_jobs)
    timeout: float = DEFAULT_TIMEOUT
    memory_limit_mib: int | None = None  # RLIMIT_AS of each worker; None: no limit
    timings: bool = False  # time each case's calls too (run --timings, conformance.timing)
    start_method: str | None = None  # None: chosen by choose_start_method()


def choose_start_method() -> str:
    """``fork`` while no framework is loaded in this process, ``spawn`` after (see above)."""
    loaded = any(m in sys.modules for m in framework_modules(fork_unsafe_only=True))
    return "fork" if "fork" in multiprocessing.get_all_start_methods() and not loaded else "spawn"


def case_timeout(spec: Spec | None, timeout: float) -> float:
    """A case's time budget: the run's ``timeout``, or the spec's own when that is larger."""
    own = getattr(spec, "timeout", None)
    return max(timeout, own) if own else timeout


def _serve(backend: Backend, shipped: Portable, conn: Any, log_path: str,
           memory_limit_mib: int | None, parent_pid: int) -> None:
    """The worker's loop: receive ``(spec index, calls, timings)``, send back the portable
    outcome."""
    specs: Sequence[Spec | None] = shipped.items
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - for the process's life
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    faulthandler.enable(sys.stderr)  # a segfault or abort leaves a Python traceback in the log
    # on a timeout the parent asks where the case is stuck before killing the worker
    faulthandler.register(WHERE_SIGNAL, file=sys.stderr, all_threads=False)
    if memory_limit_mib:
        limit = memory_limit_mib * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while True:
        while not conn.poll(_PARENT_CHECK_S):
            if os.getppid() != parent_pid:
                return
        task = conn.recv()
        if task is None:
            return
        index, calls, timings = task
        try:
            outcome = execute(backend, specs[index], calls, timings)
            outcome.outputs = [portable(o) for o in outcome.outputs]
            outcome.hooks = {k: [portable(v) for v in vs] for k, vs in outcome.hooks.items()}
        except Exception as exc:  # noqa: BLE001 - a backend fault outside prepare/call
            outcome = Outcome(Status.ERROR, message=f"{type(exc).__name__}: {exc}")
        if memory_limit_mib and outcome.message.startswith("MemoryError"):
            outcome.message += f" (worker memory limit: {memory_limit_mib} MiB)"
        try:
            conn.send(outcome)
        except Exception as exc:  # noqa: BLE001 - pickling can fail in many ways
            conn.send(Outcome(Status.ERROR, message=f"the outcome could not be sent back from "
                              f"the worker: {type(exc).__name__}: {exc}"))


class _Worker:
    """One live worker process and the case it is running."""

    def __init__(self, context: Any, backend: Backend, specs: Sequence[Spec | None],
                 memory_limit_mib: int | None) -> None:
        fd, self.log_path = tempfile.mkstemp(prefix="gradparity-worker-", suffix=".log")
        os.close(fd)
        self.conn, child_conn = context.Pipe()
        self.process = context.Process(
            target=_serve, name=f"gradparity-{backend.name}",
            args=(backend, Portable(specs), child_conn, self.log_path, memory_limit_mib,
                  os.getpid()))
        sys.stdout.flush()  # a forked child must not write this process's buffers again
        sys.stderr.flush()
        self.process.start()
        child_conn.close()
        self.case: int | None = None
        self.deadline = float("inf")
        self.started = self.timeout = 0.0

    def send(self, index: int, calls: Calls, timeout: float, timings: bool) -> None:
        self.case, self.started, self.timeout = index, time.monotonic(), timeout
        self.deadline = self.started + timeout
        self.conn.send((index, calls, timings))

    def elapsed(self) -> float:
        """Seconds since the running case was sent (kept on a crash or a timeout)."""
        return time.monotonic() - self.started

    def receive(self) -> Outcome | None:
        """The answer to the running case, or None when the worker died instead."""
        try:
            outcome = self.conn.recv()
        except Exception:  # noqa: BLE001 - EOF or a message cut short by the death
            return None
        self.case, self.deadline = None, float("inf")
        return outcome

    def death(self) -> str:
        """Why the worker is gone: its signal or exit code, and the end of its stderr."""
        self.process.join(_EXIT_GRACE_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        code = self.process.exitcode
        if code is not None and code < 0:
            try:
                how = f"killed by signal {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        tail = self.stderr_tail()
        return f"worker crashed: {how}" + (f"; last stderr lines: {tail}" if tail else "")

    def where_stuck(self) -> str:
        """The innermost frames of a worker that ran out of time, from faulthandler."""
        size = os.path.getsize(self.log_path)
        try:
            os.kill(self.process.pid, WHERE_SIGNAL)
        except OSError:
            return ""
        give_up = time.monotonic() + _WHERE_WAIT_S
        while os.path.getsize(self.log_path) == size and time.monotonic() < give_up:
            time.sleep(0.01)
        time.sleep(0.05)  # let the dump finish
        with open(self.log_path, "rb") as log:
            log.seek(size)
            lines = log.read().decode("utf-8", "replace").splitlines()
        frames = [line.strip() for line in lines if line.strip().startswith("File ")]
        return " <- ".join(frames[:STDERR_LINES])

    def stderr_tail(self) -> str:
        """The end of the worker's stderr, one line per ``|``; after a fatal signal, the
        faulthandler report's first lines instead (the error and the innermost frames)."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(max(0, os.path.getsize(self.log_path) - 65536))
                lines = log.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        lines = [line.strip()[:200] for line in lines if line.strip()]
        fatal = [i for i, line in enumerate(lines) if line.startswith("Fatal Python error")]
        shown = lines[fatal[-1]:fatal[-1] + STDERR_LINES] if fatal else lines[-STDERR_LINES:]
        return " | ".join(shown)

    def stop(self, kill: bool = False) -> None:
        """End the worker (asked to exit, killed when it does not or ``kill``); remove its log."""
        if not kill and self.process.is_alive():
            try:
                self.conn.send(None)
                self.process.join(_EXIT_GRACE_S)
            except OSError:
                pass
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()
        Path(self.log_path).unlink(missing_ok=True)


def _unsendable(value: Any) -> str | None:
    """Why ``value`` cannot be pickled for a spawned worker, or None when it can."""
    try:
        pickle.dumps(value)
    except Exception as exc:  # noqa: BLE001 - lambdas, locks, open files ...
        return f"{type(exc).__name__}: {exc}"
    return None


class _Lane:
    """One backend's cases, in spec order, and the worker running them (replaced on faults)."""

    def __init__(self, index: int, backend: Backend, specs: Sequence[Spec], calls: Sequence[Calls],
                 context: Any, options: WorkerOptions) -> None:
        self.index, self.backend, self.calls = index, backend, calls
        self.context, self.options = context, options
        self.pending = deque(range(len(specs)))
        self.worker: _Worker | None = None
        self.refused: dict[int, str] = {}
        self.specs: Sequence[Spec | None] = specs
        self.timeouts = 0  # in a row; an answer or a crash resets it
        if context.get_start_method() != "fork":
            self._keep_sendable(specs)

    def _keep_sendable(self, specs: Sequence[Spec]) -> None:
        hint = "define it at module level, or run with --in-process"
        why = _unsendable(self.backend)
        if why:
            self.refused = {i: f"backend {self.backend.name!r} cannot be sent to a spawned "
                               f"worker ({why}); {hint}" for i in range(len(specs))}
            return
        shipped: list[Spec | None] = []
        for i, spec in enumerate(specs):
            why = _unsendable(spec)
            if why:
                self.refused[i] = (f"spec {spec.name!r} cannot be sent to a spawned worker "
                                   f"({why}); {hint}")
            shipped.append(None if why else spec)
        self.specs = shipped

    @property
    def busy(self) -> bool:
        return self.worker is not None and self.worker.case is not None

    def advance(self) -> Iterator[tuple[int, int, Outcome]]:
        """Send the next case to the worker (started when needed), or stop it when none is
        left; yields the cases settled without running (unsendable, or a worker that died
        before it could take them)."""
        while self.pending:
            index = self.pending.popleft()
            if self.timeouts >= TIMEOUTS_IN_A_ROW:
                yield index, self.index, Outcome(Status.ERROR, message=(
                    f"not run: the backend timed out twice in a row (--timeout "
                    f"{self.options.timeout:g} s), so its remaining cases were not tried"))
                continue
            if index in self.refused:
                yield index, self.index, Outcome(Status.ERROR, message=self.refused[index])
                continue
            if self.worker is None:
                self.worker = _Worker(self.context, self.backend, self.specs,
                                      self.options.memory_limit_mib)
            try:
                self.worker.send(index, self.calls[index], case_timeout(self.specs[index],
                                                                        self.options.timeout),
                                 self.options.timings)
                return
            except OSError:
                yield index, self.index, Outcome(Status.ERROR, message=self.worker.death())
                self.replace()
        self.close()

    def settle(self, ready: list[Any], now: float) -> Iterator[tuple[int, int, Outcome]]:
        """The running case's outcome if it answered, died or ran out of time; then move on."""
        worker = self.worker
        assert worker is not None and worker.case is not None
        index = worker.case
        if worker.conn in ready or worker.process.sentinel in ready:
            outcome = worker.receive() if worker.conn.poll() else None
            if outcome is None:
                outcome = Outcome(Status.ERROR, message=worker.death(), seconds=worker.elapsed())
                self.replace()
            self.timeouts = 0
        elif now >= worker.deadline:
            self.timeouts += 1
            where = worker.where_stuck()
            outcome = Outcome(Status.ERROR, message=f"timeout: no answer within "
                              f"{worker.timeout:g} s; the worker was killed and replaced"
                              + (f"; it was in: {where}" if where else ""),
                              seconds=worker.elapsed())
            self.replace()
        else:
            return
        # the next case goes out before this outcome is judged, so the worker never waits
        # for the parent's reference computations
        settled = list(self.advance())
        yield index, self.index, outcome
        yield from settled

    def replace(self) -> None:
        """Kill the worker; the next case starts a fresh one."""
        self.close(kill=True)

    def close(self, kill: bool = False) -> None:
        """Stop the worker, if any; forgotten first, so an interrupted stop is never repeated."""
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.stop(kill)


def in_workers(options: WorkerOptions | None = None) -> Executor:
    """An executor for :func:`conformance.harness.run` that runs every backend in workers."""
    options = options or WorkerOptions()

    def executor(specs: Sequence[Spec], backends: Sequence[Backend],
                 calls: Sequence[Calls]) -> Iterator[tuple[int, int, Outcome]]:
        context = multiprocessing.get_context(options.start_method or choose_start_method())
        lanes = [_Lane(j, b, specs, calls, context, options) for j, b in enumerate(backends)]
        waiting, active = deque(lanes), []
        try:
            while waiting or active:
                while waiting and len(active) < options.jobs:
                    lane = waiting.popleft()
                    active.append(lane)
                    yield from lane.advance()
                active = [lane for lane in active if lane.busy]
                if not active:
                    continue
                deadline = min(lane.worker.deadline for lane in active)
                wait_s = None if deadline == float("inf") else max(0.0, deadline - time.monotonic())
                handles = [h for lane in active
                           for h in (lane.worker.conn, lane.worker.process.sentinel)]
                ready = multiprocessing.connection.wait(handles, wait_s)
                now = time.monotonic()
                for lane in active:
                    yield from lane.settle(ready, now)
                active = [lane for lane in active if lane.busy]
        finally:
            for lane in lanes:
                lane.replace()

    return executor

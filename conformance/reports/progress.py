"""What ``gradparity run`` shows while it runs: a rich progress bar on a terminal, or, in a
CI log (stdout not a terminal), a line on stderr as each backend finishes and a heartbeat
line about every :data:`HEARTBEAT_S` seconds, so a log never sits silent for minutes.

Both count outcomes as workers send them (:data:`conformance.harness.OnOutcome`), not
verdicts: a spec is judged only once every backend has answered it.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from conformance.reports.terminal import seconds

if TYPE_CHECKING:
    from rich.console import Console

    from backends.base import Backend
    from conformance.spec import Spec

#: ``conformance.harness.OnOutcome``: told of each case's outcome (spec, backend, outcome).
OnOutcome = Callable[["Spec", "Backend", Any], None]

#: Seconds between two heartbeat lines in a CI log.
HEARTBEAT_S = 10.0


class LogLines:
    """Progress as plain lines on ``stream``: ``gradparity: jax finished its 654 cases after
    83 s; 1308/3270 cases done`` per backend, and a heartbeat naming those under way."""

    def __init__(self, specs: Sequence[Spec], backends: Sequence[Backend],
                 stream: TextIO | None = None) -> None:
        self.per_backend = len(specs)
        self.running = [b.name for b in backends if not b.missing_modules()]
        self.total = self.per_backend * len(self.running)
        self.done = dict.fromkeys(self.running, 0)
        self.stream = stream
        self.start = time.monotonic()
        self._lock = threading.Lock()

    def elapsed(self) -> str:
        return seconds(time.monotonic() - self.start)

    def count(self) -> int:
        return sum(self.done.values())

    def outcome(self, spec: Spec, backend: Backend, outcome: Any) -> None:
        """One case answered; a line when it was its backend's last."""
        self.done[backend.name] += 1
        if self.done[backend.name] == self.per_backend:
            self.say(f"{backend.name} finished its {self.per_backend} cases after "
                     f"{self.elapsed()}; {self.count()}/{self.total} cases done")

    def heartbeat(self) -> str:
        """Where the run is: cases done, the backends under way with their counts, and how
        many have not answered a case yet."""
        going = [f"{name} {n}/{self.per_backend}" for name, n in self.done.items()
                 if 0 < n < self.per_backend]
        waiting = sum(n == 0 for n in self.done.values()) if self.per_backend else 0
        return (f"{self.count()}/{self.total} cases done after {self.elapsed()}"
                + (f"; running: {', '.join(going)}" if going else "")
                + (f"; {waiting} backend{'s' * (waiting != 1)} without an answer yet"
                   if waiting else ""))

    def say(self, text: str) -> None:
        with self._lock:  # the heartbeat thread and the run both write
            print(f"gradparity: {text}", file=self.stream or sys.stderr, flush=True)


@contextlib.contextmanager
def log_lines(specs: Sequence[Spec], backends: Sequence[Backend],
              every: float = HEARTBEAT_S, stream: TextIO | None = None) -> Iterator[OnOutcome]:
    """:class:`LogLines` with its heartbeat thread (stopped on the way out); yields the
    callback for :func:`conformance.harness.run`'s ``on_outcome``."""
    lines = LogLines(specs, backends, stream)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            lines.say(lines.heartbeat())

    thread = threading.Thread(target=beat, name="gradparity-heartbeat", daemon=True)
    thread.start()
    try:
        yield lines.outcome
    finally:
        stop.set()
        thread.join()


@contextlib.contextmanager
def bar(console: Console, specs: Sequence[Spec],
        backends: Sequence[Backend]) -> Iterator[OnOutcome]:
    """A rich progress bar over the installed backends' cases, gone when done."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    total = len(specs) * sum(not b.missing_modules() for b in backends)
    with Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=True) as shown:
        task = shown.add_task("gradparity run", total=total)
        yield lambda spec, backend, outcome: shown.update(
            task, advance=1, description=f"{spec.name} on {backend.name}")

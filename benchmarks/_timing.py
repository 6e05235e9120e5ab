"""What every benchmark shares: side-by-side medians, child processes, the machine, tables.

The machines these run on are noisy (other people's tests share two cores), so a figure is
never one timing: the two sides of a comparison alternate call by call (the first of each
round alternates too), after warm-up, and each side's median is kept. Only ratios measured
this way, in one process run, are reported.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

#: The repository root: benchmarks run from a clone, without installing anything.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
#: Environment of every child process: the repository importable, TensorFlow quiet.
CHILD_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p), "TF_CPP_MIN_LOG_LEVEL": "2"}


def parser(description: str, rounds: int) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark takes."""
    parsed = argparse.ArgumentParser(description=description)
    parsed.add_argument("--smoke", action="store_true",
                        help="a tiny run (few repetitions, small sizes) that only checks the "
                             "benchmark works; its figures mean nothing")
    parsed.add_argument("--rounds", type=int, default=rounds,
                        help=f"timed rounds of each side (default {rounds})")
    return parsed


def seconds(call: Callable[[], Any]) -> float:
    """Wall seconds of one call."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def alternate(sides: Mapping[str, Callable[[], Any]], rounds: int,
              warmup: int = 1) -> dict[str, float]:
    """Median seconds of each side's call, sides alternating call by call.

    Every side is called ``warmup`` times untimed first (compilation, caches). Each round
    calls every side once; the order rotates by one each round, so no side always runs first.
    """
    names = list(sides)
    for _ in range(warmup):
        for name in names:
            sides[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(seconds(sides[name]))
    return {name: statistics.median(times) for name, times in samples.items()}


def run_process(args: Sequence[str], env: Mapping[str, str] | None = None) -> float:
    """Wall seconds of a child process (output discarded); raises if it fails."""
    start = time.perf_counter()
    subprocess.run(list(args), env=dict(env or CHILD_ENV), cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def child_json(script: str, *args: str) -> Any:
    """Run ``python <script> *args`` and parse the JSON of its last output line."""
    proc = subprocess.run([sys.executable, script, *args],
                          env=CHILD_ENV, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def installed(backend_names: Sequence[str]) -> list[str]:
    """The built-in backends among ``backend_names`` whose frameworks are installed."""
    from backends.registry import load

    return [name for name in backend_names if not load(name).missing_modules()]


def machine() -> str:
    """One line describing where the figures were taken: CPU, cores, OS, Python, frameworks."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    versions = []
    for dist in ("numpy", "jax", "autograd", "tensorflow", "tf-keras"):
        try:
            versions.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, " + ", ".join(versions))


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table, columns padded to their widest cell."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def duration(value: float) -> str:
    """Seconds in a readable unit: ``25.2 us``, ``1.24 ms``, ``31.0 s``."""
    if value < 1e-3:
        return f"{value * 1e6:.1f} us"
    return f"{value * 1e3:.2f} ms" if value < 1 else f"{value:.1f} s"


def report(title: str, command: str, body: str) -> None:
    """Print a benchmark's result block: what, where, how to rerun it, the figures."""
    print(f"== {title}\nmachine: {machine()}\ncommand: {command}\n\n{body}")

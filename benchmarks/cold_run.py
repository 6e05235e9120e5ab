"""Cold and warm runs: ``gradparity run`` over the whole catalog (the default selection:
every case not tagged slow) and every installed backend, against the floor of a process
that only imports the same frameworks.

All are fresh processes; they alternate, and each one's median wall time is kept. A cold
run gets an empty JAX compilation cache (a new directory each time); a warm run gets one
that an untimed run filled first, as a user's second run finds it. Goals: the cold run
takes at most 3x the floor and 120 s, the warm run at most 60 s. ``--smoke`` runs one spec
on autograd against importing autograd, once each.

    python benchmarks/cold_run.py            # 3 rounds, about 3 minutes
    python benchmarks/cold_run.py --smoke
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import _timing  # first: it puts the repository on sys.path

from backends import _tf
from backends.registry import BUILTIN, load

#: The goals: cold run / import floor; cold and warm wall seconds.
GOAL = 3.0
COLD_GOAL_S = 120.0
WARM_GOAL_S = 60.0


def floor_command(backend_names: list[str]) -> list[str]:
    """A process importing every framework the backends require, as their workers do."""
    modules = dict.fromkeys(m for name in backend_names for m in load(name).requires)
    setup = f"import os; os.environ.update({dict(_tf.IMPORT_ENV)!r}); "
    return [sys.executable, "-c", setup + "import " + ", ".join(modules)]


def main() -> None:
    args = _timing.parser(__doc__.split("\n\n")[0], rounds=3).parse_args()
    command = " ".join(["python benchmarks/cold_run.py", *sys.argv[1:]])
    backends = _timing.installed(["autograd"] if args.smoke else list(BUILTIN))
    run = [sys.executable, "-m", "conformance.cli", "run", "--color", "never",
           *(f"--backend={name}" for name in backends),
           *(["--spec", "polynomial-float64"] if args.smoke else [])]
    scratch = tempfile.mkdtemp(prefix="gradparity-bench-")
    warm_cache = os.path.join(scratch, "warm")
    cold_caches = iter(os.path.join(scratch, f"cold-{i}") for i in range(1000))

    def with_cache(cache: str) -> dict[str, str]:
        return {**_timing.CHILD_ENV, "GRADPARITY_JAX_CACHE": cache}

    _timing.run_process(run, with_cache(warm_cache))  # fills the warm cache, untimed
    medians = _timing.alternate(
        {"floor": lambda: _timing.run_process(floor_command(backends)),
         "cold": lambda: _timing.run_process(run, with_cache(next(cold_caches))),
         "warm": lambda: _timing.run_process(run, with_cache(warm_cache))},
        rounds=1 if args.smoke else args.rounds, warmup=0)
    shutil.rmtree(scratch, ignore_errors=True)
    ratio = medians["cold"] / medians["floor"]
    body = _timing.table(
        ["process", "median wall", "command"],
        [["import floor", _timing.duration(medians["floor"]),
          " ".join(floor_command(backends)[1:])],
         ["cold run", _timing.duration(medians["cold"]), " ".join(run[1:])],
         ["warm run", _timing.duration(medians["warm"]), "the same, JAX cache filled"]])
    body += (f"\n\ncold run / floor: {ratio:.2f} (goal <= {GOAL:g}: "
             f"{'met' if ratio <= GOAL else 'MISSED'})"
             f"\ncold run: {medians['cold']:.1f} s (goal <= {COLD_GOAL_S:g} s: "
             f"{'met' if medians['cold'] <= COLD_GOAL_S else 'MISSED'}); "
             f"warm run: {medians['warm']:.1f} s (goal <= {WARM_GOAL_S:g} s: "
             f"{'met' if medians['warm'] <= WARM_GOAL_S else 'MISSED'})")
    _timing.report("cold and warm runs: whole catalog on every installed backend vs "
                   "importing the frameworks", command, body)


if __name__ == "__main__":
    main()

"""Cold run: ``gradparity run`` over the whole catalog and every installed backend, against
the floor of a process that only imports the same frameworks.

Both are fresh processes (no cache survives between them: JAX keeps no compilation cache
unless told to); they alternate, and each one's median wall time is kept. Goal: the run
takes at most 3x the floor. ``--smoke`` runs one spec on autograd against importing
autograd, once each.

    python benchmarks/cold_run.py            # 3 rounds, about 3 minutes
    python benchmarks/cold_run.py --smoke
"""

from __future__ import annotations

import sys

import _timing  # first: it puts the repository on sys.path

from backends import _tf
from backends.registry import BUILTIN, load

#: The goal: cold run / import floor.
GOAL = 3.0


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
    medians = _timing.alternate(
        {"floor": lambda: _timing.run_process(floor_command(backends)),
         "run": lambda: _timing.run_process(run)},
        rounds=1 if args.smoke else args.rounds, warmup=0)
    ratio = medians["run"] / medians["floor"]
    body = _timing.table(
        ["process", "median wall", "command"],
        [["import floor", _timing.duration(medians["floor"]),
          " ".join(floor_command(backends)[1:])],
         ["gradparity run", _timing.duration(medians["run"]), " ".join(run[1:])]])
    body += (f"\n\ncold run / floor: {ratio:.2f} (goal <= {GOAL:g}: "
             f"{'met' if ratio <= GOAL else 'MISSED'})")
    _timing.report("cold run: whole catalog on every installed backend vs importing the "
                   "frameworks", command, body)


if __name__ == "__main__":
    main()

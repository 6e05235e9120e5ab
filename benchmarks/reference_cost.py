"""Reference cost against input size: the directional check vs the full derivative.

For n = 10^2 ... 10^6 inputs of a smooth scalar function, the number of function
evaluations and the time of the reference in directional mode (what ``gradparity run``
uses above ``FULL_LIMIT`` scalars: a few random directions, a constant number of
evaluations) and in full mode (one difference quotient per input). Full mode is run up to
``--full-up-to`` inputs; beyond, its evaluation count is the measured count per input times
n, and its time that count times the measured time of one evaluation at n (marked ``~``).

    python benchmarks/reference_cost.py            # about a minute
    python benchmarks/reference_cost.py --smoke
"""

from __future__ import annotations

import math
import sys
from typing import Any

import _timing  # first: it puts the repository on sys.path
import numpy as np

from conformance.reference import compute_reference
from conformance.spec import Spec


def smooth(xp: Any, x: Any) -> Any:
    """A smooth scalar function of every input: sum(sin(x) x + x^2 / 2)."""
    return xp.sum(xp.sin(x) * x + 0.5 * x**2)


def spec_of_size(n: int) -> Spec:
    return Spec(f"reference-cost-{n}", smooth,
                {"x": np.random.default_rng(n).uniform(-1, 1, size=n)}, ("x",))


def main() -> None:
    parsed = _timing.parser(__doc__.split("\n\n")[0], rounds=3)
    parsed.add_argument("--full-up-to", type=int, default=10_000, metavar="N",
                        help="run full mode up to N inputs, estimate it above (default 10000)")
    args = parsed.parse_args()
    command = " ".join(["python benchmarks/reference_cost.py", *sys.argv[1:]])
    sizes = [10**k for k in range(2, 4 if args.smoke else 7)]
    rounds = 1 if args.smoke else args.rounds
    rows, counts = [], []
    for n in sizes:
        spec = spec_of_size(n)
        directional = compute_reference(spec, full_limit=0)
        counts.append(directional.evaluations)
        times = {"directional": lambda spec=spec: compute_reference(spec, full_limit=0),
                 "one evaluation": lambda spec=spec: spec.evaluate(np, spec.arrays)}
        if n <= args.full_up_to:
            times["full"] = lambda spec=spec: compute_reference(spec, full_limit=math.inf)
        medians = _timing.alternate(times, rounds, warmup=0)
        if "full" in medians:
            full_count = compute_reference(spec, full_limit=math.inf).evaluations
            per_input = (full_count - 1) / n
            full_time = _timing.duration(medians["full"])
        else:
            full_count = round(1 + per_input * n)
            full_time = "~" + _timing.duration(full_count * medians["one evaluation"])
        rows.append([f"{n:.0e}", directional.evaluations,
                     _timing.duration(medians["directional"]),
                     ("" if n <= args.full_up_to else "~") + str(full_count), full_time])
    body = _timing.table(["n", "directional evals", "directional time", "full evals",
                          "full time"], rows)
    flat = len(set(counts)) == 1
    body += (f"\n\ndirectional evaluations are {'flat' if flat else 'NOT flat'} across n "
             f"({', '.join(map(str, counts))})")
    _timing.report("reference cost: directional check vs full derivative", command, body)


if __name__ == "__main__":
    main()

"""The built-in catalog: the starter function specs, the seed scenarios, the real objectives."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from conformance.spec import Spec

#: The tag of cases left out of a run unless a ``--spec`` pattern names them.
SLOW = "slow"


def catalog() -> list[Spec]:
    """Every built-in spec, starter cases first."""
    from conformance.catalog.objectives import objective_specs
    from conformance.catalog.seeds import seed_specs
    from conformance.catalog.starter import starter_specs

    return starter_specs() + seed_specs() + objective_specs()


def find(name: str) -> Spec:
    """The catalog spec called ``name``."""
    for spec in catalog():
        if spec.name == name:
            return spec
    raise NoSpecMatched(f"no spec named {name!r}; run 'gradparity specs' to list them")


class NoSpecMatched(LookupError):
    """A ``--spec`` pattern that matches no spec in the catalog."""


def select(specs: Sequence[Spec], patterns: Sequence[str] | None) -> list[Spec]:
    """The specs whose names match any of the glob ``patterns``; when none are given, every
    spec not tagged ``slow`` (those take seconds per backend: name them to run them).

    Every pattern must match something: a typo must not silently select nothing.
    """
    if not patterns:
        return [s for s in specs if SLOW not in s.tags]
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(s.name, pattern) for s in specs):
            raise NoSpecMatched(f"--spec {pattern!r} matches no spec; run 'gradparity specs' "
                                "to list them")
    return [s for s in specs if any(fnmatch.fnmatchcase(s.name, p) for p in patterns)]

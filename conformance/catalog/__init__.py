"""The built-in catalog: the starter function specs, the op catalog (one ``ops_<family>``
module per family of the shared numpy API), numpy's calling conventions (``calls``),
index-array cases, the seed scenarios, the models, the convention cases and the real
objectives."""

from __future__ import annotations

import fnmatch
import functools
import importlib
from collections.abc import Sequence

from conformance.spec import Spec

#: The tag of cases left out of a run unless a ``--spec`` pattern names them.
SLOW = "slow"
#: The op-catalog modules, one per family; each has ``specs()``.
OP_FAMILIES: tuple[str, ...] = ("elementwise", "binary", "reductions", "products",
                                "manipulation", "indexing", "linalg")


def catalog() -> list[Spec]:
    """Every built-in spec: starter cases, op cases, calling conventions, index-array cases,
    seed scenarios, models, convention cases, real objectives."""
    from conformance.catalog import calls
    from conformance.catalog.conventions import convention_specs
    from conformance.catalog.indexing import indexing_specs
    from conformance.catalog.models import model_specs
    from conformance.catalog.objectives import objective_specs
    from conformance.catalog.seeds import seed_specs
    from conformance.catalog.starter import starter_specs

    return (starter_specs() + list(op_specs()) + calls.specs() + indexing_specs() + seed_specs()
            + model_specs() + convention_specs() + objective_specs())


@functools.cache
def op_specs() -> tuple[Spec, ...]:
    """The op catalog, every family (built once per process: specs are immutable)."""
    return tuple(spec for family in OP_FAMILIES
                 for spec in importlib.import_module(f"conformance.catalog.ops_{family}").specs())


def find(name: str) -> Spec:
    """The catalog spec called ``name``."""
    for spec in catalog():
        if spec.name == name:
            return spec
    raise NoSpecMatched(f"no spec named {name!r}; run 'gradparity specs' to list them")


class NoSpecMatched(LookupError):
    """A ``--spec`` pattern that matches no spec in the catalog."""


def select(specs: Sequence[Spec], patterns: Sequence[str] | None,
           kinds: Sequence[str] | None = None, tags: Sequence[str] | None = None,
           keep_slow: bool = False) -> list[Spec]:
    """The specs whose names match any of the glob ``patterns``, whose kind is one of
    ``kinds`` and which carry one of ``tags`` (each filter applies when given). Cases tagged
    ``slow`` (seconds per backend) are left out unless a pattern or ``tags`` names them, or
    ``keep_slow`` (a listing).

    Every pattern and tag must match something: a typo must not silently select nothing.
    """
    for pattern in patterns or ():
        if not any(fnmatch.fnmatchcase(s.name, pattern) for s in specs):
            raise NoSpecMatched(f"--spec {pattern!r} matches no spec; run 'gradparity specs' "
                                "to list them")
    known_tags = sorted({t for s in specs for t in s.tags})
    for tag in tags or ():
        if tag not in known_tags:
            raise NoSpecMatched(f"--tag {tag!r} is on no spec; the tags: {', '.join(known_tags)}")
    chosen = [s for s in specs
              if (not patterns or any(fnmatch.fnmatchcase(s.name, p) for p in patterns))
              and (not kinds or s.kind in kinds)
              and (not tags or any(t in s.tags for t in tags))
              and (keep_slow or patterns or SLOW not in s.tags or SLOW in (tags or ()))]
    given = [f"{option} {' or '.join(values)}" for option, values in
             (("--spec", patterns), ("--kind", kinds), ("--tag", tags)) if values]
    if not chosen and given:
        raise NoSpecMatched(f"no spec matches {' with '.join(given)}; run 'gradparity specs' "
                            "to list them")
    return chosen

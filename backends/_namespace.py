"""What a spec's ``fn`` reads from ``xp``, found without any framework.

An adapter whose numpy-like namespace lacks a name a spec uses reports UNSUPPORTED naming it
(``tensorflow.experimental.numpy has no xp.median``) instead of crashing in the middle of a
run. The names are found by one dry run of ``fn`` on a recording numpy; an inner ``grad``
returns zeros there.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from conformance.spec import Spec


def names_read(spec: Spec) -> set[str] | None:
    """The dotted names ``spec.fn`` reads from ``xp`` (``exp``, ``linalg.eigh``), or None when
    the dry run fails (then ``fn``'s own failure surfaces when the adapter runs it)."""
    seen: set[str] = set()

    def zero_grad(f: Any) -> Any:
        def gradient(x: Any, *rest: Any) -> Any:
            f(x, *rest)
            parts = [np.zeros_like(p) for p in (x if isinstance(x, list | tuple) else [x])]
            return type(x)(parts) if isinstance(x, list | tuple) else parts[0]
        return gradient

    try:
        spec.fn(_Recorder(np, "", seen), **({"grad": zero_grad} if spec.uses_grad else {}),
                **spec.arrays)
    except Exception:  # noqa: BLE001 - fn's own failures surface when the adapter runs it
        return None
    return seen


def missing_names(spec: Spec, namespace: Any) -> list[str]:
    """The names ``spec.fn`` reads from ``xp`` that ``namespace`` lacks, sorted."""
    return sorted(n for n in names_read(spec) or () if not _has(namespace, n.split(".")))


def _has(namespace: Any, path: list[str]) -> bool:
    for part in path:
        try:
            namespace = getattr(namespace, part)
        except AttributeError:
            return False
    return True


class _Recorder:
    """numpy, recording every dotted name read from it (``exp``, ``linalg.eigh``)."""

    def __init__(self, target: Any, prefix: str, seen: set[str]) -> None:
        self._target, self._prefix, self._seen = target, prefix, seen

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        dotted = self._prefix + name
        self._seen.add(dotted)
        return _Recorder(value, dotted + ".", self._seen) if isinstance(value, types.ModuleType) \
            else value

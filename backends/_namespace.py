"""What a function spec reads from ``xp`` that a backend's numpy-like namespace lacks.

Shared by every adapter that runs ``fn`` on a namespace (jax.numpy, autograd.numpy,
tensorflow.experimental.numpy): one dry run of ``fn`` on a recording numpy lists the dotted
names it reads (``exp``, ``linalg.eigh``); a name the namespace does not have makes the case
UNSUPPORTED with that name, instead of an ``AttributeError`` in the middle of a run.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from conformance.spec import Spec


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


def names_read(spec: Spec) -> set[str] | None:
    """The dotted names ``spec.fn`` reads from ``xp`` on numpy (None: ``fn`` raised there).

    An inner ``grad`` returns zeros; numpy's floating-point warnings are silenced, since
    convention specs evaluate functions at the edge of their domain on purpose.
    """
    seen: set[str] = set()

    def zero_grad(f: Any) -> Any:
        def gradient(x: Any, *rest: Any) -> Any:
            f(x, *rest)
            parts = [np.zeros_like(p) for p in (x if isinstance(x, list | tuple) else [x])]
            return type(x)(parts) if isinstance(x, list | tuple) else parts[0]
        return gradient

    try:
        with np.errstate(all="ignore"):
            spec.fn(_Recorder(np, "", seen), **({"grad": zero_grad} if spec.uses_grad else {}),
                    **spec.arrays)
    except Exception:  # noqa: BLE001 - fn's own failures surface when the adapter runs it
        return None
    return seen


def missing_in(spec: Spec, namespace: Any) -> str | None:
    """Which names ``spec.fn`` reads from ``xp`` that ``namespace`` lacks, as a one-line
    reason (``jax.numpy has no xp.median``), or None. Model specs need no namespace."""
    if spec.model is not None:
        return None
    seen = names_read(spec)
    missing = sorted(n for n in seen or () if not _has(namespace, n.split(".")))
    if not missing:
        return None
    label = getattr(namespace, "__name__", type(namespace).__name__)
    return f"{label} has no " + ", ".join(f"xp.{n}" for n in missing)


def _has(namespace: Any, path: list[str]) -> bool:
    for part in path:
        namespace = getattr(namespace, part, None)
        if namespace is None:
            return False
    return True

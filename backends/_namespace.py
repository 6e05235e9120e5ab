"""What a function spec reads from ``xp`` that a backend's numpy-like namespace lacks.

Shared by every adapter that runs ``fn`` on a namespace (jax.numpy, autograd.numpy,
tensorflow.experimental.numpy): one dry run of ``fn`` on a recording numpy lists the dotted
names it reads (``exp``, ``linalg.eigh``); a name the namespace does not have makes the case
UNSUPPORTED with that name, instead of an ``AttributeError`` in the middle of a run.
"""

from __future__ import annotations

import inspect
import types
from typing import Any

import numpy as np

from conformance.loops import python_scan
from conformance.spec import Spec


class _Recorder:
    """numpy, recording every dotted name read from it (``exp``, ``linalg.eigh``) and the
    keyword arguments each function is called with (``std`` -> ``ddof``)."""

    def __init__(self, target: Any, prefix: str, seen: dict[str, set[str]]) -> None:
        self._target, self._prefix, self._seen = target, prefix, seen

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        dotted = self._prefix + name
        keywords = self._seen.setdefault(dotted, set())
        if isinstance(value, types.ModuleType):
            return _Recorder(value, dotted + ".", self._seen)
        if not callable(value) or isinstance(value, type):
            return value

        def recorded(*args: Any, **kwargs: Any) -> Any:
            keywords.update(kwargs)
            return value(*args, **kwargs)
        return recorded


def names_read(spec: Spec) -> dict[str, set[str]] | None:
    """The dotted names ``spec.fn`` reads from ``xp`` on numpy, each with the keywords it is
    called with (None: ``fn`` raised there).

    An inner ``grad`` returns zeros and ``scan`` is the Python loop; numpy's floating-point
    warnings are silenced, since convention specs evaluate functions at the edge of their
    domain on purpose.
    """
    seen: dict[str, set[str]] = {}

    def zero_grad(f: Any) -> Any:
        def gradient(x: Any, *rest: Any) -> Any:
            f(x, *rest)
            parts = [np.zeros_like(p) for p in (x if isinstance(x, list | tuple) else [x])]
            return type(x)(parts) if isinstance(x, list | tuple) else parts[0]
        return gradient

    try:
        with np.errstate(all="ignore"):
            spec.evaluate(_Recorder(np, "", seen), spec.arrays, grad=zero_grad,
                          scan=python_scan(np))
    except Exception:  # noqa: BLE001 - fn's own failures surface when the adapter runs it
        return None
    return seen


def missing_in(spec: Spec, namespace: Any) -> str | None:
    """Which names (or keywords of functions) ``spec.fn`` reads from ``xp`` that ``namespace``
    lacks, as a one-line reason (``... has no xp.median, xp.std(ddof=)``), or None. Model
    specs need no namespace."""
    if spec.model is not None:
        return None
    missing = []
    for name, keywords in sorted((names_read(spec) or {}).items()):
        found = _lookup(namespace, name.split("."))
        if found is None:
            missing.append(f"xp.{name}")
        elif keywords and (lacking := sorted(_lacking_keywords(found, keywords))):
            missing.append(f"xp.{name}({', '.join(k + '=' for k in lacking)})")
    if not missing:
        return None
    label = getattr(namespace, "__name__", type(namespace).__name__)
    return f"{label} has no " + ", ".join(missing)


def _lookup(namespace: Any, path: list[str]) -> Any:
    for part in path:
        namespace = getattr(namespace, part, None)
        if namespace is None:
            return None
    return namespace


def _lacking_keywords(function: Any, keywords: set[str]) -> set[str]:
    """The keywords ``function`` does not take (none when its signature cannot be read)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return set()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return set()
    return keywords - {p.name for p in parameters
                       if p.kind is not inspect.Parameter.POSITIONAL_ONLY}

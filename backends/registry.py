"""Find backends by name without importing any framework.

A backend is named three ways: a built-in name (``jax``), a name registered by an installed
plug-in in the ``gradparity.backends`` entry-point group, or ``package.module:ClassName``.
Resolution imports only the adapter module, never the framework it wraps. A module that is
not on the Python path is looked for in the current folder too, as ``python -m`` would: a
plug-in ``mymod.py`` beside the user's files needs no ``PYTHONPATH``.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import importlib.metadata
import os
import sys

from backends.base import Backend

BUILTIN: dict[str, str] = {
    "tf-eager": "backends.tf_eager:TFEagerBackend",
    "tf-graph": "backends.tf_graph:TFGraphBackend",
    "jax": "backends.jax_backend:JaxBackend",
    "autograd": "backends.autograd_backend:AutogradBackend",
    "keras-jax": "backends.keras3:KerasJaxBackend",
    "keras-tf": "backends.keras3:KerasTFBackend",
    "keras-torch": "backends.keras3:KerasTorchBackend",
    "pytensor": "backends.pytensor_backend:PytensorBackend",
    "theano": "backends.theano_backend:TheanoBackend",
}
ENTRY_POINT_GROUP = "gradparity.backends"


class BackendNotFound(LookupError):
    """A backend name that is neither built in, registered, nor an importable module:Class."""


def plugins() -> dict[str, str]:
    """Backends registered by installed distributions: name -> ``module:Class``."""
    return {ep.name: ep.value for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def known() -> dict[str, str]:
    """Every backend name resolvable without a ``module:Class`` reference."""
    return {**BUILTIN, **plugins()}


@functools.cache
def framework_modules(fork_unsafe_only: bool = False) -> tuple[str, ...]:
    """The modules the built-in backends require (the keys of their ``requires``), in
    registry order, read from the adapter classes (importing no framework). With
    ``fork_unsafe_only``, only those of backends that are not ``fork_safe``: the frameworks
    whose presence in a process makes ``fork`` unsafe."""
    found: dict[str, None] = {}
    for name in BUILTIN:
        backend = load(BUILTIN[name])
        if not (fork_unsafe_only and backend.fork_safe):
            found.update(dict.fromkeys(backend.requires))
    return tuple(found)


def load(reference: str) -> Backend:
    """A backend instance from a name or a ``package.module:ClassName`` reference."""
    names = known()
    target = names.get(reference, reference)
    if ":" not in target:
        close = difflib.get_close_matches(reference, names, n=1)
        guess = f"did you mean {close[0]}? " if close else ""
        raise BackendNotFound(
            f"unknown backend {reference!r}; {guess}known: {', '.join(names)} "
            "(or give package.module:ClassName)")
    module_name, _, attr = target.partition(":")
    if not module_name or not attr or module_name.startswith("."):
        raise BackendNotFound(
            f"backend {reference!r}: not package.module:ClassName (an absolute module path, "
            "a colon, and a class or instance name)")
    try:
        module = _import_here_too(module_name)
    except ImportError as exc:
        raise BackendNotFound(f"backend {reference!r}: cannot import {module_name!r}: {exc}"
                              + _where_looked(module_name, exc)) from exc
    except Exception as exc:  # noqa: BLE001 - a plug-in module may fail on import in any way
        raise BackendNotFound(f"backend {reference!r}: cannot import {module_name!r}: "
                              f"{type(exc).__name__}: {exc}") from exc
    cls = getattr(module, attr, None)
    if cls is None:
        raise BackendNotFound(f"backend {reference!r}: module {module_name!r} has no {attr!r}")
    try:
        backend = cls() if isinstance(cls, type) else cls
    except Exception as exc:  # noqa: BLE001 - a constructor that needs arguments, or fails
        raise BackendNotFound(f"backend {reference!r}: {attr}() failed ({type(exc).__name__}: "
                              f"{exc}); a backend class must construct without arguments, or "
                              "name an instance instead") from exc
    if not isinstance(backend, Backend):
        raise BackendNotFound(
            f"backend {reference!r}: {attr} is not a backends.base.Backend subclass or instance")
    name = backend.name
    if not isinstance(name, str) or not name.strip() or not name.isprintable():
        raise BackendNotFound(f"backend {reference!r}: its name {name!r} is not a non-empty "
                              "printable string; set the class attribute name")
    return backend


def _import_here_too(module_name: str) -> object:
    """Import ``module_name``; when its top-level package is on no path entry, look in the
    current folder too (put first on ``sys.path``, as ``python -m`` does; workers inherit it)."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        here = os.getcwd()
        top = module_name.partition(".")[0]
        if exc.name != top or here in map(_absolute, sys.path):
            raise
    sys.path.insert(0, here)
    importlib.invalidate_caches()
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == top:  # not here either: leave the path as it was
            sys.path.remove(here)
        raise


def _absolute(entry: str) -> str:
    return os.path.abspath(entry or os.curdir)


def _where_looked(module_name: str, exc: ImportError) -> str:
    """For a module found nowhere: the folders searched (the current one, PYTHONPATH's, the
    installed packages'), so a wrong folder or a typo shows."""
    if not isinstance(exc, ModuleNotFoundError) or exc.name != module_name.partition(".")[0]:
        return ""  # found, but something inside it failed to import: the message says what
    folders = [os.getcwd(), *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                              if p)]
    site = [p for p in sys.path if p.endswith("-packages")]
    return (f" (looked in the current folder {folders[0]}"
            + "".join(f", {p}" for p in dict.fromkeys(folders[1:]))
            + (f" and the installed packages in {', '.join(dict.fromkeys(site))}" if site else "")
            + f"; a plug-in file must be {module_name.replace('.', '/')}.py in one of these)")

"""Find backends by name without importing any framework.

A backend is named three ways: a built-in name (``jax``), a name registered by an installed
plug-in in the ``gradparity.backends`` entry-point group, or ``package.module:ClassName``.
Resolution imports only the adapter module, never the framework it wraps.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata

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
        raise BackendNotFound(
            f"unknown backend {reference!r}; known: {', '.join(names)} "
            "(or give package.module:ClassName)")
    module_name, _, attr = target.partition(":")
    if not module_name or not attr or module_name.startswith("."):
        raise BackendNotFound(
            f"backend {reference!r}: not package.module:ClassName (an absolute module path, "
            "a colon, and a class or instance name)")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendNotFound(
            f"backend {reference!r}: cannot import {module_name!r}: {exc}") from exc
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

"""Find backends by name without importing any framework.

A backend is named three ways: a built-in name (``jax``), a name registered by an installed
plug-in in the ``gradparity.backends`` entry-point group, or ``package.module:ClassName``.
Resolution imports only the adapter module, never the framework it wraps.
"""

from __future__ import annotations

import importlib
import importlib.metadata

from backends.base import Backend

BUILTIN: dict[str, str] = {
    "tf-eager": "backends.tf_eager:TFEagerBackend",
    "tf-graph": "backends.tf_graph:TFGraphBackend",
    "jax": "backends.jax_backend:JaxBackend",
    "autograd": "backends.autograd_backend:AutogradBackend",
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


def load(reference: str) -> Backend:
    """A backend instance from a name or a ``package.module:ClassName`` reference."""
    names = known()
    target = names.get(reference, reference)
    if ":" not in target:
        raise BackendNotFound(
            f"unknown backend {reference!r}; known: {', '.join(names)} "
            "(or give package.module:ClassName)")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendNotFound(
            f"backend {reference!r}: cannot import {module_name!r}: {exc}") from exc
    cls = getattr(module, attr, None)
    if cls is None:
        raise BackendNotFound(f"backend {reference!r}: module {module_name!r} has no {attr!r}")
    backend = cls() if isinstance(cls, type) else cls
    if not isinstance(backend, Backend):
        raise BackendNotFound(
            f"backend {reference!r}: {attr} is not a backends.base.Backend subclass or instance")
    return backend

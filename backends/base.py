"""The adapter contract: what a backend is and what its programs return.

Rules every adapter keeps (a plug-in author's checklist):

* Importing the adapter's module imports no framework; import it inside ``prepare``.
* ``prepare(spec)`` does the once-per-spec work (trace, jit, build a graph or a model) and
  returns a :data:`Program`.
* ``program(arrays)`` takes a dict of numpy arrays (every array of the spec, in the spec's
  dtype) and returns a dict of numpy arrays: ``"value"`` (the output of ``fn``) and one key
  per ``wrt`` name shaped as :func:`conformance.spec.derivative_shape` says. It is called
  many times with new values; the harness relies on that for its probes.
* Optional: ``prepare_forward(spec)`` returns a program of the value alone (used only by
  ``run --timings`` for its derivative/forward ratio).
* Optional program hooks, read after every call: ``trace_count()``, ``graph_op_count()``,
  ``weights_in_use()`` (see ``conformance.harness.HOOKS`` and README's contract section).
* Adapters compute; they never compare, tolerate or diagnose. Judging is the harness's.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol

import numpy as np

from conformance.spec import KINDS, Spec

Arrays = Mapping[str, np.ndarray]


class Program(Protocol):
    """A prepared computation: arrays in, ``{"value": ..., <wrt name>: ...}`` out."""

    def __call__(self, arrays: Arrays) -> dict[str, Any]: ...


class Unsupported(Exception):
    """Raised by a program when the framework cannot compute what the spec asks (no
    derivative rule for an op, say): the case is UNSUPPORTED with this message, not ERROR."""


class Backend:
    """Base class of adapters. Subclasses set the class attributes and implement ``prepare``."""

    #: Name used on the command line and in reports.
    name: ClassVar[str] = ""
    #: Importable modules the backend needs: module name -> distribution name for versions.
    requires: ClassVar[Mapping[str, str]] = {}
    #: Spec kinds it computes; any other is reported UNSUPPORTED.
    kinds: ClassVar[frozenset[str]] = frozenset(KINDS)
    #: Whether it can run specs that call ``grad`` inside ``fn``.
    supports_inner_grad: ClassVar[bool] = True
    #: The gradparity extra that installs the framework (built-ins), for the SKIPPED message.
    extra: ClassVar[str | None] = None

    def prepare(self, spec: Spec) -> Program:
        """Do the once-per-spec work and return the program."""
        raise NotImplementedError

    def prepare_forward(self, spec: Spec) -> Program | None:
        """Optional: a program computing ``fn`` alone (``{"value": ...}``), prepared as
        ``prepare`` prepares the derivative, so ``run --timings`` can report how many forward
        calls one derivative call costs. None (the default): no ratio is reported."""
        return None

    def unsupported_reason(self, spec: Spec) -> str | None:
        """Why this backend cannot run ``spec``, or None when it can."""
        if spec.kind not in self.kinds:
            return f"{self.name} does not compute kind {spec.kind!r}"
        if spec.uses_grad and not self.supports_inner_grad:
            return f"{self.name} does not differentiate inside fn (spec uses grad)"
        return None

    def missing_modules(self) -> list[str]:
        """Required modules that are not installed (found without importing them)."""
        return [m for m in self.requires if importlib.util.find_spec(m) is None]

    def install_hint(self) -> str:
        """The command that installs what ``missing_modules`` reports."""
        if self.extra:
            return f"pip install 'gradparity[{self.extra}]'"
        return "pip install " + " ".join(dict.fromkeys(self.requires.values()))

    def versions(self) -> dict[str, str]:
        """Installed versions of the required distributions, read without importing them."""
        found = {}
        for module, dist in self.requires.items():
            try:
                found[module] = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                found[module] = "not installed"
        return found

    def numerics(self) -> dict[str, str]:
        """Numeric settings the backend pins (shown in the run header)."""
        return {}


class FunctionBackend(Backend):
    """Wrap a plain callable ``compute(spec, arrays) -> dict`` as a backend, in one line.

    This is how a user's own gradient code (their TF1 session code, say) is checked::

        FunctionBackend("my-session-code", lambda spec, arrays: {"value": ..., "x": ...})
    """

    def __init__(self, name: str, compute: Callable[[Spec, Arrays], dict[str, Any]],
                 kinds: frozenset[str] | None = None) -> None:
        self.name = name
        self.compute = compute
        if kinds is not None:
            self.kinds = frozenset(kinds)

    def prepare(self, spec: Spec) -> Program:
        return lambda arrays: self.compute(spec, arrays)


def split(spec: Spec, arrays: Arrays) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split arrays into (the ones differentiated against, the fixed ones)."""
    wrt = {n: arrays[n] for n in spec.wrt}
    fixed = {n: a for n, a in arrays.items() if n not in wrt}
    return wrt, fixed


def to_numpy(result: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Convert a dict of framework arrays to numpy (``np.asarray`` handles jax, tf, autograd)."""
    return {k: np.asarray(v) for k, v in result.items()}

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
  ``weights_in_use()`` (see ``conformance.harness.HOOKS`` and docs/plugins/contract.md).
* Optional: ``namespace()`` returns the numpy-like module function specs run on; a name a
  spec's ``fn`` reads that it lacks makes the case UNSUPPORTED (``backends._namespace``).
* A framework that cannot compute a spec at run time is UNSUPPORTED with the framework's own
  message, not an ERROR (:meth:`Backend.refusal`): an exception raised inside the framework's
  code (a package named in ``requires``: no derivative rule, ``NotImplementedError``, ``len()``
  of a symbolic tensor) or by ``fn``'s own code on the framework's arrays (a method its
  tensors lack); :class:`Unsupported` raised anywhere, and the framework messages listed in
  ``no_rule_messages``. An exception raised in the adapter's own code stays an ERROR.
* Adapters compute; they never compare, tolerate or diagnose. Judging is the harness's.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import re
import traceback
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol

import numpy as np

from conformance.spec import KINDS, Spec

Arrays = Mapping[str, np.ndarray]


class Program(Protocol):
    """A prepared computation: arrays in, ``{"value": ..., <wrt name>: ...}`` out."""

    def __call__(self, arrays: Arrays) -> dict[str, Any]: ...


class Unsupported(Exception):  # noqa: N818 - named for the status it becomes
    """Raised by an adapter or its program: the framework cannot compute this spec (the
    message says why, e.g. a function the namespace lacks or an option it does not take)."""


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
    #: Whether a process that imported the framework may still fork workers: True for a
    #: framework that starts no native threads when imported (autograd, Theano, PyTensor).
    fork_safe: ClassVar[bool] = False
    #: Regular expressions matching the framework's errors that mean "no derivative rule for
    #: this op" (searched in ``"ExceptionType: message"``): such a case is UNSUPPORTED.
    no_rule_messages: ClassVar[tuple[str, ...]] = ()

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
        namespace = self.namespace() if spec.model is None else None
        if namespace is not None:
            from backends._namespace import missing_in

            return missing_in(spec, namespace)
        return None

    def namespace(self) -> Any:
        """The numpy-like module function specs run on (importing the framework), or None
        (the default) when the adapter has none to check a spec's names against."""
        return None

    def unsupported_error(self, exc: BaseException) -> str | None:
        """The reason to report UNSUPPORTED when preparing or calling a program raised
        ``exc`` because the framework cannot compute the spec, else None (an ERROR). The
        causes of ``exc`` count too: ``tf.function`` wraps the error it traced in another."""
        seen: set[int] = set()
        while exc is not None and id(exc) not in seen:
            seen.add(id(exc))
            text = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, Unsupported) or any(re.search(p, text)
                                                    for p in self.no_rule_messages):
                return _first_line(exc)
            exc = exc.__cause__ or exc.__context__
        return None

    def refusal(self, exc: BaseException) -> str | None:
        """The reason to report UNSUPPORTED for ``exc``, raised while preparing or calling a
        program, or None when it is an ERROR (see :func:`raised_by_framework`)."""
        reason = self.unsupported_error(exc)
        if reason is None and raised_by_framework(exc, self.framework_packages(),
                                                  self.adapter_modules()):
            reason = _first_line(exc)
        return reason

    def framework_packages(self) -> frozenset[str]:
        """Top-level packages of the framework: an exception raised in their code is the
        framework's refusal (default: the packages of ``requires``)."""
        return frozenset(m.partition(".")[0] for m in self.requires)

    def adapter_modules(self) -> frozenset[str]:
        """Modules holding the adapter's own code: an exception raised there is an ERROR."""
        return frozenset({type(self).__module__, self.source_module()})

    def missing_modules(self) -> list[str]:
        """Required modules that are not installed (found without importing them)."""
        return [m for m in self.requires if importlib.util.find_spec(m) is None]

    def install_hint(self) -> str:
        """The command that installs what ``missing_modules`` reports."""
        if self.extra:
            return f"pip install 'gradparity[{self.extra}]'"
        return "pip install " + " ".join(dict.fromkeys(self.requires.values()))

    def versions(self) -> dict[str, str]:
        """Installed versions of the required distributions, read without importing them; a
        backend that requires nothing reports the distribution its own code comes from."""
        if not self.requires:
            return distribution_versions(self.source_module())
        found = {}
        for module, dist in self.requires.items():
            try:
                found[module] = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                found[module] = "not installed"
        return found

    def source_module(self) -> str:
        """The module holding the backend's own code (its versions when it requires nothing)."""
        return type(self).__module__

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

    def source_module(self) -> str:
        return getattr(self.compute, "__module__", None) or "__main__"


#: Exceptions that say nothing about what a framework can compute, wherever they are raised.
_NEVER_REFUSALS = (MemoryError, RecursionError)


def _first_line(exc: BaseException) -> str:
    """``"ExceptionType: first line of the message"``."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def raised_by_framework(exc: BaseException, framework: frozenset[str],
                        adapter: frozenset[str]) -> bool:
    """Whether ``exc`` is the framework refusing the spec rather than the adapter failing.

    Read from where it was raised, innermost frame first: in the framework's own code (a
    module under one of the ``framework`` packages) it is the framework's refusal; in
    ``fn``'s own code, reached before any adapter frame (``fn`` runs on numpy, so what it
    does on the framework's arrays fails only for the framework: a method its tensors lack,
    ``len()`` of a symbolic tensor), too; in the adapter's code (the ``backends`` package or
    a module in ``adapter``) it is an ERROR. numpy, the standard library and other code in
    between decide nothing."""
    if isinstance(exc, _NEVER_REFUSALS) or not isinstance(exc, Exception):
        return False
    frames = [frame for frame, _ in traceback.walk_tb(exc.__traceback__)]
    for frame in reversed(frames):
        module = frame.f_globals.get("__name__", "")
        if module.partition(".")[0] in framework:
            return True
        if module in adapter or module.partition(".")[0] == "backends":
            return False
        if module == "conformance.spec" and frame.f_code.co_name == "evaluate":
            return True  # the boundary of fn: its own code raised
    return False


@functools.cache
def _distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distribution_versions(module: str) -> dict[str, str]:
    """Distribution name -> version of the installed distribution(s) providing ``module``'s
    top-level package; empty for code outside any distribution (a script, a test file)."""
    found = {}
    for dist in _distributions().get(module.partition(".")[0], []):
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def split(spec: Spec, arrays: Arrays) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split arrays into (the ones differentiated against, the fixed ones)."""
    wrt = {n: arrays[n] for n in spec.wrt}
    fixed = {n: a for n, a in arrays.items() if n not in wrt}
    return wrt, fixed


def to_numpy(result: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Convert a dict of framework arrays to numpy (``np.asarray`` handles jax, tf, autograd)."""
    return {k: np.asarray(v) for k, v in result.items()}

"""Shared skeleton of the adapters built on function transforms (JAX, autograd, TF eager).

A subclass supplies one idiomatic method per derivative kind; this class dispatches on the
spec's kind, closes the spec over the framework's namespace, and compiles once per spec.
Each method takes ``f(wrt, fixed)`` (dicts of arrays) and returns ``(value, derivatives)``
with one derivative per ``wrt`` name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from backends.base import Arrays, Backend, Program, split, to_numpy
from conformance.loops import Scan, python_scan
from conformance.spec import Spec

Objective = Callable[[dict[str, Any], dict[str, Any]], Any]
Derivatives = tuple[Any, dict[str, Any]]


def forward_only(f: Objective, wrt: dict, fixed: dict) -> Derivatives:
    """The value of ``f`` and no derivatives: what a forward program computes."""
    return f(wrt, fixed), {}


class FunctionalBackend(Backend):
    """An adapter whose framework differentiates Python functions."""

    #: Whether ``compile`` traces the Python function once and reuses the trace (jax.jit):
    #: then the program offers the ``trace_count`` hook, and retracing can be diagnosed.
    compiles_by_tracing: bool = False

    def namespace(self) -> Any:
        """The numpy-like module ``fn`` is run with (imports the framework)."""
        raise NotImplementedError

    def inner_grad(self) -> Callable[[Callable], Callable]:
        """The framework's ``grad`` handed to specs that differentiate inside ``fn``."""
        raise NotImplementedError

    def scan(self) -> Scan:
        """The loop operator handed to specs with ``uses_scan`` (default: a Python loop)."""
        return python_scan(self.namespace())

    def compile(self, compute: Callable[..., Derivatives]) -> Callable[..., Derivatives]:
        """Compile the derivative computation once per spec (default: run it as is)."""
        return compute

    def grad(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        raise NotImplementedError

    def jacobian(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        raise NotImplementedError

    def jvp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict) -> Derivatives:
        raise NotImplementedError

    def vjp(self, f: Objective, wrt: dict, fixed: dict, cotangent: Any) -> Derivatives:
        raise NotImplementedError

    def hvp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict) -> Derivatives:
        raise NotImplementedError

    def objective(self, spec: Spec) -> Objective:
        """``fn`` as ``f(wrt, fixed)`` on the framework's namespace (and its inner ``grad``)."""
        xp = self.namespace()
        inner = self.inner_grad() if spec.uses_grad else None
        scan = self.scan() if spec.uses_scan else None
        return lambda wrt, fixed: spec.evaluate(xp, {**fixed, **wrt}, grad=inner, scan=scan)

    def derivative(self, spec: Spec) -> Callable[[Objective, dict, dict], Derivatives]:
        """The method for the spec's kind, with its tangents or cotangent bound."""
        method = getattr(self, spec.kind)
        if spec.kind in ("jvp", "hvp"):
            tangents = spec.cast(spec.tangents)
            return lambda f, wrt, fixed: method(f, wrt, fixed, tangents)
        if spec.kind == "vjp":
            cotangent = spec.cast({"c": spec.cotangent})["c"]
            return lambda f, wrt, fixed: method(f, wrt, fixed, cotangent)
        return method

    def prepare(self, spec: Spec) -> Program:
        return self.build(spec, self.derivative(spec))

    def prepare_forward(self, spec: Spec) -> Program:
        """``fn`` alone, compiled as the derivative is (for ``run --timings``)."""
        return self.build(spec, forward_only)

    def build(self, spec: Spec, derivative: Callable[[Objective, dict, dict], Derivatives]
              ) -> Program:
        """The program computing ``derivative`` of the spec's objective, compiled once."""
        f = self.objective(spec)
        runs = [0]

        def body(wrt: dict, fixed: dict) -> Derivatives:
            runs[0] += 1  # under a tracing compiler this Python runs once per trace
            return derivative(f, wrt, fixed)

        compute = self.compile(body)

        def program(arrays: Arrays) -> dict[str, np.ndarray]:
            value, derivatives = compute(*split(spec, arrays))
            return to_numpy({"value": value, **derivatives})

        if self.compiles_by_tracing:
            program.trace_count = lambda: runs[0]
        return program

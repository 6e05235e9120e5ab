"""Backends for the plug-in and report tests, importable as ``plugin_backends:ClassName``.

Each is a real backend (autograd underneath) with one planted property: 1 % off (FAIL),
a framework that is not installed (SKIPPED), only gradients (UNSUPPORTED for the rest), a
process crash on chosen specs; and two that must not load (a constructor needing arguments,
an empty name).
"""

from __future__ import annotations

import ctypes
import os
import time

from backends.autograd_backend import AutogradBackend
from backends.base import Backend, Program
from conformance.spec import Spec


class Wrong(AutogradBackend):
    """Autograd's derivatives, scaled by 1.01: a FAIL on every spec."""

    name = "wrong"

    def prepare(self, spec: Spec) -> Program:
        program = super().prepare(spec)
        return lambda arrays: {k: v if k == "value" else v * 1.01
                               for k, v in program(arrays).items()}


class Missing(Backend):
    """Needs a framework no machine has: SKIPPED, never run."""

    name = "missing"
    requires = {"no_such_framework_xyz": "no-such-framework-xyz"}


class GradOnly(AutogradBackend):
    """Computes gradients only: UNSUPPORTED on every other kind."""

    name = "grad-only"
    kinds = frozenset({"grad"})


class Crashes(AutogradBackend):
    """Autograd, except that it kills its process on two specs as a broken native extension
    would, a segmentation fault (reading address 0) on ``polynomial-float32`` and
    ``os.abort()`` on ``rosenbrock-hvp-float32``, and hangs on ``logsumexp-float32``."""

    name = "crashes"

    def prepare(self, spec: Spec) -> Program:
        if spec.name == "polynomial-float32":
            ctypes.string_at(0)
        if spec.name == "rosenbrock-hvp-float32":
            os.abort()
        if spec.name == "logsumexp-float32":
            time.sleep(3600)
        return super().prepare(spec)


class NeedsArguments(AutogradBackend):
    """A constructor that needs an argument: ``-b plugin_backends:NeedsArguments`` must be a
    one-line usage error, not a traceback."""

    name = "needs-arguments"

    def __init__(self, scale: float) -> None:
        self.scale = scale


class Nameless(AutogradBackend):
    """A subclass that forgot its name (the base class's is empty)."""

    name = ""

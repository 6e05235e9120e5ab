"""Backends that misbehave on purpose, importable as ``planted_faults:ClassName``.

Each answers correctly (through the autograd adapter) except on the specs matching ``on``,
where it crashes, hangs, exhausts memory or returns a lying output. When the environment
variable ``PLANTED_PIDS`` names a directory, every ``prepare`` records the worker's pid
there (one file per backend), so tests can see which processes ran which cases.
"""

from __future__ import annotations

import fnmatch
import os
import signal
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from backends.autograd_backend import AutogradBackend
from backends.base import Program
from conformance.spec import Spec

#: Specs the planted backends misbehave on unless a subclass says otherwise.
TARGET = "logsumexp-*"


class Planted(AutogradBackend):
    """A correct backend, except that ``fault`` happens when a spec matches ``on``."""

    name: ClassVar[str] = "planted"
    on: ClassVar[str] = TARGET

    def prepare(self, spec: Spec) -> Program:
        if os.environ.get("PLANTED_PIDS"):
            with open(Path(os.environ["PLANTED_PIDS"]) / self.name, "a") as log:
                log.write(f"{os.getpid()} {spec.name}\n")
        program = super().prepare(spec)
        if not fnmatch.fnmatchcase(spec.name, self.on):
            return program
        self.fault(spec)
        return lambda arrays: self.lie(spec, program(arrays))

    def fault(self, spec: Spec) -> None:
        """What happens in ``prepare`` on a targeted spec (nothing by default)."""

    def lie(self, spec: Spec, output: dict[str, np.ndarray]) -> Any:
        """What the program returns on a targeted spec (the truth by default)."""
        return output


# -- crashes, hangs, memory ---------------------------------------------------------------

class Abort(Planted):
    name = "abort"

    def fault(self, spec: Spec) -> None:
        os.abort()


class Segfault(Planted):
    name = "segfault"

    def fault(self, spec: Spec) -> None:
        os.kill(os.getpid(), signal.SIGSEGV)


class Exit(Planted):
    name = "exit"

    def fault(self, spec: Spec) -> None:
        print("planted: giving up", flush=True)
        os._exit(7)


class Hang(Planted):
    name = "hang"

    def fault(self, spec: Spec) -> None:
        time.sleep(3600)


class HangAlways(Hang):
    """Hangs on every spec: after two timeouts in a row its other cases must not be tried."""

    name = "hang-always"
    on = "*"


class MemoryHog(Planted):
    """Allocates without bound (untouched pages: only an address-space limit stops it)."""

    name = "memory-hog"

    def fault(self, spec: Spec) -> None:
        hoard = []
        while True:
            hoard.append(np.empty(256 * 2**20, dtype=np.uint8))


class Raise(Planted):
    name = "raise"

    def fault(self, spec: Spec) -> None:
        raise RuntimeError("planted failure")


class Slow(Planted):
    """Marks (file ``PLANTED_MARK``) that it reached a targeted spec, then sleeps: lets a
    test interrupt a run at a known point."""

    name = "slow"
    on = "polynomial-float32"

    def fault(self, spec: Spec) -> None:
        Path(os.environ["PLANTED_MARK"]).write_text(str(os.getpid()))
        time.sleep(3600)


# -- outputs that lie -------------------------------------------------------------------

class Tensor:
    """Stands in for a framework tensor: array-like attributes, and it cannot be pickled."""

    def __init__(self, array: np.ndarray) -> None:
        self.shape, self.dtype, self._array = array.shape, array.dtype, array

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle a Tensor")


class Outlier(Planted):
    """Off by 1 % on the targeted specs, where every other backend agrees: the outlier."""

    name = "outlier"

    def lie(self, spec: Spec, output: dict[str, np.ndarray]) -> Any:
        return {k: v if k == "value" else v * 1.01 for k, v in output.items()}


def _first(spec: Spec) -> str:
    return spec.wrt[0]


def _replace(key: str | None, make: Any) -> Any:
    """A lie that replaces one key (None: the first ``wrt`` name) by ``make(its array)``."""
    def lie(spec: Spec, out: dict[str, np.ndarray]) -> dict[str, Any]:
        name = key or _first(spec)
        return {**out, name: make(out[name])}
    return lie


def _jax_array(array: np.ndarray) -> Any:
    import jax

    jax.config.update("jax_enable_x64", True)  # process-global: the same in every worker
    return jax.numpy.asarray(array)


def _poison(value: float) -> Any:
    def poison(array: np.ndarray) -> np.ndarray:
        array = array.copy()
        array.flat[0] = value
        return array
    return poison


#: Lie name -> (spec, true output) -> the lying output.
LIES: dict[str, Any] = {
    "none": lambda spec, out: None,
    "list": lambda spec, out: list(out.values()),
    "missing-key": lambda spec, out: {k: v for k, v in out.items() if k != _first(spec)},
    "extra-key": lambda spec, out: {**out, "bonus": out["value"]},
    "none-gradient": _replace(None, lambda a: None),
    "wrong-shape": _replace(None, lambda a: np.append(a.ravel(), 0.0)),
    "float32": _replace(None, lambda a: a.astype(np.float32)),
    "complex": _replace(None, lambda a: a.astype(np.complex128)),
    "integer": _replace(None, lambda a: a.astype(np.int64)),
    "python-scalar": _replace("value", float),
    "tensor": _replace(None, Tensor),
    "jax-array": _replace(None, _jax_array),
    "nan": _replace(None, _poison(np.nan)),
    "inf": _replace(None, _poison(np.inf)),
}


def _liar_class(lie: str) -> type[Planted]:
    """A module-level class (so spawned workers can unpickle it) returning ``lie``."""
    name = "Lie_" + lie.replace("-", "_")
    cls = type(name, (Planted,), {"name": f"lie-{lie}", "__module__": __name__,
                                  "lie": lambda self, spec, out: LIES[lie](spec, out)})
    globals()[name] = cls
    return cls


LIARS: dict[str, type[Planted]] = {lie: _liar_class(lie) for lie in LIES}


def liar(lie: str) -> Planted:
    """A backend named ``lie-<lie>`` whose program returns that lie on the targeted specs."""
    return LIARS[lie]()

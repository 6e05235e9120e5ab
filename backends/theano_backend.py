"""Theano 1.0.5 adapter (seed 003's framework): ``T.grad``, ``theano.gradient.jacobian``,
``T.Rop`` (the double-``Lop`` form where an op lacks an R-operator), ``T.Lop``, a
Hessian-vector product, one ``theano.function`` per spec.

The shared symbolic-graph logic is in :mod:`backends._theano_like`. Theano needs the numpy
of its time (its own environment: ``tox -e theano``, docs/reference/backends.md, "Theano
env"), and three settings on today's Python, made by :func:`theano` before the import:

* ``THEANO_FLAGS`` gets ``blas.ldflags=`` (without it the import fails on
  ``numpy.distutils.__config__.blas_opt_info``; Theano then uses its NumPy C-API BLAS) and
  ``base_compiledir=<user cache>/gradparity/theano`` (its compiled C code, kept between
  runs), unless the user's own ``THEANO_FLAGS`` already set them;
* Theano's Cython ``scan`` extension (``scan_perform.c``, generated for old Pythons) does not
  compile on Python 3.11, so it is blocked and ``scan`` (inside ``theano.gradient.jacobian``)
  runs Theano's own Python loop over C-compiled steps: its fallback when the extension is
  missing;
* Theano 1.0.5 predates ``@`` on tensors: ``__matmul__`` is added as ``T.dot`` (numpy's
  ``matmul`` for arrays of up to two axes; more raise ``NotImplementedError``).
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any

import numpy as np

from backends._theano_like import TheanoLikeBackend
from backends.base import Unsupported
from conformance.spec import Spec

#: THEANO_FLAGS entries the adapter adds (unless already set) before Theano is imported.
FLAGS: dict[str, str] = {"blas.ldflags": ""}
#: The Cython scan extension that cannot be compiled on Python 3.11 (see the module docstring).
SCAN_EXTENSION = "theano.scan_module.scan_perform_ext"


def compiledir() -> str:
    """Where Theano keeps its compiled C code: ``$XDG_CACHE_HOME/gradparity/theano``."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "gradparity", "theano")


def theano_flags(existing: str) -> str:
    """``existing`` THEANO_FLAGS plus the adapter's, without overriding what the user set."""
    entries = [e for e in existing.split(",") if e.strip()]
    given = {e.split("=", 1)[0].strip() for e in entries}
    wanted = {**FLAGS, "base_compiledir": compiledir()}
    if "compiledir" in given:
        wanted.pop("base_compiledir")
    entries += [f"{k}={v}" for k, v in wanted.items() if k not in given]
    return ",".join(entries)


@functools.cache
def theano() -> Any:
    """Import and configure Theano once per process (see the module docstring)."""
    if "theano" not in sys.modules:
        os.environ["THEANO_FLAGS"] = theano_flags(os.environ.get("THEANO_FLAGS", ""))
        sys.modules.setdefault(SCAN_EXTENSION, None)  # an ImportError: Theano's Python scan
    import theano
    import theano.tensor as T
    import theano.tensor.slinalg  # noqa: F401 - makes T.slinalg an attribute
    from theano.tensor.var import _tensor_py_operators as operators

    if not hasattr(operators, "__matmul__"):
        operators.__matmul__ = lambda a, b: _matmul(T, a, b)
        operators.__rmatmul__ = lambda b, a: _matmul(T, a, b)
    return theano


def _matmul(T: Any, a: Any, b: Any) -> Any:  # noqa: N803 - Theano's customary name
    """numpy's ``matmul`` for arrays of up to two axes, which is ``T.dot``."""
    a, b = T.as_tensor_variable(a), T.as_tensor_variable(b)
    if a.ndim > 2 or b.ndim > 2:
        raise Unsupported(f"Theano 1.0.5 has no matmul of {a.ndim}-d and {b.ndim}-d tensors "
                          "(T.dot, which @ is here, is numpy's dot; up to 2-d they agree)")
    return T.dot(a, b)


class TheanoBackend(TheanoLikeBackend):
    name = "theano"
    extra = "theano"
    requires = {"theano": "theano"}
    module_name = "theano"

    #: Layers whose xp forward reads a static shape (window sizes, time steps, the flattened
    #: width), which Theano 1.0.5's tensors do not carry (its types know only the rank).
    STATIC_SHAPE_LAYERS = frozenset({"Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten",
                                     "LSTM", "GRU", "Embedding"})

    def unsupported_reason(self, spec: Spec) -> str | None:
        layers = {layer.class_name for layer in getattr(spec.model, "layers", ())}
        if needs := sorted(layers & self.STATIC_SHAPE_LAYERS):
            return (f"Theano 1.0.5 tensors carry no static shapes, which the forward of "
                    f"{', '.join(needs)} reads (pytensor runs these models)")
        return super().unsupported_reason(spec)

    def install_hint(self) -> str:
        """Theano pins an old numpy, so it goes into its own environment, not this one."""
        return ("its own environment, as it pins numpy 1.23.5: tox -e theano, or "
                "pip install 'gradparity[theano]' in a fresh venv")

    def numerics(self) -> dict[str, str]:
        return {**super().numerics(), "THEANO_FLAGS": theano_flags("")}

    def framework(self) -> Any:
        return theano()

    def variable(self, name: str, array: np.ndarray) -> Any:
        broadcastable = tuple(s == 1 for s in array.shape)
        return theano().tensor.TensorType(str(array.dtype), broadcastable)(name)

    def float_flags(self, dtype: str) -> Any:
        return theano().change_flags(floatX=dtype)

    def matmul(self) -> Any:
        return functools.partial(_matmul, theano().tensor)

    def pushforward(self, value: Any, w: Any, tangent: Any) -> Any:
        """``T.Rop``; where an op of the graph has no R-operator (Theano 1.0.5's ``max``, for
        one), the double-``Lop`` form ``Lop(Lop(value, w, u), u, tangent)``, which holds for
        any ``u`` (zeros here)."""
        try:
            return super().pushforward(value, w, tangent)
        except (NotImplementedError, ValueError):
            T = theano().tensor  # noqa: N806 - Theano's customary name
            u = value.type()
            product = T.Lop(T.Lop(value, w, u, disconnected_inputs="ignore"), u, tangent)
            return theano().clone(product, replace={u: T.zeros_like(value)})

    def linalg(self) -> dict[str, Any]:
        T = theano().tensor  # noqa: N806 - Theano's customary name
        return {"det": T.nlinalg.det, "inv": T.nlinalg.matrix_inverse,
                "solve": T.slinalg.solve, "cholesky": T.slinalg.cholesky}

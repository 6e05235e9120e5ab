"""pytensor adapter (Theano's maintained successor): ``pytensor.grad``, ``gradient.jacobian``,
``pushforward`` and ``pullback`` (pytensor 3's names for ``Rop`` and ``Lop``, which older
versions use), a Hessian-vector product, one ``pytensor.function`` per spec.

The shared symbolic-graph logic is in :mod:`backends._theano_like`. pytensor runs with its own
defaults, as its users get them: pytensor 3 compiles with numba (caching compiled code on disk,
so a spec's first run ever is the slow one).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backends._theano_like import TheanoLikeBackend

#: numpy ``linalg`` names ``xp.linalg`` offers where pytensor has them.
LINALG = ("det", "inv", "solve", "cholesky", "norm", "slogdet", "eigh", "pinv")


class PytensorBackend(TheanoLikeBackend):
    name = "pytensor"
    extra = "pytensor"
    requires = {"pytensor": "pytensor"}
    module_name = "pytensor"

    def framework(self) -> Any:
        import pytensor
        import pytensor.tensor

        return pytensor

    def linalg(self) -> dict[str, Any]:
        try:
            from pytensor.tensor import linalg
        except ImportError:  # pytensor releases before the numpy-like linalg module
            return {}
        return {n: getattr(linalg, n) for n in LINALG if hasattr(linalg, n)}

    def variable(self, name: str, array: np.ndarray) -> Any:
        """A symbolic input with the array's static shape (model layers read it). Named after
        it is made: ``tensor(name=...)`` rejects names numpy reads as a dtype (``half``,
        ``long``, and on pytensor 2.18 ``b1``), which are fine names for a spec's input."""
        variable = self.framework().tensor.tensor(dtype=array.dtype, shape=array.shape)
        variable.name = name
        return variable

    def float_flags(self, dtype: str) -> Any:
        return self.framework().config.change_flags(floatX=dtype)

    def pushforward(self, value: Any, w: Any, tangent: Any) -> Any:
        gradient = self.framework().gradient
        if not hasattr(gradient, "pushforward"):
            return super().pushforward(value, w, tangent)
        return gradient.pushforward(value, w, tangent, disconnected_outputs="ignore")

    def pullback(self, value: Any, wrt: list, cotangent: Any) -> list:
        gradient = self.framework().gradient
        if not hasattr(gradient, "pullback"):
            return super().pullback(value, wrt, cotangent)
        return gradient.pullback(value, wrt, cotangent, disconnected_inputs="ignore")

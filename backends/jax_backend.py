"""JAX adapter: ``jax.value_and_grad``, ``jacrev``, ``jvp``, ``vjp``; HVP forward-over-reverse.

Each spec's derivative is ``jax.jit``-compiled once. ``jax_enable_x64`` is switched on (it is
process-global, so the harness runs JAX in its own worker) and matmuls run at the highest
precision, so float64 specs really run in float64 and no TF32 shortcut blurs float32 ones.

Compiled programs go to JAX's persistent compilation cache, so a repeated run skips XLA
compilation (tracing still happens, and is still counted): ``$GRADPARITY_JAX_CACHE`` names
the directory, ``off`` turns it off; by default ``$XDG_CACHE_HOME/gradparity/jax``
(``~/.cache/gradparity/jax``).
"""

from __future__ import annotations

import functools
import os
from typing import Any

from backends._numpy_names import Names, arrays_for_lists, clip, numpy_linalg
from backends.functional import Derivatives, FunctionalBackend, Objective

#: Environment variable naming the compilation cache directory, or ``off``.
CACHE_ENV = "GRADPARITY_JAX_CACHE"


def compilation_cache_dir() -> str | None:
    """Where compiled programs are cached (see the module docstring), or None when off."""
    setting = os.environ.get(CACHE_ENV, "").strip()
    if setting.lower() in ("off", "0", "no", "false"):
        return None
    if setting:
        return setting
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gradparity", "jax")


def _jax() -> Any:
    import jax

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_default_matmul_precision", "highest")
    # whole tracebacks: where an exception was raised tells the framework's refusal
    # (UNSUPPORTED) from the adapter's fault (ERROR), see Backend.refusal
    jax.config.update("jax_traceback_filtering", "off")
    cache = compilation_cache_dir()
    if cache:
        jax.config.update("jax_compilation_cache_dir", cache)
        # the catalog's programs compile in well under JAX's default threshold of 1 s
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return jax


@functools.cache
def numpy_namespace() -> Names:
    """``jax.numpy`` with numpy's meaning where its names differ: ``clip``'s ``a_min`` and
    ``a_max``, Python lists as ``take`` indices and ``repeat`` counts, and the triangle
    ``linalg.eigh``/``eigvalsh``/``cholesky`` read (jax symmetrizes the input)."""
    jnp = _jax().numpy
    return Names(jnp, "jax.numpy", clip=clip(lambda a, low, high: jnp.clip(a, low, high)),
                 take=arrays_for_lists(jnp.take), repeat=arrays_for_lists(jnp.repeat),
                 linalg=Names(jnp.linalg, "jax.numpy.linalg", **numpy_linalg(
                     jnp, eigh=jnp.linalg.eigh, eigvalsh=jnp.linalg.eigvalsh,
                     cholesky=jnp.linalg.cholesky)))


class JaxBackend(FunctionalBackend):
    name = "jax"
    extra = "jax"
    requires = {"jax": "jax", "jaxlib": "jaxlib"}
    compiles_by_tracing = True
    no_rule_messages = (r"^NotImplementedError: Differentiation rule for '.+' not implemented",)

    def numerics(self) -> dict[str, str]:
        return {"jax_enable_x64": "True", "jax_default_matmul_precision": "highest",
                # on or off, not where: a path would split one environment into many in merge
                "compilation_cache": "on" if compilation_cache_dir() else "off"}

    def namespace(self) -> Any:
        return numpy_namespace()

    def inner_grad(self) -> Any:
        return _jax().grad

    def scan(self) -> Any:
        return _jax().lax.scan

    def compile(self, compute: Any) -> Any:
        return _jax().jit(compute)

    def grad(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        return _jax().value_and_grad(f)(wrt, fixed)

    def jacobian(self, f: Objective, wrt: dict, fixed: dict) -> Derivatives:
        return f(wrt, fixed), _jax().jacrev(f)(wrt, fixed)

    def jvp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict) -> Derivatives:
        jax = _jax()
        value, out = f(wrt, fixed), {}
        for name in wrt:
            def along_one(w: Any, name: str = name) -> Any:
                return f({**wrt, name: w}, fixed)
            _, out[name] = jax.jvp(along_one, (wrt[name],), (tangents[name],))
        return value, out

    def vjp(self, f: Objective, wrt: dict, fixed: dict, cotangent: Any) -> Derivatives:
        value, pullback = _jax().vjp(lambda w: f(w, fixed), wrt)
        (cotangents,) = pullback(cotangent)
        return value, cotangents

    def hvp(self, f: Objective, wrt: dict, fixed: dict, tangents: dict) -> Derivatives:
        jax = _jax()
        tangents = {n: tangents[n] for n in wrt}
        _, hvp = jax.jvp(jax.grad(lambda w: f(w, fixed)), (wrt,), (tangents,))
        return f(wrt, fixed), hvp

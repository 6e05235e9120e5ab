"""Minimal reproductions of the gradparity flaws the JAX peer suite showed (GRADPARITY_FLAWS.md).

Each spec is the smallest case of one distinct cause, with its arrays written out. The
right verdict is PASS for every correct answer, UNSUPPORTED where a framework has no rule,
and FAIL only for ``flaw-nan-message-sinc-at-0`` on autograd and TensorFlow (a real NaN,
whose message is the flaw); what gradparity says instead is in GRADPARITY_FLAWS.md. Run one with
``gradparity run --catalog tests/peer/flaw_repros.py -s <name> -b <backend>``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.spec import Spec


def weighted_abs(xp: Any, x: Any, w: Any) -> Any:
    return xp.sum(w * xp.abs(x))


def weighted_sum_of_sum(xp: Any, x: Any, y: Any, w: Any) -> Any:
    return xp.sum(w * (x + y))


def sin(xp: Any, x: Any) -> Any:
    return xp.sin(x)


def weighted_sin(xp: Any, x: Any, w: Any) -> Any:
    return xp.sum(w * xp.sin(x))


def arctan(xp: Any, x: Any) -> Any:
    return xp.arctan(x)


def weighted_cbrt(xp: Any, x: Any, w: Any) -> Any:
    return xp.sum(w * xp.cbrt(x))


def weighted_sinc(xp: Any, x: Any, w: Any) -> Any:
    return xp.sum(w * xp.sinc(x))


def clip(xp: Any, x: Any, lo: Any, hi: Any) -> Any:
    return xp.clip(x, lo, hi)


def pad(xp: Any, x: Any) -> Any:
    return xp.pad(x, ((1, 2),))


def negative(xp: Any, x: Any) -> Any:
    return xp.negative(x)


def specs() -> list[Spec]:
    """One spec per distinct flaw (float64 unless the flaw needs float32)."""
    rng = np.random.default_rng(3)
    x34, y34 = 3 * rng.standard_normal((3, 4)), 3 * rng.standard_normal((3, 4))
    w34 = rng.uniform(0.5, 1.5, (3, 4))
    t34 = {"x": rng.standard_normal((3, 4)), "y": rng.standard_normal((3, 4))}
    return [
        # 1. exact-zero HVP of a piecewise-linear / linear function (items 5, 6)
        Spec("flaw-zero-hvp-abs", weighted_abs, {"x": np.array(2.2739233746429086),
                                                 "w": np.array(0.9)}, ("x",), kind="hvp",
             roles={"w": "target"}, tangents={"x": np.array(-0.1321048632913019)},
             description="Hessian of 0.9*|x| at x = 2.27 is exactly 0"),
        Spec("flaw-zero-hvp-linear", weighted_sum_of_sum, {"x": x34, "y": y34, "w": w34},
             ("x", "y"), kind="hvp", roles={"w": "target"}, tangents=t34,
             description="Hessian of a linear function is exactly 0"),
        # 2. a derivative at the rounding level of the function's own scale (item 5)
        Spec("flaw-zero-jvp-sin-at-pi_2", sin, {"x": np.array(np.pi / 2)}, ("x",), kind="jvp",
             tangents={"x": np.array(1.0)},
             description="cos(fl(pi/2)) = 6.1e-17: every backend returns exactly that"),
        Spec("flaw-zero-hvp-sin-at-pi", weighted_sin, {"x": np.array(np.pi),
                                                       "w": np.array(0.9)},
             ("x",), kind="hvp", roles={"w": "target"}, tangents={"x": np.array(1.0)},
             description="-0.9 sin(fl(pi)) = -1.1e-16"),
        # 3. bounds far wider than the estimate's error (item 6)
        Spec("flaw-loose-bound-arctan-at-1000", arctan, {"x": np.array(1000.0)}, ("x",),
             kind="jvp", tangents={"x": np.array(1.0)},
             description="d/dx arctan at 1000 = 1/(1 + 1e6), complex step exact"),
        Spec("flaw-loose-bound-cbrt-hvp", weighted_cbrt,
             {"x": np.array([[16.037, 17.465, 15.991, 11.091],
                             [17.716, 16.339, 13.389, 16.743]]),
              "w": np.full((2, 4), 0.9)}, ("x",), kind="hvp", roles={"w": "target"},
             tangents={"x": np.linspace(-1.0, 1.0, 8).reshape(2, 4)},
             description="cbrt'' at 11..18, smooth"),
        # 4. a NaN derivative's message names the value with '|error| 0 > allowed'
        Spec("flaw-nan-message-sinc-at-0", weighted_sinc, {"x": np.array(0.0),
                                                           "w": np.array(0.9)}, ("x",),
             roles={"w": "target"},
             description="autograd and tf-eager return nan (a real FAIL); the message is wrong"),
        # 5. a missing derivative rule raising KeyError is ERROR, not UNSUPPORTED (item 9)
        Spec("flaw-unsupported-clip-bounds", clip, {"x": np.array([1.0, 2.0]),
                                                    "lo": np.array([-9.0, -8.0]),
                                                    "hi": np.array([11.0, 12.0])},
             ("x", "lo", "hi"), kind="vjp", cotangent=np.array([1.0, -0.5]),
             description="autograd has no VJP of clip w.r.t. a_min/a_max: KeyError: 1"),
        # 6. xp.pad without mode: numpy's default 'constant' is not passed on (item 8)
        Spec("flaw-namespace-pad-default-mode", pad, {"x": np.array([0.5, -1.5])}, ("x",),
             kind="vjp", cotangent=np.array([1.0, 2.0, 3.0, 4.0, 5.0]),
             description="np.pad(x, widths) pads with zeros; tnp.pad needs mode"),
        # 7. numpy names pytensor has under another name (item 8)
        Spec("flaw-namespace-pytensor-negative", negative, {"x": np.array([0.5, -1.5])},
             ("x",), kind="vjp", cotangent=np.array([1.0, 2.0]),
             description="pytensor.tensor calls it neg (and mul, sub, true_div)"),
    ] + equality_specs()


def equal_mask(xp: Any, x: Any, labels: Any) -> Any:
    return xp.where(labels == 1, x**2, x)


def equality_specs() -> list[Spec]:
    """8. ``==`` on a TF1 graph's tensors is Python identity (item 8)."""
    return [Spec("flaw-namespace-graph-equality", equal_mask,
                 {"x": np.array([1.5, 2.0, -0.5]), "labels": np.array([1, 0, 1])}, ("x",),
                 kind="vjp", roles={"labels": "index"}, cotangent=np.array([1.0, 1.0, 1.0]),
                 description="labels == 1 is the constant False in a TF1 graph")]

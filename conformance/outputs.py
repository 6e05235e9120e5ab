"""Check that a program's output keeps the contract before any number is compared.

A program must return a dict with ``"value"`` and one key per ``wrt`` name, each a real
float numpy array of the documented shape. Anything else becomes an error message naming
the key and what was expected; nothing here raises.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.spec import Spec, derivative_shape


def expected_shapes(spec: Spec, value_shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """The shape of every key a program must return."""
    shapes = {"value": tuple(value_shape)}
    shapes.update({n: derivative_shape(spec, n, value_shape) for n in spec.wrt})
    return shapes


def contract_violation(spec: Spec, output: Any, value_shape: tuple[int, ...]) -> str | None:
    """Why ``output`` breaks the program contract, or None when it keeps it."""
    if not isinstance(output, dict):
        return f"the program returned {type(output).__name__}, expected a dict of numpy arrays"
    shapes = expected_shapes(spec, value_shape)
    missing = [k for k in shapes if k not in output]
    if missing:
        return f"missing key(s) {', '.join(map(repr, missing))}; expected keys {list(shapes)}"
    extra = [k for k in output if k not in shapes]
    if extra:
        return f"unexpected key(s) {', '.join(map(repr, extra))}; expected keys {list(shapes)}"
    for key, shape in shapes.items():
        item = output[key]
        if item is None:
            return (f"key {key!r} is None: the gradient is disconnected or the input was not "
                    f"watched (expected a {spec.dtype} array of shape {shape})")
        if not isinstance(item, np.ndarray | np.generic):
            return (f"key {key!r} is a {type(item).__module__}.{type(item).__name__}, "
                    f"expected a numpy array of shape {shape} (convert with np.asarray)")
        if not np.issubdtype(item.dtype, np.floating):
            return f"key {key!r} has dtype {item.dtype}, expected {spec.dtype}"
        if np.shape(item) != shape:
            return f"key {key!r} has shape {np.shape(item)}, expected {shape}"
    return None

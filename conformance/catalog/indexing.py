"""Index-array cases: integer and bool arrays (role ``index``) that select, gather or mask.

Embedding lookups, gathers with repeated indices, sparse class labels and masks are where
users meet integer arrays in a gradient. The index arrays are never differentiated; they
reach the reference and every backend with their own dtype (int64, int32, bool). Gathers
are written as numpy fancy indexing (``table[ids]``), which all four namespaces
differentiate; TensorFlow's gradient of a gather is ``IndexedSlices``, densified by its
adapters.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.spec import Spec


def embedding_loss(xp: Any, table: Any, ids: Any, w: Any) -> Any:
    """A bag of token embeddings through a tanh layer: sum(tanh(table[ids] @ w)^2)."""
    return xp.sum(xp.tanh(table[ids] @ w) ** 2)


def gather_rows(xp: Any, x: Any, rows: Any) -> Any:
    """exp of the gathered rows (repeated rows add up in the Jacobian)."""
    return xp.exp(x[rows] * 0.5)


def sparse_cross_entropy(xp: Any, logits: Any, labels: Any) -> Any:
    """Mean cross-entropy of integer class labels: mean(logsumexp(logits) - logits[i, y_i])."""
    m = xp.max(logits, axis=-1, keepdims=True)
    lse = m[:, 0] + xp.log(xp.sum(xp.exp(logits - m), axis=-1))
    return xp.mean(lse - logits[xp.arange(labels.shape[0]), labels])


def sparse_classifier_loss(xp: Any, x: Any, w: Any, b: Any, labels: Any) -> Any:
    """The sparse cross-entropy of a linear classifier's logits."""
    return sparse_cross_entropy(xp, x @ w + b, labels)


def masked_squared_error(xp: Any, x: Any, y: Any, mask: Any) -> Any:
    """Squared error summed over the entries a bool mask keeps (padding left out)."""
    return xp.sum(xp.where(mask, (x - y) ** 2, 0.0))


def indexing_specs() -> list[Spec]:
    """The index-array cases, each in float64 and float32."""
    rng = np.random.default_rng(20261126)
    vocabulary, width, batch, classes = 7, 4, 6, 3
    table = rng.normal(size=(vocabulary, width)) * 0.5
    logits = rng.normal(size=(batch, classes)) * 2
    labels = rng.integers(0, classes, size=batch)
    base = [
        Spec("index-embedding-lookup", embedding_loss,
             {"table": table, "ids": np.array([[0, 3, 3, 5], [6, 1, 3, 0]], dtype=np.int32),
              "w": rng.normal(size=(width, 2))}, ("table", "w"),
             roles={"table": "param", "ids": "index", "w": "param"},
             description="embedding lookup table[ids] (int32 ids, repeated) w.r.t. the table"),
        Spec("index-gather-rows-jacobian", gather_rows,
             {"x": rng.normal(size=(5,)), "rows": np.array([4, 0, 4, 2], dtype=np.int64)},
             ("x",), kind="jacobian", roles={"rows": "index"},
             description="Jacobian of a gather x[rows] with a repeated row (int64)"),
        Spec("index-sparse-cross-entropy-wrt-logits", sparse_cross_entropy,
             {"logits": logits, "labels": labels}, ("logits",), roles={"labels": "index"},
             description="sparse categorical cross-entropy (integer labels) w.r.t. the logits"),
        Spec("index-sparse-cross-entropy-wrt-weights", sparse_classifier_loss,
             {"x": rng.normal(size=(batch, 5)), "w": rng.normal(size=(5, classes)) * 0.5,
              "b": rng.normal(size=(classes,)) * 0.1, "labels": labels}, ("w", "b"),
             roles={"w": "param", "b": "param", "labels": "index"},
             description="a linear classifier's sparse cross-entropy w.r.t. its weights"),
        Spec("index-masked-squared-error", masked_squared_error,
             {"x": rng.normal(size=(3, 5)), "y": rng.normal(size=(3, 5)),
              "mask": np.arange(5) < np.array([[5], [3], [1]])}, ("x",),
             roles={"y": "target", "mask": "index"},
             description="squared error over the entries a bool mask keeps (padded batch)"),
    ]
    return [s.as_dtype(dtype) for s in base for dtype in ("float64", "float32")]

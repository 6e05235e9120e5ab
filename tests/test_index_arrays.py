"""Index arrays (role ``index``): integer and bool arrays that are never differentiated.

They must be refused where they cannot be right (in ``wrt``, without the role), keep their
dtype through the spec, the reference, the probes and every adapter, and the index catalog
cases must pass on every built-in backend against analytic derivatives and the reference.
"""

from __future__ import annotations

import numpy as np
import pytest

from backends import FunctionBackend, load
from conformance.catalog.indexing import indexing_specs, sparse_cross_entropy
from conformance.harness import check
from conformance.probes import plan_calls, random_draws
from conformance.reference import compute_reference
from conformance.results import Status
from conformance.spec import Spec, SpecError

SPECS = indexing_specs()
IDS = np.array([2, 0, 2], dtype=np.int32)


def lookup(xp, table, ids):
    return xp.sum(table[ids] ** 2)


def build(**overrides) -> Spec:
    fields = {"name": "lookup", "fn": lookup, "wrt": ("table",), "roles": {"ids": "index"},
              "arrays": {"table": np.arange(6.0).reshape(3, 2), "ids": IDS}}
    return Spec(**{**fields, **overrides})


def test_an_integer_array_without_the_index_role_suggests_it() -> None:
    with pytest.raises(SpecError) as info:
        build(roles={})
    assert info.value.field == "arrays['ids']"
    assert "role 'index'" in info.value.fix and "int32" in info.value.problem


def test_an_index_array_in_wrt_names_the_fix() -> None:
    with pytest.raises(SpecError) as info:
        build(wrt=("table", "ids"))
    assert info.value.field == "wrt" and "'ids'" in info.value.problem
    assert "drop 'ids' from wrt" in info.value.fix


def test_a_float_array_with_the_index_role_is_refused() -> None:
    with pytest.raises(SpecError) as info:
        build(arrays={"table": np.ones((3, 2)), "ids": IDS.astype(float)})
    assert info.value.field == "arrays['ids']" and "role 'index'" in info.value.problem


def test_index_arrays_keep_their_dtype_in_the_spec_and_the_cast() -> None:
    spec = build(dtype="float32")
    assert spec.arrays["ids"].dtype == np.int32 and not spec.arrays["ids"].flags.writeable
    cast = spec.cast()
    assert cast["ids"].dtype == np.int32 and cast["table"].dtype == np.float32
    np.testing.assert_array_equal(cast["ids"], IDS)
    mask = Spec("masked", lambda xp, x, m: xp.sum(xp.where(m, x, 0.0)),
                {"x": np.ones(3), "m": np.array([True, False, True])}, ("x",),
                roles={"m": "index"})
    assert mask.cast()["m"].dtype == np.bool_


def test_the_reference_gets_the_index_array_unchanged_and_matches_the_analytic_gradient() -> None:
    spec = build()
    reference = compute_reference(spec)
    assert reference.arrays["ids"].dtype == np.int32
    # d/dtable sum(table[ids]^2) = 2 * table[r] * (times r occurs in ids)
    counts = np.bincount(IDS, minlength=3)[:, None]
    np.testing.assert_allclose(reference.expected["table"], 2 * spec.arrays["table"] * counts,
                               rtol=1e-9)


def test_sparse_cross_entropy_reference_is_softmax_minus_one_hot() -> None:
    spec = next(s for s in SPECS if s.name == "index-sparse-cross-entropy-wrt-logits-float64")
    logits, labels = spec.arrays["logits"], spec.arrays["labels"]
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    analytic = (softmax - np.eye(logits.shape[1])[labels]) / len(labels)
    np.testing.assert_allclose(compute_reference(spec).expected["logits"], analytic, rtol=1e-8)
    assert np.isclose(sparse_cross_entropy(np, logits, labels),
                      np.mean(-np.log(softmax[np.arange(len(labels)), labels])))


def test_probes_and_random_draws_never_move_an_index_array() -> None:
    spec = build(roles={"ids": "index", "table": "param"})
    calls = plan_calls(spec)
    assert [c.label for c in calls] == ["base", "repeat", "perturbed"]
    assert not np.array_equal(calls[2].arrays["table"], spec.arrays["table"])
    for arrays in [c.arrays for c in calls] + [d.arrays for d in random_draws(spec, 3)]:
        assert arrays["ids"].dtype == np.int32
        np.testing.assert_array_equal(arrays["ids"], IDS)


def test_a_backend_receives_index_arrays_in_their_own_dtype() -> None:
    seen: dict[str, np.dtype] = {}

    def compute(spec: Spec, arrays):
        seen.update({n: a.dtype for n, a in arrays.items()})
        counts = np.bincount(arrays["ids"], minlength=3)[:, None].astype(np.float32)
        return {"value": lookup(np, arrays["table"], arrays["ids"]),
                "table": 2 * arrays["table"] * counts}

    result = check(build(dtype="float32"), FunctionBackend("by-hand", compute))
    assert result.status is Status.PASS, result.message
    assert seen == {"table": np.float32, "ids": np.int32}


@pytest.mark.parametrize("backend_name", ["jax", "autograd", "tf-eager", "tf-graph"])
@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_index_case_passes(backend, backend_name: str, spec: Spec) -> None:
    backend(backend_name)
    result = check(spec, load(backend_name))
    assert result.status is Status.PASS, f"{spec.name} on {backend_name}: {result.message}"
    assert result.diagnoses == []


@pytest.mark.parametrize("backend_name", ["tf-eager", "tf-graph"])
def test_tf_densifies_the_indexed_slices_of_a_take(backend, backend_name: str) -> None:
    backend(backend_name)
    spec = build(fn=lambda xp, table, ids: xp.sum(xp.take(table, ids, axis=0) ** 2))
    out = load(backend_name).prepare(spec)(spec.cast())
    assert isinstance(out["table"], np.ndarray) and out["table"].shape == (3, 2)
    counts = np.bincount(IDS, minlength=3)[:, None]
    np.testing.assert_allclose(out["table"], 2 * spec.arrays["table"] * counts, rtol=1e-12)
    assert check(spec, load(backend_name)).status is Status.PASS

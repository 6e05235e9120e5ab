"""Every name an ``xp`` offers means what numpy means, arguments included; a framework's own
refusal is UNSUPPORTED with its message, an adapter's fault an ERROR.

The forms below are called on each backend's real namespace (forward only, through the
adapter's ``prepare_forward``) and compared with numpy's float64 value; the catalog's
``calls-*`` cases (value and gradient) run through the harness on every backend.
"""

from __future__ import annotations

import collections

import numpy as np
import pytest

from backends import load
from backends.base import Backend, FunctionBackend, raised_by_framework
from conformance.catalog import calls, op_specs
from conformance.harness import check, run
from conformance.results import Status
from conformance.spec import Spec, SpecError

BACKENDS = ["jax", "autograd", "tf-eager", "tf-graph", "pytensor", "theano"]

_rng = np.random.default_rng(16)
#: A positive definite lower triangle under an unrelated upper one, and the reverse:
#: numpy's eigh/cholesky read one triangle, so the other must not change the value.
LOWER = np.tril(np.array([[4.0, 0.0, 0.0], [1.0, 3.0, 0.0], [0.5, -0.2, 2.0]])) \
    + np.triu(_rng.normal(size=(3, 3)), 1)
UPPER = LOWER.T.copy() + np.tril(_rng.normal(size=(3, 3)), -1) - np.tril(LOWER.T, -1)
X = _rng.normal(size=(3, 4))

#: id -> (fn, arrays): the forms the issue names and their neighbours, as numpy users write
#: them; each must give numpy's value on every backend or be refused (UNSUPPORTED).
FORMS = {
    "eigh-U-positional": (lambda xp, a: xp.linalg.eigh(a, "U")[0], {"a": UPPER}),
    "eigh-UPLO-keyword": (lambda xp, a: xp.linalg.eigh(a, UPLO="U")[1] ** 2, {"a": UPPER}),
    "eigh-lower-default": (lambda xp, a: xp.linalg.eigh(a)[0], {"a": LOWER}),
    "eigvalsh-U": (lambda xp, a: xp.linalg.eigvalsh(a, "U"), {"a": UPPER}),
    "cholesky-lower-default": (lambda xp, a: xp.linalg.cholesky(a), {"a": LOWER}),
    "std-ddof": (lambda xp, x: xp.std(x, ddof=1), {"x": X}),
    "var-ddof-axis": (lambda xp, x: xp.var(x, axis=0, ddof=1), {"x": X}),
    "var-axis-positional": (lambda xp, x: xp.var(x, 1), {"x": X}),
    "clip-positional": (lambda xp, x: xp.clip(x, -0.5, 0.5), {"x": X}),
    "clip-a_min-a_max": (lambda xp, x: xp.clip(x, a_min=-0.5, a_max=0.5), {"x": X}),
    "clip-min-max": (lambda xp, x: xp.clip(x, min=-0.5, max=0.5), {"x": X}),
    "clip-upper-only": (lambda xp, x: xp.clip(x, None, 0.5), {"x": X}),
    "list-index": (lambda xp, x: x[[0, 2]], {"x": X}),
    "take-list": (lambda xp, x: xp.take(x, [3, 0], axis=1), {"x": X}),
    "pad-int": (lambda xp, x: xp.pad(x, 1), {"x": X}),
    "concatenate-axis-none": (lambda xp, x: xp.concatenate([x, 2 * x], axis=None), {"x": X}),
}
#: (backend, form) pairs the framework itself cannot do as numpy does: refused, never
#: computed differently. Anything not listed must give numpy's value.
REFUSED = {
    ("jax", "list-index"),  # jax: "Using a non-tuple sequence for multidimensional indexing"
    # Theano 1.0.5 has no static shapes: ddof needs the reduced axes' sizes before the run
    ("theano", "std-ddof"),
    ("theano", "var-ddof-axis"),
}


def _spec(form: str) -> Spec:
    """The form as a spec; skipped where the installed numpy itself does not take the form
    (numpy 1.x, in Theano's env, has no ``clip(min=, max=)``): the reference could not judge."""
    fn, arrays = FORMS[form]
    try:
        return Spec(f"form-{form}", fn, arrays, tuple(arrays), kind="jacobian")
    except SpecError as exc:
        pytest.skip(f"numpy {np.__version__} does not take this form: {exc}")


def _forward(backend: Backend, spec: Spec) -> np.ndarray | str:
    """The backend's value of ``spec`` (float64), or why it refuses (UNSUPPORTED's reason)."""
    if reason := backend.unsupported_reason(spec):
        return reason
    try:
        return backend.prepare_forward(spec)(spec.cast())["value"]
    except Exception as exc:  # noqa: BLE001 - classified as the harness classifies it
        reason = backend.refusal(exc)
        assert reason, f"{spec.name}: an ERROR, not the framework's refusal: {exc!r}"
        return reason


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("form", FORMS)
def test_each_form_gives_numpys_value_or_is_refused(backend, backend_name: str, form: str
                                                    ) -> None:
    spec = _spec(form)
    found = _forward(backend(backend_name), spec)
    if isinstance(found, str):  # a name not offered makes no claim; an offered one must hold
        assert " has no xp." in found or (backend_name, form) in REFUSED, \
            f"{form} on {backend_name} refused: {found}"
        return
    expected = spec.evaluate(np, spec.arrays)
    np.testing.assert_allclose(found, expected, rtol=1e-10, atol=1e-12,
                               err_msg=f"{form} on {backend_name}")


def test_tensorflow_eigh_reads_numpys_uplo_not_an_op_name(backend) -> None:
    """TF's ``linalg.eigh(tensor, name)``: the upper triangle is read, as numpy reads it."""
    b = backend("tf-eager")
    lower, upper = (_forward(b, Spec(f"eigh-{uplo}", lambda xp, a, u=uplo: xp.linalg.eigh(a, u)[0],
                                     {"a": UPPER}, ("a",), kind="jacobian"))
                    for uplo in "LU")
    np.testing.assert_allclose(upper, np.linalg.eigvalsh(UPPER, "U"), rtol=1e-12)
    assert not np.allclose(lower, upper)  # the two triangles really differ here


def _one_case_per_op() -> list[Spec]:
    """The op catalog's first float64 case of each op (the forward value is the op's)."""
    seen: dict[str, Spec] = {}
    for spec in op_specs():
        if spec.dtype == "float64":
            seen.setdefault(spec.name.rsplit("-", 2)[0], spec)
    return list(seen.values())


@pytest.mark.parametrize("backend_name", ["jax", "autograd", "tf-eager", "pytensor"])
def test_every_offered_name_in_the_op_catalog_gives_numpys_value(backend, backend_name: str
                                                                 ) -> None:
    """Forward only, so a name whose derivative the framework lacks (UNSUPPORTED in a run)
    is still checked: every op the namespace offers computes numpy's float64 value."""
    b = backend(backend_name)
    wrong, checked = [], 0
    for spec in _one_case_per_op():
        found = _forward(b, spec)
        if isinstance(found, str):
            continue
        expected = np.asarray(spec.evaluate(np, spec.arrays))
        checked += 1
        if not np.allclose(found, expected, rtol=1e-9, atol=1e-9 * np.max(np.abs(expected))):
            wrong.append(spec.name)
    assert sorted(wrong) == sorted(n for b, n in FORWARD_FINDINGS if b == backend_name)
    assert checked >= 120  # of 212 ops; a namespace lacking a name makes no claim


#: Framework defects in a value (not a namespace's meaning): (backend, case).
FORWARD_FINDINGS = {
    # pytensor 3.0.7: linalg.norm(x, ord=3) raises to 1 / ord computed from the int constant
    # 3 in float32, so the float64 value is off by ~1e-8 relative
    ("pytensor", "op-linalg-norm-ord3-grad-float64"),
}


@pytest.mark.parametrize("backend_name", ["jax", "autograd", "tf-eager", "tf-graph", "pytensor"])
def test_calling_conventions_pass_or_are_refused_with_the_frameworks_reason(
        backend, backend_name: str) -> None:
    """The catalog's ``calls-*`` cases (value and gradient, float64) on each backend: PASS or
    UNSUPPORTED with a reason, except the framework findings listed in FINDINGS."""
    backend(backend_name)
    specs = [s for s in calls.specs() if s.dtype == "float64"]
    report = run(specs, [load(backend_name)])
    statuses = collections.Counter(r.status for r in report.results)
    problems = [(r.spec, r.status.value, r.message[:160]) for r in report.results
                if r.status not in (Status.PASS, Status.UNSUPPORTED)
                and FINDINGS.get((backend_name, r.spec)) is not r.status]
    assert not problems, problems
    assert all(r.message for r in report.results if r.status is Status.UNSUPPORTED)
    assert statuses[Status.PASS] >= len(specs) * 2 // 3, statuses


#: Framework bugs the ``calls-*`` cases find (the suite's job): (backend, case) -> status.
FINDINGS = {
    # autograd 1.9: linalg.norm(v, inf)'s gradient is NaN (its rule divides by ans ** inf)
    ("autograd", "calls-linalg-norm-vector-inf-grad-float64"): Status.FAIL,
    # autograd 1.9: diag(x, 1)'s gradient has the shape of the output, not of x
    ("autograd", "calls-manipulation-diag-offset-grad-float64"): Status.ERROR,
    # pytensor 3.0.7: TensorVariable.std(ddof=1) over all axes divides by the wrong count
    ("pytensor", "calls-reductions-std-method-ddof-grad-float64"): Status.FAIL,
}


# -- ERROR vs UNSUPPORTED: where the exception was raised --------------------------------------

def _case(fn, name: str = "refusal", **arrays) -> Spec:
    arrays = arrays or {"x": np.array([0.5, 1.5, 2.5])}
    return Spec(name, fn, arrays, tuple(arrays))


@pytest.mark.parametrize(("backend_name", "fn", "words"), [
    ("tf-graph", lambda xp, x: xp.sum(x) * len(x), "len is not well defined"),
    ("pytensor", lambda xp, x: xp.sum(x) * len(x), "has no len()"),
    ("pytensor", lambda xp, x: xp.sum(x) * x.sum().item(), "AttributeError"),
    ("jax", lambda xp, x: xp.sum(x) * x.sum().item(), "ConcretizationTypeError"),
    ("jax", lambda xp, x: xp.sum(x) * float(x[0]), "ConcretizationTypeError"),
    ("autograd", lambda xp, x: x.dot(x), "'ArrayBox' object has no attribute 'dot'"),
    ("autograd", lambda xp, x: xp.linalg.norm(xp.outer(x, x), 1), "NotImplementedError"),
    ("tf-eager", lambda xp, x: xp.sum(x.tolist()), "tolist"),
])
def test_what_the_framework_cannot_do_is_unsupported_with_its_message(
        backend, backend_name: str, fn, words: str) -> None:
    result = check(_case(fn), backend(backend_name))
    assert result.status is Status.UNSUPPORTED, (result.status, result.message)
    assert words in result.message


class _BrokenAdapter(Backend):
    """An adapter whose own code fails after calling the framework correctly."""

    name = "broken-adapter"
    requires = {"autograd": "autograd"}

    def prepare(self, spec: Spec):
        import autograd.numpy as anp

        def program(arrays):
            value = anp.sum(arrays["x"] ** 2)
            return {"value": value, "x": [1.0, 2.0][3]}  # the adapter's own IndexError
        return program


class _WrongShapeAdapter(_BrokenAdapter):
    name = "wrong-shape-adapter"

    def prepare(self, spec: Spec):
        return lambda arrays: {"value": np.sum(arrays["x"] ** 2), "x": np.zeros(7)}


@pytest.mark.parametrize("adapter", [_BrokenAdapter(), _WrongShapeAdapter(),
                                     FunctionBackend("raises", lambda s, a: np.stack([a["x"],
                                                                                     a["x"][:1]]))])
def test_an_adapter_that_breaks_the_contract_is_an_error(backend, adapter: Backend) -> None:
    backend("autograd")
    result = check(_case(lambda xp, x: xp.sum(x ** 2)), adapter)
    assert result.status is Status.ERROR, (result.status, result.message)


def test_numpy_between_the_raise_and_adapter_code_decides_nothing() -> None:
    def adapter_code() -> None:
        np.stack([np.zeros(2), np.zeros(3)])  # raised inside numpy's own Python code
    with pytest.raises(ValueError) as caught:
        adapter_code()
    adapter = frozenset({__name__})
    assert not raised_by_framework(caught.value, frozenset({"jax"}), adapter)
    assert raised_by_framework(caught.value, frozenset({"numpy"}), adapter)


# -- None in the conventions matrix ------------------------------------------------------------

@pytest.mark.parametrize("backend_name", ["tf-eager", "tf-graph"])
def test_tensorflows_none_gradient_is_recorded_and_judged_as_zero(backend, backend_name: str
                                                                  ) -> None:
    from conformance.catalog import find

    b = backend(backend_name)
    floor = check(find("convention-floor-at-integer"), b)
    assert floor.status is Status.CONVENTION and floor.convention_values == {"x": None}
    assert floor.message == "None"
    # the verdict path sees zeros: a gradient through floor is judged against zero
    spec = _case(lambda xp, x: xp.sum(xp.floor(x) * x), x=np.array([0.5, 1.5, 2.5]))
    assert check(spec, b).status is Status.PASS
    # a genuinely zero, connected gradient stays a number
    tanh = check(find("convention-relu-where-at-0"), b)
    assert tanh.convention_values == {"x": [0.0]}


@pytest.mark.parametrize("backend_name", ["jax", "autograd", "tf-eager", "tf-graph", "pytensor"])
def test_constructors_given_the_arrays_dtype_keep_float32(backend, backend_name: str) -> None:
    """``eye``/``arange``/``linspace(..., dtype=x.dtype)``, ``full_like``, ``astype``: a
    float32 spec stays float32 (TF's own ``linspace`` answered float64)."""
    backend(backend_name)
    names = ("eye-offset-dtype", "full-like", "arange-dtype", "linspace-dtype", "astype")
    specs = [s for s in calls.specs() if s.dtype == "float32"
             and any(s.name == f"calls-manipulation-{n}-grad-float32" for n in names)]
    assert len(specs) == len(names)
    for result in run(specs, [load(backend_name)]).results:
        assert result.status is Status.PASS, (result.spec, result.message)

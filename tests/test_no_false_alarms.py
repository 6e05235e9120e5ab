"""No false alarms: correct adapters get no diagnosis on the catalog and on random draws.

Every catalog case is run on every installed built-in adapter at its own arrays and at
DRAWS random draws of its inputs and weights (one prepared program per case and backend,
called for every draw and its probes). Random specs from hypothesis (random MLP shapes,
activations and derivative kinds) count toward it too, and so do the numerically hard
specs of ``hard_specs.py`` (domain edges, saturation, large logits, near-cancellation,
ill-conditioned solves, near-overflow, n = 2000 quadratic forms, a 10k-parameter MLP), at
their own arrays: PASS with no diagnosis, never INCONCLUSIVE.
"""

from __future__ import annotations

import collections
import functools
import zlib

import numpy as np
import pytest
from conftest import installed
from hard_specs import hard_specs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends import load
from conformance.catalog import catalog
from conformance.harness import Outcome, execute, judge
from conformance.model import Dense, ModelSpec
from conformance.probes import References, plan_calls, random_draws
from conformance.results import Status
from conformance.spec import KINDS, Spec

DRAWS = 20
#: What was tried, for the summary line at the end of the run (see conftest.py):
#: backend -> number of judged answers, and the specs (catalog cases or random ones) run.
TRIED: collections.Counter[str] = collections.Counter()
SPECS_TRIED: set[str] = set()
BACKENDS = ["jax", "autograd", "tf-eager", "tf-graph"]
#: Op, calling-convention and convention cases are left out: random draws would cross the
#: kinks their points avoid (or stand on) on purpose; tests/test_op_catalog.py and
#: tests/test_namespace_fidelity.py check them at their own points.
CATALOG = [s for s in catalog() if not {"op", "calls", "convention"} & set(s.tags)]
CATALOG_NAMES = {s.name for s in CATALOG}


@functools.cache
def backend(name: str):
    return load(name)


def judge_draws(spec: Spec, backend_names: list[str], draws: list[Spec]) -> dict[str, list]:
    """Each backend prepares once and is called for every draw's planned calls; each draw is
    judged on its own, against references computed once and shared by the backends."""
    plans = [plan_calls(d) for d in draws]
    references = [References(d, plan) for d, plan in zip(draws, plans)]
    arrays = [d.cast(c.arrays) for d, plan in zip(draws, plans) for c in plan]
    verdicts = {}
    for name in backend_names:
        outcome = execute(backend(name), spec, arrays)
        assert outcome.status is None, f"{spec.name} on {name}: {outcome.message}"
        results, start = [], 0
        for draw, plan, refs in zip(draws, plans, references):
            stop = start + len(plan)
            chunk = Outcome(None, outputs=outcome.outputs[start:stop],
                            hooks={k: v[start:stop] for k, v in outcome.hooks.items()})
            results.append(judge(draw, refs, name, chunk))
            start = stop
        verdicts[name] = results
        TRIED[name] += len(results)
    known = spec.name in CATALOG_NAMES or spec.name.startswith("hard-")
    SPECS_TRIED.add(spec.name if known else f"random-{len(SPECS_TRIED)}")
    return verdicts


def runnable(spec: Spec) -> list[str]:
    """The built-in backends that are installed and compute this spec."""
    names = [n for n in BACKENDS if installed(n)]
    return [n for n in names if not backend(n).unsupported_reason(spec)]


@pytest.mark.parametrize("spec", CATALOG, ids=[s.name for s in CATALOG])
def test_catalog_case_and_random_draws_get_no_diagnosis(spec: Spec) -> None:
    names = runnable(spec)
    if not names:
        pytest.skip("no backend installed that computes this spec")
    # a slow case (the 1024-step LSTM: seconds per call) is judged at its own arrays only
    count = 0 if "slow" in spec.tags else DRAWS
    draws = [spec, *random_draws(spec, count, seed=zlib.crc32(spec.name.encode()))]
    for name, results in judge_draws(spec, names, draws).items():
        assert len(results) == count + 1
        alarms = [(i, r.status.value, r.diagnoses, r.message) for i, r in enumerate(results)
                  if r.diagnoses or r.status is not Status.PASS]
        assert not alarms, f"{spec.name} on {name}: {len(alarms)} of {len(results)} " \
                           f"draws flagged, first: {alarms[0]}"


HARD = hard_specs()


@pytest.mark.parametrize("spec", HARD, ids=[s.name for s in HARD])
def test_hard_correct_specs_pass_on_every_backend(spec: Spec) -> None:
    names = runnable(spec)
    if not names:
        pytest.skip("no backend installed that computes this spec")
    for name, (result,) in judge_draws(spec, names, [spec]).items():
        assert (result.status, result.diagnoses) == (Status.PASS, []), (
            f"{spec.name} on {name}: {result.status.value} {result.message}")


@st.composite
def random_mlp_specs(draw) -> Spec:
    """A random smooth MLP model spec with a random derivative kind and dtype."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_in, hidden, n_out, batch = (draw(st.integers(1, 5)) for _ in range(4))
    activation = draw(st.sampled_from(["tanh", "sigmoid", "linear", "softmax"]))
    kind = draw(st.sampled_from(KINDS))
    scalar = kind in ("grad", "hvp")
    layers = [Dense(hidden, activation), Dense(n_out, draw(st.sampled_from(["linear", "tanh"])))]
    weights = [rng.normal(size=(n_in, hidden)), rng.normal(size=hidden) * 0.1,
               rng.normal(size=(hidden, n_out)) / np.sqrt(hidden), rng.normal(size=n_out) * 0.1]
    model = ModelSpec(layers, input_dim=n_in, weights=weights,
                      objective="sum" if scalar else "output")
    wrt = draw(st.sampled_from([("x",), (model.weight_names[0],),
                                ("x", model.weight_names[2])]))
    inputs = {"x": rng.normal(size=(batch, n_in))}
    probe = model.spec("probe", inputs, wrt, kind="jacobian")
    out_shape = np.shape(probe.evaluate(np, probe.arrays))
    extra = {}
    if kind in ("jvp", "hvp"):
        extra["tangents"] = {n: rng.normal(size=probe.arrays[n].shape) for n in wrt}
    if kind == "vjp":
        extra["cotangent"] = rng.normal(size=out_shape)
    return model.spec(f"random-{kind}", inputs, wrt, kind=kind,
                      dtype=draw(st.sampled_from(["float64", "float32"])), **extra)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=random_mlp_specs())
def test_random_specs_get_no_diagnosis(spec: Spec) -> None:
    for name, (result,) in judge_draws(spec, runnable(spec), [spec]).items():
        assert (result.status, result.diagnoses) == (Status.PASS, []), (
            f"{spec.kind} {spec.dtype} wrt {spec.wrt} on {name}: {result.message}")

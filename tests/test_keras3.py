"""The Keras 3 backends on the seeds and the model catalog, each engine in its own worker.

Measured with Keras 3.15: its type promotion maps float64 to float32 on the JAX and torch
engines (``keras.src.backend.common.dtypes.BIT64_TO_BIT32_DTYPE``; only TensorFlow keeps
float64), so float64 BatchNormalization (JAX) and float64 matmuls and losses (torch) run in
float32. Those adapters therefore report float64 specs UNSUPPORTED with that reason;
every other case passes.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

from backends import load
from conformance.catalog.models import model_specs
from conformance.catalog.seeds import seed_specs
from conformance.harness import run
from conformance.results import Status
from conformance.workers import WorkerOptions, in_workers

ENGINES = {"keras-jax": "jax", "keras-tf": "tensorflow", "keras-torch": "torch"}


def _installed(backend: str) -> bool:
    return all(importlib.util.find_spec(m) for m in ("keras", ENGINES[backend]))


def test_keras3_backends_pass_the_seeds_and_the_model_catalog() -> None:
    names = [b for b in ENGINES if _installed(b)]
    if not names:
        pytest.skip("the Keras 3 backends need keras and jax, tensorflow or torch "
                    "(pip install 'gradparity[keras]')")
    specs = seed_specs() + model_specs()
    report = run(specs, [load(n) for n in names],
                 executor=in_workers(WorkerOptions(jobs=1, timeout=300)))
    by_spec = {s.name: s for s in specs}
    unexpected = []
    for result in report.results:
        spec = by_spec[result.spec]
        if spec.model is None:
            ok = result.status is Status.UNSUPPORTED and "checks Keras 3 models" in result.message
        elif result.backend != "keras-tf" and spec.dtype == "float64":
            ok = result.status is Status.UNSUPPORTED and "float64 in float32" in result.message
        else:
            ok = result.status is Status.PASS
        if not ok:
            unexpected.append(f"{result.backend} {result.spec}: {result.status.value} "
                              f"{result.diagnoses} {result.message}")
    assert not unexpected, "\n".join(unexpected)
    passed = {r.backend for r in report.results if r.status is Status.PASS
              and r.spec.startswith("models-cnn") and r.spec.endswith("float32")}
    assert passed == set(names)


#: Two engines in one process: the first prepares (and calls) a seed spec, the second must
#: refuse with a clear error. (first, second, what the process must print, modules needed)
ENGINE_CONFLICTS = [
    ("keras-jax", "keras-tf", "KerasEngineError Keras 3 is already running on 'jax'",
     ("keras", "jax", "tensorflow")),
    ("keras-tf", "tf-eager", "False\nKeras3Error TensorFlow was imported with Keras 3",
     ("keras", "tensorflow", "tf_keras")),
]


@pytest.mark.parametrize(("first", "second", "expected", "modules"), ENGINE_CONFLICTS,
                         ids=[f"{c[0]}-then-{c[1]}" for c in ENGINE_CONFLICTS])
def test_a_second_engine_in_one_process_is_a_clear_error(first, second, expected,
                                                         modules) -> None:
    """Keras 3 on another engine, or tf-keras after Keras 3's TensorFlow: KerasEngineError
    or Keras3Error, saying what to set (and keras-tf never sets TF_USE_LEGACY_KERAS)."""
    if not all(importlib.util.find_spec(m) for m in modules):
        pytest.skip(f"needs {', '.join(modules)}")
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND",
                                                             "TF_USE_LEGACY_KERAS")}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    code = textwrap.dedent(f"""
        import os
        from backends import load
        from conformance.catalog.seeds import seed_specs
        spec = next(s for s in seed_specs() if s.name.startswith("seed003-output-wrt"))
        load({first!r}).prepare(spec)(spec.cast())
        if {first!r} == "keras-tf":
            print("TF_USE_LEGACY_KERAS" in os.environ)
        try:
            load({second!r}).prepare(spec)
        except Exception as exc:
            print(type(exc).__name__, exc)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300)
    assert expected in proc.stdout, proc.stderr[-2000:]

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


def _in_one_process(code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND",
                                                             "TF_USE_LEGACY_KERAS")}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, timeout=300)


def test_a_second_keras3_engine_in_one_process_is_a_clear_error() -> None:
    if not (_installed("keras-jax") and _installed("keras-tf")):
        pytest.skip("needs keras with jax and tensorflow")
    proc = _in_one_process('''
        from backends import load
        from conformance.catalog.seeds import seed_specs
        spec = next(s for s in seed_specs() if s.name.startswith("seed003-output-wrt"))
        load("keras-jax").prepare(spec)({n: a for n, a in spec.cast().items()})
        try:
            load("keras-tf").prepare(spec)
        except Exception as exc:
            print(type(exc).__name__, exc)
    ''')
    assert "KerasEngineError Keras 3 is already running on 'jax'" in proc.stdout, \
        proc.stderr[-2000:]


def test_tf_keras_after_keras_tf_in_one_process_is_a_clear_error() -> None:
    if not (_installed("keras-tf") and importlib.util.find_spec("tf_keras")):
        pytest.skip("needs keras, tensorflow and tf-keras")
    proc = _in_one_process('''
        import os
        from backends import load
        from conformance.catalog.seeds import seed_specs
        spec = next(s for s in seed_specs() if s.name.startswith("seed003-output-wrt"))
        load("keras-tf").prepare(spec)(spec.cast())
        print("TF_USE_LEGACY_KERAS" in os.environ)
        try:
            load("tf-eager").prepare(spec)
        except Exception as exc:
            print(type(exc).__name__, exc)
    ''')
    assert "False\nKeras3Error TensorFlow was imported with Keras 3" in proc.stdout, \
        proc.stderr[-2000:]

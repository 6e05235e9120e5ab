"""Adapter overhead: a backend's prepared program against hand-written native code.

For each installed backend with function specs (jax, autograd, tf-eager, tf-graph, pytensor;
the keras-* adapters run model specs only and are not covered), in float32 and float64, two
specs: a 784-64-64-10 tanh MLP's softmax cross-entropy at batch 256 w.r.t. the input, and a
7-element polynomial, where only the fixed per-call overhead shows. The median time of one
call of ``backend.prepare(spec)`` is compared, call by call, with the same loss and gradient
written as a practitioner of the framework writes it: ``jax.jit(jax.value_and_grad(loss))``,
autograd's ``value_and_grad(loss)``, a ``tf.function`` around a ``GradientTape``, a TF1 graph
+ session with ``tf.compat.v1.gradients``, and ``pytensor.function`` of ``pytensor.grad``
(compiled in the adapter's mode, so only the call path differs). Both sides take the same
numpy arrays and return numpy arrays.

Each backend runs in its own process (each framework needs its own process settings), and
``--repeat`` runs every process that many times; the parent prints one table with the
median over runs and, in brackets, the range. Goals: ratio <= 1.05 on the MLP, and at most
10 us fixed per call (adapter minus native) on the polynomial.

    python benchmarks/adapter_overhead.py --repeat 3   # a few minutes
    python benchmarks/adapter_overhead.py --smoke      # checks that it works
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Callable
from typing import Any

import _timing  # first: it puts the repository on sys.path
import numpy as np

from conformance.spec import Spec

BACKENDS = ("jax", "autograd", "tf-eager", "tf-graph", "pytensor")
DTYPES = ("float32", "float64")
#: The overhead goal on the MLP: adapter call / native call.
GOAL = 1.05
#: The fixed-overhead goal on the polynomial: adapter call - native call, in seconds.
FIXED_GOAL = 10e-6
NativeCall = Callable[[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]]


def mlp_loss(xp: Any, x: Any, w1: Any, b1: Any, w2: Any, b2: Any, w3: Any, b3: Any,
             y: Any) -> Any:
    """Mean softmax cross-entropy of a tanh MLP with one-hot targets (the spec's ``fn``)."""
    hidden = xp.tanh(xp.tanh(x @ w1 + b1) @ w2 + b2)
    logits = hidden @ w3 + b3
    top = xp.max(logits, axis=-1, keepdims=True)
    logsumexp = top[:, 0] + xp.log(xp.sum(xp.exp(logits - top), axis=-1))
    return xp.mean(logsumexp - xp.sum(y * logits, axis=-1))


def polynomial(xp: Any, x: Any) -> Any:
    """sum(x^4 - 3x^3 + x - 2): a spec so small that only fixed overhead is measured."""
    return xp.sum(x**4 - 3 * x**3 + x - 2)


def tf_mlp_loss(tf: Any, x: Any, w1: Any, b1: Any, w2: Any, b2: Any, w3: Any, b3: Any,
                y: Any) -> Any:
    """:func:`mlp_loss` as a TensorFlow user writes it, with ``tf`` ops."""
    hidden = tf.tanh(tf.matmul(tf.tanh(tf.matmul(x, w1) + b1), w2) + b2)
    logits = tf.matmul(hidden, w3) + b3
    return tf.reduce_mean(tf.reduce_logsumexp(logits, axis=-1) - tf.reduce_sum(y * logits, -1))


def tf_polynomial(tf: Any, x: Any) -> Any:
    """:func:`polynomial` with ``tf`` ops."""
    return tf.reduce_sum(x**4 - 3 * x**3 + x - 2)


def specs(dtype: str) -> dict[str, Spec]:
    """The two benchmark specs in ``dtype``, differentiated w.r.t. the input ``x``."""
    rng = np.random.default_rng(7)
    sizes = (784, 64, 64, 10)
    arrays = {"x": rng.uniform(-0.5, 0.5, size=(256, 784))}
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=1):
        arrays[f"w{i}"] = rng.normal(size=(n_in, n_out)) / np.sqrt(n_in)
        arrays[f"b{i}"] = rng.normal(size=n_out) * 0.1
    arrays["y"] = np.eye(10)[rng.integers(0, 10, size=256)]
    roles = {n: "param" for n in arrays if n[0] in "wb"} | {"y": "target"}
    return {
        "mlp 784-64-64-10 b256": Spec("bench-mlp", mlp_loss, arrays, ("x",), roles=roles,
                                      dtype=dtype),
        "polynomial n=7": Spec("bench-polynomial", polynomial,
                               {"x": rng.uniform(-2, 2, size=7)}, ("x",), dtype=dtype),
    }


TF_LOSSES = {"bench-mlp": tf_mlp_loss, "bench-polynomial": tf_polynomial}


def native_jax(spec: Spec) -> NativeCall:
    from backends.jax_backend import _jax  # the adapter's process settings (x64)

    jax = _jax()
    step = jax.jit(jax.value_and_grad(lambda x, rest: spec.fn(jax.numpy, x=x, **rest)))

    def call(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        value, grad = step(arrays["x"], {n: a for n, a in arrays.items() if n != "x"})
        return np.asarray(value), np.asarray(grad)
    return call


def native_autograd(spec: Spec) -> NativeCall:
    import autograd.numpy as anp
    from autograd import value_and_grad

    step = value_and_grad(lambda x, rest: spec.fn(anp, x=x, **rest))

    def call(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        value, grad = step(arrays["x"], {n: a for n, a in arrays.items() if n != "x"})
        return np.asarray(value), np.asarray(grad)
    return call


def native_tf_eager(spec: Spec) -> NativeCall:
    from backends._tf import tensorflow  # TF_USE_LEGACY_KERAS=1 etc. before the import

    tf, loss = tensorflow(), TF_LOSSES[spec.name]

    @tf.function
    def step(x: Any, rest: dict) -> tuple[Any, Any]:
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = loss(tf, x, **rest)
        return value, tape.gradient(value, x)

    def call(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        value, grad = step(tf.constant(arrays["x"]),
                           {n: tf.constant(a) for n, a in arrays.items() if n != "x"})
        return value.numpy(), grad.numpy()
    return call


def native_tf_graph(spec: Spec) -> NativeCall:
    from backends._tf import tensorflow

    tf, loss = tensorflow(), TF_LOSSES[spec.name]
    graph = tf.Graph()
    with graph.as_default():
        feeds = {n: tf.compat.v1.placeholder(spec.dtype, a.shape, name=n)
                 for n, a in spec.arrays.items()}
        value = loss(tf, **feeds)
        (grad,) = tf.compat.v1.gradients(value, [feeds["x"]])
    session = tf.compat.v1.Session(graph=graph)

    def call(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        return tuple(session.run([value, grad], {feeds[n]: a for n, a in arrays.items()}))
    return call


def native_pytensor(spec: Spec) -> NativeCall:
    from backends.registry import load

    backend = load("pytensor")  # its compile mode, so that only the call paths differ
    pytensor = backend.framework()
    pt = pytensor.tensor
    with pytensor.config.change_flags(floatX=spec.dtype):
        inputs = {n: pt.tensor(name=n, dtype=spec.dtype, shape=a.shape)
                  for n, a in spec.arrays.items()}
        value = spec.fn(pt, **inputs)
        function = pytensor.function(list(inputs.values()),
                                     [value, pytensor.grad(value, inputs["x"])],
                                     mode=backend.mode())

    def call(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        value, grad = function(*arrays.values())
        return value, grad
    return call


NATIVE: dict[str, Callable[[Spec], NativeCall]] = {
    "jax": native_jax, "autograd": native_autograd, "tf-eager": native_tf_eager,
    "tf-graph": native_tf_graph, "pytensor": native_pytensor}


def measure_backend(name: str, rounds: int) -> list[dict[str, Any]]:
    """In this process: adapter vs native medians for each spec and dtype on ``name``."""
    from backends.registry import load

    backend, rows = load(name), []
    for dtype in DTYPES:
        for label, spec in specs(dtype).items():
            arrays = spec.cast()
            program, native = backend.prepare(spec), NATIVE[name](spec)
            ours, theirs = program(arrays), native(arrays)
            np.testing.assert_allclose(ours["x"], theirs[1], rtol=1e-3, atol=1e-6)  # same work
            medians = _timing.alternate(
                {"adapter": lambda program=program, arrays=arrays: program(arrays),
                 "native": lambda native=native, arrays=arrays: native(arrays)},
                rounds, warmup=3)
            rows.append({"backend": name, "dtype": dtype, "spec": label, **medians})
    return rows


def spread(values: list[float], unit: Callable[[float], str]) -> str:
    """The median of ``values`` and, when there are several, their range in brackets."""
    middle = unit(statistics.median(values))
    return middle if len(values) == 1 else f"{middle} [{unit(min(values))}, {unit(max(values))}]"


def summary(runs: list[dict[str, Any]]) -> list[str]:
    """One table row from the same (backend, dtype, spec) measured in several runs."""
    ratios = [r["adapter"] / r["native"] for r in runs]
    fixed = [r["adapter"] - r["native"] for r in runs]
    first = runs[0]
    if "mlp" in first["spec"]:
        goal = "met" if statistics.median(ratios) <= GOAL else "MISSED"
    else:
        goal = "met" if statistics.median(fixed) <= FIXED_GOAL else "MISSED"
    return [first["backend"], first["dtype"], first["spec"],
            _timing.duration(statistics.median(r["adapter"] for r in runs)),
            _timing.duration(statistics.median(r["native"] for r in runs)),
            spread(ratios, lambda v: f"{v:.2f}"), spread(fixed, lambda v: f"{v * 1e6:+.1f}"),
            goal]


def main() -> None:
    parsed = _timing.parser(__doc__.split("\n\n")[0], rounds=300)
    parsed.add_argument("--repeat", type=int, default=1,
                        help="run every backend's process this many times (default 1)")
    parsed.add_argument("--backend", action="append", choices=BACKENDS,
                        help="only these backends (repeatable; default: every installed one)")
    args = parsed.parse_args()
    command = " ".join(["python benchmarks/adapter_overhead.py", *sys.argv[1:]])
    rounds = 3 if args.smoke else args.rounds
    measured: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for _ in range(args.repeat):
        for name in _timing.installed(args.backend or BACKENDS):
            for row in _timing.child_json(__file__, "--child", name, str(rounds)):
                measured.setdefault((row["backend"], row["dtype"], row["spec"]), []).append(row)
    body = _timing.table(
        ["backend", "dtype", "spec", "adapter", "native", "ratio", "fixed us", "goal"],
        [summary(runs) for runs in measured.values()])
    _timing.report(f"adapter overhead: median of one call, adapter vs native, alternating; "
                   f"{args.repeat} run(s), median [range] over runs; goals: MLP ratio <= "
                   f"{GOAL}, polynomial fixed <= {FIXED_GOAL * 1e6:.0f} us", command, body)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(measure_backend(sys.argv[2], int(sys.argv[3]))))
    else:
        main()

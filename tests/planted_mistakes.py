"""The planted-mistake gallery: gradient code with one classic mistake each.

Every backend here is written the way a real user writes it with the real framework
(seed 001's fresh Session, seed 000's learning phase, seed 004's K.gradients under eager,
an unwatched tensor, ...), not through gradparity's own adapters. The tests check that the
harness reports each with exactly its own diagnosis code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from backends.base import Backend, Program
from conformance.spec import Spec

TF = {"tensorflow": "tensorflow", "tf_keras": "tf-keras"}
JAX = {"jax": "jax"}


def _tf() -> Any:
    from backends._tf import tensorflow

    return tensorflow()


def _jax() -> Any:
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def _keras_layers(tf: Any, spec: Spec) -> list[Any]:
    """The spec's model written out by hand with tf.keras layers, as a user builds it."""
    layers = []
    for i, layer in enumerate(spec.model.layers):
        config = dict(layer.config)
        kwargs = {"input_dim": spec.arrays["x"].shape[1]} if i == 0 else {}
        if layer.class_name == "Dense":
            layers.append(tf.keras.layers.Dense(config["units"], activation=config["activation"],
                                                use_bias=config["use_bias"], dtype=spec.dtype,
                                                **kwargs))
        elif layer.class_name == "Dropout":
            layers.append(tf.keras.layers.Dropout(config["rate"], dtype=spec.dtype))
    return layers


def _weights(spec: Spec, arrays: dict[str, np.ndarray]) -> list[np.ndarray]:
    return [arrays[n] for n in spec.model.weight_names]


class _KerasGraph:
    """Seeds 000 and 001's setting: a tf.Graph, its Session as the Keras session, the model."""

    def __init__(self, spec: Spec) -> None:
        self.tf = _tf()
        self.K = self.tf.compat.v1.keras.backend  # the name every Keras user writes
        self.graph = self.tf.Graph()
        with self.graph.as_default():
            self.session = self.tf.compat.v1.Session(graph=self.graph)
            self.K.set_session(self.session)
            self.model = self.tf.keras.Sequential(_keras_layers(self.tf, spec))

    @contextlib.contextmanager
    def loaded(self, spec: Spec, arrays: dict[str, np.ndarray]) -> Iterator[None]:
        """Inside the graph, its session the Keras one, the arrays' weights loaded into it."""
        with self.graph.as_default():
            self.K.set_session(self.session)
            self.model.set_weights(_weights(spec, arrays))
            yield


class StaleSession(Backend):
    """Seed 001: K.gradients on the trained model, evaluated in a *new* Session after
    global_variables_initializer(), so the weights are random, not the model's."""

    name = "planted-stale-session"
    requires = TF

    def prepare(self, spec: Spec) -> Program:
        keras = _KerasGraph(spec)
        tf, model = keras.tf, keras.model
        with keras.graph.as_default():
            gradients = keras.K.gradients(model.output, model.input)
            sess = tf.compat.v1.Session(graph=keras.graph)  # the mistake: a fresh session ...
            sess.run(tf.compat.v1.global_variables_initializer())  # ... re-initialized

        def program(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
            with keras.loaded(spec, arrays):  # the "trained" weights, in the model's session
                value = keras.session.run(model.output, {model.input: arrays["x"]})
                grad = sess.run(gradients[0], feed_dict={model.input: arrays["x"]})
            return {"value": np.sum(value), "x": grad}

        return program


class LearningPhaseOn(Backend):
    """Seed 000: K.function fed with learning phase 1, so Dropout is active."""

    name = "planted-learning-phase"
    requires = TF

    def prepare(self, spec: Spec) -> Program:
        keras = _KerasGraph(spec)
        tf, K, model = keras.tf, keras.K, keras.model  # noqa: N806
        with keras.graph.as_default():
            y = tf.compat.v1.placeholder(spec.dtype, spec.arrays["y"].shape)
            weights = tf.compat.v1.placeholder(spec.dtype, spec.arrays["sample_weight"].shape)
            per_sample = tf.keras.losses.categorical_crossentropy(y, model.output)
            loss = tf.reduce_mean(per_sample * weights)
            grads = K.gradients(loss, model.input)
            get_gradients = K.function([model.input, y, weights, K.learning_phase()],
                                       [loss, *grads])

        def program(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
            with keras.loaded(spec, arrays):
                value, grad = get_gradients([arrays["x"], arrays["y"], arrays["sample_weight"],
                                             1])  # the mistake: 1 is TRAIN
            return {"value": np.asarray(value), "x": grad}

        return program


class BatchNormTraining(Backend):
    """A BatchNormalization model called with ``training=True`` under the tape: the loss
    gradient of a training step (batch statistics) where inference was meant."""

    name = "planted-batchnorm-training"
    requires = TF

    def prepare(self, spec: Spec) -> Program:
        tf = _tf()
        layers = tf.keras.layers
        model = tf.keras.Sequential([
            tf.keras.Input(shape=spec.arrays["x"].shape[1:], dtype=spec.dtype),
            layers.Dense(8, use_bias=False, dtype=spec.dtype),
            layers.BatchNormalization(dtype=spec.dtype),
            layers.Activation("tanh", dtype=spec.dtype),
            layers.Dense(3, activation="softmax", dtype=spec.dtype)])
        loss = tf.keras.losses.CategoricalCrossentropy()

        def program(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
            model.set_weights(_weights(spec, arrays))
            x = tf.constant(arrays["x"])
            with tf.GradientTape() as tape:
                tape.watch(x)
                value = loss(arrays["y"], model(x, training=True))  # the mistake
            return {"value": value.numpy(), "x": tape.gradient(value, x).numpy()}

        return program


class EagerKGradients(Backend):
    """Seed 004: K.gradients(model.output, model.input) in TensorFlow 2's eager mode."""

    name = "planted-eager-gradients"
    requires = TF

    def prepare(self, spec: Spec) -> Program:
        tf = _tf()
        model = tf.keras.Sequential(_keras_layers(tf, spec))
        grads = tf.compat.v1.keras.backend.gradients(model.output, model.input)

        def program(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
            return {"value": np.sum(model(arrays["x"])), "x": grads[0].numpy()}

        return program


def _tf_eager_program(spec: Spec, gradient: Any) -> Program:
    """Evaluate ``fn`` with tensorflow.experimental.numpy and a user-written ``gradient``."""
    from backends._tf import numpy_namespace

    tnp = numpy_namespace()

    def program(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        value, grads = gradient(_tf(), lambda **a: spec.fn(tnp, **a), arrays)
        out = {"value": np.asarray(value)}
        out.update({n: None if g is None else np.asarray(g) for n, g in grads.items()})
        return out

    return program


class UnwatchedTensor(Backend):
    """GradientTape over a plain tf.constant that nobody watched: the gradient is None."""

    name = "planted-unwatched-input"
    requires = TF

    def prepare(self, spec: Spec) -> Program:
        def gradient(tf: Any, f: Any, arrays: dict[str, np.ndarray]) -> Any:
            tensors = {n: tf.constant(a) for n, a in arrays.items()}
            with tf.GradientTape() as tape:  # the mistake: no tape.watch(tensors["x"])
                value = f(**tensors)
            return value, {n: tape.gradient(value, tensors[n]) for n in spec.wrt}

        return _tf_eager_program(spec, gradient)


class NumpyRoundTrip(Backend):
    """A .numpy() round trip inside the tape cuts the path; unconnected_gradients=ZERO hides it."""

    name = "planted-disconnected"
    requires = TF

    def prepare(self, spec: Spec) -> Program:
        def gradient(tf: Any, f: Any, arrays: dict[str, np.ndarray]) -> Any:
            tensors = {n: tf.constant(a) for n, a in arrays.items()}
            with tf.GradientTape(persistent=True) as tape:
                for n in spec.wrt:
                    tape.watch(tensors[n])
                detached = {n: tf.constant(t.numpy()) for n, t in tensors.items()}  # the cut
                value = f(**detached)
            zero = tf.UnconnectedGradients.ZERO  # ... and the gap filled with zeros
            return value, {n: tape.gradient(value, tensors[n], unconnected_gradients=zero)
                           for n in spec.wrt}

        return _tf_eager_program(spec, gradient)


class GraphPerCall(Backend):
    """TF1 style with tf.gradients built inside every call: the graph grows per call."""

    name = "planted-graph-growth"
    requires = TF

    def prepare(self, spec: Spec) -> Program:
        tf = _tf()
        from backends._tf import numpy_namespace

        tnp = numpy_namespace()
        graph = tf.Graph()
        with graph.as_default():
            placeholders = {n: tf.compat.v1.placeholder(spec.dtype, a.shape, name=n)
                            for n, a in spec.arrays.items()}
            value = spec.fn(tnp, **placeholders)
            session = tf.compat.v1.Session(graph=graph)

        def program(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
            with graph.as_default():  # the mistake: new gradient ops on every call
                grads = tf.compat.v1.gradients(value, [placeholders[n] for n in spec.wrt])
                feed = {placeholders[n]: a for n, a in arrays.items()}
                results = session.run([value, *grads], feed)
            return {"value": results[0], **dict(zip(spec.wrt, results[1:]))}

        program.graph_op_count = lambda: len(graph.get_operations())
        return program


class FunctionPerCall(Backend):
    """A tf.function created inside every call: it is traced again each time."""

    name = "planted-retracing"
    requires = TF

    def prepare(self, spec: Spec) -> Program:
        tf = _tf()
        from backends._tf import numpy_namespace

        tnp = numpy_namespace()
        traces = [0]

        def compute(arrays: dict[str, Any]) -> Any:
            traces[0] += 1  # Python side effect: runs only while tracing
            watched = {n: arrays[n] for n in spec.wrt}
            with tf.GradientTape() as tape:
                tape.watch(watched)
                value = spec.fn(tnp, **arrays)
            return value, tape.gradient(value, watched)

        def program(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
            value, grads = tf.function(compute)(arrays)  # the mistake: a new tf.function
            return {"value": value.numpy(), **{n: g.numpy() for n, g in grads.items()}}

        program.trace_count = lambda: traces[0]
        return program


class _JaxMistake(Backend):
    """A JAX user's gradient code with one mistake, written by the subclass."""

    requires = JAX

    def prepare(self, spec: Spec) -> Program:
        jax = _jax()

        def program(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
            value, grads = self.compute(jax, spec, arrays)
            return {"value": np.asarray(value), **{n: np.asarray(g) for n, g in grads.items()}}

        return program

    def compute(self, jax: Any, spec: Spec, arrays: dict[str, np.ndarray]) -> Any:
        raise NotImplementedError


def _loss_grad(jax: Any, fn: Any, spec: Spec, arrays: dict[str, Any]) -> Any:
    """Value and gradient of ``fn(jnp, **arrays)`` w.r.t. the spec's ``wrt`` arrays."""
    wrt = {n: arrays[n] for n in spec.wrt}
    rest = {n: a for n, a in arrays.items() if n not in wrt}
    return jax.value_and_grad(lambda w: fn(jax.numpy, **w, **rest))(wrt)


class NaiveWhere(_JaxMistake):
    """where(x > 0, sqrt(x), 0) without the double-where trick: NaN for negative x."""

    name = "planted-nan-gradient"

    def compute(self, jax: Any, spec: Spec, arrays: dict[str, np.ndarray]) -> Any:
        def naive(jnp: Any, x: Any) -> Any:
            return jnp.sum(jnp.where(x > 0, jnp.sqrt(x), 0.0))
        return _loss_grad(jax, naive, spec, arrays)


class ReluKink(_JaxMistake):
    """jax.nn.relu where the spec says maximum(x, 0): 0 instead of 0.5 at exactly 0."""

    name = "planted-kink"

    def compute(self, jax: Any, spec: Spec, arrays: dict[str, np.ndarray]) -> Any:
        def with_relu(jnp: Any, x: Any, w: Any) -> Any:
            return jnp.sum(jax.nn.relu(x) * w)
        return _loss_grad(jax, with_relu, spec, arrays)


class SumInsteadOfMean(_JaxMistake):
    """The MSE summed over the batch where the spec averages it."""

    name = "planted-wrong-reduction"

    def compute(self, jax: Any, spec: Spec, arrays: dict[str, np.ndarray]) -> Any:
        def summed(jnp: Any, x: Any, w1: Any, b1: Any, w2: Any, b2: Any, y: Any) -> Any:
            return jnp.sum((jnp.tanh(x @ w1 + b1) @ w2 + b2 - y) ** 2)  # the mistake: sum
        value, grads = _loss_grad(jax, summed, spec, arrays)
        return spec.fn(np, **arrays), grads


class TransposedJacobian(_JaxMistake):
    """The Jacobian returned as input x output (jacrev(...).T)."""

    name = "planted-shape-mismatch"

    def compute(self, jax: Any, spec: Spec, arrays: dict[str, np.ndarray]) -> Any:
        x = arrays["x"]
        jac = jax.jacrev(lambda x: spec.fn(jax.numpy, x=x))(x)
        return spec.fn(jax.numpy, x=x), {"x": jac.T}  # the mistake: .T


class Float32Inside(_JaxMistake):
    """Inputs cast to float32 (as without jax_enable_x64), the answer cast back to float64."""

    name = "planted-dtype-downcast"

    def compute(self, jax: Any, spec: Spec, arrays: dict[str, np.ndarray]) -> Any:
        single = {n: jax.numpy.asarray(a, dtype=jax.numpy.float32) for n, a in arrays.items()}
        value, grads = _loss_grad(jax, spec.fn, spec, single)
        return value, {n: np.asarray(g, dtype=np.float64) for n, g in grads.items()}


class NoisyInputs(_JaxMistake):
    """Random input noise (augmentation) inside the differentiated function."""

    name = "planted-nondeterministic"

    def compute(self, jax: Any, spec: Spec, arrays: dict[str, np.ndarray]) -> Any:
        noisy = dict(arrays, x=arrays["x"] + np.random.default_rng().normal(0, 0.05,
                                                                            arrays["x"].shape))
        return _loss_grad(jax, spec.fn, spec, noisy)

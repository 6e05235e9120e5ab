"""TensorFlow 1-style graph adapter, the style of seeds 000, 001, 003 and 004.

Each spec gets a ``tf.Graph`` of its own and a ``tf.compat.v1.Session`` bound to it, set as
the Keras session (``tf.compat.v1.keras.backend``, tf-keras). Arrays enter through
placeholders. Function specs run ``fn`` on ``tensorflow.experimental.numpy`` inside the graph
and differentiate with ``tf.compat.v1.gradients``. Model specs build a real tf_keras model in
the graph, load the weights by assign ops fed from the arrays, differentiate with
``K.gradients``, and evaluate through ``K.function`` with the learning phase fed
(0: inference, 1: training). Every derivative kind is built from gradients of scalars:
Jacobians row by row (for function specs, one ``J^T u`` graph fed each row's basis vector
``u``), JVPs by the double-gradient trick, HVPs as gradients of gradients.

The graph is built once per spec and then finalized, so calling the program again cannot add
ops. Hooks for the harness: ``program.graph_op_count()`` (ops in the spec's graph),
``program.none_gradients()`` (the ``wrt`` names whose gradient ``tf.compat.v1.gradients``
answered None: the program returns zeros for them, and the conventions matrix shows None)
and, for model specs, ``program.weights_in_use()`` (the weights read back from the session).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from backends import _keras, _tf, _tnp
from backends.base import Arrays, Program, Unsupported
from conformance.model import SAMPLE_WEIGHT, TARGET
from conformance.spec import Spec

Gradients = Callable[[Any, list], list]


class TFGraphBackend(_tf.TensorFlowBackend):
    name = "tf-graph"

    def prepare(self, spec: Spec) -> Program:
        return self._prepare(spec, derivatives=True)

    def prepare_forward(self, spec: Spec) -> Program:
        """A graph of the value alone: the same feeds and weight loads, no gradient ops."""
        return self._prepare(spec, derivatives=False)

    def _prepare(self, spec: Spec, derivatives: bool) -> Program:
        tf = _tf.tensorflow()
        keras_backend = tf.compat.v1.keras.backend
        graph = tf.Graph()
        with graph.as_default():
            session = tf.compat.v1.Session(graph=graph)
            keras_backend.set_session(session)
            build = _build_model if spec.model is not None else _build_function
            program = build(spec, tf, graph, session, derivatives)
            # Initialize, then let Keras see the variables initialized, so K.function adds no
            # initializer ops later (the weights themselves are loaded at every call).
            session.run(tf.compat.v1.global_variables_initializer())
            with session.as_default():
                keras_backend.get_session()
        graph.finalize()
        return program


class _GraphProgram:
    """Runs one spec's finalized graph: ``fetch(arrays)`` returns the value and the
    derivatives w.r.t. ``names`` (the spec's ``wrt``, or none in a forward program)."""

    def __init__(self, spec: Spec, graph: Any, session: Any, fetch: Callable[[Arrays], list],
                 names: tuple[str, ...], answered_none: tuple[str, ...] = ()):
        self.spec, self.graph, self.session, self.fetch = spec, graph, session, fetch
        self.names, self.answered_none = names, answered_none

    def __call__(self, arrays: Arrays) -> dict[str, np.ndarray]:
        value, *derivatives = self.fetch(arrays)
        named = zip(self.names, map(np.asarray, derivatives), strict=True)
        return {"value": np.asarray(value), **dict(named)}

    def graph_op_count(self) -> int:
        """Number of ops in the spec's graph."""
        return len(self.graph.get_operations())

    def none_gradients(self) -> tuple[str, ...]:
        """The ``wrt`` names whose gradient TensorFlow answered None (filled with zeros)."""
        return self.answered_none


class _ModelGraphProgram(_GraphProgram):
    """A model spec's program, whose weights live in session variables that can be read back."""

    def __init__(self, spec: Spec, graph: Any, session: Any, fetch: Callable[[Arrays], list],
                 names: tuple[str, ...], variables: Mapping[str, Any],
                 answered_none: tuple[str, ...] = ()):
        super().__init__(spec, graph, session, fetch, names, answered_none)
        self.variables = dict(variables)

    def __call__(self, arrays: Arrays) -> dict[str, np.ndarray]:
        # K.function finds its session through the default graph and session; a function
        # spec's fetch names its session itself and skips these contexts, which cost more
        # than the 7-element polynomial's session.run itself (40 us on a loaded machine)
        with self.graph.as_default(), self.session.as_default():
            return super().__call__(arrays)

    def weights_in_use(self) -> dict[str, np.ndarray]:
        """The model's weights as the session holds them now."""
        values = self.session.run(list(self.variables.values()))
        return dict(zip(self.variables, values, strict=True))


def _build_function(spec: Spec, tf: Any, graph: Any, session: Any,
                    with_derivatives: bool) -> _GraphProgram:
    placeholders = {n: tf.compat.v1.placeholder(spec.dtype_of(n), a.shape, name=n)
                    for n, a in spec.arrays.items()}
    inner = _inner_grad(_zero_filled(tf, tf.compat.v1.gradients)) if spec.uses_grad else None
    with _elementwise_equality_only(tf):
        value = tf.convert_to_tensor(spec.evaluate(_tf.numpy_namespace(), placeholders,
                                                   grad=inner, scan=_tnp.scan))
    names = spec.wrt if with_derivatives else ()
    sources = {n: placeholders[n] for n in names}
    answered: set[int] = set()
    gradients = _zero_filled(tf, tf.compat.v1.gradients, answered)
    if names and spec.kind == "jacobian":
        rows = _jacobian_rows(tf, session, value, sources, gradients)

        def fetch(arrays: Arrays) -> list:
            return rows({placeholders[n]: arrays[n] for n in placeholders})
        return _GraphProgram(spec, graph, session, fetch, names, _named(sources, answered))
    derivatives = _derivatives(spec, tf, value, sources, gradients) if names else []
    fetches = [value, *derivatives]

    def fetch(arrays: Arrays) -> list:
        return session.run(fetches, feed_dict={placeholders[n]: arrays[n] for n in placeholders})

    return _GraphProgram(spec, graph, session, fetch, names, _named(sources, answered))


#: Why a spec comparing graph tensors with ``==`` or ``!=`` is not computed here.
IDENTITY_EQUALITY = (
    "{op} on TensorFlow graph tensors is Python identity in a TF1 graph, not numpy's "
    "elementwise comparison (TensorFlow compares elementwise only eagerly or inside "
    "tf.function), so the spec would silently compute something else; write xp.{name}(a, b)")


@contextlib.contextmanager
def _elementwise_equality_only(tf: Any) -> Iterator[None]:
    """While ``fn`` builds the graph: a ``==``/``!=`` that the spec's own code applies to a
    graph tensor raises :class:`Unsupported` naming the operator and the fix, since a TF1
    graph answers it with object identity (``labels == 1`` is the constant False). The
    framework's own uses (TensorFlow's code comparing tensors, e.g. ``tensor in list``)
    keep their meaning."""
    cls = tf.Tensor
    originals = {"__eq__": cls.__eq__, "__ne__": cls.__ne__}

    def guarded(op: str, name: str) -> Callable[[Any, Any], Any]:
        original = originals[op]

        def compare(self: Any, other: Any) -> Any:
            result = original(self, other)
            if isinstance(result, bool) and not _framework_caller(sys._getframe(1)):
                symbol = "==" if op == "__eq__" else "!="
                raise Unsupported(IDENTITY_EQUALITY.format(op=symbol, name=name))
            return result
        return compare

    cls.__eq__ = guarded("__eq__", "equal")
    cls.__ne__ = guarded("__ne__", "not_equal")
    try:
        yield
    finally:
        cls.__eq__, cls.__ne__ = originals["__eq__"], originals["__ne__"]


def _framework_caller(frame: Any) -> bool:
    """Whether the code that applied the operator is TensorFlow's (or Keras') own."""
    module = frame.f_globals.get("__name__", "") if frame is not None else ""
    return module.split(".")[0] in ("tensorflow", "tf_keras", "keras")


def _jacobian_rows(tf: Any, session: Any, value: Any, sources: Mapping[str, Any],
                   gradients: Gradients) -> Callable[[dict], list]:
    """A function spec's Jacobian, one row per session run: ``J^T u`` is built once with
    ``u`` a placeholder and fed each basis vector (one backward graph, not one per row)."""
    u = tf.compat.v1.placeholder(value.dtype, value.shape, name="row_selector")
    pulled = gradients(tf.reduce_sum(value * u), list(sources.values()))

    def rows(feed: dict) -> list:
        out = session.run(value, feed_dict=feed)
        basis = np.eye(out.size, dtype=out.dtype).reshape(out.size, *out.shape)
        found = [session.run(pulled, feed_dict={**feed, u: e}) for e in basis]
        return [out, *(np.stack([row[k] for row in found]).reshape(out.shape + tuple(x.shape))
                       for k, x in enumerate(sources.values()))]
    return rows


def _build_model(spec: Spec, tf: Any, graph: Any, session: Any,
                 with_derivatives: bool) -> _GraphProgram:
    K = tf.compat.v1.keras.backend  # noqa: N806 - the name every Keras user writes
    keras = _keras.build_tf_keras_model(spec)
    inputs = keras.graph_inputs
    targets = {n: tf.compat.v1.placeholder(spec.dtype, spec.arrays[n].shape, name=n)
               for n in (TARGET, SAMPLE_WEIGHT) if n in spec.arrays}
    value = keras.objective(keras.graph_output, targets)
    names = spec.wrt if with_derivatives else ()
    sources = {n: keras.variables.get(n, inputs.get(n)) for n in names}
    answered: set[int] = set()
    derivatives = _derivatives(spec, tf, value, sources,
                               _zero_filled(tf, K.gradients, answered)) if names else []
    feeds = [*inputs, *targets]
    function = K.function(inputs=[*inputs.values(), *targets.values(), K.learning_phase()],
                          outputs=[value, *derivatives])
    loads = {n: tf.compat.v1.placeholder(spec.dtype, v.shape, name=f"{n}_value")
             for n, v in keras.variables.items()}
    assign = [v.assign(loads[n]) for n, v in keras.variables.items()]
    learning_phase = int(spec.model.training)

    def fetch(arrays: Arrays) -> list:
        session.run(assign, feed_dict={loads[n]: arrays[n] for n in loads})
        return function([*(arrays[n] for n in feeds), learning_phase])

    return _ModelGraphProgram(spec, graph, session, fetch, names, keras.variables,
                              _named(sources, answered))


def _zero_filled(tf: Any, gradients: Callable, answered: set[int] | None = None) -> Gradients:
    """``gradients(y, xs)`` with zeros where TensorFlow answers None (a source that does not
    reach ``y``, an op whose gradient is None), densified (a gather's gradient is
    ``IndexedSlices``); the ``id`` of each source answered None goes into ``answered``."""
    def filled(y: Any, xs: list) -> list:
        found = gradients(y, xs)
        if answered is not None:
            answered.update(id(x) for g, x in zip(found, xs, strict=True) if g is None)
        return [tf.zeros_like(x) if g is None else _tf.dense(g)
                for g, x in zip(found, xs, strict=True)]
    return filled


def _named(sources: Mapping[str, Any], answered: set[int]) -> tuple[str, ...]:
    """The names of the ``sources`` whose ``id`` is in ``answered``."""
    return tuple(n for n, x in sources.items() if id(x) in answered)


def _inner_grad(gradients: Gradients) -> Callable[[Callable], Callable]:
    """The ``grad`` handed to specs that differentiate inside ``fn``, built into the graph."""
    def grad(f: Callable) -> Callable:
        def gradient(x: Any, *rest: Any) -> Any:
            parts = list(x) if isinstance(x, list | tuple) else [x]
            result = gradients(f(x, *rest), parts)
            return type(x)(result) if isinstance(x, list | tuple) else result[0]
        return gradient
    return grad


def _derivatives(spec: Spec, tf: Any, value: Any, sources: Mapping[str, Any],
                 gradients: Gradients) -> list:
    """The spec's derivative of ``value`` w.r.t. each source, in ``spec.wrt`` order."""
    xs = list(sources.values())
    if spec.kind == "grad":
        return gradients(value, xs)
    if spec.kind == "vjp":
        cotangent = tf.constant(spec.cast({"c": spec.cotangent})["c"])
        return gradients(tf.reduce_sum(value * cotangent), xs)
    if spec.kind == "jacobian":
        flat = tf.reshape(value, [-1])
        rows = [gradients(flat[i], xs) for i in range(flat.shape.num_elements())]
        return [tf.reshape(tf.stack([row[k] for row in rows]), value.shape.concatenate(x.shape))
                for k, x in enumerate(xs)]
    tangents = [tf.constant(t) for t in spec.cast({n: spec.tangents[n] for n in sources}).values()]
    if spec.kind == "hvp":
        first = gradients(value, xs)
        along = tf.add_n([tf.reduce_sum(g * t) for g, t in zip(first, tangents, strict=True)])
        return gradients(along, xs)
    # jvp: J t = d/du <J^T u, t>, for each source on its own
    u = tf.compat.v1.placeholder_with_default(tf.zeros(value.shape, value.dtype), value.shape)
    pulled = gradients(tf.reduce_sum(value * u), xs)
    return [gradients(tf.reduce_sum(p * t), [u])[0] for p, t in zip(pulled, tangents, strict=True)]

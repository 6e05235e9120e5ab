"""The named gradient mistakes: what each is, how to recognize it, and the fix.

Each diagnosis has a stable ``code`` (used in the JSON report and by
``gradparity explain CODE``) and the paragraph a user reads. The detectors that attach
these codes to results live in :mod:`conformance.findings`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Diagnosis:
    """One named mistake and its explanation."""

    code: str
    title: str
    what: str
    recognize: str
    fix: str
    seen_in: str = ""

    def explain(self) -> str:
        """The paragraph ``gradparity explain CODE`` prints."""
        lines = [f"{self.code}: {self.title}", "", f"What happened: {self.what}",
                 f"How it shows: {self.recognize}", f"Fix: {self.fix}"]
        if self.seen_in:
            lines.append(f"Seen in: {self.seen_in}")
        return "\n".join(lines)


_ALL = [
    Diagnosis(
        "stale-session",
        "gradients evaluated with weights other than the ones supplied",
        "The gradient ran in a TensorFlow Session whose variables were initialized afresh "
        "(tf.Session() + global_variables_initializer(), or InteractiveSession + "
        "initialize_all_variables()), so it used random initial weights instead of the "
        "model's trained ones.",
        "The answer is wrong and does not follow the weights: perturbing them moves the "
        "reference, but the answer moves less than a tenth of what the reference's move "
        "predicts for it (scaled by the answer's own size, so an answer off by a constant "
        "factor, a mean for a sum, still follows and is not stale); or the weights read "
        "back from the session differ from the ones loaded. In seed 001 the gradient is the "
        "same for x=0.2 and x=0.6.",
        "Evaluate in the model's own session: sess = K.get_session() (tf.compat.v1.keras."
        "backend.get_session()), and never run the variables initializer after the model "
        "was trained or its weights loaded.",
        "seed 001 (K.gradients + tf.Session), seed 003 (InteractiveSession answer)"),
    Diagnosis(
        "learning-phase",
        "training-only behaviour (dropout, batch statistics) active where inference was meant",
        "The gradient was computed with the Keras learning phase set to 1 (training), so "
        "Dropout layers dropped random units, or BatchNormalization used the batch's own "
        "statistics instead of its moving ones.",
        "Two identical calls give different gradients (not just a multiple of each other), "
        "and the model has Dropout; or the answer matches the same BatchNormalization model "
        "in training mode.",
        "Feed learning phase 0 to K.function (or call model(x, training=False) under the "
        "tape); use training mode only when you want the gradient of a training step.",
        "seed 000 (K.function with K.learning_phase())"),
    Diagnosis(
        "eager-gradients",
        "K.gradients / tf.gradients called under eager execution",
        "tf.gradients (and keras.backend.gradients) only work on graph tensors; TensorFlow 2 "
        "runs eagerly by default.",
        "RuntimeError: tf.gradients is not supported when eager execution is enabled.",
        "Use tf.GradientTape: with tf.GradientTape() as tape: tape.watch(x); y = model(x); "
        "tape.gradient(y, x). Or build the model inside `with tf.Graph().as_default():` and "
        "run K.gradients there, in that graph's session.",
        "seed 004"),
    Diagnosis(
        "unwatched-input",
        "the gradient came back None",
        "The framework returned no gradient for an input: a GradientTape does not watch a "
        "plain tensor (only variables), or no differentiable path connects the input to the "
        "output.",
        "tape.gradient(...) returns None for an input the output depends on (its reference "
        "derivative is not zero); gradparity never turns that None into zeros. A None for "
        "an input the output does not use at all is its true derivative: it is judged as "
        "zeros, with a note.",
        "Call tape.watch(x) before computing with x (or make x a tf.Variable), and keep the "
        "computation inside the tape in framework ops.",
        "seed 004 (x must be watched or a Variable), seed 002 (model.fit inside the tape)"),
    Diagnosis(
        "disconnected",
        "the path to the input was cut and the gap filled with zeros",
        "The computation left the framework (a .numpy() round trip, model.fit or predict "
        "inside the tape, a stop_gradient) so no derivative flows, and the missing gradient "
        "was replaced by zeros (unconnected_gradients=ZERO, or `or zeros`).",
        "The derivative is exactly zero everywhere while the reference is not.",
        "Keep every step from the input to the output in differentiable framework ops; "
        "differentiate through a training step with nested tapes or jax.grad, not model.fit.",
        "seed 002 (tape around model.fit)"),
    Diagnosis(
        "nan-gradient",
        "NaN or Inf gradient where the true derivative is finite",
        "An intermediate of the backward pass was not finite. Most often a where/select hid "
        "it: where(x > 0, sqrt(x), 0) at x = 0 evaluates sqrt's derivative (inf) in the "
        "branch not taken, and 0 * inf = NaN in the backward pass; an overflow (exp of a "
        "large number) in a lower precision does the same.",
        "The derivative has NaN or Inf elements where the float64 reference is finite and the "
        "point is differentiable (at a jump any answer, NaN included, is a convention).",
        "Make both branches safe: where(x > 0, sqrt(where(x > 0, x, 1)), 0) (the double-where "
        "trick), or clip the argument before the unsafe op.",
        ""),
    Diagnosis(
        "kink",
        "the answer differs from others only at a non-differentiable point",
        "The function has a kink where it was evaluated (max(0, x) at 0, abs at 0, a tie of "
        "max), so either one-sided derivative or any value between them is a valid "
        "subgradient and frameworks choose differently: 0.5 in jnp.maximum and autograd, 0 "
        "in TensorFlow and jax.nn.relu. Or the function jumps there (sign at 0, floor at an "
        "integer, a comparison or where(x > 0, ...) at its threshold): the derivative is "
        "infinite or undefined, and frameworks return 0, a one-sided slope or NaN.",
        "Status CONVENTION for every backend whose answer is a valid choice there (the one "
        "equal to the reference's central difference too), with its values in "
        "convention_values and the one-sided derivatives in the message. The point is "
        "confirmed by one-sided differences at three steps, each 100x smaller, relative to "
        "the element's own magnitude: a kink's gap between the slopes (a jump's size) stays, "
        "while at a smooth point, however curved, it shrinks with the step. An answer "
        "outside the one-sided derivatives is a FAIL; the value and every other element "
        "are judged as usual.",
        "Nothing is wrong; avoid evaluating exactly at the point if the choice matters.",
        ""),
    Diagnosis(
        "wrong-reduction",
        "the loss was reduced with the wrong sum or mean",
        "The gradient is the right one times a whole number (or its inverse): the loss was "
        "summed where it should be averaged over a batch or features, or the other way.",
        "Every element (at least two) is off by the same factor, and that factor is the "
        "length of an axis or the element count of an array of the spec, e.g. the batch "
        "size. A factor of 2 is as often calculus (x**2, 0.5 * r**2) as a reduction: it "
        "is named only when the value is off by the same factor.",
        "Use the reduction the spec asks for (mean vs sum, and over which axes).",
        ""),
    Diagnosis(
        "shape-mismatch",
        "the right numbers in the wrong layout",
        "The derivative was returned transposed or reshaped, e.g. a Jacobian as "
        "input x output instead of output x input.",
        "The answer matches the reference after transposing or reshaping, or after "
        "reordering whole slices along one axis of a 2-d or larger array (a 1-d answer in "
        "another order is a wrong scatter, not a layout: no name).",
        "Return Jacobians as output.shape + input.shape (tape.jacobian and jax.jacrev do).",
        ""),
    Diagnosis(
        "dtype-downcast",
        "float64 asked, float32 computed",
        "The computation ran in float32 although float64 arrays were given: JAX without "
        "jax_enable_x64, a Keras model built with floatx float32, or an explicit cast.",
        "A float64 spec gets float32 arrays back; or a float64 answer fails, and every key "
        "that fails is off by float32 rounding (within the float32 tolerance, outside the "
        "float64 one) with every value exactly a float32 number, some of them long ones. "
        "Values that are merely representable (0.5, 0.25, integers, zeros) are no evidence: "
        "a right answer made of them passes like any other.",
        "Enable float64 end to end: jax.config.update('jax_enable_x64', True); "
        "tf.keras.backend.set_floatx('float64'); no casts on the way.",
        ""),
    Diagnosis(
        "graph-growth",
        "every call adds operations to the TF graph",
        "K.gradients, tf.gradients or new ops are created inside the function called per "
        "example, so the graph (and memory, and time per call) grows without bound.",
        "The graph's op count rises between identical calls, up to the last one (ops added "
        "once on the second call, then no more, are not growth per call).",
        "Build the gradient tensors and the K.function once, then only feed and run them.",
        ""),
    Diagnosis(
        "retracing",
        "every call traces or compiles again",
        "A tf.function (or jax.jit) is retraced per call: it is re-created each time, or it "
        "is called with Python scalars or lists whose values change.",
        "The trace count rises between calls with same-shaped arrays, up to the last one.",
        "Create the tf.function once and call it with tensors or numpy arrays.",
        ""),
    Diagnosis(
        "nondeterministic",
        "identical calls give different answers (not dropout)",
        "Something random is in the computation: a random mini-batch, random augmentation, "
        "a noise layer, or an unseeded initializer run per call.",
        "Two identical calls disagree, the model has no Dropout, and the second answer is not "
        "a multiple of the first (a multiple points to state carried between calls, such "
        "as gradients accumulated into a variable, or a random scale on the whole answer: "
        "a FAIL with no name).",
        "Remove the randomness from the function you differentiate, or fix its seed.",
        ""),
]

DIAGNOSES: dict[str, Diagnosis] = {d.code: d for d in _ALL}

"""Every private TensorFlow / TensorBoard entry point labkit uses, in one place.

labkit reaches past the public API in a few spots, each for a reason given below; nothing else
in the package imports ``tensorflow.python`` or calls an underscore name of TensorFlow or
TensorBoard (tests/test_tf_private.py holds it to that, and checks that every entry point still
exists in the installed release, with a message naming the one that moved). Each has a
fallback to a public path where one exists, so a TensorFlow release that moves one makes labkit
slower or plainer, not broken.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

import tensorflow as tf

__all__ = [
    "Trackable",
    "checkpoint_keys",
    "checkpoint_position_value",
    "event_file_loader",
    "event_multiplexer",
    "flat_caller",
    "set_default_summary_writer",
    "tensorboard_info_dir",
    "xla_optimization_barrier",
    "ENTRY_POINTS",
]

# The base class of checkpointable objects. Public (``tf.__internal__``) since TF 2.5; Keras 3
# subclasses the same one.
Trackable = tf.__internal__.tracking.Trackable


def flat_caller(fn: Any) -> Callable[[list[tf.Tensor]], None]:
    """A function that calls concrete function ``fn`` (which has no outputs) with a flat list
    of tensors matching its signature, as cheaply as TensorFlow allows.

    Running the function's op by name through the eager context is where
    ``ConcreteFunction._call_flat`` ends up; going there directly skips binding the arguments
    to the Python signature, tape bookkeeping and error rewriting, which a step with no
    outputs and no gradient does not need: 0.15-0.3 ms per call on a 2-core machine, as much
    as a 1M-parameter update. Falls back to ``_call_flat``, then to the public call.
    """
    captured = list(fn.captured_inputs)
    try:
        from tensorflow.python.eager import context

        ctx, name = context.context(), fn.name
        if not fn.outputs and ctx.has_function(name):
            def call(flat: list[tf.Tensor], _keep: Any = fn) -> None:
                # _keep: the function stays registered only while its ConcreteFunction lives
                ctx.call_function(name, flat + captured, 0)
            return call
    except (ImportError, AttributeError):
        pass
    call_flat = getattr(fn, "_call_flat", None)
    if call_flat is not None:
        return lambda flat: call_flat(flat, captured)
    return lambda flat: fn(*flat)


def checkpoint_keys(ckpt: tf.train.Checkpoint) -> dict[Any, dict[str, Any]]:
    """``{trackable: {checkpoint key: tensor}}`` that ``ckpt.write`` would save, from
    TensorFlow's own serialisation walk (so the keys match what a save produces).

    Fallback: write the checkpoint to a temporary folder and map its keys back (slower, and
    without the trackable of each key).
    """
    gather = getattr(getattr(ckpt, "_saver", None), "_gather_serialized_tensors", None)
    if gather is not None:
        return gather(None)[0]
    with tempfile.TemporaryDirectory() as folder:
        path = ckpt.write(os.path.join(folder, "probe"))
        keys = tf.train.load_checkpoint(path).get_variable_to_shape_map()
    return {None: dict.fromkeys(keys)}


def checkpoint_position_value(position: Any) -> dict[str, tf.Tensor]:
    """The tensors a restore holds for an object that does not exist yet
    (``CheckpointPosition.value_tensors``: attribute name -> tensor)."""
    return position.value_tensors()


def set_default_summary_writer(writer: Any) -> Any:
    """Make ``writer`` the default summary writer without entering a context; return the
    previous one (None: there was none). Raises AttributeError when TensorFlow moved the
    state, so the caller can use ``writer.as_default()`` instead."""
    from tensorflow.python.ops import summary_ops_v2

    state = summary_ops_v2._summary_state
    old = state.writer
    state.writer = writer
    return old


def tensorboard_info_dir() -> str:
    """The folder where TensorBoard registers its running servers (one ``pid-*.info`` each).

    Fallback: TensorBoard's documented location, ``$TMPDIR/.tensorboard-info``.
    """
    try:
        from tensorboard import manager

        return manager._get_info_dir()
    except (ImportError, AttributeError):
        return os.path.join(tempfile.gettempdir(), ".tensorboard-info")


def event_multiplexer(logdir: str) -> Any:
    """TensorBoard's reader of a log folder (``EventMultiplexer``), every event kept.

    TensorBoard's ``backend`` package is its server's internals; it is also the only reader
    that decodes events exactly as TensorBoard shows them, so labkit.summary uses it here.
    """
    from tensorboard.backend.event_processing import plugin_event_multiplexer

    # 0 = keep every event (the server samples, e.g. 1000 scalars per run and tag).
    mux = plugin_event_multiplexer.EventMultiplexer(
        tensor_size_guidance={"scalars": 0, "histograms": 0, "images": 0, "text": 0},
    )
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    return mux


def event_file_loader(path: str) -> Any:
    """TensorBoard's reader of one event file (``EventFileLoader``; ``.Load()`` yields events)."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    return EventFileLoader(path)


def xla_optimization_barrier(*tensors: tf.Tensor) -> tuple[tf.Tensor, ...]:
    """The same tensors through XLA's optimization barrier (the ``XlaOptimizationBarrier`` op of
    TF's tf2xla bridge; not in ``tf.raw_ops``): XLA may neither merge a computation on one side
    with one on the other (CSE) nor move one across. Only inside a step XLA compiles; without
    the op (another release), the tensors unchanged: labkit.train.streamed.after then still
    computes the same values, and XLA may copy an array more."""
    try:
        from tensorflow.compiler.tf2xla.python.xla import optimization_barrier
    except ImportError:
        return tensors
    return tuple(optimization_barrier(*tensors))


def _entry(module: str, *attrs: str) -> Callable[[], bool]:
    def present() -> bool:
        import importlib

        obj: Any = importlib.import_module(module)
        for a in attrs:
            obj = getattr(obj, a)
        return True
    return present


# What tests/test_tf_private.py checks in the installed TensorFlow/TensorBoard: name -> probe.
ENTRY_POINTS: dict[str, Callable[[], bool]] = {
    "tf.__internal__.tracking.Trackable": _entry("tensorflow", "__internal__", "tracking", "Trackable"),
    "tensorflow.python.eager.context.Context.call_function":
        _entry("tensorflow.python.eager.context", "Context", "call_function"),
    "ConcreteFunction._call_flat":
        _entry("tensorflow.python.eager.polymorphic_function.concrete_function",
               "ConcreteFunction", "_call_flat"),
    "tf.train.Checkpoint._saver._gather_serialized_tensors":
        _entry("tensorflow.python.checkpoint.checkpoint", "TrackableSaver",
               "_gather_serialized_tensors"),
    "CheckpointPosition.value_tensors":
        _entry("tensorflow.python.checkpoint.restore", "CheckpointPosition", "value_tensors"),
    "summary_ops_v2._summary_state.writer":
        _entry("tensorflow.python.ops.summary_ops_v2", "_summary_state"),
    "tensorboard.manager._get_info_dir": _entry("tensorboard.manager", "_get_info_dir"),
    "tensorboard EventMultiplexer": _entry("tensorboard.backend.event_processing.plugin_event_multiplexer",
                                          "EventMultiplexer"),
    "XlaOptimizationBarrier": _entry("tensorflow.compiler.tf2xla.python.xla", "optimization_barrier"),
    "tensorboard EventFileLoader": _entry("tensorboard.backend.event_processing.event_file_loader",
                                         "EventFileLoader"),
    # the Trackable hooks labkit.train.Optimizer overrides or calls
    "Trackable._track_trackable": _entry("tensorflow", "__internal__", "tracking", "Trackable",
                                         "_track_trackable"),
    "Trackable._handle_deferred_dependencies":
        _entry("tensorflow", "__internal__", "tracking", "Trackable",
               "_handle_deferred_dependencies"),
    "Trackable._deferred_dependencies":
        _entry("tensorflow", "__internal__", "tracking", "Trackable", "_deferred_dependencies"),
    "Trackable._trackable_children":
        _entry("tensorflow", "__internal__", "tracking", "Trackable", "_trackable_children"),
}

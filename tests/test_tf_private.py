"""labkit._tf_private: the one module that touches private TensorFlow / TensorBoard API.

* every private entry point it relies on exists in the installed release (a failure names the
  one that moved, so a TensorFlow upgrade says what to fix instead of failing somewhere deep);
* no other labkit module imports ``tensorflow.python`` or reaches a private TensorFlow or
  TensorBoard name;
* the fast eager call falls back to the public call.
"""

from __future__ import annotations

import ast
import gc
from pathlib import Path

import pytest
import tensorflow as tf

from labkit import _tf_private

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", sorted(_tf_private.ENTRY_POINTS))
def test_every_private_entry_point_exists_in_the_installed_release(name):
    try:
        assert _tf_private.ENTRY_POINTS[name]()
    except (ImportError, AttributeError) as err:
        pytest.fail(f"TensorFlow {tf.__version__} no longer has {name} ({err}); labkit uses it "
                    "in labkit/_tf_private.py: update that module (its fallback keeps labkit "
                    "working, slower or plainer)")


PRIVATE_MODULES = ("tensorflow.python", "tensorflow.compiler", "tensorboard.manager", "tensorboard.backend")
PRIVATE_ATTRIBUTES = {"_saver", "_gather_serialized_tensors", "_call_flat", "_summary_state",
                      "_get_info_dir", "value_tensors", "call_function"}


def _private_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PRIVATE_MODULES):
            found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names
                      if a.name.startswith(PRIVATE_MODULES)]
        elif isinstance(node, ast.Attribute) and node.attr in PRIVATE_ATTRIBUTES:
            found.append(f"line {node.lineno}: .{node.attr}")
    return found


def test_no_other_module_touches_private_tensorflow_api():
    offenders = {}
    for path in sorted((ROOT / "labkit").rglob("*.py")):
        if path.name == "_tf_private.py":
            continue
        found = _private_uses(path)
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}, f"private TF/TensorBoard API outside labkit/_tf_private.py: {offenders}"


def test_the_private_use_detector_sees_private_uses(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from tensorflow.python.eager import context\nx = ckpt._saver\n")
    assert len(_private_uses(probe)) == 2


def test_flat_caller_runs_the_step_and_falls_back_to_the_public_call():
    """The eager step is called through the context by name; anything without that entry
    point (a future TensorFlow, a stand-in) is called through ``_call_flat`` or publicly."""
    v = tf.Variable(1.0)

    def body(g):
        v.assign_add(g, read_value=False)

    cf = tf.function(body, autograph=False).get_concrete_function(tf.TensorSpec([], tf.float32))
    call = _tf_private.flat_caller(cf)
    del cf  # the caller alone must keep the function registered
    gc.collect()
    call([tf.constant(2.0)])
    assert v.numpy() == 3.0

    class PublicOnly:  # no name, no outputs, no _call_flat
        captured_inputs = ()

        def __init__(self):
            self.calls = []

        def __call__(self, *flat):
            self.calls.append(flat)

    stand_in = PublicOnly()
    _tf_private.flat_caller(stand_in)([tf.constant(1.0)])
    assert len(stand_in.calls) == 1 and float(stand_in.calls[0][0]) == 1.0


def test_checkpoint_keys_match_what_a_save_writes(tmp_path):
    ckpt = tf.train.Checkpoint(w=tf.Variable([1.0, 2.0]), n=tf.Variable(3))
    keys = {k for tensors in _tf_private.checkpoint_keys(ckpt).values() for k in tensors}
    written = set(tf.train.load_checkpoint(ckpt.write(str(tmp_path / "c"))).get_variable_to_shape_map())
    assert keys == written


def test_tensorboard_info_dir_is_a_path():
    assert _tf_private.tensorboard_info_dir().endswith(".tensorboard-info")

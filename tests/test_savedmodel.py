"""labkit.savedmodel: export with a serving signature; a fresh process without the model's code
(and without labkit) loads it and predicts exactly the same numbers."""

from __future__ import annotations

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from labkit.savedmodel import describe_savedmodel, export_savedmodel
from labkit.seeding import seed_everything

LOADER = r"""
import sys, numpy as np, tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
x = np.load(sys.argv[2])
y = loaded.signatures["serving_default"](inputs=tf.constant(x))["outputs"].numpy()
np.save(sys.argv[3], y)
assert not any(m == "labkit" or m.startswith("labkit.") for m in sys.modules), "labkit was imported"
print("keras imported:", "keras" in sys.modules)
"""


@pytest.mark.slow  # a TensorFlow subprocess: make test runs it, make check does not
def test_fresh_process_without_model_code_predicts_identically(tmp_path):
    seed_everything(0)
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(3)]
    )
    x = np.random.RandomState(0).normal(size=(10, 8)).astype(np.float32)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.random.RandomState(1).normal(size=(10, 3)).astype(np.float32), epochs=2, verbose=0)
    expected = model.predict(x, verbose=0)
    export = export_savedmodel(model, str(tmp_path / "exported" / "model"), [None, 8])
    info = describe_savedmodel(export)
    names = [rel for rel, _ in info.files]
    assert "saved_model.pb" in names and "variables/variables.index" in names
    assert info.signatures["serving_default"]["inputs"] == {"inputs": "float32[None, 8]"}
    assert info.signatures["serving_default"]["outputs"] == {"outputs": "float32[None, 3]"}
    assert info.total_bytes == sum(os.path.getsize(os.path.join(export, r)) for r in names)
    np.save(tmp_path / "x.npy", x)
    script = tmp_path / "load.py"
    script.write_text(LOADER)
    out = subprocess.run(
        [sys.executable, str(script), export, str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
        cwd=str(tmp_path), capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ""},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    got = np.load(tmp_path / "y.npy")
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_model_alone_unless_extra_names_the_optimizer(tmp_path):
    import tensorflow as tf

    seed_everything(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    x = np.ones((4, 3), np.float32)
    model.fit(x, np.zeros((4, 2), np.float32), epochs=1, verbose=0)

    def keys(folder):
        return [k for k, _ in tf.train.list_variables(os.path.join(folder, "variables", "variables"))]

    alone = export_savedmodel(model, str(tmp_path / "alone"), [None, 3])
    assert not any(k.startswith("optimizer/") for k in keys(alone))
    both = export_savedmodel(model, str(tmp_path / "both"), [None, 3], extra={"optimizer": model.optimizer})
    found = keys(both)
    assert "optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE" in found
    assert sum(k.startswith("optimizer/_variables/") for k in found) == 2 * len(model.trainable_variables)
    loaded = tf.saved_model.load(both)
    assert int(loaded.optimizer._iterations.numpy()) == int(model.optimizer.iterations.numpy()) == 1
    with pytest.raises(ValueError, match="extra"):
        export_savedmodel(model, str(tmp_path / "bad"), [None, 3], extra={"serve": model.optimizer})
    with pytest.raises(TypeError, match="extra"):
        export_savedmodel(model, str(tmp_path / "bad"), [None, 3], extra=[model.optimizer])


def test_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="model"):
        export_savedmodel(3, str(tmp_path / "m"), [None, 2])
    with pytest.raises(ValueError, match="input_shape"):
        export_savedmodel(lambda x: x, str(tmp_path / "m"), [None, -2])
    with pytest.raises(ValueError, match="saved_model.pb"):
        describe_savedmodel(str(tmp_path))

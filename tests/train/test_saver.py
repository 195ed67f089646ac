"""labkit.train.Saver: the TF1 call shape, rotation, crash-safe files, exact and loud restore."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from labkit.checkpoints import CheckpointError
from labkit.seeding import seed_everything
from labkit.train.saver import Saver, latest_checkpoint, list_checkpoints

ROOT = str(Path(__file__).resolve().parents[2])


def _objects(hidden: int = 8, optimizer: str = "labkit"):
    from labkit.tooling import crash_demo

    model, opt, step, _it, _saver = crash_demo.build(hidden=hidden, optimizer=optimizer)
    return model, opt, step


def _train(model, opt, step, n: int, seed: int = 0) -> None:
    rng = np.random.RandomState(seed + int(step.numpy()))
    for _ in range(n):
        x = tf.constant(rng.normal(size=(8, 16)).astype(np.float32))
        opt.minimize(lambda x=x: tf.reduce_mean(model(x) ** 2), global_step=step, var_list=model.params)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({}, ValueError, "var_list=None"),
        ({"var_list": {}}, ValueError, "empty"),
        ({"var_list": {"w": tf.Variable(1.0)}, "max_to_keep": -1}, ValueError, "max_to_keep=-1"),
        ({"var_list": {"w": tf.Variable(1.0)}, "keep_checkpoint_every_n_hours": 0}, ValueError, "keep_checkpoint_every_n_hours=0"),
        ({"var_list": {"w": 3.0}}, TypeError, "var_list['w']"),
        ({"var_list": {"a b": tf.Variable(1.0)}}, ValueError, "'a b'"),
        ({"var_list": {"w": tf.Variable(1.0)}, "sharded": True}, TypeError, "sharded=True"),
    ],
)
def test_bad_arguments_name_the_argument_and_value(kwargs, error, words):
    with pytest.raises(error) as info:
        Saver(**kwargs)
    assert words in str(info.value)


def test_save_names_rotates_and_writes_a_state_file_tf_can_read(tmp_path):
    step = tf.Variable(0, dtype=tf.int64)
    w = tf.Variable([1.0, 2.0], name="w")
    saver = Saver([w, step], max_to_keep=2)
    prefix = str(tmp_path / "model.ckpt")
    paths = []
    for i in range(4):
        step.assign(i * 10)
        paths.append(saver.save(None, prefix, global_step=step))
    assert paths == [f"{prefix}-{i * 10}" for i in range(4)]
    assert saver.last_checkpoints == paths[-2:]
    for p in paths[:2]:
        assert not os.path.exists(p + ".index")
    for p in paths[2:]:
        assert os.path.exists(p + ".index")
    assert tf.train.latest_checkpoint(str(tmp_path)) == paths[-1]
    assert latest_checkpoint(str(tmp_path)) == paths[-1]
    assert list_checkpoints(str(tmp_path)) == paths[-2:]
    assert not [n for n in os.listdir(tmp_path) if ".tmp-" in n]
    with pytest.raises(ValueError, match="save_path"):
        saver.save(None, str(tmp_path))


def test_latest_checkpoint_skips_half_written_and_missing_ones(tmp_path):
    w = tf.Variable([1.0, 2.0])
    saver = Saver({"w": w})
    good = saver.save(None, str(tmp_path / "model.ckpt"), global_step=1)
    # a newer checkpoint whose index was never renamed into place, plus temp debris
    bad = saver.save(None, str(tmp_path / "model.ckpt"), global_step=2)
    os.remove(bad + ".index")
    (tmp_path / ".model.ckpt-3.tmp-999999-abcd.index").write_bytes(b"partial")
    assert tf.train.latest_checkpoint(str(tmp_path)) is None  # TF trusts the state file blindly
    assert latest_checkpoint(str(tmp_path)) == good
    assert latest_checkpoint(str(tmp_path / "nothing-here")) is None


def test_restore_is_exact_with_adam_slots_and_step(tmp_path):
    seed_everything(0)
    a = _objects()
    _train(*a, 4)
    saver = Saver({"model": a[0], "optimizer": a[1], "global_step": a[2]})
    path = saver.save(None, str(tmp_path / "m.ckpt"))
    b = _objects()
    Saver({"model": b[0], "optimizer": b[1], "global_step": b[2]}).restore(None, path)
    assert int(b[2].numpy()) == 4
    _train(*a, 3)
    _train(*b, 3)  # slots of b are created now and take the restored values
    for va, vb in zip(a[0].params, b[0].params, strict=True):
        assert np.array_equal(va.numpy(), vb.numpy())
    assert sorted(b[1].get_slot_names()) == ["m", "v"]


@pytest.mark.slow  # a TensorFlow subprocess: make test runs it, make check does not
def test_resume_in_a_new_process_is_bit_identical(tmp_path):
    from labkit.tooling import crash_demo

    seed_everything(0)
    reference = str(tmp_path / "reference")
    crash_demo.train(12, reference, save_every=6, quiet=True, optimizer="tf1")
    resumed = str(tmp_path / "resumed")
    crash_demo.train(6, resumed, save_every=6, quiet=True, optimizer="tf1")
    out = subprocess.run(
        [sys.executable, "-m", "labkit.tooling.crash_demo", "--steps", "12", "--ckpt", resumed, "--save-every", "6", "--optimizer", "tf1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ready 6" in out.stdout and "done 12" in out.stdout
    a = np.load(os.path.join(reference, "final.npz"))
    b = np.load(os.path.join(resumed, "final.npz"))
    assert sorted(a.files) == sorted(b.files)
    for k in a.files:
        assert np.array_equal(a[k], b[k]), k


def test_restore_errors_are_loud_and_fallback_says_so(tmp_path, capsys):
    seed_everything(0)
    model, opt, step = _objects()
    saver = Saver({"model": model, "optimizer": opt, "global_step": step})
    _train(model, opt, step, 1)
    older = saver.save(None, str(tmp_path / "m.ckpt"), global_step=step)
    at_older = [v.numpy().copy() for v in model.params]
    _train(model, opt, step, 1)
    newer = saver.save(None, str(tmp_path / "m.ckpt"), global_step=step)

    with pytest.raises(CheckpointError) as info:
        saver.restore(None, str(tmp_path / "m.ckpt-99"))
    assert "m.ckpt-99" in str(info.value)

    other = _objects(hidden=9)
    with pytest.raises(CheckpointError) as info:
        Saver({"model": other[0], "optimizer": other[1], "global_step": other[2]}).restore(None, newer)
    msg = str(info.value)
    assert "m.ckpt-2" in msg and "model/weights_/0/.ATTRIBUTES/VARIABLE_VALUE" in msg
    assert "[16, 9] float32" in msg and "[16, 8] float32" in msg

    data = newer + ".data-00000-of-00001"
    raw = bytearray(open(data, "rb").read())
    raw[len(raw) // 2] ^= 0xFF
    open(data, "wb").write(bytes(raw))
    model.params[0].assign(tf.zeros_like(model.params[0]))
    with pytest.raises(CheckpointError) as info:
        saver.restore(None, newer)
    assert "m.ckpt-2" in str(info.value)
    assert not np.any(model.params[0].numpy())  # nothing was partially restored
    saver.restore(None, newer, fallback=True)
    said = capsys.readouterr().out
    assert "m.ckpt-2" in said and older in said
    assert int(step.numpy()) == 1
    for v, want in zip(model.params, at_older, strict=True):
        assert np.array_equal(v.numpy(), want)

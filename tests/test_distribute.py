"""labkit.distribute: labkit optimizers under tf.distribute (notebooks/12_scale_out.ipynb).

Logical CPU devices must be configured before TensorFlow initialises, and this pytest process
may already have initialised TensorFlow, so the strategy checks run in a fresh subprocess that
prints one JSON object.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

PRELUDE = """
import json, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
from labkit.distribute import (DistributedOptimizer, configure_logical_cpus,
    make_distributed_train_step, mirrored_strategy, replica_gradients, trainable_tf_variables)
configure_logical_cpus(2)
import numpy as np
import tensorflow as tf
import labkit.train as lt
from labkit.seeding import seed_everything
seed_everything(0)
"""


def run_python(body: str, timeout: float = 420) -> dict:
    code = PRELUDE + textwrap.dedent(body)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1])


# Two representative rows keep this affordable on 2 shared cores (each optimizer traces two
# tf.functions, one of them under the strategy): plain SGD (no state) and Adam (two slots plus
# beta powers updated in _finish). The wrapper code path is the same for all ten.
OPTIMIZERS = ["GradientDescent", "Adam"]


@pytest.mark.slow  # builds a two-replica MirroredStrategy: 10-15 s; make test runs it
def test_mirrored_two_replicas_equals_one_device():
    out = run_python("""
    from labkit.data import load_digits
    from labkit.digits.model import build_mlp
    from labkit.digits.run import make_optimizer
    split = load_digits()
    x, y = split.x_train[:256], split.y_train[:256]
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)   # 4 global batches of 64
    strategy = mirrored_strategy(2)
    result = {"replicas": strategy.num_replicas_in_sync}
    for name in OPTIMIZER_LIST:
        # one device
        m1 = build_mlp(hidden=(16,), seed=0)
        o1 = make_optimizer(name)
        v1 = trainable_tf_variables(m1)
        @tf.function
        def s1(xb, yb):
            with tf.GradientTape() as t:
                loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(
                    yb, m1(xb), from_logits=True))
            o1.apply_gradients(zip(t.gradient(loss, v1), v1))
        for _ in range(2):
            for xb, yb in ds:
                s1(xb, yb)
        # two replicas, each gets 32 of the 64
        with strategy.scope():
            m2 = build_mlp(hidden=(16,), seed=0)
            o2 = DistributedOptimizer(make_optimizer(name))
        step = make_distributed_train_step(strategy, m2, o2, global_batch_size=64)
        for _ in range(2):
            for xb, yb in strategy.experimental_distribute_dataset(ds):
                step(xb, yb)
        diff = max(float(np.abs(a.numpy() - b.numpy()).max())
                   for a, b in zip(v1, trainable_tf_variables(m2)))
        copies = max(float(np.abs(c.numpy() - b.values[0].numpy()).max())
                     for b in trainable_tf_variables(m2) for c in b.values)
        moved = max(float(np.abs(a.numpy() - b.numpy()).max())
                    for a, b in zip(v1, trainable_tf_variables(build_mlp(hidden=(16,), seed=0))))
        result[name] = {"diff": diff, "copies": copies, "moved": moved,
                        "steps": int(o2.iterations.numpy()),
                        "slot_type": sorted({type(s).__name__ for s in [*o2.variables(), o2.iterations]})}
    print(json.dumps(result))
    """.replace("OPTIMIZER_LIST", repr(OPTIMIZERS)))
    assert out["replicas"] == 2
    for name in OPTIMIZERS:
        r = out[name]
        assert r["moved"] > 1e-3, (name, r)           # training really changed the weights
        assert r["diff"] < 1e-5, (name, r)            # same weights as one device
        assert r["copies"] == 0.0, (name, r)          # the two mirrored copies are identical
        assert r["steps"] == 8, (name, r)             # applied once per global step, not twice
        assert r["slot_type"] == ["MirroredVariable"], (name, r)


@pytest.mark.slow  # builds a two-replica MirroredStrategy: 10-15 s; make test runs it
def test_dense_and_sparse_gradients_are_summed_across_replicas():
    out = run_python("""
    strategy = mirrored_strategy(2)
    rng = np.random.default_rng(0)
    ids = tf.constant(rng.integers(0, 20, size=8), tf.int32)
    feats = tf.constant(rng.normal(size=(8, 5)), tf.float32)
    targets = tf.constant(rng.normal(size=(8,)), tf.float32)
    with strategy.scope():
        emb = tf.Variable(rng.normal(size=(20, 5)).astype(np.float32))
        w = tf.Variable(rng.normal(size=(5, 1)).astype(np.float32))

    def loss_fn(i, f, t):
        pred = tf.reduce_sum(tf.gather(emb, i) * f, axis=1) + tf.squeeze(f @ w, 1)
        return tf.nn.compute_average_loss(tf.square(pred - t), global_batch_size=8)

    ds = tf.data.Dataset.from_tensor_slices((ids, feats, targets)).batch(8)
    batch = next(iter(strategy.experimental_distribute_dataset(ds)))
    per_replica_sizes = [int(tf.shape(v)[0]) for v in strategy.experimental_local_results(batch[0])]
    g_emb, g_w = replica_gradients(strategy, loss_fn, [emb, w], *batch)
    with tf.GradientTape() as tape:   # one device, whole batch
        pred = tf.reduce_sum(tf.gather(emb, ids) * feats, 1) + tf.squeeze(feats @ w, 1)
        full = tf.reduce_mean(tf.square(pred - targets))
    r_emb, r_w = tape.gradient(full, [emb, w])
    dense_sparse = tf.convert_to_tensor(g_emb)
    # applying the summed sparse gradient through the wrapper == applying the reference
    with strategy.scope():
        emb2 = tf.Variable(emb.read_value())
        opt = DistributedOptimizer(lt.AdagradOptimizer(0.5))
    @tf.function
    def step(i, f, t):
        def replica(i, f, t):
            with tf.GradientTape() as tape:
                pred = tf.reduce_sum(tf.gather(emb2, i) * f, 1)
                loss = tf.nn.compute_average_loss(tf.square(pred - t), global_batch_size=8)
            g = tape.gradient(loss, emb2)
            opt.apply_gradients([(g, emb2)])
            return tf.constant(isinstance(g, tf.IndexedSlices))
        return strategy.run(replica, args=(i, f, t))
    was_sparse = strategy.experimental_local_results(step(*batch))
    ref = tf.Variable(emb.read_value())
    ref_opt = lt.AdagradOptimizer(0.5)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(tf.reduce_sum(tf.gather(ref, ids) * feats, 1) - targets))
    ref_opt.apply_gradients([(tape.gradient(loss, ref), ref)])
    print(json.dumps({
        "sizes": per_replica_sizes,
        "sparse_type": type(g_emb).__name__, "dense_type": type(g_w).__name__,
        "sparse_err": float(np.abs(dense_sparse.numpy() - tf.convert_to_tensor(r_emb).numpy()).max()),
        "dense_err": float(np.abs(g_w.numpy() - r_w.numpy()).max()),
        "dense_norm": float(np.abs(r_w.numpy()).max()),
        "was_sparse": [bool(v) for v in was_sparse],
        "apply_err": float(max(np.abs(c.numpy() - ref.numpy()).max() for c in emb2.values)),
        "apply_moved": float(np.abs(ref.numpy() - emb.numpy()).max()),
    }))
    """)
    assert out["sizes"] == [4, 4]
    assert out["sparse_type"] == "IndexedSlices"   # sparse stays sparse through the all-reduce
    assert out["dense_type"] == "EagerTensor"
    assert out["dense_norm"] > 1e-3
    assert out["dense_err"] < 1e-5
    assert out["sparse_err"] < 1e-5
    assert out["was_sparse"] == [True, True]
    assert out["apply_moved"] > 1e-3
    assert out["apply_err"] < 1e-5


def test_bad_arguments_are_named():
    from labkit import distribute as d

    with pytest.raises(ValueError, match="num_devices"):
        d.configure_logical_cpus(0)
    with pytest.raises(ValueError, match="index"):
        d.tf_config([1234, 1235], 2)
    with pytest.raises(ValueError, match="worker_ports"):
        d.tf_config([1234, 1234], 0)
    with pytest.raises(TypeError, match="optimizer"):
        d.DistributedOptimizer(object())
    import labkit.train as lt

    with pytest.raises(ValueError, match="clip_norm"):
        d.DistributedOptimizer(lt.AdamOptimizer(), clip_norm=-1.0)
    cfg = json.loads(d.tf_config([1234, 1235], 1))
    assert cfg == {"cluster": {"worker": ["127.0.0.1:1234", "127.0.0.1:1235"]},
                   "task": {"type": "worker", "index": 1}}


@pytest.mark.slow
def test_multiworker_script_trains_checkpoints_from_chief_and_cleans_up(tmp_path):
    import psutil

    ckpt = tmp_path / "mw"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "multiworker.py"), "--workers", "2",
         "--steps", "150", "--ckpt-dir", str(ckpt), "--timeout", "240"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-4000:]
    lines = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]
    workers = sorted((r for r in lines if "worker" in r), key=lambda r: r["worker"])
    summary = lines[-1]
    assert [w["worker"] for w in workers] == [0, 1]
    assert summary["status"] == 0 and elapsed < 300
    # the two processes hold the same weights (the all-reduce kept them in sync)
    assert workers[0]["weights_sum"] == pytest.approx(workers[1]["weights_sum"], rel=1e-6)
    assert workers[0]["steps"] == workers[1]["steps"] == 150
    assert workers[0]["accuracy"] > 0.8
    # only the chief wrote a checkpoint, and it is in --ckpt-dir
    assert workers[0]["checkpoint"] and workers[1]["checkpoint"] is None
    assert (ckpt / "checkpoint").exists()
    assert list(ckpt.glob("ckpt-1.index"))
    import tensorflow as tf

    names = [n for n, _ in tf.train.list_variables(str(ckpt / "ckpt-1"))]
    assert any("model" in n for n in names) and any("optimizer" in n for n in names)
    # no worker process outlived the launcher
    assert len(summary["pids"]) == 2
    for pid in summary["pids"]:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_multiworker_bad_flags_are_clear():
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "multiworker.py"), "--optimizer", "Nadam"],
        capture_output=True, text=True, timeout=60, cwd=REPO, env=env)
    assert proc.returncode == 2
    assert "Nadam" in proc.stderr and "Adam" in proc.stderr
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "multiworker.py"), "--batch-size", "63"],
        capture_output=True, text=True, timeout=60, cwd=REPO, env=env)
    assert proc.returncode == 2 and "divisible" in proc.stderr

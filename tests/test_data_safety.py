"""Nothing a learner trained is lost or silently corrupted (labkit.train.Saver, labkit.checkpoints,
labkit.train optimizers, labkit.digits.run).

* a save right after a restore writes everything the restore read (slots, beta powers), and a
  save that would hold less never replaces a good checkpoint of the same name;
* damaged checkpoints (``.data`` cut at several lengths, ``.index`` cut, a flipped byte, another
  model's checkpoint) are rejected naming the file, and ``fallback=True`` restores the newest
  good one;
* a step applies completely or changes nothing, with an error naming the argument and value;
* ``train_digits --resume`` keeps ``max_to_keep`` and does not rewrite a finished run.
"""

from __future__ import annotations

import glob
import math
import os

import numpy as np
import pytest
import tensorflow as tf

import labkit.train as lt
from labkit.checkpoints import CheckpointError, verify_checkpoint
from labkit.train.saver import Saver, list_checkpoints


def _adam_run(folder: str, steps: int = 3):
    """A variable, labkit's Adam and a step counter, trained ``steps`` times and saved."""
    w = tf.Variable([[1.0, -2.0], [0.5, 3.0]], name="w")
    opt = lt.AdamOptimizer(0.1)
    step = tf.Variable(0, dtype=tf.int64, name="global_step")
    for _ in range(steps):
        opt.minimize(lambda: tf.reduce_sum(w * w * w), global_step=step)
    saver = Saver({"w": w, "opt": opt, "step": step}, max_to_keep=5)
    return w, opt, step, saver


def _fresh():
    w = tf.Variable(tf.zeros([2, 2]), name="w")
    opt = lt.AdamOptimizer(0.1)
    step = tf.Variable(0, dtype=tf.int64, name="global_step")
    return w, opt, step, Saver({"w": w, "opt": opt, "step": step}, max_to_keep=5)


def _keys(prefix: str) -> set[str]:
    return set(tf.train.load_checkpoint(prefix).get_variable_to_shape_map())


# --------------------------------------------------------------------- save after restore
def test_restore_creates_slots_and_beta_powers_before_the_first_step(tmp_path):
    w, opt, step, saver = _adam_run(str(tmp_path))
    path = saver.save(None, str(tmp_path / "m"), global_step=step)
    w2, opt2, step2, saver2 = _fresh()
    saver2.restore(None, path)
    for name in ("m", "v"):
        assert np.array_equal(opt2.get_slot(w2, name).numpy(), opt.get_slot(w, name).numpy())
    mine = {v.name: v.numpy() for v in opt.variables()}
    theirs = {v.name: v.numpy() for v in opt2.variables()}
    assert sorted(mine) == sorted(theirs)
    for k in mine:
        assert np.array_equal(mine[k], theirs[k]), k
    # the next step is the step the uninterrupted run takes
    opt.minimize(lambda: tf.reduce_sum(w * w * w), global_step=step)
    opt2.minimize(lambda: tf.reduce_sum(w2 * w2 * w2), global_step=step2)
    assert np.array_equal(w.numpy(), w2.numpy())


def test_save_right_after_restore_keeps_every_tensor(tmp_path):
    _, _, step, saver = _adam_run(str(tmp_path))
    path = saver.save(None, str(tmp_path / "m"), global_step=step)
    before = _keys(path)
    assert any("OPTIMIZER_SLOT" in k for k in before) and any("beta1_power" in k for k in before)
    _, _, step2, saver2 = _fresh()
    saver2.restore(None, path)
    again = saver2.save(None, str(tmp_path / "m"), global_step=step2)
    assert again == path and _keys(again) == before


def test_a_save_holding_less_never_replaces_a_good_checkpoint(tmp_path):
    _, _, step, saver = _adam_run(str(tmp_path))
    path = saver.save(None, str(tmp_path / "m"), global_step=step)
    files = {f: open(f, "rb").read() for f in glob.glob(path + "*")}
    poorer = Saver({"w": tf.Variable([[0.0, 0.0], [0.0, 0.0]])})
    with pytest.raises(CheckpointError) as info:
        poorer.save(None, str(tmp_path / "m"), global_step=3)
    assert path in str(info.value) and "existing checkpoint was kept" in str(info.value)
    assert "opt/beta1_power/.ATTRIBUTES/VARIABLE_VALUE" in str(info.value)
    assert {f: open(f, "rb").read() for f in glob.glob(path + "*")} == files
    assert [n for n in os.listdir(tmp_path) if ".tmp-" in n] == []


# --------------------------------------------------------------------- damaged checkpoints
def _damage(kind: str, prefix: str) -> None:
    data = glob.glob(prefix + ".data-*")[0]
    if kind.startswith("data-"):
        raw = open(data, "rb").read()
        open(data, "wb").write(raw[: int(len(raw) * float(kind[5:]))])
    elif kind == "index-half":
        raw = open(prefix + ".index", "rb").read()
        open(prefix + ".index", "wb").write(raw[: len(raw) // 2])
    elif kind == "flipped-byte":
        raw = bytearray(open(data, "rb").read())
        raw[len(raw) // 3] ^= 0x10
        open(data, "wb").write(bytes(raw))
    elif kind == "missing-data":
        os.remove(data)
    else:
        raise AssertionError(kind)


DAMAGE = {  # kind -> words the error must contain (besides the checkpoint's path)
    "data-0.5": "truncated or corrupted",
    "data-0.9": "truncated or corrupted",
    "data-0.99": "truncated or corrupted",
    "data-0.999": "truncated or corrupted",
    "index-half": "unreadable index",
    "flipped-byte": "truncated or corrupted",
    "missing-data": "is missing",
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damaged_checkpoints_are_rejected_and_fallback_restores_the_newest_good(tmp_path, kind):
    w, opt, step, saver = _adam_run(str(tmp_path))
    good = saver.save(None, str(tmp_path / "m"), global_step=step)
    good_w = w.numpy().copy()
    opt.minimize(lambda: tf.reduce_sum(w * w * w), global_step=step)
    bad = saver.save(None, str(tmp_path / "m"), global_step=step)
    _damage(kind, bad)
    with pytest.raises(CheckpointError) as info:
        verify_checkpoint(bad)
    assert bad in str(info.value) and DAMAGE[kind] in str(info.value)
    w2, opt2, step2, saver2 = _fresh()
    with pytest.raises(CheckpointError) as info:
        saver2.restore(None, bad)
    assert bad in str(info.value)
    saver2.restore(None, bad, fallback=True)
    assert np.array_equal(w2.numpy(), good_w) and int(step2.numpy()) == int(good.rsplit("-", 1)[1])
    assert opt2.get_slot(w2, "m") is not None


def test_another_models_checkpoint_is_rejected_naming_what_differs(tmp_path):
    _, _, step, saver = _adam_run(str(tmp_path))
    path = saver.save(None, str(tmp_path / "m"), global_step=step)
    other = Saver({"w": tf.Variable(tf.zeros([3, 2])), "opt": lt.AdamOptimizer(0.1),
                   "step": tf.Variable(0, dtype=tf.int64)})
    with pytest.raises(CheckpointError) as info:
        other.restore(None, path)
    assert path in str(info.value) and "w/.ATTRIBUTES/VARIABLE_VALUE" in str(info.value)
    assert "[3, 2] float32" in str(info.value) and "[2, 2] float32" in str(info.value)


# --------------------------------------------------------------------- atomic steps
def _sparse_state(name: str):
    kwargs = {"MomentumOptimizer": {"momentum": 0.9}, "AdagradDAOptimizer": {
        "global_step": tf.Variable(1, dtype=tf.int64)}}.get(name, {})
    opt = getattr(lt, name)(0.1, **kwargs)
    a = tf.Variable(tf.ones([4, 2]), name="a")
    b = tf.Variable(tf.ones([3, 2]), name="b")
    return opt, a, b


def _everything(opt, *vs):
    state = [v.numpy().copy() for v in vs] + [v.numpy().copy() for v in opt.variables()]
    return state


@pytest.mark.parametrize("name", sorted(n for n in lt.__all__ if n.endswith("Optimizer") and n != "Optimizer"))
@pytest.mark.parametrize("bad_index", [4, -1, 100])
def test_a_step_with_a_bad_sparse_index_changes_nothing(name, bad_index):
    opt, a, b = _sparse_state(name)
    gs = tf.Variable(0, dtype=tf.int64)
    good = [(tf.IndexedSlices(tf.ones([2, 2]), tf.constant([0, 2]), tf.constant([4, 2])), a),
            (tf.ones([3, 2]), b)]
    opt.apply_gradients(good, global_step=gs)  # slots exist now
    before = _everything(opt, a, b, gs)
    bad = [(tf.ones([3, 2]), b),
           (tf.IndexedSlices(tf.ones([2, 2]), tf.constant([1, bad_index]), tf.constant([4, 2])), a)]
    with pytest.raises(ValueError) as info:
        opt.apply_gradients(bad, global_step=gs)
    assert f"index {bad_index}" in str(info.value) and "a:0" in str(info.value)
    after = _everything(opt, a, b, gs)
    assert all(np.array_equal(x, y) for x, y in zip(before, after, strict=True))


def test_a_bad_sparse_index_inside_tf_function_fails_before_any_update():
    opt = lt.AdamOptimizer(0.1)
    a = tf.Variable(tf.ones([4, 2]))
    b = tf.Variable(tf.ones([3, 2]))

    @tf.function
    def step(idx):
        opt.apply_gradients([(tf.ones([3, 2]), b),
                             (tf.IndexedSlices(tf.ones([1, 2]), idx, tf.constant([4, 2])), a)])

    step(tf.constant([1]))
    before = _everything(opt, a, b)
    with pytest.raises(tf.errors.InvalidArgumentError, match="index"):
        step(tf.constant([7]))
    assert all(np.array_equal(x, y) for x, y in zip(before, _everything(opt, a, b), strict=True))


# --------------------------------------------------------------------- bad input, named
def _ctor(name, **kw):
    return lambda: getattr(lt, name)(**kw)


BAD_INPUT = [  # (what, call, error type, words the message must contain)
    ("infinite learning rate", _ctor("GradientDescentOptimizer", learning_rate=math.inf), ValueError, "learning_rate=inf"),
    ("infinite Adam lr", _ctor("AdamOptimizer", learning_rate=float("inf")), ValueError, "learning_rate=inf"),
    ("infinite epsilon", _ctor("AdamOptimizer", epsilon=math.inf), ValueError, "epsilon=inf"),
    ("infinite RMSProp epsilon", _ctor("RMSPropOptimizer", learning_rate=0.1, epsilon=math.inf), ValueError, "epsilon=inf"),
    ("infinite l1", _ctor("FtrlOptimizer", learning_rate=0.1, l1_regularization_strength=math.inf), ValueError, "l1_regularization_strength=inf"),
    ("infinite l2", _ctor("ProximalGradientDescentOptimizer", learning_rate=0.1, l2_regularization_strength=math.inf), ValueError, "l2_regularization_strength=inf"),
    ("infinite l2 (AdagradDA)", _ctor("AdagradDAOptimizer", learning_rate=0.1, global_step=tf.Variable(0, dtype=tf.int64), l2_regularization_strength=math.inf), ValueError, "l2_regularization_strength=inf"),
    ("string use_nesterov", _ctor("MomentumOptimizer", learning_rate=0.1, momentum=0.9, use_nesterov="False"), TypeError, "use_nesterov='False'"),
    ("string centered", _ctor("RMSPropOptimizer", learning_rate=0.1, centered="False"), TypeError, "centered='False'"),
    ("int centered", _ctor("RMSPropOptimizer", learning_rate=0.1, centered=0), TypeError, "centered=0"),
]


@pytest.mark.parametrize("what, call, error, words", BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_bad_constructor_input_names_the_argument_and_value(what, call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


@pytest.mark.parametrize("loss, error, words", [
    ("loss", ValueError, "loss='loss'"),
    (None, ValueError, "loss=None"),
    (lambda x: x, TypeError, "`loss` must be a callable taking no arguments"),
    (lambda: "text", TypeError, "the value 'text' of type str"),
    (lambda: tf.constant(1), TypeError, "floating-point tensor"),
    (lambda: None, ValueError, "`loss` returned None"),
])
def test_bad_loss_names_the_argument_and_value(loss, error, words):
    w = tf.Variable([1.0])
    opt = lt.GradientDescentOptimizer(0.1)
    with pytest.raises(error) as info:
        opt.minimize(loss, var_list=[w])
    assert words in str(info.value)
    assert w.numpy().tolist() == [1.0] and int(opt.iterations.numpy()) == 0


def test_float_global_step_is_refused_before_anything_changes():
    opt = lt.GradientDescentOptimizer(0.1)
    w = tf.Variable([1.0])
    gs = tf.Variable(0.0, name="gs")
    with pytest.raises(TypeError, match=r"`global_step` must be an integer variable.*gs:0.*float32"):
        opt.apply_gradients([(tf.ones([1]), w)], global_step=gs)
    assert w.numpy().tolist() == [1.0] and int(opt.iterations.numpy()) == 0


def test_integer_variable_is_refused_and_the_counter_does_not_move():
    opt = lt.GradientDescentOptimizer(0.1)
    n = tf.Variable([3], name="count")
    with pytest.raises(TypeError, match=r"count:0 has dtype int32"):
        opt.apply_gradients([(tf.constant([1]), n)])
    assert int(opt.iterations.numpy()) == 0 and n.numpy().tolist() == [3]


@pytest.mark.parametrize("bad", [float("nan"), -0.5, float("inf")])
@pytest.mark.parametrize("form", ["callable", "schedule", "variable"])
def test_evaluated_hyperparameters_are_checked_every_step_when_asked(bad, form):
    lr = tf.Variable(0.1, dtype=tf.float32)

    class Sched(tf.keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            return tf.where(step >= 1, tf.constant(bad, tf.float32), 0.1)

    value = {"callable": lambda: lr, "schedule": Sched(), "variable": lr}[form]
    opt = lt.GradientDescentOptimizer(value)
    opt.check_numerics = True
    w = tf.Variable([1.0, 2.0])
    opt.apply_gradients([(tf.ones([2]), w)])  # step 0: lr 0.1
    lr.assign(bad)
    before = w.numpy().copy()
    with pytest.raises(ValueError) as info:
        opt.apply_gradients([(tf.ones([2]), w)])
    assert "`learning_rate` evaluated to" in str(info.value) and "at step 1" in str(info.value)
    assert np.array_equal(w.numpy(), before) and int(opt.iterations.numpy()) == 1


def test_evaluated_hyperparameters_inside_tf_function():
    lr = tf.Variable(0.1)
    opt = lt.GradientDescentOptimizer(lr)
    opt.check_numerics = True
    w = tf.Variable([1.0])

    @tf.function
    def step():
        opt.apply_gradients([(tf.ones([1]), w)])

    step()
    lr.assign(-1.0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="learning_rate"):
        step()
    assert np.allclose(w.numpy(), [0.9])


# --------------------------------------------------------------------- train_digits resume
def test_train_digits_resume_keeps_rotation_and_never_rewrites_a_finished_run(tmp_path):
    from labkit.digits.run import train_digits

    ckpt = str(tmp_path / "ckpt")
    kw = dict(optimizer="Adam", ckpt_dir=ckpt, save_every=5, hidden=(8,), progress=False)
    train_digits(steps=10, **kw)
    train_digits(steps=20, resume=True, **kw)
    train_digits(steps=30, resume=True, **kw)
    kept = list_checkpoints(ckpt)
    assert [p.rsplit("-", 1)[1] for p in kept] == ["20", "25", "30"]
    assert len(glob.glob(os.path.join(ckpt, "*.index"))) == 3
    before = {f: open(f, "rb").read() for f in sorted(glob.glob(os.path.join(ckpt, "*")))}
    result = train_digits(steps=30, resume=True, **kw)
    assert result.start_step == 30 and result.checkpoint == kept[-1]
    assert {f: open(f, "rb").read() for f in sorted(glob.glob(os.path.join(ckpt, "*")))} == before
    keys = _keys(kept[-1])
    assert any("OPTIMIZER_SLOT" in k for k in keys) and any("beta1_power" in k for k in keys)


def test_listing_a_relative_folder_names_each_checkpoint_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, _, step, saver = _adam_run(str(tmp_path))
    saver.save(None, os.path.join("run", "m"), global_step=step)
    from labkit.train.saver import latest_checkpoint

    assert list_checkpoints("run") == [os.path.join("run", "m-3")]
    assert latest_checkpoint("run") == os.path.join("run", "m-3")

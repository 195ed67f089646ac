"""labkit.teaching.exercises.capstone: each step's check passes the right object and names each mistake.

The objects are real (Keras models and optimizers, tf.function steps, event files,
checkpoints, SavedModels), kept tiny so that the whole file runs in seconds.
"""

from __future__ import annotations

import collections

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

from labkit.teaching.exercises import capstone as cap  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.random((60, 64), dtype=np.float32)
Y = np.arange(60, dtype=np.int32) % 10
XT, YT, XV, YV, XS, YS = X[:40], Y[:40], X[40:50], Y[40:50], X[50:], Y[50:]
LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def tiny_model(units: int = 10, activation=None, seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((64,)), keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(units, activation=activation)])


def scheduled_adam(**kwargs) -> keras.optimizers.Optimizer:
    schedule = keras.optimizers.schedules.CosineDecay(0.01, decay_steps=100, alpha=0.1)
    return keras.optimizers.Adam(learning_rate=schedule, **kwargs)


# --- data split -------------------------------------------------------------------------------

SPLIT_CASES = [
    ("right", (XT, YT, XV, YV, XS, YS), True, "no image is in two sets"),
    ("missing validation", (XT, YT, None, YV, XS, YS), False, "`x_val` is still None"),
    ("validation overlaps train", (XT, YT, XT[:10], YT[:10], XS, YS), False,
     "the validation set overlaps the training set: 10 images"),
    ("test overlaps train", (XT, YT, XV, YV, XT[:10], YT[:10]), False,
     "the test set overlaps the training set"),
    ("images not flattened", (XT.reshape(-1, 8, 8), YT, XV, YV, XS, YS), False, "shape (n, 64)"),
    ("labels do not match", (XT, YT[:5], XV, YV, XS, YS), False, "one label per image"),
    ("float labels", (XT, YT.astype(np.float32), XV, YV, XS, YS), False, "integers 0-9"),
    ("a digit missing", (XT, YT, XV[:5], YV[:5], XS, YS), False, "no examples of digit(s) [5, 6, 7, 8, 9]"),
    ("repeated image", (XT, YT, np.vstack([XV, XV[:1]]), np.append(YV, YV[0]), XS, YS), False,
     "repeated images"),
]


@pytest.mark.parametrize(("case", "args", "ok", "needle"), SPLIT_CASES, ids=[c[0] for c in SPLIT_CASES])
def test_check_split(case, args, ok, needle):
    fb = cap.check_split(*args)
    assert fb.ok is ok and needle in fb.message, fb.message
    assert ok or fb.message.startswith("Step 1 (data split):")


# --- model and loss ---------------------------------------------------------------------------

MODEL_CASES = [
    ("right", lambda: (tiny_model(), LOSS), True, "untrained loss"),
    ("no model", lambda: (None, LOSS), False, "Step 2 (model): `model` is still None"),
    ("not keras", lambda: (lambda x: x, LOSS), False, "not a Keras model"),
    ("no loss", lambda: (tiny_model(), None), False, "Step 2 (loss): `loss_fn` is still None"),
    ("wrong classes", lambda: (tiny_model(units=3), LOSS), False, "must end in Dense(10)"),
    ("too big", lambda: (keras.Sequential([keras.Input((64,)), keras.layers.Dense(2000),
                                           keras.layers.Dense(10)]), LOSS), False, "keep it small"),
    ("softmax twice", lambda: (tiny_model(activation="softmax"), LOSS), False, "softmax is applied twice"),
    ("logits read as probabilities",
     lambda: (tiny_model(), keras.losses.SparseCategoricalCrossentropy()), False, "from_logits=True"),
]


@pytest.mark.parametrize(("case", "make", "ok", "needle"), MODEL_CASES, ids=[c[0] for c in MODEL_CASES])
def test_check_model(case, make, ok, needle):
    model, loss = make()
    fb = cap.check_model(model, loss, XT, YT)
    assert fb.ok is ok and needle in fb.message, fb.message


# --- optimizer and schedule -------------------------------------------------------------------

OPTIMIZER_CASES = [
    ("right", lambda: scheduled_adam(), True, "CosineDecay: learning rate 0.01 at step 0, 0.001 at step 100"),
    ("none", lambda: None, False, "Step 3 (optimizer): `optimizer` is still None"),
    ("constant rate", lambda: keras.optimizers.Adam(0.01), False, "Step 3 (schedule): your optimizer's learning rate is a constant"),
    ("TF1 optimizer", lambda: tf.compat.v1.train.AdamOptimizer(0.01), False, "TF1-style optimizer"),
    ("labkit optimizer", lambda: __import__("labkit.train", fromlist=["AdamOptimizer"]).AdamOptimizer(0.01),
     False, "TF1-style optimizer"),
    ("schedule flat over the run",
     lambda: keras.optimizers.Adam(keras.optimizers.schedules.PiecewiseConstantDecay([1000], [0.01, 0.001])),
     False, "it must change over the run"),
    ("not an optimizer", lambda: "adam", False, "not a Keras optimizer"),
]


@pytest.mark.parametrize(("case", "make", "ok", "needle"), OPTIMIZER_CASES, ids=[c[0] for c in OPTIMIZER_CASES])
def test_check_optimizer(case, make, ok, needle):
    fb = cap.check_optimizer(make(), total_steps=100)
    assert fb.ok is ok and needle in fb.message, fb.message


def test_check_optimizer_rejects_a_bad_step_count():
    with pytest.raises(ValueError, match="total_steps"):
        cap.check_optimizer(scheduled_adam(), total_steps=0)


# --- clipping ---------------------------------------------------------------------------------


def _raise(grads):
    raise RuntimeError("boom")


CLIP_CASES = [
    ("per tensor (the seed's clip_by_norm)", lambda gs: [tf.clip_by_norm(g, 5.0) for g in gs], True, "per tensor"),
    ("global", lambda gs: tf.clip_by_global_norm(gs, 5.0)[0], True, "global"),
    ("none", None, False, "Step 4 (clipping): no clipping: `clip_gradients` is still None"),
    ("identity", lambda gs: gs, False, "no clipping: your step's gradients are not clipped"),
    ("clip_by_value", lambda gs: [tf.clip_by_value(g, -5.0, 5.0) for g in gs], False, "that is clip_by_value"),
    ("normalise every gradient", lambda gs: [g * 5.0 / tf.norm(g) for g in gs], False, "must pass through unchanged"),
    ("returns the pair", lambda gs: tf.clip_by_global_norm(gs, 5.0), False, "return only the list"),
    ("clips to a larger norm", lambda gs: [tf.clip_by_norm(g, 50.0) for g in gs], False, "above clip_norm"),
    ("wrong direction", lambda gs: [tf.clip_by_norm(-tf.reverse(g, [0]) + 1.0, 5.0) for g in gs], False,
     "another direction"),
    ("raises", _raise, False, "raised RuntimeError"),
]


@pytest.mark.parametrize(("case", "fn", "ok", "needle"), CLIP_CASES, ids=[c[0] for c in CLIP_CASES])
def test_check_clipping(case, fn, ok, needle):
    fb = cap.check_clipping(fn, 5.0)
    assert fb.ok is ok and needle in fb.message, fb.message


# --- train step ---------------------------------------------------------------------------------


def make_step(model, optimizer, *, clip=True, apply_times=1, returns=True, decorate=True):
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = LOSS(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        if clip:
            grads = [tf.clip_by_norm(g, 5.0) for g in grads]
        for _ in range(apply_times):
            optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss if returns else None
    return tf.function(train_step) if decorate else train_step


STEP_CASES = [
    ("right", {}, {}, True, "lowered the loss"),
    ("keras clipnorm instead of tf.clip_by_norm", {"clip": False}, {"clipnorm": 5.0}, True, "lowered the loss"),
    ("no clipping", {"clip": False}, {}, False, "Step 5 (train step): no clipping: your step's gradients are not clipped"),
    ("not a tf.function", {"decorate": False}, {}, False, "decorate it with @tf.function"),
    ("never applies", {"apply_times": 0}, {}, False, "optimizer.iterations did not move"),
    ("applies twice", {"apply_times": 2}, {}, False, "grew by 2"),
    ("returns nothing", {"returns": False}, {}, False, "return the (scalar) loss"),
]


@pytest.mark.parametrize(("case", "step_kw", "opt_kw", "ok", "needle"), STEP_CASES, ids=[c[0] for c in STEP_CASES])
def test_check_train_step(case, step_kw, opt_kw, ok, needle):
    model, optimizer = tiny_model(), scheduled_adam(**opt_kw)
    step = make_step(model, optimizer, **step_kw)
    fb = cap.check_train_step(step, model, optimizer, LOSS, XT[:16], YT[:16])
    assert fb.ok is ok and needle in fb.message, fb.message


def test_check_train_step_names_a_missing_object_and_a_raising_step():
    model, optimizer = tiny_model(), scheduled_adam()
    assert "`train_step` is still None" in cap.check_train_step(None, model, optimizer, LOSS, XT, YT).message

    @tf.function
    def broken(x, y):
        raise ValueError("shape mismatch")

    fb = cap.check_train_step(broken, model, optimizer, LOSS, XT[:16], YT[:16])
    assert not fb and "raised ValueError" in fb.message


def test_a_step_that_ascends_does_not_lower_the_loss():
    model, optimizer = tiny_model(), keras.optimizers.SGD(0.5, clipnorm=5.0)

    @tf.function
    def ascend(x, y):
        with tf.GradientTape() as tape:
            loss = LOSS(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip([-g for g in grads], model.trainable_variables, strict=True))
        return loss

    fb = cap.check_train_step(ascend, model, optimizer, LOSS, XT[:16], YT[:16])
    assert not fb and "did not lower the loss" in fb.message


# --- summaries --------------------------------------------------------------------------------

EXPECTED = {"loss": {1: 2.0, 2: 1.5}}


def _write(logdir, points, tag="loss", inside=True, flush=True):
    writer = tf.summary.create_file_writer(str(logdir))
    for step, value in points.items():
        if inside:
            with writer.as_default():
                tf.summary.scalar(tag, value, step=step)
        else:
            tf.summary.scalar(tag, value, step=step)  # no default writer: writes nothing
    if flush:
        writer.flush()
    return writer


SUMMARY_CASES = [
    ("right", {"points": {1: 2.0, 2: 1.5}}, True, "read back 2 scalar(s)"),
    ("outside writer.as_default", {"points": {1: 2.0, 2: 1.5}, "inside": False}, False, "holds no scalars"),
    ("other tag", {"points": {1: 2.0, 2: 1.5}, "tag": "train_loss"}, False, "no 'loss' scalar"),
    ("wrong steps", {"points": {0: 2.0, 1: 1.5}}, False, "written at steps [0, 1], expected [1, 2]"),
    ("wrong value", {"points": {1: 2.0, 2: 1.0}}, False, "at step 2 reads back as 1"),
]


@pytest.mark.parametrize(("case", "kw", "ok", "needle"), SUMMARY_CASES, ids=[c[0] for c in SUMMARY_CASES])
def test_check_summaries(case, kw, ok, needle, tmp_path):
    _write(tmp_path, **kw).close()
    fb = cap.check_summaries(str(tmp_path), EXPECTED)
    assert fb.ok is ok and needle in fb.message, fb.message


def test_check_summaries_without_an_event_file(tmp_path):
    assert "no event file" in cap.check_summaries(str(tmp_path / "nowhere"), EXPECTED).message
    assert "`logdir` is still None" in cap.check_summaries(None, EXPECTED).message


def test_read_event_scalars_reads_tf2_tensors_and_tf1_simple_values(tmp_path):
    _write(tmp_path / "tf2", {3: 0.5}).close()
    with tf.Graph().as_default():
        summary = tf.compat.v1.Summary(value=[tf.compat.v1.Summary.Value(tag="acc", simple_value=0.25)])
        fw = tf.compat.v1.summary.FileWriter(str(tmp_path / "tf1"))
        fw.add_summary(summary, global_step=7)
        fw.close()
    assert cap.read_event_scalars(tmp_path / "tf2") == {"loss": {3: 0.5}}
    assert cap.read_event_scalars(tmp_path / "tf1") == {"acc": {7: 0.25}}


# --- checkpoint and resume --------------------------------------------------------------------

Run = collections.namedtuple("Run", "model optimizer start")


def train(ckpt_dir, steps=12, stop_at=None, *, seed=0, restore=True, keep_iterator=True,
          keep_optimizer=True, save_every=4):
    keras.utils.set_random_seed(seed)
    model, optimizer = tiny_model(seed=seed), scheduled_adam()
    batches = iter(tf.data.Dataset.from_tensor_slices((XT, YT)).shuffle(40, seed=0).repeat().batch(8))
    parts = {"model": model}
    if keep_optimizer:
        parts["optimizer"] = optimizer
    if keep_iterator:
        parts["data"] = batches
    ckpt = tf.train.Checkpoint(**parts)
    manager = tf.train.CheckpointManager(ckpt, str(ckpt_dir), max_to_keep=2)
    if restore:
        manager.restore_or_initialize()
    start = int(optimizer.iterations)
    step_fn = make_step(model, optimizer)
    while int(optimizer.iterations) < steps:
        step_fn(*next(batches))
        step = int(optimizer.iterations)
        if step % save_every == 0:
            manager.save(checkpoint_number=step)
        if step == stop_at:
            break
    return Run(model, optimizer, start)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    return train(tmp_path_factory.mktemp("straight"))


def _resumed(ckpt_dir, **kw):
    stop_kw = {k: v for k, v in kw.items() if k != "restore" and k != "seed2"}
    train(ckpt_dir, stop_at=6, **{k: v for k, v in stop_kw.items()})
    resume_kw = {k: v for k, v in kw.items() if k != "seed2"}
    if "seed2" in kw:
        resume_kw["seed"] = kw["seed2"]
    return train(ckpt_dir, **resume_kw)


RESUME_CASES = [
    ("right", {}, True, "bit for bit"),
    # the shuffle's seeds come from the global seed when the dataset is built: not in the checkpoint
    ("other global seed on resume", {"seed2": 5}, False, "the same data order"),
    ("never restores", {"restore": False}, False, "started at step 0: it did not restore"),
    ("iterator not in the checkpoint", {"keep_iterator": False}, False, "holds no data iterator"),
    ("optimizer not in the checkpoint", {"keep_optimizer": False}, False, "holds no optimizer"),
    ("other initial weights", {"seed": 3}, False, "the same initial weights"),
]


@pytest.mark.parametrize(("case", "kw", "ok", "needle"), RESUME_CASES, ids=[c[0] for c in RESUME_CASES])
def test_check_resume(case, kw, ok, needle, straight, tmp_path):
    resumed = _resumed(tmp_path, **kw)
    fb = cap.check_resume(straight, resumed, str(tmp_path))
    assert fb.ok is ok and needle in fb.message, fb.message


def test_check_resume_without_runs_or_checkpoints(straight, tmp_path):
    assert "`resumed` is still None" in cap.check_resume(straight, None, str(tmp_path)).message
    assert "no checkpoint in" in cap.check_resume(straight, straight, str(tmp_path)).message
    assert ".model, .optimizer and .start" in cap.check_resume(straight, object(), str(tmp_path)).message


PREDICTION_CASES = [
    (120, None, True, "the newest checkpoint is step 120"),
    (120.0, 120, True, "steps 121-150 are trained again"),
    (None, None, False, "`predicted_start` is still None"),
    ("soon", None, False, "whole step number"),
    (121, None, False, "first step trained after the restore"),
    (150, None, False, "nothing was saved at step 150"),
    (0, None, False, "does not start over"),
    (80, None, False, "but so was a newer one"),
    (100, None, False, "which multiple of SAVE_EVERY=40"),
    (120, 150, False, "your resumed run restored step 150"),
    (120, 0, False, "your resumed run restored nothing"),
]


@pytest.mark.parametrize(("prediction", "actual", "ok", "needle"), PREDICTION_CASES)
def test_check_resume_prediction(prediction, actual, ok, needle):
    fb = cap.check_resume_prediction(prediction, save_every=40, stopped_at=150, resumed_from=actual)
    assert fb.ok is ok and needle in fb.message, fb.message


def test_check_resume_prediction_rejects_bad_settings():
    with pytest.raises(ValueError, match="save_every"):
        cap.check_resume_prediction(120, save_every=0, stopped_at=150)


# --- export -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = tiny_model()
    path = str(tmp_path_factory.mktemp("export") / "model")
    model.export(path, verbose=False)
    reloaded = tf.saved_model.load(path)  # keep a reference: its variables die with it
    served = reloaded.serve(tf.constant(XS)).numpy()
    return path, model(XS, training=False).numpy(), served


def test_check_export(exported, tmp_path):
    path, direct, served = exported
    assert cap.check_export(path, direct, served).ok
    cases = [
        ((str(tmp_path), direct, served), "no saved_model.pb"),
        ((None, direct, served), "`export_dir` is still None"),
        ((path, direct, None), "`served` is still None"),
        ((path, direct, served[:3]), "predict on the same inputs"),
        ((path, direct, served + 0.5), "predicts differently"),
    ]
    for args, needle in cases:
        fb = cap.check_export(*args)
        assert not fb and needle in fb.message, fb.message


# --- model.fit path ---------------------------------------------------------------------------

FIT_CASES = [
    ((0.97, 0.96), True, "differ by at most 0.03"),
    ((None, 0.96), False, "`loop_accuracy` is still None"),
    ((0.97, 97.0), False, "an accuracy in [0, 1]"),
    ((0.97, 0.5), False, "the model.fit run reaches 0.500"),
    ((0.85, 0.97), False, "the hand-written loop reaches 0.850"),
    ((0.99, 0.91), False, "differ by 0.080"),
]


@pytest.mark.parametrize(("args", "ok", "needle"), FIT_CASES)
def test_check_fit_matches_loop(args, ok, needle):
    fb = cap.check_fit_matches_loop(*args)
    assert fb.ok is ok and needle in fb.message, fb.message

"""labkit.digits.run: the capstone run and its CLI (notebooks/11_capstone.ipynb)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from labkit.digits.run import OPTIMIZERS, build_parser, main, make_optimizer, train_digits
from labkit.teaching.exercises.capstone import check_replica_loss_scale, check_resume_step

REPO = Path(__file__).resolve().parents[2]


def _model_tensors(prefix: str) -> dict[str, np.ndarray]:
    import tensorflow as tf

    reader = tf.train.load_checkpoint(prefix)
    return {n: reader.get_tensor(n) for n, _ in tf.train.list_variables(prefix)
            if n.startswith("model/") or n.startswith("optimizer/")}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_make_optimizer_builds_each_of_the_ten(name):
    opt = make_optimizer(name)
    assert type(opt).__name__ == f"{name}Optimizer"
    assert type(make_optimizer(f"{name}Optimizer")) is type(opt)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--optimizer", "Nadam"], "GradientDescent, Adadelta, Adagrad"),
        (["--steps", "-5"], "--steps"),
        (["--steps", "ten"], "--steps"),
        (["--batch-size", "0"], "--batch-size"),
        (["--clip-norm", "0"], "--clip-norm"),
        (["--learning-rate", "nan"], "--learning-rate"),
        (["--resume"], "--ckpt-dir"),
        (["--seed", "-1"], "--seed"),
    ],
)
def test_bad_flags_exit_2_with_a_clear_message(argv, needle, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert needle in capsys.readouterr().err


def test_unknown_optimizer_lists_all_ten_names(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--optimizer", "Nadam"])
    err = capsys.readouterr().err
    assert "Nadam" in err and all(name in err for name in OPTIMIZERS)


@pytest.mark.parametrize(
    ("kwargs", "exc", "needle"),
    [
        ({"steps": -1}, ValueError, "steps"),
        ({"optimizer": "Nadam"}, ValueError, "optimizer"),
        ({"optimizer": 3}, TypeError, "optimizer"),
        ({"clip_norm": 0.0}, ValueError, "clip_norm"),
        ({"resume": True}, ValueError, "ckpt_dir"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"callback": "print"}, TypeError, "callback"),
    ],
)
def test_bad_arguments_raise_before_training(kwargs, exc, needle):
    with pytest.raises(exc, match=needle):
        train_digits(**kwargs)


def test_interrupt_and_resume_equals_one_uninterrupted_run(tmp_path):
    common = {"optimizer": "Adam", "steps": 40, "batch_size": 32, "save_every": 10,
              "clip_norm": 5.0, "seed": 0}
    whole = train_digits(ckpt_dir=tmp_path / "whole", **common)
    first = train_digits(ckpt_dir=tmp_path / "split", stop_at=25, **common)
    assert first.interrupted and first.step == 25
    second = train_digits(ckpt_dir=tmp_path / "split", resume=True, **common)
    assert second.start_step == 25 and second.step == 40 and not second.interrupted
    a, b = _model_tensors(whole.checkpoint), _model_tensors(second.checkpoint)
    assert set(a) == set(b) and len(a) >= 4
    assert any(not np.array_equal(a[k], _model_tensors(first.checkpoint)[k]) for k in a)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=0, atol=1e-6, err_msg=k)
    assert whole.test_accuracy == pytest.approx(second.test_accuracy)


def test_resume_without_a_checkpoint_starts_at_zero(tmp_path):
    r = train_digits(steps=5, ckpt_dir=tmp_path / "empty", resume=True, log_every=5)
    assert r.start_step == 0 and r.step == 5
    assert r.history == [(5, pytest.approx(r.train_loss))]


@pytest.mark.slow  # a TensorFlow subprocess: make test runs it, make check does not
def test_cli_trains_logs_and_checkpoints(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2")
    cmd = [sys.executable, "-m", "labkit.digits.run", "--optimizer", "GradientDescent",
           "--steps", "30", "--save-every", "20", "--logdir", str(tmp_path / "runs"),
           "--ckpt-dir", str(tmp_path / "ckpt"), "--clip-norm", "5"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "steps=0->30" in proc.stdout and "test_accuracy=" in proc.stdout
    assert "30/30" in proc.stderr  # the tqdm progress bar reached the end
    assert (tmp_path / "ckpt" / "model.ckpt-30.index").exists()
    assert (tmp_path / "ckpt" / "model.ckpt-20.index").exists()
    from labkit.summary import read_scalars

    tags = {r.tag for r in read_scalars(str(tmp_path / "runs"))}
    assert {"loss", "test/accuracy", "test/loss"} <= tags
    # resume to 40 continues from the step-30 checkpoint
    proc = subprocess.run(cmd[:6] + ["40"] + cmd[7:] + ["--resume", "--no-progress"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "steps=30->40" in proc.stdout


def test_exercise_checks():
    assert check_resume_step(100, 250, 200)
    assert not check_resume_step(100, 250, 250)
    assert "save_every" in check_resume_step(100, 250, 250).message
    assert not check_resume_step(100, 250, None)
    with pytest.raises(ValueError, match="save_every"):
        check_resume_step(0, 250, 200)
    assert check_replica_loss_scale(64, 2, 64)
    assert "SUMS" in check_replica_loss_scale(64, 2, 32).message
    assert not check_replica_loss_scale(64, 2, "x")

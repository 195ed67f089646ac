"""``labkit reset``: asks first, removes only the learner-state folders, never anything else.

Every test works in a temporary lab folder (``LABKIT_ROOT`` or the ``folders`` argument):
the real repository's folders are never touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.tooling.paths import learner_state_dirs
from labkit.tooling.reset import reset

ROOT = Path(__file__).resolve().parents[2]


def fake_lab(root: Path) -> dict[str, Path]:
    """A lab folder with a notebook, learner state (logs, checkpoints, exports) and a stray file."""
    nb = root / "notebooks"
    files = {
        "notebook": nb / "09_saver.ipynb",
        "solution": nb / "solutions" / "09_saver.ipynb",
        "log": nb / "runs" / "adam" / "events.out.tfevents.1",
        "checkpoint": nb / "checkpoints" / "model" / "ckpt-1.index",
        "export": nb / "exported" / "model" / "saved_model.pb",
        "readme": root / "README.md",
    }
    for i, path in enumerate(files.values()):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes([i]) * (100 + i))
    return files


@pytest.fixture
def lab_root(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("LABKIT_ROOT", str(tmp_path))
    return tmp_path


def test_learner_state_dirs_follow_labkit_root(lab_root):
    dirs = learner_state_dirs()
    nb = lab_root.resolve() / "notebooks"
    assert dirs == [nb / "runs", nb / "checkpoints", nb / "exported",
                    nb / "zh_CN" / "runs", nb / "zh_CN" / "checkpoints", nb / "zh_CN" / "exported"]


def test_reset_covers_the_chinese_edition(lab_root):
    """The zh_CN lessons run in notebooks/zh_CN, so their relative paths land there."""
    files = fake_lab(lab_root)
    zh = lab_root / "notebooks" / "zh_CN"
    notebook, log = zh / "09_saver.ipynb", zh / "runs" / "10_summary" / "events.out.tfevents.1"
    for path in (notebook, log, zh / "checkpoints" / "09_saver" / "ckpt-1.index"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    removed = reset(yes=True)
    assert len(removed) == 5
    assert not log.exists() and not (zh / "checkpoints").exists()
    assert notebook.exists() and files["notebook"].exists()


@pytest.mark.parametrize("answer", ["", "n", "no", "N", "maybe", "yess"])
def test_declined_confirmation_removes_nothing(lab_root, answer, capsys):
    files = fake_lab(lab_root)
    asked = []
    removed = reset(ask=lambda prompt: asked.append(prompt) or answer)
    assert removed == []
    assert len(asked) == 1 and "[y/N]" in asked[0]
    assert all(p.exists() for p in files.values())
    assert "nothing was deleted" in capsys.readouterr().out


def test_end_of_input_counts_as_no(lab_root):
    files = fake_lab(lab_root)

    def closed_stdin(prompt: str) -> str:
        raise EOFError

    assert reset(ask=closed_stdin) == []
    assert all(p.exists() for p in files.values())


@pytest.mark.parametrize("answer", ["y", "yes", " Y ", "YES"])
def test_confirmed_reset_removes_only_learner_state(lab_root, answer):
    files = fake_lab(lab_root)
    removed = reset(ask=lambda prompt: answer)
    assert sorted(p.name for p in removed) == ["checkpoints", "exported", "runs"]
    for key in ("log", "checkpoint", "export"):
        assert not files[key].exists(), key
    for key in ("notebook", "solution", "readme"):
        assert files[key].exists(), key
    assert not (lab_root / "notebooks" / "runs").exists()


def test_yes_does_not_ask(lab_root):
    files = fake_lab(lab_root)

    def must_not_ask(prompt: str) -> str:
        raise AssertionError("reset(yes=True) asked for confirmation")

    removed = reset(yes=True, ask=must_not_ask)
    assert len(removed) == 3
    assert files["notebook"].exists() and not files["log"].exists()


def test_explicit_folders_only(tmp_path):
    keep, drop = tmp_path / "keep", tmp_path / "drop"
    for d in (keep, drop):
        (d / "sub").mkdir(parents=True)
        (d / "sub" / "f.bin").write_bytes(b"x" * 10)
    assert reset(yes=True, folders=[drop, tmp_path / "missing"]) == [drop]
    assert keep.exists() and not drop.exists()


def test_nothing_to_reset(lab_root, capsys):
    (lab_root / "notebooks").mkdir()
    assert reset(yes=True) == []
    assert "Nothing to reset" in capsys.readouterr().out


def run_cli(root: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = dict(os.environ, LABKIT_ROOT=str(root))
    return subprocess.run([sys.executable, "-m", "labkit", "reset", *args], input=stdin,
                          capture_output=True, text=True, env=env, cwd=root, timeout=120)


def test_cli_declined_then_yes(tmp_path):
    files = fake_lab(tmp_path)
    declined = run_cli(tmp_path, stdin="n\n")
    assert declined.returncode == 0, declined.stderr
    assert "nothing was deleted" in declined.stdout
    assert all(p.exists() for p in files.values())
    assert str(tmp_path.resolve() / "notebooks" / "runs") in declined.stdout  # lists what it would delete

    confirmed = run_cli(tmp_path, "--yes")
    assert confirmed.returncode == 0, confirmed.stderr
    assert "Removed 3 folder(s)" in confirmed.stdout
    assert not files["log"].exists() and not files["checkpoint"].exists()
    assert files["notebook"].exists() and files["readme"].exists()

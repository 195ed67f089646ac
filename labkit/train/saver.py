"""``Saver``: the ``tf.compat.v1.train.Saver`` shape, built on object-based ``tf.train.Checkpoint``.

Introduced in notebooks/09_saver.ipynb.

The seed says: *a Saver saves variables, not the graph, so it serves training (resume after an
interruption)*. This module keeps TF1's call shape -- ``Saver(var_list, max_to_keep=5)``,
``save(sess, save_path, global_step)``, ``restore(sess, save_path)``, ``last_checkpoints``,
``latest_checkpoint(dir)`` -- (``sess`` is accepted and ignored, so TF1 code reads the same) and
adds what TF1 never promised:

* **object-based**: models, optimizers with their slots and step counters, the global step, a
  ``tf.data`` iterator, a ``tf.random.Generator`` ... anything trackable, so resume is exact;
* **crash-safe**: a checkpoint is written under a temporary name and renamed into place, index
  file last; the ``checkpoint`` state file is replaced atomically afterwards; old checkpoints are
  deleted only after the state file no longer lists them. A process killed at any moment leaves
  either the previous checkpoint or the new one as the latest, never a half-written one;
* **loud restore**: a missing, truncated, corrupted or foreign checkpoint raises
  :class:`labkit.checkpoints.CheckpointError` naming the file and the mismatched variables,
  before any variable is touched (no silent partial restore).

Local file systems only (the rename trick needs POSIX ``os.replace``).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from labkit.checkpoints import (
    TMP_MARK,
    CheckpointError,
    checkpoint_files,
    latest_checkpoint,
    list_checkpoints,
    read_checkpoint,
    restore_newest_good,
    verify_checkpoint,
)

__all__ = ["Saver", "latest_checkpoint", "list_checkpoints"]

_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Saver:
    """Save and restore trackable objects, with the ``tf.compat.v1.train.Saver`` call shape.

    Example::

        saver = Saver({"model": model, "optimizer": opt, "global_step": step}, max_to_keep=3)
        path = saver.save(None, "checkpoints/run/model.ckpt", global_step=step)
        # ... later, in a new process, after building the same objects:
        saver.restore(None, latest_checkpoint("checkpoints/run"))

    Args:
        var_list: what to save. A mapping ``name -> trackable`` (a Keras model, an optimizer
            -- its slots and step counters come along --, a ``tf.Variable``, a tf.data iterator,
            a ``tf.random.Generator``...), or a list of ``tf.Variable`` (keyed by their names,
            as TF1 did). TF2 has no global variable collection, so ``None`` is an error.
        max_to_keep: how many recent checkpoints to keep (``None`` or 0: keep all).
        keep_checkpoint_every_n_hours: additionally keep one checkpoint per this many hours.
        name: optional name, shown in ``repr``.
        pad_step_number: write ``model.ckpt-00000042`` instead of ``model.ckpt-42``.
        verify_on_restore: check files, checksums, names, shapes and dtypes before restoring.

    ``sess`` arguments are accepted and ignored (there are no sessions in TF2).
    """

    def __init__(
        self,
        var_list: Mapping[str, Any] | Sequence[Any] | None = None,
        max_to_keep: int | None = 5,
        keep_checkpoint_every_n_hours: float = 10000.0,
        name: str | None = None,
        pad_step_number: bool = False,
        verify_on_restore: bool = True,
        **unsupported: Any,
    ) -> None:
        if unsupported:
            raise TypeError(
                "Saver: unsupported TF1 argument(s) for an object-based Saver: "
                + ", ".join(f"{k}={v!r}" for k, v in unsupported.items())
            )
        if var_list is None:
            raise ValueError(
                "`var_list` is required in TF2: there is no global variable collection. Pass a "
                "mapping such as {'model': model, 'optimizer': opt, 'global_step': step}. "
                "Received: var_list=None"
            )
        if max_to_keep is not None and (
            isinstance(max_to_keep, bool) or not isinstance(max_to_keep, int) or max_to_keep < 0
        ):
            raise ValueError(
                f"`max_to_keep` must be None or an integer >= 0. Received: max_to_keep={max_to_keep!r}"
            )
        if (
            isinstance(keep_checkpoint_every_n_hours, bool)
            or not isinstance(keep_checkpoint_every_n_hours, (int, float))
            or keep_checkpoint_every_n_hours <= 0
        ):
            raise ValueError(
                "`keep_checkpoint_every_n_hours` must be a positive number. Received: "
                f"keep_checkpoint_every_n_hours={keep_checkpoint_every_n_hours!r}"
            )
        import tensorflow as tf

        self._objects = self._normalise(var_list)
        self._ckpt = tf.train.Checkpoint(**self._objects)
        self.max_to_keep = max_to_keep
        self.keep_checkpoint_every_n_hours = float(keep_checkpoint_every_n_hours)
        self.name = name
        self.pad_step_number = bool(pad_step_number)
        self.verify_on_restore = bool(verify_on_restore)
        self._last: list[tuple[str, float]] = []  # (prefix, timestamp), oldest first
        self._next_keep_time = time.time() + self.keep_checkpoint_every_n_hours * 3600.0
        self._kept_forever: list[str] = []

    @staticmethod
    def _normalise(var_list: Mapping[str, Any] | Sequence[Any]) -> dict[str, Any]:
        if isinstance(var_list, Mapping):
            items = list(var_list.items())
        elif isinstance(var_list, Sequence) and not isinstance(var_list, (str, bytes)):
            items = []
            for obj in var_list:
                raw = getattr(obj, "name", None)
                if not isinstance(raw, str):
                    raise TypeError(
                        "`var_list` as a list must hold named variables; use a mapping "
                        f"name -> object for other objects. Received an item: {obj!r}"
                    )
                items.append((re.sub(r"\W", "_", raw.split(":")[0]), obj))
        else:
            raise TypeError(
                "`var_list` must be a mapping name -> trackable or a list of variables. "
                f"Received: var_list={var_list!r}"
            )
        if not items:
            raise ValueError(f"`var_list` is empty: nothing to save. Received: var_list={var_list!r}")
        out: dict[str, Any] = {}
        for key, obj in items:
            if not isinstance(key, str) or not _KEY_RE.match(key):
                raise ValueError(
                    "`var_list` keys must be identifiers (letters, digits, underscore). "
                    f"Received key: {key!r}"
                )
            if key in out:
                raise ValueError(f"`var_list` has two objects named {key!r}.")
            if not _is_trackable(obj):
                raise TypeError(
                    f"`var_list[{key!r}]` is not trackable (not a variable, model, optimizer, "
                    f"iterator or tf.Module). Received: {type(obj).__name__}"
                )
            out[key] = obj
        return out

    # ---------------------------------------------------------------- TF1 surface
    @property
    def checkpoint(self):
        """The underlying ``tf.train.Checkpoint``."""
        return self._ckpt

    @property
    def last_checkpoints(self) -> list[str]:
        """Prefixes of the checkpoints this Saver wrote and still keeps, oldest first."""
        return [p for p, _ in self._last]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time: Sequence[tuple[str, float]]) -> None:
        """Adopt an existing list of (prefix, timestamp), as TF1 did, e.g. after a restart."""
        self._last = [(str(p), float(t)) for p, t in last_checkpoints_with_time]

    def recover_last_checkpoints(self, checkpoint_paths: Sequence[str]) -> None:
        """Adopt existing checkpoints (e.g. from ``list_checkpoints(dir)``) so rotation continues."""
        now = time.time()
        self._last = [(p, now) for p in checkpoint_paths if os.path.isfile(p + ".index")]

    def save(
        self,
        sess: Any,
        save_path: str,
        global_step: Any = None,
        latest_filename: str | None = None,
        write_state: bool = True,
        **_ignored: Any,
    ) -> str:
        """Write a checkpoint; return its prefix (``save_path`` or ``save_path-<step>``).

        Args:
            sess: ignored (TF1 compatibility).
            save_path: prefix such as ``"checkpoints/run/model.ckpt"``; the folder is created.
            global_step: int or integer variable/tensor appended as ``-<step>``.
            latest_filename: name of the state file (default ``"checkpoint"``).
            write_state: update the state file and rotate old checkpoints.
        """
        del sess
        if not isinstance(save_path, (str, os.PathLike)) or not os.fspath(save_path):
            raise ValueError(f"`save_path` must be a non-empty path. Received: save_path={save_path!r}")
        save_path = os.fspath(save_path)
        if os.path.isdir(save_path):
            raise ValueError(
                "`save_path` is a folder; pass a file prefix such as "
                f"{os.path.join(save_path, 'model.ckpt')!r}. Received: save_path={save_path!r}"
            )
        prefix = save_path
        if global_step is not None:
            step = _as_int(global_step, "global_step")
            prefix = f"{save_path}-{step:08d}" if self.pad_step_number else f"{save_path}-{step}"
        directory = os.path.dirname(os.path.abspath(prefix))
        os.makedirs(directory, exist_ok=True)
        self._clean_stale_temp(directory)

        # 1. write everything under a temporary prefix (an interrupted write stays invisible)
        base = os.path.basename(prefix)
        tmp_prefix = os.path.join(directory, f".{base}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")
        try:
            self._ckpt.write(tmp_prefix)
            # 2. never replace a checkpoint by one that holds less (e.g. a save right after a
            #    restore, before an optimizer made its slots): keep the old one and say so
            final_index = prefix + ".index"
            _refuse_to_lose(prefix, tmp_prefix)
            # 3. rename into place: drop an old index of the same name first, data, index last
            if os.path.exists(final_index):
                os.remove(final_index)
            for old in glob.glob(glob.escape(prefix) + ".data-*"):
                os.remove(old)
            tmp_files = checkpoint_files(tmp_prefix)
            for f in tmp_files[:-1]:
                os.replace(f, prefix + f[len(tmp_prefix):])
            os.replace(tmp_files[-1], final_index)
        finally:
            for f in glob.glob(glob.escape(tmp_prefix) + "*"):
                _remove_quietly(f)
        now = time.time()
        self._last = [(p, t) for p, t in self._last if p != prefix] + [(prefix, now)]
        if write_state:
            # 4. decide what to drop, 5. write the state file atomically, 6. delete dropped files
            drop = self._rotate(now)
            self._write_state(directory, prefix, latest_filename)
            for p in drop:
                for f in checkpoint_files(p):
                    _remove_quietly(f)
        return prefix

    def restore(self, sess: Any, save_path: str, fallback: bool = False):
        """Restore every object from a checkpoint prefix; return the load status.

        Raises :class:`labkit.checkpoints.CheckpointError` (a ValueError) naming the file and
        the mismatched variables if the checkpoint is missing, truncated, corrupted or from a
        different model -- before any variable changes. With ``fallback=True`` a bad or missing
        checkpoint is replaced by the newest good one in the same folder, and a message says so
        (``save_path`` may then also be the folder itself).
        """
        del sess
        if save_path is None or not isinstance(save_path, (str, os.PathLike)):
            raise ValueError(
                "`save_path` must be a checkpoint prefix (e.g. from latest_checkpoint(dir)). "
                f"Received: save_path={save_path!r}"
            )
        save_path = os.fspath(save_path)
        if fallback:
            return restore_newest_good(self, save_path).status
        if self.verify_on_restore:
            verify_checkpoint(save_path, root=self._ckpt)
        elif not os.path.isfile(save_path + ".index"):
            raise CheckpointError(save_path, "no such checkpoint (missing .index file)")
        return read_checkpoint(self._ckpt, save_path)

    # ---------------------------------------------------------------- internals
    def _rotate(self, now: float) -> list[str]:
        if not self.max_to_keep:
            return []
        drop: list[str] = []
        while len(self._last) > self.max_to_keep:
            p, t = self._last.pop(0)
            if t >= self._next_keep_time:
                self._kept_forever.append(p)
                self._next_keep_time += self.keep_checkpoint_every_n_hours * 3600.0
            else:
                drop.append(p)
        return drop

    def _write_state(self, directory: str, prefix: str, latest_filename: str | None) -> None:
        """Replace the ``checkpoint`` state file atomically (temp file + ``os.replace``).

        Same text format as TF's ``CheckpointState``, so ``tf.train.latest_checkpoint`` reads it.
        """
        rel = [os.path.basename(p) for p in self._kept_forever + self.last_checkpoints]
        lines = [f"model_checkpoint_path: {_quote(os.path.basename(prefix))}"]
        lines += [f"all_model_checkpoint_paths: {_quote(p)}" for p in rel]
        name = latest_filename or "checkpoint"
        target = os.path.join(directory, name)
        tmp = os.path.join(directory, f".{name}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")
        try:
            with open(tmp, "w") as f:
                f.write("\n".join(lines) + "\n")
            os.replace(tmp, target)
        finally:
            _remove_quietly(tmp)

    @staticmethod
    def _clean_stale_temp(directory: str) -> None:
        for f in glob.glob(os.path.join(glob.escape(directory), f".*{TMP_MARK}*")):
            m = re.search(re.escape(TMP_MARK) + r"(\d+)-", os.path.basename(f))
            if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
                _remove_quietly(f)

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<Saver{label} objects={sorted(self._objects)} max_to_keep={self.max_to_keep}>"


def _refuse_to_lose(prefix: str, new_prefix: str) -> None:
    """Raise if a readable checkpoint ``prefix`` holds tensors that ``new_prefix`` lacks."""
    if not os.path.isfile(prefix + ".index"):
        return
    import tensorflow as tf

    try:
        old = set(tf.train.load_checkpoint(prefix).get_variable_to_shape_map())
    except Exception:  # the old one is unreadable: replacing it loses nothing
        return
    lost = sorted(old - set(tf.train.load_checkpoint(new_prefix).get_variable_to_shape_map()))
    if lost:
        raise CheckpointError(
            prefix, f"not overwritten: the new save lacks {len(lost)} of its tensors, so the "
            "existing checkpoint was kept (save under another name or step if this is meant)",
            missing=lost)


def _is_trackable(obj: Any) -> bool:
    from labkit._tf_private import Trackable

    return isinstance(obj, Trackable)


def _as_int(value: Any, arg: str) -> int:
    if isinstance(value, bool):
        raise TypeError(f"`{arg}` must be an integer or an integer variable. Received: {arg}={value!r}")
    if hasattr(value, "numpy"):
        value = value.numpy()
    try:
        import numpy as np

        if isinstance(value, np.ndarray) and value.shape == ():
            value = value.item()
        if isinstance(value, np.integer):
            value = int(value)
    except ImportError:  # pragma: no cover
        pass
    if not isinstance(value, int) or value < 0:
        raise TypeError(f"`{arg}` must be a non-negative integer. Received: {arg}={value!r}")
    return value


def _quote(text: str) -> str:
    """A protobuf text-format string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_quietly(path: str) -> None:
    """Remove a file, or a folder (TF writes shards into ``<prefix>_temp/`` first)."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
        return
    try:
        os.remove(path)
    except FileNotFoundError:
        pass

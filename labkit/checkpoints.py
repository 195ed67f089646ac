"""Look inside checkpoints, verify them, fall back to a good one, migrate TF1 name-based ones.

Introduced in notebooks/09_saver.ipynb.

* :func:`inspect_checkpoint` lists a checkpoint's variables with shapes, dtypes and sizes;
* :func:`verify_checkpoint` reads every tensor (checksums catch corruption and truncation) and,
  given the objects you are about to restore, compares names, shapes and dtypes -- raising a
  :class:`CheckpointError` that names the file and every mismatched variable;
* :func:`restore_newest_good` restores the newest checkpoint of a folder that verifies, and
  says which bad ones it skipped;
* :func:`migrate_name_based` reads a checkpoint written by ``tf.compat.v1.train.Saver`` (keys are
  TF1 variable names such as ``dense/kernel``) into TF2 variables through a name map, reporting
  what did not match; :func:`keras_name_map` builds such a map for a Keras model.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
TMP_MARK = ".tmp-"  # in the names of a save's files until they are renamed into place


class CheckpointError(ValueError):
    """A checkpoint cannot be restored: missing, truncated, corrupted, or from another model.

    Attributes:
        path: the checkpoint prefix (or file) concerned.
        reason: one-line summary.
        missing: variables the objects expect but the checkpoint lacks.
        mismatched: ``(name, expected, found)`` for shape/dtype disagreements.
    """

    def __init__(
        self,
        path: str,
        reason: str,
        missing: Sequence[str] = (),
        mismatched: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        self.path = path
        self.reason = reason
        self.missing = list(missing)
        self.mismatched = list(mismatched)
        lines = [f"checkpoint {path!r}: {reason}"]
        if self.missing:
            lines.append(f"  missing from the checkpoint ({len(self.missing)}):")
            lines += [f"    {n}" for n in self.missing[:20]]
            if len(self.missing) > 20:
                lines.append(f"    ... and {len(self.missing) - 20} more")
        if self.mismatched:
            lines.append(f"  shape/dtype mismatches ({len(self.mismatched)}):")
            lines += [f"    {n}: expected {e}, checkpoint has {f}" for n, e, f in self.mismatched[:20]]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class CheckpointEntry:
    """One tensor stored in a checkpoint (``size_bytes`` is 0 for string/variant state)."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    size_bytes: int

    @property
    def num_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


def _check_prefix(path: Any, arg: str = "path") -> str:
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise TypeError(f"`{arg}` must be a checkpoint prefix (a path). Received: {arg}={path!r}")
    path = os.fspath(path)
    if path.endswith(".index"):
        path = path[: -len(".index")]
    return path


def checkpoint_files(path: str) -> list[str]:
    """The files on disk that make up a checkpoint prefix (data shards, then the index)."""
    path = _check_prefix(path)
    return sorted(glob.glob(glob.escape(path) + ".data-*")) + [path + ".index"]


def checkpoint_size(path: str) -> int:
    """Total bytes on disk of a checkpoint prefix's files."""
    return sum(os.path.getsize(f) for f in checkpoint_files(path) if os.path.exists(f))


def _is_temp(path: str) -> bool:
    return TMP_MARK in os.path.basename(path)


def _step_of(prefix: str) -> int | None:
    m = re.search(r"-(\d+)$", prefix)
    return int(m.group(1)) if m else None


def _quick_ok(prefix: str) -> bool:
    """True when the prefix's index exists, parses and its data shards are present."""
    index = prefix + ".index"
    if _is_temp(prefix) or not os.path.isfile(index):
        return False
    try:
        import tensorflow as tf

        tf.train.load_checkpoint(prefix)
    except Exception:  # any failure means "not usable"
        return False
    return True


def list_checkpoints(checkpoint_dir: str, latest_filename: str | None = None) -> list[str]:
    """All checkpoint prefixes in a folder, oldest first (temporary files excluded).

    Order: the ``checkpoint`` state file's list (oldest to newest, its latest last), then any
    other ``*.index`` in the folder that the state file does not list, by step number / mtime.
    Introduced in notebooks/09_saver.ipynb.
    """
    if not isinstance(checkpoint_dir, (str, os.PathLike)):
        raise TypeError(
            f"`checkpoint_dir` must be a path. Received: checkpoint_dir={checkpoint_dir!r}"
        )
    checkpoint_dir = os.fspath(checkpoint_dir)
    if not os.path.isdir(checkpoint_dir):
        return []
    import tensorflow as tf

    listed: list[str] = []
    try:
        state = tf.train.get_checkpoint_state(checkpoint_dir, latest_filename)
    except Exception:  # an unreadable state file is ignored, the folder is scanned
        state = None
    if state is not None:
        for p in [*state.all_model_checkpoint_paths, state.model_checkpoint_path]:
            if not p:
                continue
            full = p  # tf.train.get_checkpoint_state already joined relative names to the folder
            if full in listed:
                listed.remove(full)
            listed.append(full)
    others = [
        f[: -len(".index")]
        for f in glob.glob(os.path.join(glob.escape(checkpoint_dir), "*.index"))
        if not _is_temp(f)
    ]
    others = [p for p in others if p not in listed]

    def order(p: str) -> tuple[int, float]:
        step = _step_of(p)
        return (step if step is not None else -1, os.path.getmtime(p + ".index"))

    return sorted(others, key=order) + listed


def latest_checkpoint(checkpoint_dir: str, latest_filename: str | None = None) -> str | None:
    """The newest complete checkpoint prefix in a folder, or None.

    Like ``tf.train.latest_checkpoint`` but never reports a checkpoint whose index is missing
    or unreadable or whose data shards are gone (it falls back to the next newest one), and
    never a temporary file of an interrupted save. Introduced in notebooks/09_saver.ipynb.
    """
    for prefix in reversed(list_checkpoints(checkpoint_dir, latest_filename)):
        if _quick_ok(prefix):
            return prefix
    return None


def _open_reader(path: str):
    import tensorflow as tf

    if os.path.isdir(path):
        raise CheckpointError(path, "is a folder; pass a checkpoint prefix (e.g. latest_checkpoint(folder))")
    if not os.path.isfile(path + ".index"):
        raise CheckpointError(path, f"no such checkpoint: {path + '.index'!r} does not exist")
    try:
        return tf.train.load_checkpoint(path)
    except Exception as err:  # the index is truncated/corrupted, or a data shard is missing
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(path, f"unreadable index {path + '.index'!r} ({first})") from err


def inspect_checkpoint(path: str, include_object_graph: bool = False) -> list[CheckpointEntry]:
    """List a checkpoint's variables: name, shape, dtype and size in bytes, sorted by name.

    Works for object-based (TF2 / :class:`labkit.train.Saver`) and name-based (TF1
    ``tf.compat.v1.train.Saver``) checkpoints. Introduced in notebooks/09_saver.ipynb.
    """
    path = _check_prefix(path)
    reader = _open_reader(path)
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    out = []
    for name in sorted(shapes):
        if name == OBJECT_GRAPH_KEY and not include_object_graph:
            continue
        shape = tuple(int(d) for d in shapes[name])
        dtype = dtypes[name]
        n = 1
        for d in shape:
            n *= d
        # string/variant state (object graph, iterator state) has no fixed item size: 0
        size = 0 if dtype.name in ("string", "variant") else n * dtype.size
        out.append(CheckpointEntry(name, shape, dtype.name, int(size)))
    return out


def format_entries(entries: Iterable[CheckpointEntry]) -> str:
    """A plain-text table of :func:`inspect_checkpoint` rows, with a total line."""
    entries = list(entries)
    width = max([len(e.name) for e in entries] + [4])
    lines = [f"{'name':<{width}}  {'shape':<14} {'dtype':<8} {'bytes':>10}"]
    for e in entries:
        lines.append(f"{e.name:<{width}}  {str(list(e.shape)):<14} {e.dtype:<8} {e.size_bytes:>10}")
    total = sum(e.size_bytes for e in entries)
    lines.append(f"{len(entries)} tensors, {total} bytes")
    return "\n".join(lines)


def expected_entries(root: Any) -> dict[str, tuple[tuple[int, ...] | None, str | None]]:
    """Checkpoint keys that saving ``root`` (a ``tf.train.Checkpoint`` or trackable) would write.

    Returns ``key -> (shape, dtype)``; shape/dtype are None for non-variable state (iterators,
    generators). Uses TensorFlow's own serialisation walk, so keys match what ``write`` produces.
    """
    import tensorflow as tf

    from labkit._tf_private import checkpoint_keys

    ckpt = root if isinstance(root, tf.train.Checkpoint) else tf.train.Checkpoint(root=root)
    serialized = checkpoint_keys(ckpt)
    out: dict[str, tuple[tuple[int, ...] | None, str | None]] = {}
    for trackable, tensors in serialized.items():
        for key in tensors:
            if key == OBJECT_GRAPH_KEY:
                continue
            shape = getattr(trackable, "shape", None)
            dtype = getattr(trackable, "dtype", None)
            if isinstance(trackable, tf.Variable) and shape is not None and shape.is_fully_defined():
                out[key] = (tuple(int(d) for d in shape), dtype.base_dtype.name)
            else:
                out[key] = (None, None)
    return out


def verify_checkpoint(path: str, root: Any = None, read_values: bool = True) -> list[CheckpointEntry]:
    """Check that a checkpoint is complete and (optionally) fits ``root``; return its entries.

    Raises :class:`CheckpointError` naming the file when the index is missing or unreadable, a
    data shard is missing or truncated, or a tensor fails its checksum (``read_values=True``
    reads every tensor). When ``root`` is given (the ``tf.train.Checkpoint`` / trackable you
    are about to restore into), every variable it would save must be in the checkpoint with the
    same shape and dtype; missing and mismatched ones are all listed in the error. Entries the
    checkpoint has beyond ``root`` are allowed (optimizer slots not created yet restore later).
    Introduced in notebooks/09_saver.ipynb.
    """
    import tensorflow as tf

    path = _check_prefix(path)
    reader = _open_reader(path)
    for f in checkpoint_files(path)[:-1] or [path + ".data-00000-of-00001"]:
        if not os.path.isfile(f):
            raise CheckpointError(path, f"data file {f!r} is missing")
    entries = inspect_checkpoint(path)
    if read_values:
        # Every tensor is read, the object graph too: it is written last, so a file cut short
        # near its end loses the object graph first. Reading checks each tensor's checksum.
        for e in inspect_checkpoint(path, include_object_graph=True):
            try:
                if e.dtype == "variant":  # e.g. a tf.data iterator's state
                    tf.raw_ops.RestoreV2(prefix=path, tensor_names=[e.name],
                                         shape_and_slices=[""], dtypes=[tf.variant])
                else:
                    reader.get_tensor(e.name)
            except Exception as err:
                first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                data = ", ".join(os.path.basename(f) for f in checkpoint_files(path)[:-1])
                raise CheckpointError(
                    path, f"tensor {e.name!r} cannot be read from {data} -- the file is truncated "
                    f"or corrupted ({first})") from err
    if root is not None:
        found = {e.name: (e.shape, e.dtype) for e in entries}
        missing, mismatched = [], []
        for key, (shape, dtype) in sorted(expected_entries(root).items()):
            if key not in found:
                missing.append(key)
            elif shape is not None and (found[key][0], found[key][1]) != (shape, dtype):
                mismatched.append(
                    (key, f"{list(shape)} {dtype}", f"{list(found[key][0])} {found[key][1]}")
                )
        if missing or mismatched:
            raise CheckpointError(
                path, "does not match the objects being restored (a different model?)", missing, mismatched
            )
    return entries


@dataclass
class RestoreReport:
    """What :func:`restore_newest_good` did."""

    path: str
    skipped: list[tuple[str, str]] = field(default_factory=list)
    status: Any = None

    @property
    def message(self) -> str:
        if not self.skipped:
            return f"restored {self.path}"
        bad = "; ".join(f"{os.path.basename(p)}: {r.splitlines()[0]}" for p, r in self.skipped)
        return f"skipped {len(self.skipped)} bad checkpoint(s) ({bad}); restored newest good one: {self.path}"


def read_checkpoint(ckpt: Any, path: str) -> Any:
    """``ckpt.read(path)`` with every failure turned into a :class:`CheckpointError` naming
    the file (TensorFlow's own errors, such as ``IndexError: Read less bytes than requested``,
    name none), and every object of ``ckpt`` required to have been matched."""
    try:
        status = ckpt.read(path)
        status.assert_existing_objects_matched()
    except Exception as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise CheckpointError(
            path, f"cannot be restored: {type(err).__name__}: {first}"[:400]) from err
    return status


def restore_newest_good(saver: Any, path: str, log: Callable[[str], None] | None = print) -> RestoreReport:
    """Restore ``path`` if it verifies, else the newest good checkpoint in its folder, and say so.

    Args:
        saver: a :class:`labkit.train.Saver` or a ``tf.train.Checkpoint``.
        path: a checkpoint prefix, or a folder (then its newest good checkpoint is used).
        log: called with a message when a checkpoint was skipped (None: silent).

    Raises :class:`CheckpointError` listing every candidate's problem when none is good.
    Introduced in notebooks/09_saver.ipynb.
    """
    import tensorflow as tf

    ckpt = getattr(saver, "checkpoint", saver)  # a labkit Saver holds a tf.train.Checkpoint
    if not isinstance(ckpt, tf.train.Checkpoint):
        raise TypeError(
            f"`saver` must be a labkit.train.Saver or tf.train.Checkpoint. Received: {type(saver).__name__}"
        )
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a checkpoint prefix or folder. Received: path={path!r}")
    path = os.fspath(path)
    folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    candidates = list(reversed(list_checkpoints(folder)))
    if not os.path.isdir(path):
        full = os.path.abspath(path)
        candidates = [full] + [c for c in candidates if os.path.abspath(c) != full]
    skipped: list[tuple[str, str]] = []
    for cand in candidates:
        try:
            verify_checkpoint(cand, root=ckpt)
        except CheckpointError as err:
            skipped.append((cand, str(err)))
            continue
        try:
            status = read_checkpoint(ckpt, cand)
        except CheckpointError as err:
            skipped.append((cand, str(err)))
            continue
        report = RestoreReport(cand, skipped, status)
        if skipped and log is not None:
            log(report.message)
        return report
    reasons = "\n".join(r for _, r in skipped) or "no checkpoints found"
    raise CheckpointError(path, f"no good checkpoint to fall back to:\n{reasons}")


# ---------------------------------------------------------------------------- TF1 migration
@dataclass
class MigrationReport:
    """What :func:`migrate_name_based` assigned and what it left out."""

    assigned: list[tuple[str, str]]  # (checkpoint name, target variable path)
    unmatched_checkpoint: list[str]  # in the checkpoint, no target
    unmatched_targets: list[str]  # targets whose name is not in the checkpoint

    def __str__(self) -> str:
        return (
            f"assigned {len(self.assigned)}; checkpoint names not used ({len(self.unmatched_checkpoint)}): "
            f"{self.unmatched_checkpoint}; targets not found ({len(self.unmatched_targets)}): "
            f"{self.unmatched_targets}"
        )


def _var_path(v: Any) -> str:
    return str(getattr(v, "path", None) or getattr(v, "name", "?")).split(":")[0]


def keras_name_map(
    model: Any, rename: Sequence[tuple[str, str]] = (), strip_model_name: bool = True
) -> dict[str, Any]:
    """A name map ``TF1 variable name -> variable`` for a Keras 3 model's weights.

    Keras 3 names a weight ``<model>/<layer>/<weight>`` (``sequential/dense/kernel``); TF1's
    ``tf.compat.v1.layers`` named it ``<layer>/<weight>`` (``dense/kernel``). The model prefix is
    dropped, then each ``(regex, replacement)`` in ``rename`` is applied in order.
    """
    if not hasattr(model, "weights"):
        raise TypeError(f"`model` must be a Keras model or layer. Received: {type(model).__name__}")
    out: dict[str, Any] = {}
    for v in model.weights:
        name = _var_path(v)
        if strip_model_name and "/" in name and name.split("/", 1)[0] == getattr(model, "name", None):
            name = name.split("/", 1)[1]
        for pattern, repl in rename:
            name = re.sub(pattern, repl, name)
        if name in out:
            raise ValueError(f"`rename` maps two weights to the same name {name!r}")
        out[name] = v
    return out


def migrate_name_based(
    path: str, name_map: Mapping[str, Any], strict: bool = False
) -> MigrationReport:
    """Load a TF1 name-based checkpoint into TF2 variables through ``name_map``.

    Args:
        path: a checkpoint prefix written by ``tf.compat.v1.train.Saver``.
        name_map: TF1 checkpoint name (``"dense/kernel"``) -> ``tf.Variable`` / Keras variable.
        strict: raise if any target is not found (default: report it).

    Every shape and dtype is checked before anything is assigned: a mismatch raises
    :class:`CheckpointError` naming the file and the variables. Returns a
    :class:`MigrationReport` listing what was assigned and what matched nothing (typically the
    TF1 optimizer's slots ``.../Adam``, ``beta1_power`` and ``global_step``).
    Introduced in notebooks/09_saver.ipynb.
    """
    import numpy as np

    path = _check_prefix(path)
    if not isinstance(name_map, Mapping):
        raise TypeError(f"`name_map` must be a mapping checkpoint name -> variable. Received: {name_map!r}")
    reader = _open_reader(path)
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    if OBJECT_GRAPH_KEY in shapes:
        raise CheckpointError(
            path,
            "is an object-based (TF2) checkpoint, not a TF1 name-based one; restore it with "
            "labkit.train.Saver / tf.train.Checkpoint",
        )
    missing, mismatched, plan = [], [], []
    for name, var in name_map.items():
        if name not in shapes:
            missing.append(name)
            continue
        want = (tuple(int(d) for d in var.shape), np.dtype(_dtype_name(var)).name)
        have = (tuple(int(d) for d in shapes[name]), dtypes[name].name)
        if want != have:
            mismatched.append((name, f"{list(want[0])} {want[1]}", f"{list(have[0])} {have[1]}"))
        else:
            plan.append((name, var))
    if mismatched or (strict and missing):
        raise CheckpointError(path, "name map does not fit the checkpoint", missing if strict else [], mismatched)
    for name, var in plan:
        var.assign(reader.get_tensor(name))
    used = set(name_map)
    return MigrationReport(
        assigned=[(n, _var_path(v)) for n, v in plan],
        unmatched_checkpoint=sorted(n for n in shapes if n not in used),
        unmatched_targets=sorted(missing),
    )


def _dtype_name(var: Any) -> str:
    dt = var.dtype
    return getattr(dt, "name", None) or str(dt)

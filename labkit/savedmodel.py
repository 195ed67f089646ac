"""SavedModel helpers: export with a serving signature, list what a SavedModel folder holds.

notebooks/09_saver.ipynb teaches the calls these wrap (``tf.saved_model.save`` of a ``tf.Module``,
``model.export``, ``tf.saved_model.load``), typed by the learner; these helpers are for scripts and
tests. A SavedModel holds the traced computation (``saved_model.pb``) and the variables of the
objects saved into it (``variables/``), so a process that has never seen the model's code can serve
it. What state it carries depends on what is saved: :func:`export_savedmodel` saves the model alone
unless ``extra`` names more objects (e.g. ``{"optimizer": opt}``, then Adam's slots and
``iterations`` are in the SavedModel too).

* :func:`export_savedmodel` writes a model with a ``serving_default`` signature;
* :func:`describe_savedmodel` lists what is inside the folder (files, sizes, signatures).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


def export_savedmodel(
    model: Callable[[Any], Any],
    export_dir: str,
    input_shape: Sequence[int | None],
    dtype: str = "float32",
    output_name: str = "outputs",
    overwrite: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Export ``model`` (a Keras model or a ``tf.Module`` with ``__call__``) as a SavedModel.

    The signature ``serving_default`` takes ``inputs`` of shape ``input_shape`` (use ``None``
    for the batch dimension) and returns ``{output_name: model(inputs)}``. The folder is written
    under a temporary name and renamed into place, so a crash never leaves half an export.

    Only the model's variables are saved, unless ``extra`` maps attribute names to more trackable
    objects to save alongside (``{"optimizer": opt}`` keeps the optimizer's state in the
    SavedModel; the loaded object has them as attributes).

    Returns the export folder.
    """
    import tensorflow as tf

    if not callable(model):
        raise TypeError(f"`model` must be callable (a Keras model or tf.Module). Received: {type(model).__name__}")
    if not isinstance(export_dir, (str, os.PathLike)) or not os.fspath(export_dir):
        raise ValueError(f"`export_dir` must be a non-empty path. Received: export_dir={export_dir!r}")
    if not isinstance(input_shape, Sequence) or not all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in input_shape
    ):
        raise ValueError(
            "`input_shape` must be a sequence of positive ints or None. "
            f"Received: input_shape={input_shape!r}"
        )
    export_dir = os.path.abspath(os.fspath(export_dir))
    if os.path.exists(export_dir) and not overwrite:
        raise ValueError(f"`export_dir` exists and overwrite=False. Received: export_dir={export_dir!r}")

    if extra is not None and not isinstance(extra, Mapping):
        raise TypeError(f"`extra` must be a mapping name -> trackable object. Received: extra={extra!r}")
    extra = dict(extra or {})
    for key in extra:
        if not isinstance(key, str) or not key.isidentifier() or key in ("model", "serve"):
            raise ValueError(
                "`extra` keys must be identifiers other than 'model' and 'serve'. "
                f"Received key: {key!r}"
            )
    module = tf.Module()
    module.model = model
    for key, obj in extra.items():
        setattr(module, key, obj)

    @tf.function(input_signature=[tf.TensorSpec(list(input_shape), tf.as_dtype(dtype), name="inputs")])
    def serve(inputs):
        return {output_name: model(inputs)}

    module.serve = serve
    parent = os.path.dirname(export_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".{os.path.basename(export_dir)}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        tf.saved_model.save(module, tmp, signatures={"serving_default": serve})
        if os.path.exists(export_dir):
            shutil.rmtree(export_dir)
        os.replace(tmp, export_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return export_dir


@dataclass(frozen=True)
class SavedModelInfo:
    """What :func:`describe_savedmodel` found."""

    path: str
    files: list[tuple[str, int]]  # (relative path, bytes)
    signatures: dict[str, dict[str, dict[str, str]]]  # name -> {"inputs"/"outputs": {name: spec}}

    @property
    def total_bytes(self) -> int:
        return sum(n for _, n in self.files)

    def __str__(self) -> str:
        lines = [f"SavedModel {self.path} ({self.total_bytes} bytes)"]
        lines += [f"  {rel:<45} {n:>10}" for rel, n in self.files]
        for name, sig in self.signatures.items():
            lines.append(f"  signature {name!r}: inputs {sig['inputs']} -> outputs {sig['outputs']}")
        return "\n".join(lines)


def describe_savedmodel(path: str, load_signatures: bool = True) -> SavedModelInfo:
    """List a SavedModel folder's files with sizes and its signatures' inputs and outputs."""
    if not isinstance(path, (str, os.PathLike)) or not os.path.isdir(os.fspath(path)):
        raise ValueError(f"`path` must be an existing SavedModel folder. Received: path={path!r}")
    path = os.fspath(path)
    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise ValueError(f"{path!r} is not a SavedModel: it has no saved_model.pb")
    files = []
    for root, _dirs, names in os.walk(path):
        for n in sorted(names):
            full = os.path.join(root, n)
            files.append((os.path.relpath(full, path), os.path.getsize(full)))
    files.sort()
    signatures: dict[str, dict[str, dict[str, str]]] = {}
    if load_signatures:
        import tensorflow as tf

        loaded = tf.saved_model.load(path)
        for name, fn in loaded.signatures.items():
            inputs = {
                k: f"{v.dtype.name}{list(v.shape)}" for k, v in fn.structured_input_signature[1].items()
            }
            outputs = {k: f"{v.dtype.name}{list(v.shape)}" for k, v in fn.structured_outputs.items()}
            signatures[name] = {"inputs": inputs, "outputs": outputs}
    return SavedModelInfo(path, files, signatures)

"""TF Training Lab helper package (introduced in notebooks/00_start_here.ipynb).

Public names are re-exported here lazily: ``import labkit`` is instant and does not import
TensorFlow, so ``labkit doctor`` can report a broken TensorFlow instead of crashing on it.
The first access to a name (``labkit.train``, ``labkit.seed_everything``...) imports its module.

The layout shows the layers; each imports only from the ones above it:

* the library: ``labkit.train`` (the ten TF1-shaped optimizers, their step engine, Saver),
  ``checkpoints``, ``savedmodel``, ``summary``, ``tensorboard``, ``data``, ``seeding``,
  ``distribute``, ``migration``, ``registry`` (the ten optimizers' names), ``processes``
  (stopping a server's process group), ``digits`` (the lessons' model and the capstone
  run); ``_tf_private`` is the one module that touches TensorFlow's private API.
* ``labkit.teaching``: widgets, plots, the playground and the exercise checks.
* ``labkit.tooling``: the ``labkit`` command (doctor, lab, reset), notebook hygiene, the lab's
  folders -- not part of a lesson.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it ("" = the name is the module itself)
_EXPORTS: dict[str, str] = {
    # the library
    "train": "", "checkpoints": "", "savedmodel": "", "summary": "", "tensorboard": "",
    "data": "", "seeding": "", "distribute": "", "migration": "", "registry": "", "digits": "", "processes": "",
    # the teaching layer (widgets, plots, exercises) and the lab's tooling (cli, doctor, hygiene)
    "teaching": "", "tooling": "",
    # everyday names
    "seed_everything": "labkit.seeding",
    "OPTIMIZER_NAMES": "labkit.registry",
    "load_digits": "labkit.data",
    "digits_datasets": "labkit.data",
    "make_regression": "labkit.data",
    "make_classification": "labkit.data",
    "FileWriter": "labkit.summary",
    "read_scalars": "labkit.summary",
    "smooth": "labkit.summary",
    "Saver": "labkit.train.saver",
    "latest_checkpoint": "labkit.train.saver",
    "inspect_checkpoint": "labkit.checkpoints",
    "color_for": "labkit.teaching.palette",
    "LivePlot": "labkit.teaching.plots",
    "draw_curves": "labkit.teaching.plots",
    "plot_runs": "labkit.teaching.plots",
    "Feedback": "labkit.teaching.exercises.feedback",
    "ChunkedTrainer": "labkit.teaching.chunked",
    "Playground": "labkit.teaching.playground",
    "controls_for": "labkit.teaching.widgets",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'labkit' has no attribute {name!r}")
    module = _EXPORTS[name]
    value = (importlib.import_module(f"labkit.{name}") if not module
             else getattr(importlib.import_module(module), name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""TF Training Lab helper package (introduced in notebooks/00_start_here.ipynb).

Public names are re-exported here lazily: ``import labkit`` is instant and does not import
TensorFlow, so ``labkit doctor`` can report a broken TensorFlow instead of crashing on it.
The first access to a name (``labkit.train``, ``labkit.seed_everything``...) imports its module.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it ("" = the name is the module itself)
_EXPORTS: dict[str, str] = {
    # subpackages and modules
    "train": "", "data": "", "summary": "", "tensorboard": "", "plots": "", "palette": "",
    "widgets": "", "playground": "", "surfaces": "", "training": "", "digits_mlp": "",
    "checkpoints": "", "savedmodel": "", "distribute": "", "exercises": "", "doctor": "",
    "migration": "", "loss_explorer": "", "gate_lab": "", "train_digits": "", "notebooks": "", "processes": "",
    # everyday names
    "seed_everything": "labkit.seeding",
    "color_for": "labkit.palette",
    "OPTIMIZER_NAMES": "labkit.palette",
    "LivePlot": "labkit.plots",
    "draw_curves": "labkit.plots",
    "plot_runs": "labkit.plots",
    "load_digits": "labkit.data",
    "digits_datasets": "labkit.data",
    "make_regression": "labkit.data",
    "make_classification": "labkit.data",
    "Feedback": "labkit.exercises.feedback",
    "FileWriter": "labkit.summary",
    "read_scalars": "labkit.summary",
    "smooth": "labkit.summary",
    "Saver": "labkit.train.saver",
    "latest_checkpoint": "labkit.train.saver",
    "inspect_checkpoint": "labkit.checkpoints",
    "ChunkedTrainer": "labkit.training",
    "Playground": "labkit.playground",
    "controls_for": "labkit.widgets",
    "reset": "labkit.reset",
    "stop_process_group": "labkit.processes",
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

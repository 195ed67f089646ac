"""The ten optimizers of the seed's table: the one list every part of the lab reads.

Introduced in notebooks/03a_optimizers.ipynb. TensorFlow-free, so plots, colours and command
lines can use it without importing TensorFlow; ``labkit.train.OPTIMIZERS`` maps these names to
the classes (tests/test_registry.py checks that the two agree).
"""

from __future__ import annotations

__all__ = ["OPTIMIZER_NAMES", "SHORT_NAMES", "short_name"]

#: The ten ``tf.train`` optimizers of the seed's table, in the table's order (with its two
#: misspellings corrected: ``AdagtadOptimizer`` is Adagrad, ``RMSProOptimizer`` is RMSProp).
OPTIMIZER_NAMES: tuple[str, ...] = (
    "GradientDescentOptimizer",
    "AdadeltaOptimizer",
    "AdagradOptimizer",
    "AdagradDAOptimizer",
    "MomentumOptimizer",
    "AdamOptimizer",
    "FtrlOptimizer",
    "ProximalGradientDescentOptimizer",
    "ProximalAdagradOptimizer",
    "RMSPropOptimizer",
)


def short_name(name: str) -> str:
    """``"AdamOptimizer"`` -> ``"Adam"`` (a short name is returned unchanged)."""
    return name[: -len("Optimizer")] if name.endswith("Optimizer") else name


#: The same ten without the ``Optimizer`` suffix (``"Adam"``), in the same order.
SHORT_NAMES: tuple[str, ...] = tuple(short_name(n) for n in OPTIMIZER_NAMES)

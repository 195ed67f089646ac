"""``labkit.train``: the ten ``tf.compat.v1.train`` optimizers for TF2.

Introduced in notebooks/03a_optimizers.ipynb. Swap ``tf.compat.v1.train`` for ``labkit.train``
in TF1-style code and it runs eagerly or inside ``tf.function``.
"""

from labkit.registry import OPTIMIZER_NAMES
from labkit.train import processing
from labkit.train.adadelta import AdadeltaOptimizer
from labkit.train.adagrad import AdagradOptimizer
from labkit.train.adagrad_da import AdagradDAOptimizer
from labkit.train.adam import AdamOptimizer
from labkit.train.ftrl import FtrlOptimizer
from labkit.train.gradient_descent import GradientDescentOptimizer
from labkit.train.momentum import MomentumOptimizer
from labkit.train.optimizer import Optimizer
from labkit.train.proximal_adagrad import ProximalAdagradOptimizer
from labkit.train.proximal_gradient_descent import ProximalGradientDescentOptimizer
from labkit.train.rmsprop import RMSPropOptimizer
from labkit.train.saver import Saver, latest_checkpoint

#: The ten optimizer classes by TF1 name, in the seed's table order (labkit.registry's list).
OPTIMIZERS: dict[str, type[Optimizer]] = {name: globals()[name] for name in OPTIMIZER_NAMES}

__all__ = [
    "Optimizer",
    "OPTIMIZERS",
    # the ten, spelled out so that ruff and mypy see the re-exports (the same names as
    # labkit.registry.OPTIMIZER_NAMES; tests/test_registry.py checks)
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
    "Saver",
    "latest_checkpoint",
    "processing",
]

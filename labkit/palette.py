"""One colour per optimizer (and per run) across the whole lab.

Introduced in notebooks/03a_optimizers.ipynb; used by every plot, the playground and
TensorBoard comparisons so that Adam is always the same colour.
"""

from __future__ import annotations

import hashlib

# The ten tf.train optimizers of the seed's table, in the table's order.
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

# Tableau-10, the matplotlib default cycle: ten distinct, colour-blind-tolerable hues.
_TAB10: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)

OPTIMIZER_COLORS: dict[str, str] = dict(zip(OPTIMIZER_NAMES, _TAB10, strict=True))


def color_for(name: str) -> str:
    """Return the lab's colour for an optimizer (class or short name) or a run name.

    Optimizer names map to a fixed colour (``"Adam"``, ``"AdamOptimizer"`` and
    ``"adam"`` are the same). Any other name (a run folder, say) gets a stable colour
    from a hash of the name, so a run keeps its colour between plots and sessions.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"`name` must be a non-empty string. Received: name={name!r}")
    key = name.split("/")[-1].lower().replace("_", "")
    for full, colour in OPTIMIZER_COLORS.items():
        short = full.lower().removesuffix("optimizer")
        if key in (full.lower(), short):
            return colour
    digest = int(hashlib.sha1(name.encode()).hexdigest(), 16)
    return _TAB10[digest % len(_TAB10)]

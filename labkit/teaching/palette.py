"""One colour per optimizer (and per run) across the whole lab.

Introduced in notebooks/03a_optimizers.ipynb; used by every plot, the playground and
TensorBoard comparisons so that Adam is always the same colour.
"""

from __future__ import annotations

import hashlib

from labkit.registry import OPTIMIZER_NAMES  # the ten, in the seed's order (re-exported)

# Tableau-10, the matplotlib default cycle: ten distinct, colour-blind-tolerable hues.
_TAB10: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)

OPTIMIZER_COLORS: dict[str, str] = dict(zip(OPTIMIZER_NAMES, _TAB10, strict=True))

# Keras 3 classes: one that replaces a TF1 class shares its colour (the playground draws the
# two families with different line styles); the newer ones get hues of their own (Tableau-20b).
KERAS_COLORS: dict[str, str] = {
    "sgd": OPTIMIZER_COLORS["GradientDescentOptimizer"],
    "nadam": "#393b79", "adamax": "#637939", "adamw": "#8c6d31", "lion": "#843c39",
}


def color_for(name: str) -> str:
    """Return the lab's colour for an optimizer (class or short name) or a run name.

    Optimizer names map to a fixed colour (``"Adam"``, ``"AdamOptimizer"``, ``"adam"`` and
    the Keras class ``"keras.Adam"`` are the same; ``"keras.SGD"`` is GradientDescent's). Any other name (a run folder, say) gets a stable colour
    from a hash of the name, so a run keeps its colour between plots and sessions.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"`name` must be a non-empty string. Received: name={name!r}")
    key = name.split("/")[-1].lower().replace("_", "").removeprefix("keras.")
    if key in KERAS_COLORS:
        return KERAS_COLORS[key]
    for full, colour in OPTIMIZER_COLORS.items():
        short = full.lower().removesuffix("optimizer")
        if key in (full.lower(), short):
            return colour
    digest = int(hashlib.sha1(name.encode()).hexdigest(), 16)
    return _TAB10[digest % len(_TAB10)]

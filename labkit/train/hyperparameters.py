"""Each optimizer's hyperparameters, declared once: name, kind (its range and how a slider
shows it), default, and whether the step reads it as a tensor.

Introduced with the optimizers in notebooks/03a_optimizers.ipynb. The declarations are the one
source for: the constructor's checks (``check_all``), the per-step checks of scheduled values
(``check_numerics``), the sliders of ``labkit.teaching.widgets`` and what makes the playground rebuild
an optimizer (``tensor=False``: read in Python when the step is built).

``Hypers`` is the other end: one step's values, as an update rule receives them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import tensorflow as tf

from labkit.train.validation import check_bool, check_number, is_number, takes_argument

__all__ = [
    "ACCUMULATOR", "ACCUMULATOR_OR_ZERO", "EPSILON", "FLAG", "FRACTION", "LEARNING_RATE",
    "POWER", "STRENGTH", "Hyperparameter", "Hypers", "Kind", "check_all", "resolve",
]


@dataclass(frozen=True)
class Kind:
    """What values a kind of hyperparameter takes, and how a slider shows it.

    ``low``/``high`` bound the value (``*_open``: the bound itself is refused); ``unusual``
    values are accepted, as TF1 accepts them, with a warning. ``scale`` ("log", "linear" or
    "bool") and ``slider`` give the slider's range; ``zero_at_min``: the leftmost position of a
    log slider means 0 (off).
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    text: str | None = None
    unusual: tuple[float, ...] = ()
    scale: str = "linear"
    slider: tuple[float, float] = (0.0, 1.0)
    zero_at_min: bool = False

    @property
    def evaluated_range(self) -> tuple[float, float]:
        """Where a scheduled or callable value must lie at each step."""
        return (-math.inf if self.low is None else self.low,
                math.inf if self.high is None else self.high)


LEARNING_RATE = Kind(low=0.0, text=">= 0", unusual=(0.0,), scale="log", slider=(1e-4, 10.0))
FRACTION = Kind(low=0.0, high=1.0, unusual=(1.0,), slider=(0.0, 0.999))  # betas, rho, decay, momentum
EPSILON = Kind(low=0.0, text=">= 0", unusual=(0.0,), scale="log", slider=(1e-10, 1.0))
STRENGTH = Kind(low=0.0, text=">= 0", scale="log", slider=(1e-4, 1000.0), zero_at_min=True)
ACCUMULATOR = Kind(low=0.0, low_open=True, text="> 0", scale="log", slider=(1e-3, 10.0))
ACCUMULATOR_OR_ZERO = Kind(low=0.0, text=">= 0", scale="log", slider=(1e-3, 10.0))
POWER = Kind(high=0.0, text="<= 0", slider=(-1.0, 0.0))
FLAG = Kind(scale="bool")


@dataclass(frozen=True)
class Hyperparameter:
    """One constructor argument of an optimizer.

    Attributes:
        name: the keyword argument (``"beta1"``).
        kind: its :class:`Kind`.
        default: the default (None: TF1 made the argument required).
        tensor: True when the step reads it as a tensor (it may then be a callable or a
            schedule); False when it is read in Python when the step is built.
        key: the name the update rule reads it under, when not ``name`` (``"l1"``).
        optional: None is allowed (TF1's Ftrl ``beta=None`` means 0).
    """

    name: str
    kind: Kind
    default: float | bool | None = None
    tensor: bool = True
    key: str | None = None
    optional: bool = False

    def check(self, value: Any) -> None:
        """Refuse nonsense naming the argument and value; warn about degenerate values."""
        if self.kind is FLAG:
            check_bool(self.name, value)
            return
        k = self.kind
        check_number(self.name, value, low=k.low, high=k.high, low_open=k.low_open,
                     high_open=k.high_open, text=k.text, unusual=k.unusual)


def check_all(declared: tuple[Hyperparameter, ...], values: Mapping[str, Any]) -> None:
    """Check every declared hyperparameter's value in ``values`` (a constructor's
    ``locals()``)."""
    for h in declared:
        value = values[h.name]
        if value is None and h.optional:
            continue
        h.check(value)


class Hypers:
    """One step's hyperparameters, as ``_update_rule`` receives them (its ``h``).

    ``h.learning_rate`` is the learning rate at this step (a float, a schedule's value at the
    step, a callable's or a variable's current value), as a tensor of the updated variable's
    dtype: float hyperparameters are float32 tensors cast to that dtype, as in TF1, so a
    float64 variable sees float32-rounded values. The names are those declared with
    ``_set_hyper`` plus what ``_prepare`` adds (Adam's ``beta1_power``...).

        >>> import tensorflow as tf
        >>> h = Hypers({"learning_rate": tf.constant(0.1)}, tf.float64)
        >>> h.learning_rate.dtype.name, round(float(h.learning_rate), 9)
        ('float64', 0.100000001)
        >>> h.momentum
        Traceback (most recent call last):
        ...
        AttributeError: no hyperparameter 'momentum' at this step; there are: ['learning_rate']
    """

    __slots__ = ("_values", "_dtype")

    def __init__(self, values: dict[str, tf.Tensor], dtype: tf.DType) -> None:
        self._values, self._dtype = values, dtype

    def __getattr__(self, name: str) -> tf.Tensor:
        try:
            value = self._values[name]
        except KeyError:
            raise AttributeError(f"no hyperparameter {name!r} at this step; there are: "
                                 f"{sorted(self._values)}") from None
        return tf.cast(value, self._dtype)


def resolve(value: Any, step: tf.Tensor, constants: dict[Any, tf.Tensor]) -> tf.Tensor:
    """One hyperparameter's value at ``step`` as a tensor: a float, a 0-argument callable, a
    schedule of the step (a Keras schedule or a 1-argument callable), a variable or a tensor.

    Python floats become float32 tensors (kept in ``constants``, created once, eagerly) and
    are cast to each variable's dtype by ``Hypers``, exactly as TF1 does (so float64
    variables see float32-rounded hyperparameters).
    """
    if isinstance(value, tf.keras.optimizers.schedules.LearningRateSchedule):
        value = value(step)
    elif callable(value) and not isinstance(value, tf.Variable):
        value = value(step) if takes_argument(value) else value()
    if isinstance(value, tf.Variable):
        return value.read_value()
    if is_number(value):
        key = (type(value), value)
        if key not in constants:
            with tf.init_scope():
                constants[key] = tf.convert_to_tensor(value)
        return constants[key]
    return tf.convert_to_tensor(value)

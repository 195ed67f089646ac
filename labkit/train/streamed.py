r"""Exact arithmetic for the update rules, written so that XLA on CPU streams it.

A performance device, not math: each function computes exactly what its name says (bit for
bit, zeros, infinities and NaN included), so a rule file reads as its formula. Why they exist
(measured in docs/optimizer-benchmark.md and benchmarks/xla_vs_eigen.py): XLA on CPU in TF 2.21
compiles a loop fusion that holds no scalar broadcast over the array (such as ``n + g*g``,
RMSProp's ``var - mom`` or Ftrl's ``sqrt(n)``) with its tiled emitter, which copies every 16
elements through the stack; a run-time factor of 1 that XLA cannot fold away sends the fusion
to the loop emitter, which streams (1.2 to 1.5 times faster). tests/train/test_optimizer.py fails if
an update rule's XLA step falls back to the tiled emitter.

One more device orders work rather than arithmetic: :func:`after` (Ftrl's accumulator).

Introduced with the optimizers in notebooks/03a_optimizers.ipynb.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

import tensorflow as tf

from labkit._tf_private import xla_optimization_barrier

__all__ = ["add", "add_square", "after", "compiled_by_xla", "sqrt", "subtract", "times_runtime_one"]


def add(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """$a + b$."""
    return a + times_runtime_one(b)


def add_square(accum: tf.Tensor, grad: tf.Tensor) -> tf.Tensor:
    r"""$n + g^2$ (Adagrad's, Ftrl's accumulator)."""
    return accum + times_runtime_one(tf.square(grad))


def subtract(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """$a - b$."""
    return a - times_runtime_one(b)


def sqrt(x: tf.Tensor) -> tf.Tensor:
    r"""$\sqrt{x}$."""
    return tf.sqrt(times_runtime_one(x))


def times_runtime_one(x: tf.Tensor) -> tf.Tensor:
    """Exactly ``x``, multiplied by a ``1`` that the compiled step receives at run time
    (``x * 1`` is exact for every value, -0 included)."""
    return x * _runtime_one(x.dtype)


_ONES: dict[tf.DType, tf.Tensor] = {}


def _runtime_one(dtype: tf.DType) -> tf.Tensor:
    """An eager ``1`` of ``dtype``: a traced step captures it as an input, not a constant."""
    with tf.init_scope():
        if not tf.executing_eagerly():  # a TF1-style graph: a tensor of that graph, not cached
            return tf.ones([], dtype)
        one = _ONES.get(dtype)
        if one is None:
            one = _ONES[dtype] = tf.ones([], dtype)
    return one


_XLA: contextvars.ContextVar[bool] = contextvars.ContextVar("labkit_compiled_by_xla", default=False)


@contextlib.contextmanager
def compiled_by_xla(on: bool = True) -> Iterator[None]:
    """The step being traced is one XLA computation (set by labkit.train.engine): :func:`after`
    then orders its work; elsewhere it is plain arithmetic."""
    token = _XLA.set(on)
    try:
        yield
    finally:
        _XLA.reset(token)


def after(first: tf.Tensor, fn: Callable[..., tf.Tensor], *args: tf.Tensor) -> tf.Tensor:
    """Exactly ``fn(*args)``, computed after ``first``.

    Why (Ftrl: ``linear`` reads the old accumulator, then the accumulator is updated, the order
    of TF1's kernel): XLA writes a slot's new value in place over the old one, so when another
    output still reads the old value and nothing orders the two, it first copies the whole old
    array (docs/optimizer-benchmark.md measured Ftrl's copy). In a step XLA compiles, the
    arguments pass through an optimization barrier with ``first`` (so that XLA cannot merge
    ``fn(*args)`` with an equal value computed before ``first``), and the result is selected
    against ``first`` by a ``False`` known only at run time: a data dependence XLA cannot fold
    away, for the price of reading ``first`` once more. The value is ``fn(*args)`` bit for bit.
    Anywhere else: ``fn(*args)``.
    """
    if not _XLA.get():
        return fn(*args)
    first, *barred = xla_optimization_barrier(first, *args)
    return tf.where(_runtime_false(), first, fn(*barred))


_FALSE: dict[str, tf.Tensor] = {}


def _runtime_false() -> tf.Tensor:
    """An eager ``False``: a traced step captures it as an input, not a constant XLA could fold."""
    with tf.init_scope():
        if not tf.executing_eagerly():
            return tf.constant(False)
        false = _FALSE.get("false")
        if false is None:
            false = _FALSE["false"] = tf.constant(False)
    return false


"""The base class of the ten ``tf.compat.v1.train`` optimizers, rebuilt for TF2.

Introduced in notebooks/03a_optimizers.ipynb.

`Optimizer` is a *template method*, exactly like TF1's
``tensorflow/python/training/optimizer.py``: ``minimize`` = ``compute_gradients`` +
``apply_gradients``, and ``apply_gradients`` validates its input, creates slots
(``_create_slots``), turns hyperparameters into tensors (``_prepare``), calls
``_apply_dense`` or (for ``tf.IndexedSlices``) ``_apply_sparse`` once per variable, and
finally ``_finish``. Subclasses implement only those hooks, in plain TensorFlow ops.

What differs from TF1 (and why):

* In eager mode a whole step (every variable's update, ``_finish``, the step counters) is
  traced once per structure (which variables, which gradient kinds) into a concrete function
  that captures the variables and takes only the gradients as arguments, so Python pays for
  one call per step, like one TF1 fused-kernel call. When every gradient is dense, that
  function is one XLA computation that fuses each update rule's chain of element-wise ops
  and updates the variables in place, which is what TF1's hand-written fused C++ kernels
  (``ResourceApplyAdam``...) do. Schedules are traced with the step and Python callables are
  called every step and passed in, so neither retraces. By default
  (``opt.jit_compile = "auto"``) a step is compiled when it moves 65,536 elements or more;
  ``True``/``False`` force it. Inside your own ``tf.function`` the hooks run in your graph.
* ``gate_gradients`` is validated (TF1 silently ignores it in eager mode).
* ``opt.check_numerics = True`` (opt-in) refuses to apply NaN/Inf gradients and out-of-range
  values of scheduled or callable hyperparameters.
* ``opt.iterations`` counts steps (TF1 had only ``global_step``); it is checkpointed but, so
  that ``variables()`` equals TF1's list, not returned by ``variables()``.
* A variable of unknown static shape gets its slots from its runtime shape in every optimizer
  (TF1's AdagradDA, Ftrl and ProximalAdagrad cannot build theirs).

What is the same as TF1 (tests/test_tf1_behaviour.py holds it to ``tf.compat.v1.train``): slot
variable names (``w/Adam:0`` for ``m``, ``w/Adam_1:0`` for ``v``), ``variables()`` sorted by
name, a variable's ``constraint`` applied after its update (and refused for a sparse update),
``compute_gradients`` with respect to tensors (only ``apply_gradients`` refuses them), and the
accepted hyperparameter values (degenerate ones such as ``rho=1`` or ``epsilon=0`` warn).
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow.python.trackable import base as _trackable

__all__ = ["Optimizer"]

Hyper = float | Callable[..., Any] | tf.Tensor

_AGGREGATION_METHODS = (
    None,
    tf.AggregationMethod.ADD_N,
    tf.AggregationMethod.DEFAULT,
    tf.AggregationMethod.EXPERIMENTAL_TREE,
    tf.AggregationMethod.EXPERIMENTAL_ACCUMULATE_N,
)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _check_number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                  low_open: bool = False, high_open: bool = True, text: str | None = None,
                  unusual: tuple[float, ...] = ()) -> None:
    """Validate a numeric hyperparameter; callables, schedules and tensors are checked later.

    Nonsense (a wrong type, NaN, an infinity, a value outside the range, such as a negative
    learning rate) is an error naming the argument and the value. A value TF1 accepts but that
    makes the optimizer degenerate (``unusual``: a learning rate of 0, ``rho=1``, ``epsilon=0``)
    is accepted, as TF1 does, with a warning that says what it does.
    """
    if isinstance(value, bool):
        raise TypeError(f"`{name}` must be a number, a callable or a schedule. Received: {name}={value!r}")
    if value is None or callable(value) or tf.is_tensor(value) or isinstance(value, tf.Variable):
        if value is None:
            raise TypeError(f"`{name}` must be a number, a callable or a schedule. Received: {name}=None")
        return
    if not _is_number(value):
        raise TypeError(
            f"`{name}` must be a number, a callable or a schedule. Received: {name}={value!r} "
            f"of type {type(value).__name__}")
    v = float(value)
    if math.isinf(v):
        raise ValueError(f"`{name}` must be a finite number. Received: {name}={value!r}")
    bad = math.isnan(v)
    if low is not None:
        bad = bad or (v <= low if low_open else v < low)
    if high is not None:
        bad = bad or (v >= high if high_open else v > high)
    if bad:
        if text is None:
            lo = "(" if low_open else "["
            hi = ")" if high_open else "]"
            lo_txt = f"{low:g}" if low is not None else "-inf"
            hi_txt = f"{high:g}" if high is not None else "inf"
            text = f"in {lo}{lo_txt}, {hi_txt}{hi}"
        raise ValueError(f"`{name}` must be {text}. Received: {name}={value!r}")
    if v in unusual:
        warnings.warn(f"`{name}`={value!r} is accepted (TF1 accepts it) but unusual: "
                      f"{_UNUSUAL.get(name, 'check that it is what you mean')}", stacklevel=3)


_UNUSUAL = {
    "learning_rate": "with a learning rate of 0 no variable ever changes",
    "epsilon": "with epsilon=0 a zero accumulator divides by zero (inf or NaN updates)",
    "rho": "with rho=1 the running averages never change from their start values",
    "decay": "with decay=1 the running average never changes from its start value",
    "beta1": "with beta1=1 the first moment stays 0 and the bias correction divides by 0",
    "beta2": "with beta2=1 the second moment stays 0 and the bias correction divides by 0",
    "momentum": "with momentum=1 the velocity never decays",
}


def _check_lr_l1_l2(learning_rate: Any, l1: Any, l2: Any) -> None:
    """Validate the learning rate (> 0) and the L1/L2 strengths (>= 0) of the three proximal
    optimizers (AdagradDA, ProximalAdagrad, ProximalGradientDescent)."""
    _check_number("learning_rate", learning_rate, low=0.0, text=">= 0", unusual=(0.0,))
    _check_number("l1_regularization_strength", l1, low=0.0, text=">= 0")
    _check_number("l2_regularization_strength", l2, low=0.0, text=">= 0")


def _check_bool(name: str, value: Any) -> bool:
    """A flag such as ``use_nesterov`` or ``centered``: True/False only (``'False'`` is truthy)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False. Received: {name}={value!r} "
                        f"of type {type(value).__name__}")
    return bool(value)


# Where an evaluated hyperparameter (a schedule's, a callable's or a tensor's value) must lie,
# checked every step when ``check_numerics`` is on. Looser than the constructors' checks on
# purpose: a schedule may decay the learning rate to 0.
_EVALUATED_RANGES: dict[str, tuple[float, float]] = {
    "learning_rate": (0.0, math.inf), "epsilon": (0.0, math.inf), "l1": (0.0, math.inf),
    "l2": (0.0, math.inf), "l2_shrinkage": (0.0, math.inf), "beta": (0.0, math.inf),
    "beta1": (0.0, 1.0), "beta2": (0.0, 1.0), "rho": (0.0, 1.0), "decay": (0.0, 1.0),
    "momentum": (0.0, 1.0), "learning_rate_power": (-math.inf, 0.0),
}


def _as_tf_variable(var: Any) -> tf.Variable | None:
    """``var`` itself if it is a tf.Variable; the tf.Variable behind a Keras 3 variable
    (``keras.Variable.value`` with the TensorFlow backend); otherwise None."""
    if isinstance(var, tf.Variable):
        return var
    inner = getattr(var, "value", None)
    return inner if isinstance(inner, tf.Variable) else None


def _var_key(var: Any) -> Any:
    """The key of ``var`` in the slot dictionaries (None for things that are not variables).

    A Keras 3 variable and the tf.Variable behind it share one key, so ``get_slot`` and
    ``tf.train.Checkpoint`` find the slots whichever of the two they are given.
    """
    var = _as_tf_variable(var) if _as_tf_variable(var) is not None else var
    try:
        return var.ref()
    except (AttributeError, TypeError):
        return None


def _deduplicate_indexed_slices(values: tf.Tensor, indices: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Sum the rows of ``values`` that share an index, exactly like TF1's optimizer.py."""
    unique_indices, new_positions = tf.unique(indices)
    summed = tf.math.unsorted_segment_sum(values, new_positions, tf.shape(unique_indices)[0])
    return summed, unique_indices


class Optimizer(_trackable.Trackable):
    r"""Base class of the labkit optimizers: TF1's ``tf.compat.v1.train.Optimizer`` for TF2.

    Introduced in notebooks/03a_optimizers.ipynb.

    You never instantiate this class; use a subclass such as ``GradientDescentOptimizer``.
    It gives every optimizer the TF1 API the lesson teaches::

        opt = labkit.train.GradientDescentOptimizer(0.1)
        opt.minimize(loss_fn)                      # = compute_gradients + apply_gradients
        grads_and_vars = opt.compute_gradients(loss_fn)
        grads_and_vars = [(tf.clip_by_norm(g, 5.0), v) for g, v in grads_and_vars]
        opt.apply_gradients(grads_and_vars, global_step=step)

    Writing a subclass (the contract; the same hooks as TF1):

    * ``_create_slots(var_list)``: create per-variable state with ``self._zeros_slot(v, "m")`` or
      ``self._get_or_make_slot(v, initial_value, "accumulator")``, and optimizer-wide state
      with ``self._create_non_slot_variable(initial_value, "beta1_power")``.
    * ``_prepare()``: the base version resolves every hyperparameter declared with
      ``self._set_hyper(name, value)`` (a float, a 0-argument callable, or a schedule of the
      step) into ``self._hyper_t[name]``; override to add derived tensors.
    * ``_apply_dense(grad, var)``: the update rule in TensorFlow ops; read hyperparameters with
      ``self._hyper(name, var.dtype)`` and slots with ``self.get_slot(var, name)``; assign to
      ``var`` and the slots. Runs inside a ``tf.function(jit_compile=True)``.
    * ``_apply_sparse(grad, var)``: the same for a ``tf.IndexedSlices`` gradient whose indices
      are already unique (the base class sums duplicates first, as TF1 does); override
      ``_apply_sparse_duplicate_indices`` to skip that when the update is linear in the gradient.
    * ``_finish()``: optional; runs once per ``apply_gradients`` after all variables.

    ``gate_gradients`` (argument of ``minimize`` / ``compute_gradients``):

    * TF1 graph mode: ``GATE_NONE`` (0) let each variable's update start as soon as its own
      gradient was ready (maximum parallelism, results could vary run to run);
      ``GATE_OP`` (1, default) waited until all gradients *of one op* were computed before
      using them; ``GATE_GRAPH`` (2) waited until *every* gradient was computed before any
      variable changed (needed when a gradient reads a variable that another update writes).
      In eager mode TF1 ignored the argument silently.
    * labkit: the value must be 0, 1 or 2 (anything else is a ValueError). In eager mode and
      in ``tf.function`` with resource variables the tape computes every gradient before
      ``apply_gradients`` starts, so the three modes give identical results; inside a
      ``tf.function``, ``GATE_GRAPH`` additionally groups the gradients (``tf.tuple``) so that
      no update op can be scheduled before all of them exist.

    Attributes:
        check_numerics: opt-in (default False, because each check reads values back from the
            device on every step). When True, ``apply_gradients`` refuses, before any variable
            changes, gradients that contain NaN or Inf (eagerly a ``FloatingPointError`` naming
            the variables) and hyperparameters given as schedules, callables or tensors whose
            value at this step is not finite or out of range, e.g. a negative learning rate
            (eagerly a ``ValueError`` naming the hyperparameter, the step and the value).
            Inside a ``tf.function`` both are assertions that run before the updates. Sparse
            indices are always checked (an index outside the variable's rows is an error).
        jit_compile: ``"auto"`` (default) compiles an eager step with XLA when all its
            gradients are dense and its variables hold at least ``XLA_MIN_ELEMENTS`` (65,536)
            elements together, where fusing the updates into passes over memory matters;
            smaller steps run as ordinary graph ops, which avoids XLA's compile time in small
            notebook models. Inside a ``tf.function`` (and for sparse steps) a dense update of a
            variable that large is compiled on its own. True / False force it.
    """

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2
    XLA_MIN_ELEMENTS = 1 << 16
    MAX_COMPILED_STEPS = 16
    # True for optimizers whose sparse update *is* the dense update of the summed gradient
    # (TF1's sparse Adam moves every row): duplicates are summed into a dense gradient and
    # the dense rule runs, so the step can be one XLA computation.
    SPARSE_AS_DENSE = False

    def __init__(self, use_locking: bool, name: str) -> None:
        """Create a new optimizer (called by subclasses).

        Args:
            use_locking: accepted for TF1 compatibility; resource-variable updates in TF2 are
                already atomic per op, so it has no effect.
            name: non-empty name, used for the names of slot variables.
        """
        if not name or not isinstance(name, str):
            raise ValueError(f"`name` must be a non-empty string. Received: name={name!r}")
        self._use_locking = bool(use_locking)
        self._name = name
        self._slots: dict[str, dict[Any, tf.Variable]] = {}
        self._non_slot_dict: dict[str, tf.Variable] = {}
        self._hyper_values: dict[str, Any] = {}
        self._hyper_t: dict[str, tf.Tensor] = {}
        self._constants: dict[Any, tf.Tensor] = {}
        self._deferred_slot_restorations: dict[str, dict[Any, list]] = {}
        self._trace_var: Any = None
        self._trace_slots: dict[str, Any] = {}
        self.check_numerics = False
        self.jit_compile: bool | str = "auto"
        self._dense_fns: dict[bool, Any] = {}
        self._step_fn: Any = None
        self._compiled: dict[Any, _CompiledStep] = {}
        self._dynamic_t: dict[str, tf.Tensor] = {}
        self._inline_dense = False
        self._trace_count = 0
        self._global_step: tf.Variable | None = None
        self._constraints: dict[Any, Callable[[tf.Tensor], tf.Tensor]] = {}
        with tf.init_scope():
            self._iterations = self._create_non_slot_variable(
                tf.constant(0, tf.int64), "iter")

    # ------------------------------------------------------------------ hyperparameters
    def _set_hyper(self, name: str, value: Hyper) -> None:
        """Declare a hyperparameter resolved by ``_prepare`` into ``self._hyper_t[name]``."""
        self._hyper_values[name] = value

    def _resolve(self, value: Any, step: tf.Tensor) -> tf.Tensor:
        """A float, a 0-argument callable, or a schedule of the step -> a tensor (TF1 dtypes).

        Python floats become float32 tensors and are cast to each variable's dtype in the
        hooks, exactly as TF1 does (so float64 variables see float32-rounded hyperparameters).
        """
        if isinstance(value, tf.keras.optimizers.schedules.LearningRateSchedule):
            value = value(step)
        elif callable(value) and not isinstance(value, tf.Variable):
            if _takes_argument(value):
                value = value(step)
            else:
                value = value()
        if isinstance(value, tf.Variable):
            return value.read_value()
        if _is_number(value):
            key = (type(value), value)
            if key not in self._constants:
                with tf.init_scope():
                    self._constants[key] = tf.convert_to_tensor(value)
            return self._constants[key]
        return tf.convert_to_tensor(value)

    def _prepare(self) -> None:
        """Resolve every declared hyperparameter into ``self._hyper_t`` (tensors)."""
        step = self._current_step
        self._hyper_t = {n: self._dynamic_t[n] if n in self._dynamic_t else self._resolve(v, step)
                         for n, v in self._hyper_values.items()}

    def _set_lr_l1_l2(self, learning_rate: Hyper, l1: Hyper, l2: Hyper) -> None:
        """Keep and declare ``learning_rate``, ``l1`` and ``l2`` (the proximal optimizers)."""
        self._learning_rate = learning_rate
        self._l1_regularization_strength = l1
        self._l2_regularization_strength = l2
        self._set_hyper("learning_rate", learning_rate)
        self._set_hyper("l1", l1)
        self._set_hyper("l2", l2)

    def _hyper(self, name: str, dtype: tf.DType) -> tf.Tensor:
        """Hyperparameter ``name`` as a tensor of ``dtype`` (for use inside the hooks)."""
        return tf.cast(self._hyper_t[name], dtype)

    # ------------------------------------------------------------------ slots
    def get_slot_names(self) -> list[str]:
        """The sorted names of the slots this optimizer created (e.g. ``['m', 'v']``)."""
        return sorted(self._slots)

    def get_slot(self, var: Any, name: str) -> tf.Variable | None:
        """The slot variable ``name`` created for ``var``, or None when there is none."""
        if self._trace_var is not None and var is self._trace_var:
            return self._trace_slots.get(name)
        named = self._slots.get(name)
        if not named:
            return None
        key = _var_key(var)
        if key is None:
            return None
        return named.get(key)

    def variables(self) -> list[tf.Variable]:
        """The variables this optimizer created, sorted by name, as TF1 returns them: its
        slots and its optimizer-wide variables (Adam's ``beta1_power``...).

        ``iterations`` (the step counter TF1 did not have; it drives schedules when no
        ``global_step`` is given) is left out, so the list equals TF1's; it is checkpointed all
        the same.
        """
        out = [s for name in self.get_slot_names() for s in self._slots[name].values()]
        out += [v for k, v in self._non_slot_dict.items() if k != "iter"]
        return sorted(out, key=lambda v: v.name)

    def _slot_dict(self, slot_name: str) -> dict[Any, tf.Variable]:
        return self._slots.setdefault(slot_name, {})

    def _get_or_make_slot(self, var: tf.Variable, val: Any, slot_name: str,
                          op_name: str | None = None) -> tf.Variable:
        """Find or create slot ``slot_name`` of ``var`` with initial value ``val``.

        ``val`` may be a tensor/array or a callable ``(shape, dtype) -> tensor``.
        """
        named = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in named:
            # TF1's names: "<var>/<optimizer name>", then "_1", "_2"... for the variable's
            # second and third slot, in the order they are created (w/Adam:0 is m, w/Adam_1:0 v)
            taken = sum(key in d for d in self._slots.values())
            name = f"{var.name.split(':')[0]}/{op_name or self._name}" + (f"_{taken}" if taken else "")
            with tf.init_scope():
                # a variable whose static shape is unknown gets its slot from its runtime shape
                shape = var.shape if var.shape.is_fully_defined() else tf.shape(var.read_value())
                initial = val(shape, var.dtype.base_dtype) if callable(val) else val
                slot = tf.Variable(initial, trainable=False, dtype=var.dtype.base_dtype,
                                   name=name, shape=var.shape)
            named[key] = slot
            for position in self._deferred_slot_restorations.get(slot_name, {}).pop(key, []):
                position.restore(slot)
        return named[key]

    def _zeros_slot(self, var: tf.Variable, slot_name: str, op_name: str | None = None) -> tf.Variable:
        """Find or create a zero-initialised slot of ``var``."""
        return self._get_or_make_slot(var, lambda s, d: tf.zeros(s, d), slot_name, op_name)

    def _constant_slot(self, var: tf.Variable, value: float, slot_name: str) -> tf.Variable:
        """Find or create a slot of ``var`` filled with ``value`` (in the variable's dtype)."""
        return self._get_or_make_slot(var, lambda s, d: tf.fill(s, tf.constant(value, dtype=d)), slot_name)

    def _create_non_slot_variable(self, initial_value: Any, name: str) -> tf.Variable:
        """Find or create an optimizer-wide variable (checkpointed under ``name``)."""
        if name not in self._non_slot_dict:
            with tf.init_scope():
                v = tf.Variable(initial_value, trainable=False,
                                name=f"{self._name}/{name}" if name == "iter" else name)
            self._non_slot_dict[name] = v
            self._track_trackable(v, name=name, overwrite=True)
            self._handle_deferred_dependencies(name=name, trackable=v)
        return self._non_slot_dict[name]

    def _get_non_slot_variable(self, name: str) -> tf.Variable | None:
        return self._non_slot_dict.get(name)

    def _create_slots(self, var_list: list[tf.Variable]) -> None:
        """Hook: create the slots of every variable in ``var_list`` (default: none)."""

    # Checkpointing: slot variables are saved through the special "slot variable" support of
    # tf.train.Checkpoint (it calls get_slot_names/get_slot) and restored through this hook.
    # A restore before the first apply (resuming a run) finds no slots yet: like TF1's
    # optimizer.py, labkit then creates each slot at once (eagerly) and hands it back to be
    # filled from the checkpoint, and creates the optimizer-wide variables the checkpoint holds
    # (Adam's beta powers) too. So the restored optimizer is complete before its first step,
    # and a save right after a restore writes everything it read. Inside a tf.function (no
    # variables may be created there) the restoration waits until _get_or_make_slot runs.
    def _create_or_restore_slot_variable(self, slot_variable_position: Any, slot_name: str,
                                         variable: Any, **_unused: Any) -> tf.Variable | None:
        var = _as_tf_variable(variable)
        var = variable if var is None else var
        key = _var_key(var)
        slot = self._slots.get(slot_name, {}).get(key)
        if slot is None and tf.executing_eagerly() and not tf.inside_function():
            self._restore_deferred_non_slot_variables()
            slot = self._zeros_slot(var, slot_name)  # filled from the checkpoint by the caller
        if slot is None:
            self._deferred_slot_restorations.setdefault(slot_name, {}).setdefault(
                key, []).append(slot_variable_position)
        return slot

    def _restore_deferred_non_slot_variables(self) -> None:
        """Create the optimizer-wide variables a restore found before this optimizer made them.

        ``tf.train.Checkpoint`` parks the checkpoint values of children that do not exist yet
        in ``_deferred_dependencies``; each is created here with the checkpoint's value (its
        dtype and shape come from the checkpoint), then restored through the usual hook.
        """
        for name, positions in list(self._deferred_dependencies.items()):
            if name in self._non_slot_dict or not positions:
                continue
            tensors = positions[0].value_tensors()
            if len(tensors) != 1:  # not a plain variable: leave it to its owner
                continue
            with tf.init_scope():
                self._create_non_slot_variable(next(iter(tensors.values())), name)

    # ------------------------------------------------------------------ gradients
    def compute_gradients(self, loss: Any, var_list: Sequence[tf.Variable] | None = None,
                          gate_gradients: int = GATE_OP, aggregation_method: Any = None,
                          colocate_gradients_with_ops: bool = False, grad_loss: Any = None,
                          tape: tf.GradientTape | None = None) -> list[tuple[Any, tf.Variable]]:
        """Compute the gradients of ``loss``: the first half of ``minimize``.

        Introduced in notebooks/03a_optimizers.ipynb.

        Args:
            loss: a zero-argument callable returning the loss (run under a fresh
                ``tf.GradientTape``), or a tensor together with the ``tape`` that recorded it.
            var_list: variables to differentiate; None means the trainable variables the
                loss touched (``tape.watched_variables()``).
            gate_gradients: ``GATE_NONE``, ``GATE_OP`` or ``GATE_GRAPH`` (see the class docstring).
            aggregation_method: None or a ``tf.AggregationMethod`` value; validated. Eager
                tapes always add gradient contributions with ``add_n``.
            colocate_gradients_with_ops: accepted for TF1 compatibility; no effect on one device.
            grad_loss: optional tensor holding the gradient of some outer objective with respect
                to ``loss`` (``output_gradients`` of the tape).
            tape: the ``tf.GradientTape`` that recorded a tensor ``loss``.

        Returns:
            A (mutable) list of ``(gradient, variable)`` pairs; a gradient is None when the
            loss does not depend on that variable.
        """
        self._check_gate(gate_gradients)
        if aggregation_method not in _AGGREGATION_METHODS:
            raise ValueError(
                "`aggregation_method` must be None or a tf.AggregationMethod value "
                f"(0, 1 or 2). Received: aggregation_method={aggregation_method!r}")
        if var_list is not None:
            given = list(tf.nest.flatten(var_list))
            # variables, or (as in TF1) tensors: their gradients are computed here and only
            # apply_gradients refuses them
            var_list = [v if _as_tf_variable(v) is None and tf.is_tensor(v) else _as_tf_variable(v)
                        for v in given]
            for v, original in zip(var_list, given, strict=True):
                if v is None:
                    raise TypeError("`var_list` must contain tf.Variable (or Keras) variables "
                                    f"or tensors. Received: {original!r}")
        if callable(loss):
            if _takes_argument(loss):
                raise TypeError("`loss` must be a callable taking no arguments (it is called as "
                                f"loss()). Received: loss={loss!r} with signature "
                                f"{inspect.signature(loss)}")
            with tf.GradientTape(watch_accessed_variables=var_list is None) as tape:
                if var_list is not None:
                    tape.watch(var_list)
                loss_value = loss()
        else:
            if tape is None:
                raise ValueError(
                    "`loss` must be a zero-argument callable, or a tensor together with the "
                    f"tf.GradientTape that recorded it (pass tape=...). Received: loss={loss!r}, "
                    "tape=None")
            if not isinstance(tape, tf.GradientTape):
                raise TypeError(f"`tape` must be a tf.GradientTape. Received: tape={tape!r}")
            loss_value = loss
        if loss_value is None:
            raise ValueError("`loss` returned None; it must return a tensor.")
        if not tf.is_tensor(loss_value) or not loss_value.dtype.is_floating:
            raise TypeError("`loss` must give a floating-point tensor. Received: the value "
                            f"{loss_value!r} of type {type(loss_value).__name__}")
        if var_list is None:
            var_list = [v for v in tape.watched_variables() if v.trainable]
        if not var_list:
            raise ValueError("No variables to optimize: the loss touched no trainable variable "
                             "and `var_list` is empty.")
        for v in var_list:
            if not v.dtype.base_dtype.is_floating:
                raise ValueError(f"Variable {getattr(v, 'name', v)} has dtype {v.dtype.name}; "
                                 "labkit optimizers update floating-point variables only.")
        grads = tape.gradient(loss_value, var_list, output_gradients=grad_loss)
        if gate_gradients == self.GATE_GRAPH and not tf.executing_eagerly():
            present = [i for i, g in enumerate(grads) if g is not None]
            grouped = tf.tuple([grads[i] for i in present])
            for i, g in zip(present, grouped, strict=True):
                grads[i] = g
        return list(zip(grads, var_list, strict=True))

    def minimize(self, loss: Any, global_step: tf.Variable | None = None,
                 var_list: Sequence[tf.Variable] | None = None, gate_gradients: int = GATE_OP,
                 aggregation_method: Any = None, colocate_gradients_with_ops: bool = False,
                 name: str | None = None, grad_loss: Any = None,
                 tape: tf.GradientTape | None = None) -> Any:
        """``compute_gradients`` then ``apply_gradients``; one training step.

        Introduced in notebooks/03a_optimizers.ipynb.

        Args: as ``compute_gradients``, plus ``global_step`` (a variable incremented by one)
        and ``name`` (accepted for TF1 compatibility).

        Returns:
            None in eager mode (the update has happened); inside a ``tf.function``, an op.

        Raises:
            ValueError: if no variable received a gradient.
        """
        grads_and_vars = self.compute_gradients(
            loss, var_list=var_list, gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops, grad_loss=grad_loss,
            tape=tape)
        vars_with_grad = [v for g, v in grads_and_vars if g is not None]
        if not vars_with_grad:
            raise ValueError(
                "No gradients provided for any variable, check your graph for ops that do not "
                f"support gradients: {[v.name for _, v in grads_and_vars]}")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    @staticmethod
    def _check_gate(gate_gradients: Any) -> None:
        if isinstance(gate_gradients, bool) or gate_gradients not in (0, 1, 2):
            raise ValueError(
                "`gate_gradients` must be Optimizer.GATE_NONE (0), Optimizer.GATE_OP (1) or "
                f"Optimizer.GATE_GRAPH (2). Received: gate_gradients={gate_gradients!r}")

    # ------------------------------------------------------------------ applying
    @property
    def iterations(self) -> tf.Variable:
        """How many times ``apply_gradients`` ran (int64; drives schedules without global_step)."""
        return self._iterations

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, tf.Variable]],
                        global_step: tf.Variable | None = None, name: str | None = None,
                        skip_gradients_aggregation: bool = False) -> Any:
        """Apply gradients to variables: the second half of ``minimize``.

        Introduced in notebooks/03a_optimizers.ipynb.

        Args:
            grads_and_vars: pairs ``(gradient, variable)`` as returned by
                ``compute_gradients``; gradients may be tensors, ``tf.IndexedSlices`` or None
                (skipped).
            global_step: optional integer variable, incremented by one after the update.
            name: accepted for TF1 compatibility.
            skip_gradients_aggregation: accepted for TF1 compatibility (TF1 used it to skip
                the cross-replica sum under a distribution strategy); no effect here.

        Returns:
            None in eager mode; inside a ``tf.function``, an op that groups the update.

        Raises:
            TypeError: if an element is not a (gradient, variable) pair.
            ValueError: if every gradient is None, or a gradient's shape differs from its
                variable's.
            FloatingPointError: if ``check_numerics`` is on and a gradient is not finite.
        """
        pairs = self._validate(grads_and_vars)
        if global_step is not None and not isinstance(global_step, tf.Variable):
            raise TypeError(f"`global_step` must be a tf.Variable or None. Received: "
                            f"global_step={global_step!r}")
        if global_step is not None and not global_step.dtype.base_dtype.is_integer:
            raise TypeError("`global_step` must be an integer variable (int32 or int64). "
                            f"Received: global_step={global_step.name} of dtype "
                            f"{global_step.dtype.base_dtype.name}")
        self._global_step = global_step
        # Every check runs before anything changes, so a step applies completely or not at all.
        if tf.executing_eagerly() and not tf.distribute.has_strategy():
            self._check_indices(pairs)
            if self.check_numerics:
                self._check_finite(pairs)
                self._check_hyper_values()
            self._apply_eager(pairs, global_step)
            return None
        checks = self._check_indices(pairs)
        if self.check_numerics:
            checks += self._check_finite(pairs) + self._check_hyper_values()
        var_list = [v for _, v in pairs]
        with tf.init_scope():
            self._create_slots(var_list)
        with tf.control_dependencies(checks):
            self._prepare()
        grads = [g for g, _ in pairs]
        slots, names = self._slots_and_names(var_list)
        args = (grads, var_list, slots, names, dict(self._hyper_t), global_step)
        if tf.executing_eagerly():  # eager under a tf.distribute strategy
            if self._step_fn is None:
                self._step_fn = tf.function(self._step_no_result)
            self._step_fn(*args)
            return None
        with tf.control_dependencies(checks):
            return self._step(*args)

    # -- the eager fast path: one compiled step per (variables, gradient kinds) structure
    def _apply_eager(self, pairs: list[tuple[Any, tf.Variable]],
                     global_step: tf.Variable | None) -> None:
        """Run one step eagerly through a cached concrete function.

        The whole step (every variable's update, ``_finish`` and the step counters) is traced
        once per structure into a ``tf.function`` that captures the variables and takes only
        the gradients (and the values of callable hyperparameters, called here every step) as
        arguments. Calling the concrete function directly keeps the Python cost per step to
        about that of one TF1 fused-kernel call, so a large update runs at memory speed. With
        only dense gradients the whole step is one XLA computation (see ``jit_compile``).
        """
        dynamic = self._dynamic_hyper_values()
        key = (tuple((v.ref(), _grad_signature(g)) for g, v in pairs),
               None if global_step is None else global_step.ref(), self.jit_compile,
               tuple((n, t.dtype, tuple(t.shape)) for n, t in dynamic.items()))
        entry = self._compiled.get(key)
        if entry is None:
            with tf.init_scope():
                self._create_slots([v for _, v in pairs])
            if len(self._compiled) >= self.MAX_COMPILED_STEPS:
                self._compiled.clear()  # many variable sets (e.g. models rebuilt in a loop)
            jit = self._whole_step_jit(pairs)
            entry = _CompiledStep(self._trace_step(pairs, global_step, dynamic, jit), jit)
            self._compiled[key] = entry
            first = True
        else:
            first = False
        flat = []
        for g, _ in pairs:
            if isinstance(g, tf.IndexedSlices):
                flat += [g.values, g.indices]
            else:
                flat.append(g)
        flat += list(dynamic.values())
        try:
            entry.call(flat)
        except tf.errors.OpError:
            if not (first and entry.jit):
                raise
            # XLA could not compile something in the step (e.g. an unusual schedule):
            # nothing ran, so run the same step as ordinary graph ops instead.
            entry = _CompiledStep(self._trace_step(pairs, global_step, dynamic, False), False)
            self._compiled[key] = entry
            entry.call(flat)

    def _dynamic_hyper_values(self) -> dict[str, tf.Tensor]:
        """Call the hyperparameters that are Python callables (not schedules): every step."""
        dynamic = {n: v for n, v in self._hyper_values.items() if _is_dynamic(v)}
        if not dynamic:
            return {}
        step = self._current_step  # one read of the step variable for all of them
        return {n: tf.convert_to_tensor(self._resolve(v, step)) for n, v in dynamic.items()}

    def _whole_step_jit(self, pairs: list[tuple[Any, tf.Variable]]) -> bool:
        """Compile the whole eager step with XLA? Only when every gradient is dense (XLA has
        no ``tf.unique`` for duplicate sparse indices) and, for ``"auto"``, the update moves
        at least ``XLA_MIN_ELEMENTS`` elements."""
        if self.jit_compile is False:
            return False
        if not self.SPARSE_AS_DENSE and any(isinstance(g, tf.IndexedSlices) for g, _ in pairs):
            return False
        if self.jit_compile == "auto":
            return sum(v.shape.num_elements() or 0 for _, v in pairs) >= self.XLA_MIN_ELEMENTS
        return bool(self.jit_compile)

    def _trace_step(self, pairs: list[tuple[Any, tf.Variable]], global_step: tf.Variable | None,
                    dynamic: dict[str, tf.Tensor], jit: bool) -> Any:
        var_list = [v for _, v in pairs]
        sparse = [isinstance(g, tf.IndexedSlices) for g, _ in pairs]
        specs = []
        for g, is_sparse in zip([g for g, _ in pairs], sparse, strict=True):
            if is_sparse:
                specs += [tf.TensorSpec([None] + g.values.shape[1:].as_list(), g.values.dtype),
                          tf.TensorSpec([None], g.indices.dtype)]
            else:
                specs.append(tf.TensorSpec(g.shape, g.dtype))
        specs += [tf.TensorSpec(t.shape, t.dtype) for t in dynamic.values()]
        slots, names = self._slots_and_names(var_list)
        dyn_names = list(dynamic)

        def step(*flat: tf.Tensor) -> None:
            it = iter(flat)
            grads = [tf.IndexedSlices(next(it), next(it), _static_shape(v))
                     if s else next(it) for v, s in zip(var_list, sparse, strict=True)]
            self._dynamic_t = dict(zip(dyn_names, it, strict=True))
            self._global_step = global_step
            try:
                self._prepare()
            finally:
                self._dynamic_t = {}
            self._inline_dense = jit
            try:
                self._step(grads, var_list, slots, names, dict(self._hyper_t), global_step)
            finally:
                self._inline_dense = False

        self._trace_count += 1
        return tf.function(step, jit_compile=jit, autograph=False).get_concrete_function(*specs)

    def _step_no_result(self, *args: Any) -> None:
        self._step(*args)

    def _step(self, grads: list, var_list: list, slots: list, names: tuple, hyper: dict,
              global_step: tf.Variable | None) -> Any:
        """Apply every update, ``_finish``, then count the step (traced by ``apply_gradients``)."""
        saved = self._hyper_t
        self._hyper_t = hyper
        try:
            updates = []
            for g, v, sl, nm in zip(grads, var_list, slots, names, strict=True):
                if isinstance(g, tf.IndexedSlices) and self.SPARSE_AS_DENSE:
                    g = tf.math.unsorted_segment_sum(g.values, g.indices, _num_rows(v))
                if isinstance(g, tf.IndexedSlices):
                    updates.append(self._sparse_body(g.values, g.indices, g.dense_shape, v, sl,
                                                     nm, hyper))
                else:
                    updates.append(self._dense_call(g, v, sl, nm, hyper))
                constraint = self._constraints.get(v.ref())
                if constraint is not None:  # as TF1: the variable's constraint after its update
                    with tf.control_dependencies([u for u in updates[-1:] if u is not None]):
                        updates.append(v.assign(constraint(v.read_value()), read_value=False))
            with tf.control_dependencies([u for u in updates if u is not None]):
                finish = self._finish()
                with tf.control_dependencies([finish] if finish is not None else []):
                    out = [self._iterations.assign_add(1, read_value=False)]
                    if global_step is not None:
                        out.append(global_step.assign_add(tf.cast(1, global_step.dtype),
                                                          read_value=False))
            return tf.group(*out)
        finally:
            self._hyper_t = saved

    @property
    def _current_step(self) -> tf.Tensor:
        """The step schedules see: ``global_step`` when given, else ``self.iterations``."""
        gs = getattr(self, "_global_step", None)
        return (gs if gs is not None else self._iterations).read_value()

    def _validate(self, grads_and_vars: Any) -> list[tuple[Any, tf.Variable]]:
        if isinstance(grads_and_vars, (tf.Tensor, tf.Variable)) or grads_and_vars is None:
            raise TypeError("`grads_and_vars` must be a list of (gradient, variable) pairs. "
                            f"Received: {grads_and_vars!r}")
        items = list(grads_and_vars)
        if not items:
            raise ValueError("No variables provided: `grads_and_vars` is empty.")
        pairs, seen = [], set()
        for item in items:
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise TypeError("`grads_and_vars` must contain (gradient, variable) pairs. "
                                f"Received element: {item!r}")
            g, v = item
            if _as_tf_variable(v) is None:
                raise TypeError("The second element of each pair must be a tf.Variable (or a "
                                f"Keras variable). Received: {v!r}")
            constraint = getattr(v, "constraint", None)  # a Keras variable keeps its own
            v = _as_tf_variable(v)
            constraint = constraint or getattr(v, "constraint", None)
            if constraint is not None:
                self._constraints[v.ref()] = constraint
            if not v.dtype.base_dtype.is_floating:
                raise TypeError(f"Variable {v.name} has dtype {v.dtype.base_dtype.name}; labkit "
                                "optimizers update floating-point variables only (nothing was "
                                "updated).")
            if v.ref() in seen:
                raise ValueError(f"Variable {v.name} appears more than once in `grads_and_vars`.")
            seen.add(v.ref())
            if g is None:
                continue
            if isinstance(g, tf.IndexedSlices) and constraint is not None:
                raise RuntimeError(
                    "Cannot use a constraint function on a sparse variable (TF1 refuses it too): "
                    f"variable {v.name} has a constraint and its gradient is a tf.IndexedSlices; "
                    "nothing was updated. Pass tf.convert_to_tensor(gradient) to update it densely.")
            if isinstance(g, tf.Tensor) and g.dtype == v.dtype.base_dtype and g.shape == v.shape:
                pairs.append((g, v))  # the common case, checked cheaply
                continue
            if not isinstance(g, tf.IndexedSlices):
                try:
                    g = tf.convert_to_tensor(g, dtype_hint=v.dtype.base_dtype)
                except (TypeError, ValueError) as e:
                    raise TypeError(f"Gradient for variable {v.name} must be a tensor or "
                                    f"tf.IndexedSlices. Received: {g!r}") from e
            if g.dtype.base_dtype != v.dtype.base_dtype:
                raise TypeError(f"Gradient for variable {v.name} has dtype {g.dtype.name}, but "
                                f"the variable has dtype {v.dtype.base_dtype.name}.")
            if isinstance(g, tf.IndexedSlices):
                ok = g.values.shape[1:].is_compatible_with(v.shape[1:])
                gshape = [None] + g.values.shape[1:].as_list()
            else:
                ok = g.shape.is_compatible_with(v.shape)
                gshape = g.shape.as_list() if g.shape.rank is not None else None
            if not ok:
                raise ValueError(f"Gradient for variable {v.name} has shape {gshape}, which does "
                                 f"not match the variable's shape {v.shape.as_list()}.")
            pairs.append((g, v))
        if not pairs:
            raise ValueError("No gradients provided for any variable: "
                             f"{[v.name for _, v in items]}")
        return pairs

    def _check_indices(self, pairs: list[tuple[Any, tf.Variable]]) -> list[Any]:
        """Sparse gradients must index existing rows: ``0 <= index < rows``.

        Eagerly it raises a ValueError naming the variable and the bad index before any
        variable changes; inside a ``tf.function`` it returns assertions that run before the
        updates (TF's scatter ops would otherwise fail halfway, or drop negative indices).
        """
        checks = []
        for g, v in pairs:
            if not isinstance(g, tf.IndexedSlices):
                continue
            rows = _num_rows(v)
            idx = tf.cast(g.indices, tf.int64)
            if tf.executing_eagerly():
                bad = tf.boolean_mask(idx, (idx < 0) | (idx >= tf.cast(rows, tf.int64))).numpy()
                if bad.size:
                    raise ValueError(
                        f"`grads_and_vars`: the sparse gradient of variable {v.name} has index "
                        f"{int(bad[0])}, outside [0, {int(rows)}) (the variable's rows); nothing "
                        f"was updated. Received indices: {g.indices.numpy().tolist()[:20]}")
            else:
                checks.append(tf.debugging.assert_non_negative(
                    idx, message=f"sparse gradient of {v.name}: negative index"))
                checks.append(tf.debugging.assert_less(
                    idx, tf.cast(rows, tf.int64),
                    message=f"sparse gradient of {v.name}: index >= the variable's rows"))
        return checks

    def _check_hyper_values(self) -> list[Any]:
        """With ``check_numerics``: every hyperparameter given as a schedule, a callable, a
        tensor or a variable is evaluated at the current step and must be finite and within
        ``_EVALUATED_RANGES`` (a ValueError naming it, the step and the value, before any
        update; assertions inside a ``tf.function``)."""
        checks = []
        step = self._current_step
        for name, value in self._hyper_values.items():
            if _is_number(value):
                continue  # checked by the constructor
            t = tf.cast(self._resolve(value, step), tf.float64)
            low, high = _EVALUATED_RANGES.get(name, (-math.inf, math.inf))
            if tf.executing_eagerly():
                x = t.numpy()
                if not np.all(np.isfinite(x)) or np.any(x < low) or np.any(x > high):
                    raise ValueError(
                        f"`{name}` evaluated to {x.tolist()!r} at step {int(step.numpy())}; it "
                        f"must be finite and in [{low:g}, {high:g}]; nothing was updated "
                        f"(check_numerics=True). Received: {name}={value!r}")
            else:
                checks.append(tf.debugging.assert_all_finite(t, f"`{name}` is not finite"))
                if low > -math.inf:
                    checks.append(tf.debugging.assert_greater_equal(
                        t, tf.constant(low, tf.float64), message=f"`{name}` below {low:g}"))
                if high < math.inf:
                    checks.append(tf.debugging.assert_less_equal(
                        t, tf.constant(high, tf.float64), message=f"`{name}` above {high:g}"))
        return checks

    def _check_finite(self, pairs: list[tuple[Any, tf.Variable]]) -> list[Any]:
        values = [g.values if isinstance(g, tf.IndexedSlices) else g for g, _ in pairs]
        if tf.executing_eagerly():
            bad = [v.name for (_, v), x in zip(pairs, values, strict=True)
                   if not bool(tf.reduce_all(tf.math.is_finite(x)))]
            if bad:
                raise FloatingPointError(
                    f"Non-finite (NaN or Inf) gradients for variables {bad}; nothing was updated "
                    "(check_numerics=True).")
            return []
        return [tf.debugging.assert_all_finite(x, f"Non-finite gradient for variable {v.name}")
                for (_, v), x in zip(pairs, values, strict=True)]

    # -- compiled per-variable updates
    def _dense_body(self, grad: tf.Tensor, var: Any, slots: tuple, names: tuple,
                    hyper: dict) -> None:
        saved = (self._trace_var, self._trace_slots, self._hyper_t)
        self._trace_var, self._trace_slots, self._hyper_t = var, dict(zip(names, slots, strict=True)), hyper
        try:
            self._apply_dense(grad, var)
        finally:
            self._trace_var, self._trace_slots, self._hyper_t = saved

    def _sparse_body(self, values: tf.Tensor, indices: tf.Tensor, dense_shape: Any, var: Any,
                     slots: tuple, names: tuple, hyper: dict) -> None:
        saved = (self._trace_var, self._trace_slots, self._hyper_t)
        self._trace_var, self._trace_slots, self._hyper_t = var, dict(zip(names, slots, strict=True)), hyper
        try:
            self._apply_sparse_duplicate_indices(
                tf.IndexedSlices(values, indices, dense_shape), var)
        finally:
            self._trace_var, self._trace_slots, self._hyper_t = saved

    def _slot_names_of(self, var: tf.Variable) -> tuple:
        return tuple(n for n in self.get_slot_names() if var.ref() in self._slots[n])

    def _slots_and_names(self, var_list: list[tf.Variable]) -> tuple[list[tuple], tuple]:
        """Per variable: its slot variables and their names (the arguments of ``_step``)."""
        names = tuple(self._slot_names_of(v) for v in var_list)
        slots = [tuple(self._slots[n][v.ref()] for n in nm)
                 for v, nm in zip(var_list, names, strict=True)]
        return slots, names

    def _dense_call(self, grad: tf.Tensor, var: Any, slots: tuple, names: tuple,
                    hyper: dict) -> Any:
        if self._inline_dense:  # already inside one XLA computation for the whole step
            return self._dense_body(grad, var, slots, names, hyper)
        jit = self.jit_compile
        if jit == "auto":
            # XLA pays for itself on large, memory-bound updates; on small variables its
            # compile time (seconds per shape) dwarfs the microseconds it would save.
            n = var.shape.num_elements()
            jit = n is None or n >= self.XLA_MIN_ELEMENTS
        jit = bool(jit)
        fn = self._dense_fns.get(jit)
        if fn is None:
            fn = tf.function(self._dense_body, jit_compile=jit)
            self._dense_fns[jit] = fn
        return fn(grad, var, slots, names, hyper)

    # -- hooks
    def _slots_for(self, var: Any) -> dict[str, Any]:
        """``{slot_name: slot_variable}`` of ``var`` (works inside the traced update too)."""
        if self._trace_var is not None and var is self._trace_var:
            return dict(self._trace_slots)
        return {n: self._slots[n][var.ref()] for n in self._slot_names_of(var)}

    def _update_rule(self, grad: tf.Tensor, var: tf.Tensor,
                     slots: dict[str, tf.Tensor]) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
        """Hook: the update rule as a pure function of tensors.

        Gets the gradient, the variable's value and its slots' values (whole tensors for a
        dense gradient, the gathered rows for a sparse one) and returns the new variable value
        and the new slot values. The default ``_apply_dense`` / ``_apply_sparse`` use it, so an
        optimizer whose sparse semantics is "apply the dense rule to the touched rows" (TF1's
        ``SparseApply*`` kernels) writes its math once.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement _update_rule "
                                  "or _apply_dense/_apply_sparse")

    def _apply_dense(self, grad: tf.Tensor, var: tf.Variable) -> Any:
        """Hook: update ``var`` (and its slots) from a dense gradient (default: ``_update_rule``)."""
        slots = self._slots_for(var)
        new_var, new_slots = self._update_rule(
            grad, var.read_value(), {n: s.read_value() for n, s in slots.items()})
        ops = [slots[n].assign(t, read_value=False) for n, t in new_slots.items()]
        ops.append(var.assign(new_var, read_value=False))
        return tf.group(*ops)

    def _apply_sparse(self, grad: tf.IndexedSlices, var: tf.Variable) -> Any:
        """Hook: update the rows ``grad.indices`` (unique) of ``var`` from a sparse gradient.

        Default: gather the rows of the variable and its slots, apply ``_update_rule`` to
        them, scatter the results back -- untouched rows keep their values (TF1's
        ``SparseApply*`` kernels).
        """
        idx = grad.indices
        slots = self._slots_for(var)
        new_rows, new_slot_rows = self._update_rule(
            grad.values, tf.gather(var, idx), {n: tf.gather(s, idx) for n, s in slots.items()})
        ops = [slots[n].scatter_update(tf.IndexedSlices(t, idx)) for n, t in new_slot_rows.items()]
        ops.append(var.scatter_update(tf.IndexedSlices(new_rows, idx)))
        return tf.group(*ops)

    def _apply_sparse_duplicate_indices(self, grad: tf.IndexedSlices, var: tf.Variable) -> Any:
        """Sum the rows of duplicate indices (as TF1 does), then call ``_apply_sparse``."""
        values, indices = _deduplicate_indexed_slices(grad.values, grad.indices)
        return self._apply_sparse(tf.IndexedSlices(values, indices, grad.dense_shape), var)

    def _finish(self) -> Any:
        """Hook: runs once after every variable was updated (e.g. Adam's beta powers)."""
        return None

    # ------------------------------------------------------------------ checkpointing
    def _trackable_children(self, save_type: Any = None, **kwargs: Any) -> dict[str, Any]:
        children = dict(super()._trackable_children(save_type, **kwargs))
        children.update(self._non_slot_dict)
        return children

    def __repr__(self) -> str:
        return f"<labkit.train.{type(self).__name__} name={self._name!r}>"


def _is_dynamic(value: Any) -> bool:
    """A hyperparameter that must be called eagerly every step: a Python callable that is
    neither a Keras schedule (traced with the step) nor a variable (read inside the step)."""
    return (callable(value) and not isinstance(value, tf.Variable)
            and not isinstance(value, tf.keras.optimizers.schedules.LearningRateSchedule))


class _CompiledStep:
    """One traced eager step: its concrete function, whether XLA compiles it, and the
    cheapest way to call it with a flat list of tensors (see ``_flat_caller``)."""

    __slots__ = ("fn", "jit", "call")

    def __init__(self, fn: Any, jit: bool) -> None:
        self.fn, self.jit, self.call = fn, jit, _flat_caller(fn)


def _flat_caller(fn: Any) -> Callable[[list[tf.Tensor]], None]:
    """A function that calls concrete function ``fn`` (which has no outputs) with a flat list
    of tensors matching its signature, as cheaply as TensorFlow allows.

    Running the function's op by name through the eager context is where
    ``ConcreteFunction._call_flat`` ends up; going there directly skips binding the arguments
    to the Python signature, tape bookkeeping and error rewriting, which a step with no
    outputs and no gradient does not need: 0.15-0.3 ms per call on this 2-core machine, as
    much as a 1M-parameter update. Falls back to ``_call_flat``, then to the public call,
    should a TensorFlow release move either private entry point.
    """
    captured = list(fn.captured_inputs)
    try:
        from tensorflow.python.eager import context

        ctx, name = context.context(), fn.name
        if not fn.outputs and ctx.has_function(name):
            def call(flat: list[tf.Tensor], _keep: Any = fn) -> None:
                # _keep: the function stays registered only while its ConcreteFunction lives
                ctx.call_function(name, flat + captured, 0)
            return call
    except (ImportError, AttributeError):
        pass
    call_flat = getattr(fn, "_call_flat", None)
    if call_flat is not None:
        return lambda flat: call_flat(flat, captured)
    return lambda flat: fn(*flat)


def _static_shape(var: tf.Variable) -> tf.Tensor:
    """``var``'s shape without reading it: ``tf.shape(var)`` reads the whole value, and a
    live read makes the following in-place scatter copy the entire table first."""
    if var.shape.is_fully_defined():
        return tf.constant(var.shape.as_list(), tf.int64)
    return tf.raw_ops.VariableShape(input=var.handle, out_type=tf.int64)


def _num_rows(var: tf.Variable) -> Any:
    """The number of rows of ``var`` (static when known)."""
    n = var.shape[0] if var.shape.rank else None
    return n if n is not None else tf.raw_ops.VariableShape(input=var.handle)[0]


def _grad_signature(g: Any) -> tuple:
    """What a compiled step depends on: kind, dtype and (dense) shape of a gradient."""
    if isinstance(g, tf.IndexedSlices):
        return ("sparse", g.values.dtype, tuple(g.values.shape[1:]), g.indices.dtype)
    return ("dense", g.dtype, tuple(g.shape))


def _takes_argument(fn: Callable[..., Any]) -> bool:
    """True when ``fn`` requires one positional argument (a schedule of the step)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    required = [p for p in sig.parameters.values()
                if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(required) >= 1


def times_runtime_one(x: tf.Tensor) -> tf.Tensor:
    r"""Exactly ``x``, multiplied by a ``1`` that the compiled step receives at run time.

    A performance device, not math (introduced with the optimizers in
    notebooks/03a_optimizers.ipynb; the measurements are in docs/optimizer-benchmark.md). XLA on
    CPU in TF 2.21 compiles a loop fusion that holds no scalar broadcast over the array (such
    as ``n + g*g``, RMSProp's ``var - mom`` or Ftrl's ``sqrt(n)``) with its tiled emitter,
    which copies every 16 elements through the stack; a run-time factor XLA cannot fold away
    sends the fusion to the loop emitter, which streams. ``x * 1`` is exact for every value
    (zeros, infinities and NaN included).
    """
    return x * _runtime_one(x.dtype)


def add_square(accum: tf.Tensor, grad: tf.Tensor) -> tf.Tensor:
    r"""$n + g^2$ (Adagrad's, Ftrl's accumulator), written so that XLA compiles it fast.

    Computed as ``n + times_runtime_one(g*g)``, so the value is exactly $n + g^2$ and the
    pass streams (1.2 to 1.5 times faster than ``n + g*g``; see docs/optimizer-benchmark.md
    and benchmarks/xla_vs_eigen.py).
    """
    return accum + times_runtime_one(tf.square(grad))


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


# Sparse-update helpers shared by the optimizers' _apply_sparse hooks.
def gather_rows(var: tf.Variable, indices: tf.Tensor) -> tf.Tensor:
    """The rows ``indices`` of ``var`` (helper for sparse hooks)."""
    return tf.gather(var, indices)


def set_rows(var: tf.Variable, indices: tf.Tensor, rows: tf.Tensor) -> Any:
    """Write ``rows`` into the rows ``indices`` of ``var`` (indices must be unique)."""
    return var.scatter_update(tf.IndexedSlices(rows, indices))

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
  ``True``/``False`` force it. Inside your own ``tf.function`` a step that would be compiled
  eagerly is the same compiled step, called from your graph; other steps run their hooks in
  your graph.
* ``gate_gradients`` is validated (TF1 silently ignores it in eager mode).
* ``opt.check_numerics = True`` (opt-in) refuses to apply NaN/Inf gradients and out-of-range
  values of scheduled or callable hyperparameters.
* ``opt.iterations`` counts steps (TF1 had only ``global_step``); it is checkpointed but, so
  that ``variables()`` equals TF1's list, not returned by ``variables()``.
* A variable of unknown static shape gets its slots from its runtime shape in every optimizer
  (TF1's AdagradDA, Ftrl and ProximalAdagrad cannot build theirs).

What is the same as TF1 (tests/train/test_tf1_behaviour.py holds it to ``tf.compat.v1.train``): slot
variable names (``w/Adam:0`` for ``m``, ``w/Adam_1:0`` for ``v``), ``variables()`` sorted by
name, a variable's ``constraint`` applied after its update (and refused for a sparse update),
``compute_gradients`` with respect to tensors (only ``apply_gradients`` refuses them), and the
accepted hyperparameter values (degenerate ones such as ``rho=1`` or ``epsilon=0`` warn).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeAlias

import tensorflow as tf

from labkit._tf_private import Trackable, checkpoint_position_value
from labkit.train import validation
from labkit.train.engine import StepEngine
from labkit.train.hyperparameters import Hypers, resolve
from labkit.train.validation import check_gate, takes_argument
from labkit.train.variables import as_tf_variable, deduplicate_indexed_slices, var_key

__all__ = ["Optimizer"]

Hyper: TypeAlias = "float | Callable[..., Any] | tf.Tensor"

_AGGREGATION_METHODS = (
    None,
    tf.AggregationMethod.ADD_N,
    tf.AggregationMethod.DEFAULT,
    tf.AggregationMethod.EXPERIMENTAL_TREE,
    tf.AggregationMethod.EXPERIMENTAL_ACCUMULATE_N,
)


class Optimizer(Trackable):
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
      ``var`` and the slots. Runs inside a ``tf.function(jit_compile=True)``. The ten labkit
      optimizers use the default, which calls ``_update_rule(grad, var, slots, h)``: the rule
      as a pure function that receives this step's hyperparameters ``h`` (``h.learning_rate``)
      and returns the new values; the same rule then serves sparse updates row by row.
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
        # while the engine traces one variable's update, the hooks see its slots here
        self._trace_var: Any = None
        self._trace_slots: dict[str, Any] = {}
        self.check_numerics = False
        self.jit_compile: bool | str = "auto"
        self._dynamic_t: dict[str, tf.Tensor] = {}
        self._engine = StepEngine(self)
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
        """A float, a 0-argument callable, or a schedule of the step -> a tensor (TF1 dtypes)."""
        return resolve(value, step, self._constants)

    def _prepare(self) -> None:
        """Resolve every declared hyperparameter into ``self._hyper_t`` (tensors)."""
        step = self._current_step
        self._hyper_t = {n: self._dynamic_t[n] if n in self._dynamic_t else self._resolve(v, step)
                         for n, v in self._hyper_values.items()}

    def _resolve_hypers(self, dynamic: dict[str, tf.Tensor] | None = None) -> dict[str, tf.Tensor]:
        """This step's hyperparameter tensors: ``_prepare`` run with the values of the
        callables the engine called this step (``dynamic``), returned as a dict."""
        self._dynamic_t = dynamic or {}
        try:
            self._prepare()
        finally:
            self._dynamic_t = {}
        return dict(self._hyper_t)

    @contextlib.contextmanager
    def _tracing(self, var: Any, slots: dict[str, Any], hyper: dict[str, tf.Tensor]) -> Iterator[None]:
        """While the engine traces ``var``'s update, the hooks (``get_slot``, ``_slots_for``,
        ``_hyper``) see these slots and this step's hyperparameters."""
        saved = (self._trace_var, self._trace_slots, self._hyper_t)
        self._trace_var, self._trace_slots, self._hyper_t = var, dict(slots), hyper
        try:
            yield
        finally:
            self._trace_var, self._trace_slots, self._hyper_t = saved

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

    def _hypers(self, dtype: tf.DType) -> Hypers:
        """This step's hyperparameters, as ``_update_rule`` receives them."""
        return Hypers(self._hyper_t, dtype)

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
        key = var_key(var)
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
        key = var_key(var)
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
        return None  # a body AutoGraph can convert (a docstring alone makes it warn)

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
        var = as_tf_variable(variable)
        var = variable if var is None else var
        key = var_key(var)
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
            tensors = checkpoint_position_value(positions[0])
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
        check_gate(gate_gradients)
        if aggregation_method not in _AGGREGATION_METHODS:
            raise ValueError(
                "`aggregation_method` must be None or a tf.AggregationMethod value "
                f"(0, 1 or 2). Received: aggregation_method={aggregation_method!r}")
        if var_list is not None:
            given = list(tf.nest.flatten(var_list))
            # variables, or (as in TF1) tensors: their gradients are computed here and only
            # apply_gradients refuses them
            var_list = [v if as_tf_variable(v) is None and tf.is_tensor(v) else as_tf_variable(v)
                        for v in given]
            for v, original in zip(var_list, given, strict=True):
                if v is None:
                    raise TypeError("`var_list` must contain tf.Variable (or Keras) variables "
                                    f"or tensors. Received: {original!r}")
        if callable(loss):
            if takes_argument(loss):
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
        pairs = validation.validate_pairs(self, grads_and_vars)
        validation.check_global_step(global_step)
        self._global_step = global_step
        # Every check runs before anything changes, so a step applies completely or not at all.
        if tf.executing_eagerly() and not tf.distribute.has_strategy():
            # (sparse indices: checked inside the compiled step, before its updates)
            if self.check_numerics:
                validation.check_finite(pairs)
                validation.check_hyper_values(self)
            self._engine.apply_eager(pairs, global_step)
            return None
        checks = validation.check_indices(pairs)
        if self.check_numerics:
            checks += validation.check_finite(pairs) + validation.check_hyper_values(self)
        return self._engine.apply_in_graph(pairs, global_step, checks)

    @property
    def _current_step(self) -> tf.Tensor:
        """The step schedules see: ``global_step`` when given, else ``self.iterations``."""
        gs = getattr(self, "_global_step", None)
        return (gs if gs is not None else self._iterations).read_value()

    # -- hooks
    def _slots_for(self, var: Any) -> dict[str, Any]:
        """``{slot_name: slot_variable}`` of ``var`` (works inside the traced update too)."""
        if self._trace_var is not None and var is self._trace_var:
            return dict(self._trace_slots)
        key = var_key(var)
        return {n: self._slots[n][key] for n in self.get_slot_names() if key in self._slots[n]}

    def _update_rule(self, grad: tf.Tensor, var: tf.Tensor, slots: dict[str, tf.Tensor],
                     h: Hypers) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
        """Hook: the update rule as a pure function of tensors.

        Gets the gradient, the variable's value, its slots' values (whole tensors for a
        dense gradient, the gathered rows for a sparse one) and this step's hyperparameters
        (``h.learning_rate``..., tensors of the variable's dtype), and returns the new
        variable value and the new slot values. The default ``_apply_dense`` / ``_apply_sparse`` use it, so an
        optimizer whose sparse semantics is "apply the dense rule to the touched rows" (TF1's
        ``SparseApply*`` kernels) writes its math once.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement _update_rule "
                                  "or _apply_dense/_apply_sparse")

    def _apply_dense(self, grad: tf.Tensor, var: tf.Variable) -> Any:
        """Hook: update ``var`` (and its slots) from a dense gradient (default: ``_update_rule``)."""
        slots = self._slots_for(var)
        new_var, new_slots = self._update_rule(
            grad, var.read_value(), {n: s.read_value() for n, s in slots.items()},
            self._hypers(var.dtype))
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
            grad.values, tf.gather(var, idx), {n: tf.gather(s, idx) for n, s in slots.items()},
            self._hypers(var.dtype))
        ops = [slots[n].scatter_update(tf.IndexedSlices(t, idx)) for n, t in new_slot_rows.items()]
        ops.append(var.scatter_update(tf.IndexedSlices(new_rows, idx)))
        return tf.group(*ops)

    def _apply_sparse_duplicate_indices(self, grad: tf.IndexedSlices, var: tf.Variable) -> Any:
        """Sum the rows of duplicate indices (as TF1 does), then call ``_apply_sparse``."""
        values, indices = deduplicate_indexed_slices(grad.values, grad.indices)
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

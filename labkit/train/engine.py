"""How a labkit optimizer's step runs: the step engine, kept apart from the update rules.

Introduced with the optimizers in notebooks/03a_optimizers.ipynb; the measurements behind it are
in docs/optimizer-benchmark.md. Nothing here is math: an optimizer's rule lives in its own file
(``adam.py``...) as TF1's hooks (``_create_slots``, ``_prepare``, ``_apply_dense``,
``_apply_sparse``, ``_finish``); this module decides how those hooks are traced and called.

* **Eager** (``StepEngine.apply_eager``): the whole step -- every variable's update, ``_finish``
  and the step counters -- is traced once per structure (which variables, which gradient
  kinds) into a concrete function that captures the variables and takes only the gradients
  (and the values of callable hyperparameters, called every step) as arguments, so Python
  pays for one call per step, like one TF1 fused-kernel call. When every gradient is dense
  and the step is large enough, that function is one XLA computation that fuses each rule's
  chain of element-wise ops and updates the variables in place, which is what TF1's
  hand-written fused kernels (``ResourceApplyAdam``...) do.
* **Inside a learner's ``tf.function``** (``StepEngine.apply_fused_in_function``): when the
  eager path would compile the step, the learner's graph calls the same kind of compiled step
  (one XLA computation: updates, ``_finish``, counters), traced once per structure; the
  hyperparameters are resolved in the learner's graph and passed in.
* **Otherwise in a graph** (``StepEngine.build_step``: small or sparse steps in a
  ``tf.function``, ``jit_compile=False``, a ``tf.distribute`` strategy, a TF1 ``tf.Graph``):
  the hooks run in the caller's graph; a dense update of a large variable is compiled with
  XLA on its own.

While a variable's update is traced, the hooks read its slots and the step's hyperparameters
through ``Optimizer._tracing(var, slots, hyper)`` (see optimizer.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from labkit import _tf_private
from labkit.train import streamed, validation

__all__ = ["StepEngine"]


class StepEngine:
    """Traces and runs the steps of one optimizer (one engine per optimizer)."""

    def __init__(self, opt: Any) -> None:  # a labkit.train.Optimizer (which imports this module)
        self.opt = opt
        self.compiled: dict[Any, _CompiledStep] = {}  # eager steps by structure
        self.dense_fns: dict[bool, Any] = {}          # per-variable dense updates (graph path)
        self.step_fn: Any = None                      # eager under a distribution strategy
        self.trace_count = 0                          # how many eager steps were traced
        self.inline_dense = False                     # inside one XLA computation for the step

    # ------------------------------------------------------------------ eager
    def apply_eager(self, pairs: list[tuple[Any, tf.Variable]],
                    global_step: tf.Variable | None) -> None:
        """Run one step eagerly through a cached concrete function (see the module docstring)."""
        opt = self.opt
        dynamic = self.dynamic_hyper_values()
        key = (tuple((v.ref(), _grad_signature(g)) for g, v in pairs),
               None if global_step is None else global_step.ref(), opt.jit_compile,
               tuple((n, t.dtype, tuple(t.shape)) for n, t in dynamic.items()))
        entry = self.compiled.get(key)
        first = entry is None
        if entry is None:
            with tf.init_scope():
                opt._create_slots([v for _, v in pairs])
            if len(self.compiled) >= opt.MAX_COMPILED_STEPS:
                self.compiled.clear()  # many variable sets (e.g. models rebuilt in a loop)
            jit = self.whole_step_jit(pairs)
            entry = _CompiledStep(self.trace(pairs, global_step, dynamic, jit), jit)
            self.compiled[key] = entry
        flat = []
        for g, _ in pairs:
            if isinstance(g, tf.IndexedSlices):
                flat += [g.values, g.indices]
            else:
                flat.append(g)
        flat += list(dynamic.values())
        sparse = any(isinstance(g, tf.IndexedSlices) for g, _ in pairs)
        if sparse and entry.jit:  # XLA drops assertions: check the indices here, eagerly
            validation.check_indices(pairs)
        try:
            entry.call(flat)
        except tf.errors.InvalidArgumentError:
            if sparse and not entry.jit:  # the step's own index assertion failed (nothing ran):
                validation.check_indices(pairs)  # raise the ValueError that names it
            raise
        except tf.errors.OpError:
            if not (first and entry.jit):
                raise
            # XLA could not compile something in the step (e.g. an unusual schedule):
            # nothing ran, so run the same step as ordinary graph ops instead.
            entry = _CompiledStep(self.trace(pairs, global_step, dynamic, False), False)
            self.compiled[key] = entry
            entry.call(flat)

    def dynamic_hyper_values(self) -> dict[str, tf.Tensor]:
        """Call the hyperparameters that are Python callables (not schedules): every step."""
        opt = self.opt
        dynamic = {n: v for n, v in opt._hyper_values.items() if _is_dynamic(v)}
        if not dynamic:
            return {}
        step = opt._current_step  # one read of the step variable for all of them
        return {n: tf.convert_to_tensor(opt._resolve(v, step)) for n, v in dynamic.items()}

    def whole_step_jit(self, pairs: list[tuple[Any, tf.Variable]]) -> bool:
        """Compile the whole eager step with XLA? Only when every gradient is dense (XLA has
        no ``tf.unique`` for duplicate sparse indices) and, for ``"auto"``, the update moves
        at least ``XLA_MIN_ELEMENTS`` elements."""
        opt = self.opt
        if opt.jit_compile is False:
            return False
        if not opt.SPARSE_AS_DENSE and any(isinstance(g, tf.IndexedSlices) for g, _ in pairs):
            return False
        if opt.jit_compile == "auto":
            return sum(v.shape.num_elements() or 0 for _, v in pairs) >= opt.XLA_MIN_ELEMENTS
        return bool(opt.jit_compile)

    def trace(self, pairs: list[tuple[Any, tf.Variable]], global_step: tf.Variable | None,
              dynamic: dict[str, tf.Tensor], jit: bool, returns_step: bool = False) -> Any:
        """The concrete function of one step: gradients (and the values of the ``dynamic``
        hyperparameters) in; with ``returns_step``, the new step count out (so that a caller's
        graph has a result to wait for)."""
        opt = self.opt
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
        slots = self.slots_of(var_list)
        dyn_names = list(dynamic)

        def step(*flat: tf.Tensor) -> Any:
            it = iter(flat)
            grads = [tf.IndexedSlices(next(it), next(it), _static_shape(v))
                     if s else next(it) for v, s in zip(var_list, sparse, strict=True)]
            opt._global_step = global_step
            hyper = opt._resolve_hypers(dict(zip(dyn_names, it, strict=True)))
            # sparse indices asserted before any update (a jit step is checked eagerly instead)
            checks = [] if jit else validation.check_indices(list(zip(grads, var_list, strict=True)))
            self.inline_dense = jit
            try:
                with tf.control_dependencies(checks), streamed.compiled_by_xla(jit):
                    done = self.build_step(grads, var_list, slots, hyper, global_step)
            finally:
                self.inline_dense = False
            if returns_step:
                with tf.control_dependencies([done]):
                    return opt.iterations.read_value()
            return None

        self.trace_count += 1
        return tf.function(step, jit_compile=jit, autograph=False).get_concrete_function(*specs)

    # ------------------------------------------------------------------ graph
    def apply_in_graph(self, pairs: list[tuple[Any, tf.Variable]],
                       global_step: tf.Variable | None, checks: list[Any]) -> Any:
        """The step inside a ``tf.function`` or under a distribution strategy."""
        opt = self.opt
        var_list = [v for _, v in pairs]
        with tf.init_scope():
            opt._create_slots(var_list)
        if (tf.inside_function() and not tf.distribute.has_strategy()
                and self.whole_step_jit(pairs)):
            return self.apply_fused_in_function(pairs, global_step, checks)
        with tf.control_dependencies(checks):
            hyper = opt._resolve_hypers()
        args = ([g for g, _ in pairs], var_list, self.slots_of(var_list), hyper, global_step)
        if tf.executing_eagerly():  # eager under a tf.distribute strategy
            if self.step_fn is None:
                self.step_fn = tf.function(self._build_step_no_result)
            self.step_fn(*args)
            return None
        with tf.control_dependencies(checks):
            return self.build_step(*args)

    def apply_fused_in_function(self, pairs: list[tuple[Any, tf.Variable]],
                                global_step: tf.Variable | None, checks: list[Any]) -> Any:
        """Inside a learner's ``tf.function``: the whole step as one XLA computation, called
        from the learner's graph, as on the eager path. The hyperparameters are resolved in
        the learner's graph (a schedule runs there, as ordinary ops) and passed in; the
        updates, ``_finish`` and the step counters are the compiled step. Traced once per
        structure, like an eager step, so retracing the learner's function reuses it."""
        opt = self.opt
        with tf.control_dependencies(checks):
            step = opt._current_step
            values = {n: tf.convert_to_tensor(opt._resolve(v, step))
                      for n, v in opt._hyper_values.items()}
        key = ("in_function", tuple((v.ref(), _grad_signature(g)) for g, v in pairs),
               None if global_step is None else global_step.ref(),
               tuple((n, t.dtype, tuple(t.shape)) for n, t in values.items()))
        entry = self.compiled.get(key)
        if entry is None:
            if len(self.compiled) >= opt.MAX_COMPILED_STEPS:
                self.compiled.clear()
            with tf.init_scope():
                entry = _CompiledStep(self.trace(pairs, global_step, values, True,
                                                 returns_step=True), True)
            self.compiled[key] = entry
        flat: list[tf.Tensor] = []
        for g, _ in pairs:
            flat += [g.values, g.indices] if isinstance(g, tf.IndexedSlices) else [g]
        with tf.control_dependencies(checks):
            return tf.group(entry.fn(*flat, *values.values()))

    def _build_step_no_result(self, *args: Any) -> None:
        self.build_step(*args)

    def build_step(self, grads: list, var_list: list, slots: list[dict[str, tf.Variable]],
                   hyper: dict[str, tf.Tensor], global_step: tf.Variable | None) -> Any:
        """Every update, each variable's constraint, ``_finish``, then count the step."""
        opt = self.opt
        updates: list[Any] = []  # ops to wait for (None where the update ran in a tf.function)
        for g, v, sl in zip(grads, var_list, slots, strict=True):
            if isinstance(g, tf.IndexedSlices) and opt.SPARSE_AS_DENSE:
                g = tf.math.unsorted_segment_sum(g.values, g.indices, _num_rows(v))
            if isinstance(g, tf.IndexedSlices):
                updates.append(self._sparse_update(g.values, g.indices, g.dense_shape, v, sl, hyper))
            else:
                updates.append(self._dense_call(g, v, sl, hyper))
            constraint = opt._constraints.get(v.ref())
            if constraint is not None:  # as TF1: the variable's constraint after its update
                with tf.control_dependencies([u for u in updates[-1:] if u is not None]):
                    updates.append(v.assign(constraint(v.read_value()), read_value=False))
        with tf.control_dependencies([u for u in updates if u is not None]):
            with opt._tracing(None, {}, hyper):
                finish = opt._finish()
            with tf.control_dependencies([finish] if finish is not None else []):
                out = [opt.iterations.assign_add(1, read_value=False)]
                if global_step is not None:
                    out.append(global_step.assign_add(tf.cast(1, global_step.dtype),
                                                      read_value=False))
        return tf.group(*out)

    def slots_of(self, var_list: list[tf.Variable]) -> list[dict[str, tf.Variable]]:
        """Per variable: ``{slot name: slot variable}`` (the slots the step updates)."""
        return [self.opt._slots_for(v) for v in var_list]

    # -- per-variable updates
    def _dense_update(self, grad: tf.Tensor, var: Any, slots: dict, hyper: dict) -> None:
        # no result: it runs as a tf.function, which cannot return an Operation
        with self.opt._tracing(var, slots, hyper):
            self.opt._apply_dense(grad, var)

    def _sparse_update(self, values: tf.Tensor, indices: tf.Tensor, dense_shape: Any, var: Any,
                       slots: dict, hyper: dict) -> Any:
        with self.opt._tracing(var, slots, hyper):
            return self.opt._apply_sparse_duplicate_indices(
                tf.IndexedSlices(values, indices, dense_shape), var)

    def _dense_call(self, grad: tf.Tensor, var: Any, slots: dict, hyper: dict) -> Any:
        if self.inline_dense:  # already inside one XLA computation for the whole step
            self._dense_update(grad, var, slots, hyper)
            return None
        jit = self.opt.jit_compile
        if jit == "auto":
            # XLA pays for itself on large, memory-bound updates; on small variables its
            # compile time (seconds per shape) dwarfs the microseconds it would save.
            n = var.shape.num_elements()
            jit = n is None or n >= self.opt.XLA_MIN_ELEMENTS
        jit = bool(jit)
        fn = self.dense_fns.get(jit)
        if fn is None:
            fn = tf.function(self._dense_update, jit_compile=jit)
            self.dense_fns[jit] = fn
        with streamed.compiled_by_xla(jit):  # a call may trace the function
            return fn(grad, var, slots, hyper)


def _is_dynamic(value: Any) -> bool:
    """A hyperparameter that must be called eagerly every step: a Python callable that is
    neither a Keras schedule (traced with the step) nor a variable (read inside the step)."""
    return (callable(value) and not isinstance(value, tf.Variable)
            and not isinstance(value, tf.keras.optimizers.schedules.LearningRateSchedule))


class _CompiledStep:
    """One traced eager step: its concrete function, whether XLA compiles it, and the
    cheapest way to call it with a flat list of tensors."""

    __slots__ = ("fn", "jit", "call")

    def __init__(self, fn: Any, jit: bool) -> None:
        self.fn, self.jit = fn, jit
        self.call: Callable[[list[tf.Tensor]], None] = _tf_private.flat_caller(fn)


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

"""Scale-out: the labkit optimizers under ``tf.distribute`` (MirroredStrategy, multi-worker).

Introduced in notebooks/12_scale_out.ipynb.

Data parallelism in one picture: every replica holds a copy of the variables, computes the
gradient of *its share* of the global batch, the gradients are **summed across replicas**
(an all-reduce), and every copy applies the same update -- so the copies stay identical and
the result equals one device training on the whole global batch (up to float rounding).

The labkit optimizers (``labkit.train``) were written for one device. Two things are needed
to run them under a strategy, and this module supplies both without touching them:

* the gradients must be aggregated across replicas before ``apply_gradients`` (dense tensors
  and ``tf.IndexedSlices`` alike): :class:`DistributedOptimizer` does it with a
  ``merge_call`` + ``strategy.extended.batch_reduce_to(SUM, ...)`` and then applies the summed
  gradient once, in cross-replica context, which writes every mirrored copy;
* the per-variable update must not be XLA-compiled (``jit_compile=True``): an XLA cluster
  cannot touch a variable that lives on another device, so the wrapper turns it off.

Each replica must scale its loss by the *global* batch size (``tf.nn.compute_average_loss``),
because the replica gradients are summed.

Logical CPUs: a 2-core laptop has one physical CPU device; :func:`configure_logical_cpus`
splits it into two logical devices so MirroredStrategy has two replicas. It must run before
TensorFlow initialises its devices (first op, first ``list_logical_devices``...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

__all__ = [
    "configure_logical_cpus",
    "mirrored_strategy",
    "DistributedOptimizer",
    "make_distributed_train_step",
    "replica_gradients",
    "aggregate_gradients",
    "tf_config",
    "trainable_tf_variables",
]


def _check_int(name: str, value: Any, minimum: int) -> int:
    import numpy as np

    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)


def configure_logical_cpus(num_devices: int = 2) -> list[str]:
    """Split the physical CPU into ``num_devices`` logical CPU devices; return their names.

    The helper form of what the Setup cell of notebooks/12_scale_out.ipynb types
    (``tf.config.set_logical_device_configuration``), tolerant of a second call. Call it before anything else touches
    TensorFlow's devices (in the notebook's Setup cell, before the first op). Calling it again
    with the same number is harmless.

    Raises:
        ValueError: ``num_devices`` is not an integer >= 1.
        RuntimeError: TensorFlow already initialised a different number of CPU devices.
    """
    num_devices = _check_int("num_devices", num_devices, 1)
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(num_devices)])
    except RuntimeError as e:
        have = len(tf.config.list_logical_devices("CPU"))
        if have != num_devices:
            raise RuntimeError(
                f"TensorFlow has already initialised {have} logical CPU device(s), so "
                f"num_devices={num_devices} cannot be configured any more: call "
                "configure_logical_cpus() before the first TensorFlow op (restart the kernel)."
            ) from e
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def mirrored_strategy(num_replicas: int = 2):
    """A ``tf.distribute.MirroredStrategy`` over the first ``num_replicas`` logical CPUs.

    The strategy notebooks/12_scale_out.ipynb builds by hand, as a helper. Uses ``ReductionToOneDevice`` for the
    all-reduce (NCCL is for GPUs). Run :func:`configure_logical_cpus` first.

    Raises:
        ValueError: ``num_replicas`` is not an integer >= 1, or exceeds the logical CPUs.
    """
    num_replicas = _check_int("num_replicas", num_replicas, 1)
    import tensorflow as tf

    have = len(tf.config.list_logical_devices("CPU"))
    if num_replicas > have:
        raise ValueError(
            f"`num_replicas` must be <= the {have} logical CPU device(s); call "
            f"configure_logical_cpus({num_replicas}) first. Received: num_replicas={num_replicas}")
    devices = [f"/cpu:{i}" for i in range(num_replicas)]
    return tf.distribute.MirroredStrategy(
        devices, cross_device_ops=tf.distribute.ReductionToOneDevice())


def aggregate_gradients(strategy: Any, per_replica_grads: Sequence[Any],
                        var_list: Sequence[Any]) -> list[Any]:
    """Sum per-replica gradients across replicas (cross-replica context); plain local values.

    Introduced in notebooks/12_scale_out.ipynb. Dense gradients stay dense and
    ``tf.IndexedSlices`` stay sparse (their rows are concatenated; duplicates are summed later
    by the optimizer, as TF1 does). ``None`` gradients stay ``None``.

    Returns:
        One gradient per variable, each a plain tensor / ``tf.IndexedSlices`` (the copy on the
        first local device; every device received the same sum).
    """
    import tensorflow as tf

    grads = list(per_replica_grads)
    var_list = list(var_list)
    if len(grads) != len(var_list):
        raise ValueError(f"`per_replica_grads` and `var_list` must have the same length. "
                         f"Received: {len(grads)} gradients for {len(var_list)} variables")
    present = [i for i, g in enumerate(grads) if g is not None]
    out: list[Any] = [None] * len(grads)
    if not present:
        return out
    reduced = strategy.extended.batch_reduce_to(
        tf.distribute.ReduceOp.SUM, [(grads[i], var_list[i]) for i in present])
    for i, r in zip(present, reduced, strict=True):
        out[i] = strategy.experimental_local_results(r)[0]
    return out


class DistributedOptimizer:
    """Wrap a ``labkit.train`` optimizer so that it aggregates gradients across replicas.

    Introduced in notebooks/12_scale_out.ipynb. Same API as the wrapped optimizer
    (``minimize``, ``compute_gradients``, ``apply_gradients``, ``get_slot``...), usable inside
    ``strategy.run``::

        with strategy.scope():
            model = build_mlp()
            opt = DistributedOptimizer(labkit.train.AdamOptimizer())

        def replica_step(x, y):
            def loss():
                per_example = tf.keras.losses.sparse_categorical_crossentropy(
                    y, model(x), from_logits=True)
                return tf.nn.compute_average_loss(per_example, global_batch_size=64)
            opt.minimize(loss, var_list=model.trainable_variables)

    In replica context ``apply_gradients`` calls ``merge_call``: the per-replica gradients are
    summed with ``batch_reduce_to`` (dense and ``tf.IndexedSlices``), optionally clipped by
    global norm (``clip_norm``; clipping the *sum* is what one device would do), and applied
    once in cross-replica context, which assigns every mirrored copy. Called in
    cross-replica context (or with no strategy) it forwards to the wrapped optimizer.

    Args:
        optimizer: a ``labkit.train`` (or ``tf.compat.v1.train``) optimizer, created inside
            ``strategy.scope()`` so that its step counters are mirrored.
        clip_norm: optional positive float, ``tf.clip_by_global_norm`` of the summed gradient.
    """

    def __init__(self, optimizer: Any, clip_norm: float | None = None) -> None:
        if not (hasattr(optimizer, "apply_gradients") and hasattr(optimizer, "compute_gradients")):
            raise TypeError("`optimizer` must be a labkit.train optimizer. Received: "
                            f"optimizer={optimizer!r}")
        if clip_norm is not None and (isinstance(clip_norm, bool) or
                                      not isinstance(clip_norm, (int, float)) or clip_norm <= 0):
            raise ValueError(f"`clip_norm` must be a number > 0 or None. Received: "
                             f"clip_norm={clip_norm!r}")
        self.optimizer = optimizer
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        if hasattr(optimizer, "jit_compile"):
            optimizer.jit_compile = False  # XLA cannot reach the other devices' variables

    def __getattr__(self, name: str) -> Any:  # get_slot, variables, iterations...
        if name == "optimizer":
            raise AttributeError(name)
        return getattr(self.optimizer, name)

    def compute_gradients(self, loss: Any, var_list: Sequence[Any] | None = None,
                          **kwargs: Any) -> list[tuple[Any, Any]]:
        """The wrapped optimizer's ``compute_gradients`` (this replica's gradients)."""
        return self.optimizer.compute_gradients(loss, var_list=var_list, **kwargs)

    def minimize(self, loss: Any, global_step: Any = None,
                 var_list: Sequence[Any] | None = None, **kwargs: Any) -> Any:
        """``compute_gradients`` on this replica, then the aggregating ``apply_gradients``."""
        grads_and_vars = self.compute_gradients(loss, var_list=var_list, **kwargs)
        return self.apply_gradients(grads_and_vars, global_step=global_step)

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Any]],
                        global_step: Any = None, name: str | None = None) -> Any:
        """Sum the gradients across replicas (replica context) and apply them once."""
        import tensorflow as tf

        pairs = [(g, v) for g, v in grads_and_vars]
        if tf.distribute.has_strategy() and not tf.distribute.in_cross_replica_context():
            ctx = tf.distribute.get_replica_context()
            grads = [g for g, _ in pairs]
            var_list = [v for _, v in pairs]
            return ctx.merge_call(self._merged_apply, args=(grads, var_list, global_step))
        return self._apply(pairs, global_step)

    def _merged_apply(self, strategy: Any, grads: list, var_list: list, global_step: Any) -> Any:
        summed = aggregate_gradients(strategy, grads, var_list)
        return self._apply(list(zip(summed, var_list, strict=True)), global_step)

    def _apply(self, pairs: list, global_step: Any) -> Any:
        import tensorflow as tf

        if self.clip_norm is not None:
            idx = [i for i, (g, _) in enumerate(pairs) if g is not None]
            clipped, _ = tf.clip_by_global_norm([pairs[i][0] for i in idx], self.clip_norm)
            pairs = list(pairs)
            for i, g in zip(idx, clipped, strict=True):
                pairs[i] = (g, pairs[i][1])
        return self.optimizer.apply_gradients(pairs, global_step=global_step)

    def __repr__(self) -> str:
        return f"DistributedOptimizer({self.optimizer!r}, clip_norm={self.clip_norm})"


def trainable_tf_variables(model: Any) -> list[Any]:
    """The ``tf.Variable`` objects behind a Keras 3 model's trainable weights.

    Introduced in notebooks/12_scale_out.ipynb. The labkit optimizers update ``tf.Variable``
    objects (as TF1's did); Keras 3 wraps each one in a ``keras.Variable`` whose ``.value``
    is the ``tf.Variable`` (a ``MirroredVariable`` when built inside ``strategy.scope()``).
    """
    import tensorflow as tf

    weights = getattr(model, "trainable_variables", None)
    if weights is None:
        raise TypeError(f"`model` must be a Keras model. Received: model={model!r}")
    return [w if isinstance(w, tf.Variable) else w.value for w in weights]


def replica_gradients(strategy: Any, loss_fn: Callable[..., Any], var_list: Sequence[Any],
                      *inputs: Any) -> list[Any]:
    """Per-replica gradients of ``loss_fn(*inputs)`` (distributed inputs), then summed.

    The helper form of the ``strategy.run`` + ``strategy.reduce(SUM)`` cell of
    notebooks/12_scale_out.ipynb (which types it out); here dense gradients and
    ``tf.IndexedSlices`` both go through ``batch_reduce_to``. Call it inside a
    ``tf.function`` or eagerly; ``loss_fn`` runs on every replica.
    """
    import tensorflow as tf

    var_list = list(var_list)

    def grads_on_replica(*args: Any) -> list[Any]:
        with tf.GradientTape() as tape:
            loss = loss_fn(*args)
        return tape.gradient(loss, var_list)

    per_replica = strategy.run(grads_on_replica, args=inputs)
    return aggregate_gradients(strategy, per_replica, var_list)


def make_distributed_train_step(strategy: Any, model: Any, optimizer: DistributedOptimizer,
                                global_batch_size: int) -> Callable[..., Any]:
    """A ``tf.function`` ``step(x, y) -> loss`` training ``model`` under ``strategy``.

    The helper form of the ``train`` step notebooks/12_scale_out.ipynb types out
    (scripts/multiworker.py uses it). ``x, y`` are distributed batches (from
    ``strategy.experimental_distribute_dataset``); the model outputs logits; the loss is the
    sparse softmax cross-entropy averaged over the *global* batch, so summing the replicas'
    gradients gives the gradient one device would compute on the same global batch.
    Returns the global-batch mean loss.
    """
    import tensorflow as tf

    global_batch_size = _check_int("global_batch_size", global_batch_size, 1)
    if not isinstance(optimizer, DistributedOptimizer):
        raise TypeError("`optimizer` must be a DistributedOptimizer (wrap the labkit optimizer). "
                        f"Received: optimizer={optimizer!r}")

    def replica_step(x: Any, y: Any) -> Any:
        var_list = trainable_tf_variables(model)
        with tf.GradientTape() as tape:
            per_example = tf.keras.losses.sparse_categorical_crossentropy(
                y, model(x, training=True), from_logits=True)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch_size)
        grads = tape.gradient(loss, var_list)
        optimizer.apply_gradients(list(zip(grads, var_list, strict=True)))
        return loss

    @tf.function
    def step(x: Any, y: Any) -> Any:
        per_replica_loss = strategy.run(replica_step, args=(x, y))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica_loss, axis=None)

    return step


def tf_config(worker_ports: Sequence[int], index: int) -> str:
    """The ``TF_CONFIG`` JSON for worker ``index`` of a cluster on 127.0.0.1.

    Used by scripts/multiworker.py (notebooks/12_scale_out.ipynb prints one). Worker 0 is
    the chief: it alone writes checkpoints.
    """
    import json

    ports = [_check_int("worker_ports[i]", p, 1) for p in worker_ports]
    if len(set(ports)) != len(ports) or not ports:
        raise ValueError(f"`worker_ports` must be distinct ports. Received: {list(worker_ports)!r}")
    index = _check_int("index", index, 0)
    if index >= len(ports):
        raise ValueError(f"`index` must be < {len(ports)}. Received: index={index}")
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


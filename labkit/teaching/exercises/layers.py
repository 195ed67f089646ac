"""Exercise checks for notebooks/01_layers.ipynb (from tf.layers / raw TF1 ops to Keras 3 layers).

Each check inspects the learner's Keras object (or runs the learner's function on a fresh
layer) and returns a :class:`~labkit.teaching.exercises.feedback.Feedback` naming what differs.
``None`` (an unanswered exercise) gets a hint; an answer of the wrong kind is a ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from labkit.i18n import _
from labkit.teaching.exercises.feedback import Feedback, hint, passed


def _require_layer(arg: str, value) -> None:
    import keras

    if not isinstance(value, keras.layers.Layer):
        raise TypeError(_("`{arg}` must be a Keras layer. Received: {arg}={value!r}").format(arg=arg, value=value))


def check_dropout_port(layer) -> Feedback:
    """Exercise: port ``h = tf.nn.dropout(h, keep_prob=0.8)`` to Keras 3.

    Introduced in notebooks/01_layers.ipynb. The answer is a ``keras.layers.Dropout`` that
    drops the same share of units: ``rate = 1 - keep_prob = 0.2``.
    """
    if layer is None:
        return hint(_("replace None with a tf.keras.layers.Dropout(...) layer."))
    _require_layer("layer", layer)
    import keras

    if not isinstance(layer, keras.layers.Dropout):
        return hint(_("expected a Dropout layer, got {layer_type}.").format(layer_type=type(layer).__name__))
    rate = float(layer.rate)
    if abs(rate - 0.8) < 1e-9:
        return hint(
            _("rate=0.8 drops 80% of the units. TF1's keep_prob=0.8 KEEPS 80%: Keras' `rate` is the "
              "share dropped, rate = 1 - keep_prob.")
        )
    if abs(rate - 0.2) > 1e-9:
        return hint(_("rate={rate} -- keep_prob=0.8 keeps 80% of the units, so rate = 1 - 0.8.").format(rate=rate))
    return passed(
        _("Dropout(rate=0.2). And no keep_prob placeholder to feed 1.0 at test time: call the "
          "layer with training=True while training; it is the identity otherwise.")
    )


def check_dense_port(layer) -> Feedback:
    """Exercise: port ``tf.layers.dense(x, 32, activation=tf.nn.relu, use_bias=False, name="hidden")``.

    Introduced in notebooks/01_layers.ipynb. The answer is a ``keras.layers.Dense`` with the
    same units, activation, bias setting and name (so its weights transfer by name).
    """
    if layer is None:
        return hint(_("replace None with a tf.keras.layers.Dense(...) layer."))
    _require_layer("layer", layer)
    import keras

    if not isinstance(layer, keras.layers.Dense):
        return hint(_("expected a Dense layer, got {layer_type}.").format(layer_type=type(layer).__name__))
    problems = []
    if layer.units != 32:
        problems.append(_("units={units} (TF1 asked for 32)").format(units=layer.units))
    activation = getattr(layer.activation, "__name__", str(layer.activation))
    if activation != "relu":
        problems.append(_("activation is {activation!r} (TF1 used tf.nn.relu; Keras accepts 'relu')").format(activation=activation))
    if layer.use_bias:
        problems.append(_("use_bias=True (TF1 had use_bias=False)"))
    if layer.name != "hidden":
        problems.append(
            _("name={name!r}: name it 'hidden' so the TF1 variables hidden/kernel find it").format(name=layer.name)
        )
    if problems:
        return hint(_("{problems}.").format(problems=_("; ").join(problems)))
    return passed(
        _("Dense(32, activation='relu', use_bias=False, name='hidden'): the inputs' size is not an "
          "argument any more; the kernel is created on the first call.")
    )


def check_batchnorm_training(train_call: Callable) -> Feedback:
    """Exercise: call a Keras BatchNormalization so that its moving statistics update.

    Introduced in notebooks/01_layers.ipynb. ``train_call(bn, x)`` is the learner's function;
    the check runs it on a fresh ``BatchNormalization()`` and a fixed batch and compares the
    moving mean with TF1's update op ``moving_mean = 0.99 * moving_mean + 0.01 * batch_mean``.
    """
    if train_call is None:
        return hint(_("replace None with a function (bn, x) -> output, e.g. a lambda."))
    if not callable(train_call):
        raise TypeError(
            _("`train_call` must be a function (bn, x) -> output. Received: train_call={train_call!r}").format(train_call=train_call)
        )
    import keras
    import tensorflow as tf

    x = np.arange(24, dtype=np.float32).reshape(6, 4) / 4.0
    bn = keras.layers.BatchNormalization(name="bn_check")
    bn.build(x.shape)
    try:
        out = train_call(bn, tf.constant(x))
    except Exception as err:  # the learner's code may fail in any way: report it as a hint
        return hint(_("calling train_call(bn, x) failed: {err_type}: {err}").format(err_type=type(err).__name__, err=err))
    moving_mean = np.asarray(bn.moving_mean)
    expected = 0.01 * x.mean(axis=0)
    if np.allclose(moving_mean, 0.0):
        return hint(
            _("moving_mean did not move. Keras updates the moving statistics only when the layer is "
              "called with training=True -- there is no UPDATE_OPS collection to run any more.")
        )
    if not np.allclose(moving_mean, expected, atol=1e-6):
        return hint(
            _("moving_mean is {value}, one update from 0 with momentum 0.99 gives {value2}: call the "
              "layer once, with training=True.").format(value=[round(float(v), 4) for v in moving_mean], value2=[round(float(v), 4) for v in expected])
        )
    out = np.asarray(out)
    batch_normalised = np.allclose(out.mean(axis=0), 0.0, atol=1e-4)
    return passed(
        _("moving_mean = 0.01 * batch mean = {value}, the same as TF1's update op; the output is "
          "normalised with the batch statistics: {batch_normalised}.").format(value=[round(float(v), 4) for v in moving_mean], batch_normalised=batch_normalised)
    )


def check_dropout_prediction(kept_value, share_dropped) -> Feedback:
    """Exercise: predict what ``Dropout(rate=0.2)`` does to a row of ones with ``training=True``.

    Introduced in notebooks/01_layers.ipynb. The learner predicts the value of the units that
    are kept and the share of units set to 0; the check runs the layer on ``tf.ones([1, 10000])``
    and names the mistake (no rescaling, scaling by the rate, keep_prob and rate swapped).
    """
    if kept_value is None or share_dropped is None:
        return hint(_("predict both numbers first: `kept_value` and `share_dropped` (replace None)."))
    for arg, value in (("kept_value", kept_value), ("share_dropped", share_dropped)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            raise TypeError(_("`{arg}` must be a number. Received: {arg}={value!r}").format(arg=arg, value=value))
    import keras
    import tensorflow as tf

    out = keras.layers.Dropout(rate=0.2, seed=0)(tf.ones([1, 10000]), training=True).numpy()
    kept = out[out != 0]
    want_value = float(kept[0])
    want_share = 1.0 - kept.size / out.size
    problems = []
    if abs(kept_value - want_value) > 1e-3:
        if abs(kept_value - 1.0) < 1e-9:
            problems.append(_("kept units are not left at 1: Keras (like tf.nn.dropout in TF1) scales them by 1 / (1 - "
                              "rate) during training, so the expected sum stays the same"))
        elif abs(kept_value - 0.8) < 1e-9:
            problems.append(_("0.8 multiplies by the share kept; the kept units are DIVIDED by it: 1 / 0.8"))
        elif abs(kept_value - 5.0) < 1e-9:
            problems.append(_("5.0 is 1 / rate; the scaling is 1 / (1 - rate), the inverse of the share kept"))
        else:
            problems.append(_("a kept unit is {want_value:.4g}, not {kept_value}").format(want_value=want_value, kept_value=kept_value))
    if abs(share_dropped - want_share) > 0.03:
        if abs(share_dropped - 0.8) < 0.03:
            problems.append(_("0.8 is the share KEPT: `rate` is the share dropped (TF1's keep_prob was the share kept)"))
        else:
            problems.append(_("the share dropped is about rate = 0.2, not {share_dropped}").format(share_dropped=share_dropped))
    if problems:
        return hint(_("{problems}.").format(problems=_("; ").join(problems)))
    return passed(_("kept units become 1 / (1 - 0.2) = {want_value:.4g} and {want_share:.1%} of them are 0 "
                    "(random, close to rate = 0.2).").format(want_value=want_value, want_share=want_share))

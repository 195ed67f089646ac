"""labkit.train.hyperparameters: each optimizer's hyperparameters declared once, and that one
declaration is what validation, the widgets' sliders and the playground read."""

from __future__ import annotations

import inspect

import pytest

import labkit.train as lt
from labkit.teaching.widgets import hyperparameter_specs
from labkit.train.hyperparameters import FLAG, Hyperparameter


@pytest.mark.parametrize("name", list(lt.OPTIMIZERS))
def test_every_declared_hyperparameter_is_a_constructor_argument_with_that_default(name):
    cls = lt.OPTIMIZERS[name]
    params = inspect.signature(cls).parameters
    for h in cls.HYPERPARAMETERS:
        assert isinstance(h, Hyperparameter)
        assert h.name in params, h.name
        default = params[h.name].default
        assert (None if default is inspect.Parameter.empty else default) == h.default, h.name


@pytest.mark.parametrize("name", list(lt.OPTIMIZERS))
def test_every_tensor_hyperparameter_reaches_the_rule_under_its_key(name):
    cls = lt.OPTIMIZERS[name]
    kw = {"momentum": 0.9} if name == "MomentumOptimizer" else {}
    if name == "AdagradDAOptimizer":
        import tensorflow as tf

        kw["global_step"] = tf.Variable(0, dtype=tf.int64)
    opt = cls(0.1, **kw)
    keys = {h.key or h.name for h in cls.HYPERPARAMETERS if h.tensor and h.kind is not FLAG}
    assert keys <= set(opt._hyper_values), keys - set(opt._hyper_values)


@pytest.mark.parametrize("name", list(lt.OPTIMIZERS))
def test_sliders_come_from_the_declaration(name):
    cls = lt.OPTIMIZERS[name]
    specs = {s.name: s for s in hyperparameter_specs(cls)}
    for h in cls.HYPERPARAMETERS:
        if h.optional and h.default is None:
            assert h.name not in specs
            continue
        s = specs[h.name]
        if h.kind is FLAG:
            assert s.kind == "bool"
        else:
            assert (s.low, s.high, s.zero_at_min) == (*h.kind.slider, h.kind.zero_at_min)
            assert s.kind == ("log" if h.kind.scale == "log" else "float")


def test_the_declared_range_is_what_the_constructor_refuses():
    with pytest.raises(ValueError, match="`beta1` must be in \\[0, 1\\]. Received: beta1=1.5"):
        lt.AdamOptimizer(beta1=1.5)
    with pytest.raises(ValueError, match="`learning_rate_power` must be <= 0"):
        lt.FtrlOptimizer(0.1, learning_rate_power=0.5)
    lt.FtrlOptimizer(0.1, beta=None)  # optional: None means 0, as in TF1

"""labkit.teaching.widgets: controls generated from the optimizer signatures (no browser needed)."""

import inspect

import ipywidgets as widgets
import numpy as np
import pytest

import labkit.train as train
from labkit.teaching.palette import OPTIMIZER_NAMES
from labkit.teaching.widgets import (
    HyperparameterExplorer,
    controls_for,
    default_hyperparameters,
    hyperparameter_specs,
    hyperparameters_from,
    make_optimizer,
    regression_loss_curve,
)

CLASSES = [getattr(train, n) for n in OPTIMIZER_NAMES]


@pytest.mark.parametrize("cls", CLASSES, ids=OPTIMIZER_NAMES)
def test_controls_cover_the_signature_and_round_trip(cls):
    params = inspect.signature(cls).parameters
    controls = controls_for(cls)
    assert "use_locking" not in controls and "name" not in controls
    assert "learning_rate" in controls
    assert set(controls) <= set(params)
    values = hyperparameters_from(controls)
    # The defaults read back from the widgets construct the optimizer without error.
    opt = make_optimizer(cls, values)
    assert isinstance(opt, train.Optimizer)
    for name, w in controls.items():
        if isinstance(w, widgets.Checkbox):
            assert isinstance(params[name].default, bool)
        else:
            assert w.min <= np.log10(w.value) <= w.max if isinstance(w, widgets.FloatLogSlider) \
                else w.min <= w.value <= w.max


def test_ranges_follow_the_rules():
    adam = controls_for(train.AdamOptimizer)
    assert isinstance(adam["learning_rate"], widgets.FloatLogSlider)
    assert isinstance(adam["epsilon"], widgets.FloatLogSlider)
    assert isinstance(adam["beta1"], widgets.FloatSlider)
    assert (adam["beta1"].min, adam["beta1"].max) == (0.0, 0.999)
    ftrl = controls_for(train.FtrlOptimizer)
    assert (ftrl["learning_rate_power"].min, ftrl["learning_rate_power"].max) == (-1.0, 0.0)
    assert isinstance(ftrl["l1_regularization_strength"], widgets.FloatLogSlider)
    assert 10 ** ftrl["initial_accumulator_value"].min > 0
    rms = controls_for(train.RMSPropOptimizer)
    assert isinstance(rms["centered"], widgets.Checkbox)
    assert "global_step" not in controls_for(train.AdagradDAOptimizer)


def test_l1_slider_at_its_minimum_means_zero():
    controls = controls_for(train.ProximalGradientDescentOptimizer)
    assert hyperparameters_from(controls)["l1_regularization_strength"] == 0.0
    controls["l1_regularization_strength"].value = 0.5
    assert hyperparameters_from(controls)["l1_regularization_strength"] == pytest.approx(0.5)


def test_values_override_defaults_and_unknown_names_are_rejected():
    c = controls_for(train.MomentumOptimizer, {"momentum": 0.5})
    assert hyperparameters_from(c)["momentum"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="beta9"):
        controls_for(train.MomentumOptimizer, {"beta9": 1.0})


def test_bad_input():
    with pytest.raises(TypeError, match="cls"):
        hyperparameter_specs("Adam")
    with pytest.raises(TypeError, match="controls"):
        hyperparameters_from([1, 2])


def test_defaults_come_from_the_signature():
    d = default_hyperparameters(train.AdamOptimizer)
    assert d == {"learning_rate": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}


def test_regression_curve_decreases_and_explorer_redraws():
    losses = regression_loss_curve(train.GradientDescentOptimizer, {"learning_rate": 0.1}, steps=20)
    assert losses.shape == (21,)
    assert losses[-1] < 0.5 * losses[0]
    x = HyperparameterExplorer(train.GradientDescentOptimizer, steps=10)
    first = x.update()
    x.controls["learning_rate"].value = 1e-4
    second = x.update()
    assert x.plot.redraws == 2
    assert second[-1] > first[-1]  # a 1000x smaller learning rate learns less in 10 steps
    with pytest.raises(ValueError, match="steps"):
        regression_loss_curve(train.GradientDescentOptimizer, steps=0)


def test_keras_classes_expose_their_update_rule_arguments_only():
    import keras

    from labkit.teaching.widgets import hyperparameter_specs

    names = [s.name for s in hyperparameter_specs(keras.optimizers.Adam)]
    assert names == ["learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad"]
    kinds = {s.name: s.kind for s in hyperparameter_specs(keras.optimizers.Lion)}
    assert kinds == {"learning_rate": "log", "beta_1": "float", "beta_2": "float"}
    assert "weight_decay" in [s.name for s in hyperparameter_specs(keras.optimizers.AdamW)]

"""Instructors' solutions to the exercises of notebooks/08_custom_optimizers.ipynb.

Paste the class into the exercise cell, or run: ``check_amsgrad(AMSGrad)``.
"""

import keras
import tensorflow as tf

# Exercise 1: which Keras argument reproduces the text's loop of tf.clip_by_norm(g, 5)?
prediction = {"clipnorm": True, "global_clipnorm": False}


# Exercise 2: AMSGrad the Keras 3 way.
class AMSGrad(keras.optimizers.Optimizer):
    """Adam whose second moment never decreases (Reddi et al., 2018), as a Keras 3 optimizer."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name="amsgrad", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.m = [self.add_variable_from_reference(v, "m") for v in var_list]
        self.v = [self.add_variable_from_reference(v, "v") for v in var_list]
        self.vhat = [self.add_variable_from_reference(v, "vhat") for v in var_list]

    def update_step(self, gradient, variable, learning_rate):
        i = self._get_variable_index(variable)
        m, v, vhat = self.m[i], self.v[i], self.vhat[i]
        lr = tf.cast(learning_rate, variable.dtype)
        g = tf.cast(gradient, variable.dtype)
        t = tf.cast(self.iterations + 1, variable.dtype)
        self.assign(m, m + (g - m) * (1 - self.beta_1))
        self.assign(v, v + (tf.square(g) - v) * (1 - self.beta_2))
        self.assign(vhat, tf.maximum(vhat, v))
        alpha = lr * tf.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        self.assign_sub(variable, alpha * m / (tf.sqrt(vhat) + self.epsilon))

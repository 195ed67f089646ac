"""The teaching layer: widgets, live plots, the optimizer playground and the exercise checks.

Built on the library (``labkit.train``, ``labkit.summary``...); nothing in the library imports it.
Introduced in notebooks/03a_optimizers.ipynb (plots, palette) and 04_playground.ipynb (widgets).
"""

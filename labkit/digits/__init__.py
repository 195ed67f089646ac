"""The digits model and the capstone's training run.

``labkit.digits.model``: the small MLP the lessons train (notebooks/05_digits_comparison.ipynb).
``labkit.digits.run``: the capstone's program as a function and a command line
(``python -m labkit.digits.run``; notebooks/11_capstone.ipynb).
"""

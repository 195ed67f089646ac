"""Exercise checks with instant, specific feedback.

One module per notebook topic (``labkit.teaching.exercises.optimizers`` and so on); every check
returns a :class:`Feedback` that says what is right, or gives a specific hint.
"""

from labkit.teaching.exercises.feedback import Feedback

__all__ = ["Feedback"]

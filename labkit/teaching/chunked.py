"""Training in chunks so widgets stay responsive (introduced in notebooks/05_digits_comparison.ipynb).

A cell that trains for a minute blocks the kernel: sliders freeze and a Stop button cannot be
clicked, because the kernel handles widget messages only between cells. ``ChunkedTrainer``
runs ``chunk_size`` steps, calls your ``on_chunk`` callback (update a ``LivePlot``), then
*yields to the event loop* (``await asyncio.sleep(0)``) so the kernel can process clicks and
slider moves, and continues. ``start()`` schedules that loop as an asyncio task and returns at
once; ``run()`` is the same loop, synchronous, for tests and nbval.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from labkit.i18n import _

__all__ = ["ChunkedTrainer"]


class ChunkedTrainer:
    """Run ``step_fn(i)`` for ``total_steps`` steps, in chunks, with a Stop button and tqdm.

    Introduced in notebooks/05_digits_comparison.ipynb.

    Args:
        step_fn: called with the step index (0-based); returns a number (the loss) or a dict
            of numbers; recorded in ``history``.
        total_steps: positive integer.
        chunk_size: steps between callbacks / yields to the event loop.
        on_chunk: optional ``callback(trainer)`` after each chunk (e.g. redraw a LivePlot).
        progress: show a tqdm progress bar (``tqdm.auto``: a widget in Jupyter, text elsewhere).
        description: the progress bar's label.

    Example::

        trainer = ChunkedTrainer(lambda i: float(step(x, y)), total_steps=500, chunk_size=25)
        trainer.run(50)        # plain call: 50 steps now
        trainer                # shows the Start and Stop buttons + progress
        trainer.start()        # the rest in the background; the kernel stays responsive
    """

    def __init__(self, step_fn: Callable[[int], Any], total_steps: int, chunk_size: int = 20,
                 on_chunk: Callable[[ChunkedTrainer], Any] | None = None,
                 progress: bool = True, description: str = "training") -> None:
        if not callable(step_fn):
            raise TypeError(f"`step_fn` must be callable. Received: step_fn={step_fn!r}")
        for arg, value in (("total_steps", total_steps), ("chunk_size", chunk_size)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"`{arg}` must be a positive integer. Received: {arg}={value!r}")
        if on_chunk is not None and not callable(on_chunk):
            raise TypeError(f"`on_chunk` must be callable or None. Received: on_chunk={on_chunk!r}")
        self.step_fn = step_fn
        self.total_steps = int(total_steps)
        self.chunk_size = int(chunk_size)
        self.on_chunk = on_chunk
        self.progress = bool(progress)
        self.description = description
        self.step = 0
        self.history: list[Any] = []
        self.stopped = False
        self.task: asyncio.Task | None = None
        self.seconds = 0.0
        self._bar = None
        self._start_button = None
        self._stop_button = None
        self._status = None

    # ------------------------------------------------------------------ state
    @property
    def done(self) -> bool:
        """True when all steps ran or Stop was pressed."""
        return self.stopped or self.step >= self.total_steps

    def stop(self, *_button: Any) -> None:
        """Ask the loop to stop after the current step (what the Stop button calls)."""
        self.stopped = True
        self._disable_buttons()
        self._set_status(_("stopped at step {step}").format(step=self.step))

    def _disable_buttons(self, stop_too: bool = True) -> None:
        if self._start_button is not None:
            self._start_button.disabled = True
        if stop_too and self._stop_button is not None:
            self._stop_button.disabled = True

    def _set_status(self, text: str) -> None:
        if self._status is not None:
            self._status.value = text

    def _progress_bar(self):
        if self._bar is None and self.progress:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total_steps, desc=self.description, leave=True)
        return self._bar

    def run_chunk(self) -> int:
        """Run up to ``chunk_size`` steps now; returns how many ran. Calls ``on_chunk``."""
        t0 = time.perf_counter()
        ran = 0
        while ran < self.chunk_size and not self.done:
            self.history.append(self.step_fn(self.step))
            self.step += 1
            ran += 1
        self.seconds += time.perf_counter() - t0
        bar = self._progress_bar()
        if bar is not None and ran:
            bar.update(ran)
            bar.refresh()  # show the new count now (tqdm skips displays closer than mininterval)
        if ran and self.on_chunk is not None:
            self.on_chunk(self)
        if self.done:
            self._finish()
        return ran

    def _finish(self) -> None:
        if self._bar is not None:
            self._bar.refresh()
        self._disable_buttons()
        if not self.stopped:
            self._set_status(_("finished {step} steps").format(step=self.step))

    def run(self, steps: int | None = None) -> list[Any]:
        """Synchronously run ``steps`` more steps (default: until done). Returns ``history``."""
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, (int, np.integer))
                                  or steps < 0):
            raise ValueError(f"`steps` must be a non-negative integer or None. Received: steps={steps!r}")
        target = self.total_steps if steps is None else min(self.total_steps, self.step + int(steps))
        while not self.done and self.step < target:
            saved = self.chunk_size
            self.chunk_size = min(saved, target - self.step)
            try:
                self.run_chunk()
            finally:
                self.chunk_size = saved
        return self.history

    async def run_async(self) -> list[Any]:
        """The chunked loop, yielding to the event loop between chunks."""
        while not self.done:
            self.run_chunk()
            await asyncio.sleep(0)
        return self.history

    def start(self) -> asyncio.Task:
        """Schedule ``run_async`` on the running event loop (Jupyter's) and return its task.

        Needs a running loop (a Jupyter kernel has one); elsewhere use ``run()``.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = asyncio.get_event_loop()
        self._disable_buttons(stop_too=False)
        self._set_status(_("running..."))
        self.task = loop.create_task(self.run_async())
        return self.task

    # ------------------------------------------------------------------ widget
    @property
    def widget(self):
        """A Start button (calls ``start``), a Stop button (``stop``) and a status label (the
        tqdm bar shows itself)."""
        import ipywidgets as widgets

        if self._stop_button is None:
            self._start_button = widgets.Button(description=_("Start"), button_style="success",
                                                icon="play", disabled=self.done)
            self._start_button.on_click(lambda _button: self.start())
            self._stop_button = widgets.Button(description=_("Stop"), button_style="danger",
                                               icon="stop", disabled=self.done)
            self._stop_button.on_click(self.stop)
            self._status = widgets.Label(_("step {step} of {total}").format(
                step=self.step, total=self.total_steps))
        return widgets.HBox([self._start_button, self._stop_button, self._status])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

"""Stopping a server started in its own process group (TensorBoard, JupyterLab).

Introduced in notebooks/10_summary_tensorboard.ipynb (``labkit.tensorboard.stop`` uses it);
the lab's tests and ``benchmarks/time_to_lab.py`` stop ``make lab`` with it too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess

__all__ = ["stop_process_group"]


def stop_process_group(proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """Stop ``proc`` and every process in its group (it must have been started with
    ``start_new_session=True``): SIGTERM, wait up to ``timeout`` seconds, then SIGKILL.

    Children that share the group (TensorBoard's data server, the kernels of a JupyterLab)
    are killed too, so none outlive it. Safe to call on a process that already exited.
    """
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)

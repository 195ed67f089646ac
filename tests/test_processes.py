"""labkit.processes: stopping a server's whole process group."""

import os
import subprocess
import sys
import time

import psutil

from labkit.processes import stop_process_group

# a parent that starts a child in the same group, then sleeps; optionally ignoring SIGTERM
SCRIPT = """
import signal, subprocess, sys, time
if sys.argv[1] == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(child.pid, flush=True)
time.sleep(600)
"""


def start(mode: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, mode], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    child = int(proc.stdout.readline())
    return proc, child


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_stops_the_process_and_its_children():
    proc, child = start("normal")
    assert not gone(child)
    stop_process_group(proc, timeout=10)
    assert proc.returncode is not None
    deadline = time.monotonic() + 10
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gone(child)


def test_kills_a_process_that_ignores_sigterm_after_the_timeout():
    proc, child = start("stubborn")
    t = time.monotonic()
    stop_process_group(proc, timeout=1)
    assert proc.returncode == -9  # SIGKILL
    assert time.monotonic() - t < 10


def test_an_exited_process_is_fine():
    proc = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    proc.wait()
    stop_process_group(proc)  # no error
    assert proc.returncode == 0
    assert os.getpgid(os.getpid()) != proc.pid

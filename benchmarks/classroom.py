"""Size a classroom: run every notebook in a fresh kernel and measure what a hub must provide.

For each notebook in ``notebooks/*.ipynb`` (or the ones named on the command line) this
script executes the notebook top to bottom with nbclient in a new kernel (cwd = notebooks/,
as under nbval and JupyterLab) and measures:

- **minutes**: wall time from asking for the kernel to the last cell finishing;
- **peak RSS**: the largest resident memory of the kernel's whole process tree (the kernel and
  anything it starts, e.g. TensorBoard), sampled every 0.2 s with psutil; this is the figure the
  course's 1200 MB target and the hub sizing use. The processes in the tree at that sample are
  listed under the table when there was more than one. One process is left out of a sample: a
  child that still shares its parent's memory (``subprocess`` starts programs with vfork, so for
  the moment between vfork and exec the child *is* the kernel's memory, and its RSS reads the
  same ~0.9 GB again); Linux's kcmp(KCMP_VM) tells which. Without this a sample that fell in that
  window once doubled 09_saver's kernel (1891 MB: 945 + 945; 09_saver started such a child then);
- **peak with shared pages once** (extra column, not the target): at the same samples, the
  kernel's RSS plus the USS (pages no other process maps, from ``/proc/<pid>/smaps_rollup``) of
  each process it started. RSS counts a page of a shared library in every process that maps it:
  a child that loads TensorFlow again (as 09_saver's fresh process did before 09b took it over, ~0.4 GB of
  ``libtensorflow_cc.so.2`` resident) counts those pages a second time although the machine holds
  them once. This column counts them once, in the kernel (approximately: a child's page that a
  process outside the tree also maps is left out too). (PSS was tried first and dropped: it
  divides shared pages among every process on the machine that maps them, so on a shared
  machine the same notebook read 512-892 MB depending on what else was running.)
- **first widget**: seconds from asking for the kernel until the first widget is displayed
  (the first ``application/vnd.jupyter.widget-view+json`` output), i.e. what a learner waits
  after "Run All" before a slider appears;
- **learners per 64 GB**: ``floor(64 GiB * (1 - headroom) / peak RSS)`` with the stated headroom
  (default 25 %) left for the OS, the single-user Jupyter servers and spikes, assuming each
  learner has one running kernel (the guide tells learners to shut finished kernels down).

With ``artifacts/hub/memory.json`` present (written by tests/test_hub.py, which runs the real
JupyterHub of hub/ with two learners; ``--hub-memory`` names another file) the report adds the
hub's **per-learner memory**: each learner's Unix account summed (single-user server + kernel +
TensorBoard) while running a notebook through the hub, the server alone, and per notebook the
estimate server + that notebook's kernel-tree peak, with learners per 64 GB from it.

It writes a Markdown table with the date and machine to ``docs/classroom-measurements.md``
(docs/instructor-guide.md links it). The run is offline like the test suite: the kernels get
a dead proxy (HTTP(S)_PROXY = a closed loopback port), so a notebook that needs the network
fails here. Nothing is asserted; numbers on a shared machine are noisy, so the file records
the load average at the start and at the end.

    .venv/bin/python benchmarks/classroom.py                  # all notebooks
    .venv/bin/python benchmarks/classroom.py 04_playground    # just one (table has one row)
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as dt
import json
import math
import os
import platform
import sys
import threading
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "docs" / "classroom-measurements.md"
OFFLINE_PROXY = "http://127.0.0.1:9"  # the same dead proxy as conftest.py
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
GIB = 1024**3
HUB_GB = 64
TARGET_MB = 1200  # the per-notebook peak the course aims for (kernel and what it starts)
DEFAULT_HUB_MEMORY = ROOT / "artifacts" / "hub" / "memory.json"


@dataclass
class Measurement:
    notebook: str
    status: str
    seconds: float
    peak_rss: int
    first_widget_s: float | None
    peak_shared_once: int | None = None
    at_peak: tuple[tuple[str, int], ...] = ()  # (process, RSS) in the tree at the RSS peak

    def learners_per_hub(self, headroom: float) -> int:
        return math.floor(HUB_GB * GIB * (1 - headroom) / self.peak_rss) if self.peak_rss else 0


class TimedClient(NotebookClient):
    """nbclient that notes when the first widget view is displayed."""

    t0: float = 0.0
    first_widget: float | None = None

    def output(self, outs, msg, display_id, cell_index):
        data = msg.get("content", {}).get("data") or {}
        if self.first_widget is None and WIDGET_MIME in data:
            self.first_widget = time.monotonic() - self.t0
        return super().output(outs, msg, display_id, cell_index)


def uss(pid: int) -> int | None:
    """Unique set size in bytes (private clean + dirty pages, Linux ``smaps_rollup``), None if unreadable."""
    total, found = 0, False
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    total += int(line.split()[1]) * 1024
                    found = True
    except OSError:
        return None
    return total if found else None


_libc = None


def shares_memory(pid: int, other: int) -> bool:
    """True when two processes use the very same memory (Linux kcmp(2), KCMP_VM), as a vfork child does
    until it calls exec. False when they do not, or when it cannot be told (not Linux x86-64, no kcmp)."""
    global _libc
    if sys.platform != "linux" or platform.machine() != "x86_64":
        return False
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    sys_kcmp, kcmp_vm = 312, 1  # asm/unistd_64.h, linux/kcmp.h
    return _libc.syscall(sys_kcmp, pid, other, kcmp_vm, 0, 0) == 0


def label(proc: psutil.Process, root_pid: int) -> str:
    """A short name for a process of the tree: "kernel", or its command line cut to 60 characters."""
    if proc.pid == root_pid:
        return "kernel"
    try:
        args = proc.cmdline()
    except psutil.Error:
        return "?"
    if not args:
        return proc.name()
    args[0] = os.path.basename(args[0])  # "python", not the venv's full path
    if "-c" in args[:-1]:  # python -c CODE ...: the code is long; its arguments say more
        args[args.index("-c") + 1] = "<script>"
    return " ".join(" ".join(args).split())[:60]


class TreeSampler(threading.Thread):
    """Samples the RSS of the kernel process and all its descendants (and its children's USS) until stopped."""

    def __init__(self, client: NotebookClient, interval: float = 0.2):
        super().__init__(daemon=True)
        self.client, self.interval = client, interval
        self.peak = 0
        self.peak_shared_once: int | None = None
        self.at_peak: tuple[tuple[str, int], ...] = ()
        self.done = threading.Event()

    def pid(self) -> int | None:
        km = getattr(self.client, "km", None)
        provisioner = getattr(km, "provisioner", None) if km is not None else None
        return getattr(provisioner, "pid", None) if provisioner is not None else None

    def run(self) -> None:
        while not self.done.is_set():
            pid = self.pid()
            if pid:
                try:
                    root = psutil.Process(pid)
                    procs = [root, *root.children(recursive=True)]
                    total, shared_once, seen = 0, 0, []
                    for p in procs:
                        try:
                            if p.pid != pid and shares_memory(p.ppid(), p.pid):
                                continue  # vfork'd, not yet exec'd: its parent's memory, counted there
                            rss = p.memory_info().rss
                        except (psutil.NoSuchProcess, psutil.AccessDenied):
                            continue
                        total += rss
                        seen.append((label(p, pid), rss))
                        if p.pid == pid:
                            shared_once += rss
                        else:  # what the child holds that no other process maps (e.g. not the kernel's TF)
                            unique = uss(p.pid)
                            shared_once += rss if unique is None else unique
                    if total > self.peak:
                        self.peak, self.at_peak = total, tuple(seen)
                    if shared_once:
                        self.peak_shared_once = max(self.peak_shared_once or 0, shared_once)
                except psutil.NoSuchProcess:
                    pass
            self.done.wait(self.interval)


def offline_env() -> None:
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        os.environ[key] = OFFLINE_PROXY
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["LABKIT_OFFLINE"] = "1"
    os.environ.pop("MPLBACKEND", None)  # kernels use the inline backend, as for a learner


def measure(path: Path, timeout: int) -> Measurement:
    """Execute one notebook in a fresh kernel; never writes the notebook back."""
    nb = nbformat.read(path, as_version=4)
    client = TimedClient(nb, kernel_name="python3", timeout=timeout,
                         resources={"metadata": {"path": str(path.parent)}})
    sampler = TreeSampler(client)
    sampler.start()
    client.t0 = time.monotonic()
    status = "ok"
    try:
        client.execute()
    except CellExecutionError as err:
        status = f"error: {getattr(err, 'ename', type(err).__name__)}"
    except (CellTimeoutError, DeadKernelError) as err:
        status = f"error: {type(err).__name__}"
    finally:
        seconds = time.monotonic() - client.t0
        sampler.done.set()
        sampler.join()
    return Measurement(path.name, status, seconds, sampler.peak, client.first_widget,
                       sampler.peak_shared_once, sampler.at_peak)


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = psutil.virtual_memory().total / GIB
    return f"{os.cpu_count()} cores ({model}), {ram:.1f} GiB RAM, {platform.system()} {platform.release()}"


def versions() -> str:
    found = []
    for pkg in ("tensorflow", "keras", "jupyterlab", "ipywidgets"):
        try:
            found.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            found.append(f"{pkg} (missing)")
    return f"Python {platform.python_version()}, " + ", ".join(found)


def per_hub(mb: float, headroom: float) -> int:
    return math.floor(HUB_GB * GIB * (1 - headroom) / (mb * 1e6)) if mb else 0


def render_hub(hub: dict, rows: list[Measurement], headroom: float) -> list[str]:
    """The real hub's per-learner memory (tests/test_hub.py's artifacts/hub/memory.json)."""
    learners = hub.get("learners", {})
    if not learners:
        return []
    server = max((v.get("server_only_mb") or 0 for v in learners.values()), default=0)
    lines = [
        "",
        "## Per learner on a real JupyterHub",
        "",
        f"Measured by `tests/test_hub.py` on {hub.get('measured', '?')}: the hub of `hub/` "
        "(JupyterHub, LocalProcessSpawner, one Unix account per learner) with two learners, each "
        f"running `{hub.get('notebook', '?')}` in JupyterLab through the hub. Memory: "
        + hub.get("what", "summed RSS of the learner's processes") + ".",
        "",
        "| Learner | Server alone (MB) | Peak while running the notebook (MB) | After the run (MB) | Login to lab (s) | Notebook run (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for i, v in enumerate(learners.values()):
        lines.append(f"| {'AB'[i] if i < 2 else i} | {v.get('server_only_mb', '?')} | {v['peak_mb']} "
                     f"| {v['after_run_mb']} | {v['login_to_lab_s']} | {v['run_s']} |")
    first = next(iter(learners.values()))
    if first.get("processes_after_run"):
        lines += ["", "What learner A's account ran after the notebook (RSS):", "", "```",
                  *first["processes_after_run"], "```"]
    if rows and server:
        lines += [
            "",
            f"Per learner, per notebook: the single-user server ({server} MB, the larger of the two "
            "measured) plus the notebook's kernel-tree peak from the table above; one running "
            f"kernel per learner, {headroom:.0%} headroom.",
            "",
            f"| Notebook | Kernel tree peak (MB) | Per learner on the hub (MB) | Learners per {HUB_GB} GB |",
            "|---|---:|---:|---:|",
        ]
        for r in rows:
            mb = server + r.peak_rss / 1e6
            lines.append(f"| {r.notebook} | {r.peak_rss / 1e6:.0f} | {mb:.0f} | {per_hub(mb, headroom)} |")
    return lines


def render(rows: list[Measurement], headroom: float, load: tuple[str, str], took: float,
           hub: dict | None = None) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Classroom measurements",
        "",
        "Generated by `benchmarks/classroom.py` -- do not edit by hand; re-run "
        "`.venv/bin/python benchmarks/classroom.py` on your own hub image to refresh it.",
        "",
        f"- Date: {now}",
        f"- Machine: {machine()}",
        f"- Software: {versions()}",
        f"- Load average (1 min) at start / end: {load[0]} / {load[1]} "
        "(other work on the machine slows the notebooks down; treat times as upper bounds on a busy machine)",
        f"- The whole measurement took {took / 60:.1f} minutes.",
        "- Each notebook ran top to bottom in a fresh kernel (nbclient, cwd = notebooks/), offline.",
        f"- Learners per {HUB_GB} GB = floor({HUB_GB} GiB x {1 - headroom:.2f} / peak RSS): "
        f"{headroom:.0%} of the memory is left as headroom for the OS, the single-user Jupyter "
        "servers and spikes; one running kernel per learner.",
        "",
        f"| Notebook | Status | Run time (min) | Peak RSS of kernel tree (MB) | Time to first widget (s) | Learners per {HUB_GB} GB | Peak, shared pages once (MB) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        widget = f"{r.first_widget_s:.1f}" if r.first_widget_s is not None else "no widgets"
        once = f"{r.peak_shared_once / 1e6:.0f}" if r.peak_shared_once else "?"
        lines.append(f"| {r.notebook} | {r.status} | {r.seconds / 60:.2f} | {r.peak_rss / 1e6:.0f} "
                     f"| {widget} | {r.learners_per_hub(headroom)} | {once} |")
    if rows:
        worst = max(rows, key=lambda r: r.peak_rss)
        total = sum(r.seconds for r in rows)
        lines += [
            f"| **all ({len(rows)} notebook(s))** | {sum(r.status == 'ok' for r in rows)} ok "
            f"| {total / 60:.2f} | {worst.peak_rss / 1e6:.0f} (max) | | {worst.learners_per_hub(headroom)} | |",
            "",
            f"Size a hub by the heaviest notebook: with everyone on `{worst.notebook}` at once, "
            f"a {HUB_GB} GB node holds {worst.learners_per_hub(headroom)} learners.",
        ]
        over = [f"`{r.notebook}` ({r.peak_rss / 1e6:.0f} MB)" for r in rows if r.peak_rss / 1e6 > TARGET_MB]
        lines += ["", f"Above the course's {TARGET_MB} MB per-notebook target (peak RSS): "
                  + (", ".join(over) or "none") + "."]
        several = [r for r in rows if len(r.at_peak) > 1]
        if several:
            lines += ["", "Where the peak came from, for notebooks whose kernel had started other processes "
                      "(RSS of each process at the sample with the largest sum):", ""]
            lines += [f"- `{r.notebook}`: " + "; ".join(f"{name} {rss / 1e6:.0f} MB" for name, rss in r.at_peak)
                      for r in several]
        lines += ["", "Last column, for information only (the target and the sizing above use RSS): the "
                  "kernel's RSS plus what each process it started holds that no other process maps (its "
                  "USS). RSS counts a shared library's pages in every process that maps it, so a child "
                  "that loads TensorFlow again counts about 0.4 GB of the library the kernel already holds; "
                  "the machine holds those pages once."]
    if hub:
        lines += render_hub(hub, rows, headroom)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("notebooks", nargs="*", help="notebook names or stems (default: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--headroom", type=float, default=0.25,
                        help="fraction of the hub's memory kept free (default 0.25)")
    parser.add_argument("--timeout", type=int, default=900, help="per-cell timeout in seconds")
    parser.add_argument("--hub-memory", type=Path, default=DEFAULT_HUB_MEMORY,
                        help="tests/test_hub.py's per-learner measurement (added when the file exists)")
    args = parser.parse_args(argv)
    if not 0 <= args.headroom < 1:
        parser.error(f"--headroom must be in [0, 1), received {args.headroom}")
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.notebooks:
        wanted = {n.removesuffix(".ipynb") for n in args.notebooks}
        unknown = wanted - {p.stem for p in paths}
        if unknown:
            parser.error(f"no such notebook(s) in notebooks/: {sorted(unknown)}")
        paths = [p for p in paths if p.stem in wanted]
    offline_env()
    start, load_start = time.monotonic(), f"{os.getloadavg()[0]:.1f}"
    rows = []
    for path in paths:
        print(f"{path.name}: running ...", flush=True)
        r = measure(path, args.timeout)
        rows.append(r)
        print(f"{path.name}: {r.status}, {r.seconds:.1f} s, peak RSS {r.peak_rss / 1e6:.0f} MB, "
              f"first widget {r.first_widget_s}", flush=True)
    hub = json.loads(args.hub_memory.read_text()) if args.hub_memory.exists() else None
    text = render(rows, args.headroom, (load_start, f"{os.getloadavg()[0]:.1f}"), time.monotonic() - start, hub)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0 if all(r.status == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

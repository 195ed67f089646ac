"""Playground benchmark: median time to recompute AND redraw the trajectories of all ten
optimizers for 300 steps, after warm-up (issue 4 target: <= 100 ms). Prints, never asserts.

Each repeat is one slider move (Adam's learning rate, a tensor input: no retrace) followed by
``Playground.update()``; compute (the ten compiled optimizer runs) and draw (blit the paths
over the cached contour + PNG encoding) are timed inside ``update`` and reported separately.

Run: .venv/bin/python benchmarks/playground.py [surface] [repeats]
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from labkit.seeding import seed_everything  # noqa: E402
from labkit.teaching.playground import Playground  # noqa: E402


def main() -> None:
    surface = sys.argv[1] if len(sys.argv) > 1 else "rosenbrock"
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    tf.get_logger().setLevel("ERROR")
    seed_everything(0)
    pg = Playground(surface, None, steps=300)
    t0 = time.perf_counter()
    pg.update()  # warm-up: traces and XLA-compiles one function per optimizer
    warm = time.perf_counter() - t0
    compute, draw, total = [], [], []
    rng = np.random.default_rng(0)
    for _ in range(repeats):
        pg.set_hyper("Adam", learning_rate=float(10 ** rng.uniform(-3, -1)))
        pg.update()
        compute.append(pg.last_compute_seconds)
        draw.append(pg.last_draw_seconds)
        total.append(pg.last_seconds)
    med = {k: 1000 * float(np.median(v)) for k, v in
           (("compute", compute), ("draw", draw), ("total", total))}
    print(f"surface={surface} optimizers=10 steps=300 repeats={repeats} warm-up={warm:.1f} s "
          f"(full renders: {pg.plot.full_draws})")
    print(f"recompute:          median {med['compute']:.1f} ms")
    print(f"redraw:             median {med['draw']:.1f} ms")
    print(f"recompute + redraw: median {med['total']:.1f} ms  "
          f"(target <= 100 ms: {med['total'] / 100:.2f}x the target)")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()

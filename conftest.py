"""Suite-wide settings: the whole test run, notebook kernels included, is offline.

HTTP(S)_PROXY point at a closed loopback port, so anything that tries to download a
dataset or a model fails at once instead of quietly using the network; loopback
traffic (Jupyter, TensorBoard) is exempt through NO_PROXY. Kernels started by nbval
inherit this environment. tests/test_offline.py checks that the block holds.
"""

import os
import posixpath

import pytest

OFFLINE_PROXY = "http://127.0.0.1:9"  # discard port: nothing listens, connections are refused


def pytest_configure(config):
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        os.environ[key] = OFFLINE_PROXY
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # C++ log lines must not land in checked outputs
    os.environ["LABKIT_OFFLINE"] = "1"


# A notebook that reads another notebook's files runs after it, on the same pytest-xdist worker:
# 09b loads the SavedModel that 09_saver writes (checkpoints/09_saver/, in each edition's folder),
# and 09b's solutions load the English edition's (notebooks/checkpoints/09_saver/). The path is
# relative to the reading notebook's folder. Collection order puts 09_saver first; one scope
# keeps that order on one worker.
RUNS_AFTER = {"09b_savedmodel_fresh_process.ipynb": "09_saver.ipynb",
              "09b_savedmodel_fresh_process_solutions.ipynb": "../09_saver.ipynb"}


def run_after_scope(scope: str) -> str:
    """The xdist scope (a test file's path) that ``scope`` joins: its own, or RUNS_AFTER's."""
    folder, _, name = scope.rpartition("/")
    if name not in RUNS_AFTER:
        return scope
    return posixpath.normpath(posixpath.join(folder, RUNS_AFTER[name]))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class NotebookOrderScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return run_after_scope(super()._split_scope(nodeid))

    return NotebookOrderScheduling(config, log)

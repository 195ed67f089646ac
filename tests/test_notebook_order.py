"""conftest.py's RUNS_AFTER: a notebook that reads another's files shares its pytest-xdist scope."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _conftest():
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("scope", "expected"), [
    ("notebooks/09b_savedmodel_fresh_process.ipynb", "notebooks/09_saver.ipynb"),
    ("notebooks/zh_CN/09b_savedmodel_fresh_process.ipynb", "notebooks/zh_CN/09_saver.ipynb"),
    ("notebooks/solutions/09b_savedmodel_fresh_process_solutions.ipynb", "notebooks/09_saver.ipynb"),
    ("notebooks/09_saver.ipynb", "notebooks/09_saver.ipynb"),
    ("tests/test_data.py", "tests/test_data.py"),
])
def test_readers_share_the_writers_scope(scope, expected):
    assert _conftest().run_after_scope(scope) == expected


def test_every_scope_it_names_exists():
    conftest = _conftest()
    for folder in ("notebooks", "notebooks/zh_CN", "notebooks/solutions"):
        for reader in conftest.RUNS_AFTER:
            if (ROOT / folder / reader).exists():
                assert (ROOT / conftest.run_after_scope(f"{folder}/{reader}")).exists(), reader

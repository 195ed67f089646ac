# TF Training Lab launcher. Two commands matter:
#   make lab    set up if needed, then open JupyterLab on notebooks/00_start_here.ipynb
#   make test   set up if needed, then run every test (pytest, ruff, nbval, browser)
# Setup is idempotent: the virtualenv is (re)installed only when pyproject.toml changes.

PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8888
# pytest-xdist workers for make test; --dist loadfile keeps each notebook (and each test file) on one worker
TEST_WORKERS ?= 2
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.labkit-installed

.PHONY: setup lab test check lint notebooks-clean doctor reset bench classroom clean-venv

setup:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "TF Training Lab needs Python >= 3.10, found " + sys.version.split()[0])'
	@want=$$(sha256sum pyproject.toml | cut -c1-16); \
	if [ -x $(BIN)/python ] && [ -f $(STAMP) ] && [ "$$(cat $(STAMP))" = "$$want" ]; then \
	  echo "setup: $(VENV) is up to date (pyproject.toml unchanged)"; \
	else \
	  echo "setup: installing into $(VENV) (first run takes a few minutes)"; \
	  [ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV) || exit 1; \
	  $(BIN)/python -m pip install --quiet --upgrade pip && \
	  $(BIN)/python -m pip install --quiet -e '.[test]' && \
	  echo "$$want" > $(STAMP) && echo "setup: done"; \
	fi

lab: setup
	$(BIN)/python -m labkit lab --port $(PORT) $(LAB_FLAGS)

# The suite runs with TMPDIR set to a fresh directory: notebook kernels that nbval stops leave
# TensorFlow's __autograph_generated_file*.py behind (hundreds per run), and TensorBoard's server
# registry ($$TMPDIR/.tensorboard-info) stays separate from any TensorBoard the user has open.
# Removed after a passing run; kept, with its path printed, after a failing one.
test: setup
	@tmp=$$(mktemp -d -t tf-training-lab-test.XXXXXX) && \
	echo "TMPDIR=$$tmp $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)" && \
	TMPDIR=$$tmp $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS); \
	rc=$$?; \
	if [ $$rc -eq 0 ]; then rm -rf "$$tmp"; else echo "make test: temporary files kept in $$tmp"; fi; \
	exit $$rc

lint: setup
	$(BIN)/ruff check labkit tests benchmarks

# The inner loop: lint, types, docstring examples and the unit tests (no notebooks, no browser,
# no multi-process kill tests). make test runs all of it and more.
check: setup
	$(BIN)/ruff check labkit tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -q -p no:cacheprovider -o addopts="" \
	  -m "not browser and not slow" --doctest-modules labkit/train tests

notebooks-clean: setup
	$(BIN)/python -m labkit.notebooks clean notebooks

doctor: setup
	$(BIN)/python -m labkit doctor

reset: setup
	$(BIN)/python -m labkit reset

bench: setup
	$(BIN)/python benchmarks/optimizers.py
	$(BIN)/python benchmarks/xla_vs_eigen.py
	$(BIN)/python benchmarks/playground.py
	$(BIN)/python benchmarks/saver.py

classroom: setup
	$(BIN)/python benchmarks/classroom.py

clean-venv:
	rm -rf $(VENV)

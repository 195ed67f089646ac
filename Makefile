# TF Training Lab launcher. Two commands matter:
#   make lab    set up if needed, then open JupyterLab on notebooks/00_start_here.ipynb
#               (make lab LAB_LANG=zh_CN: the Chinese edition, notebooks/zh_CN/, Chinese menus)
#   make test   set up if needed, then run every test (pytest, ruff, nbval, browser)
#   make hub    (as root) the classroom: JupyterHub, one Unix account per learner (hub/)
#   make translations   the Chinese edition: refresh the catalogs after an English change, then
#               regenerate notebooks/zh_CN/ (docs/instructor-guide.md, "The Chinese edition")
# Setup is idempotent: the virtualenv is (re)installed only when pyproject.toml changes.

PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8888
# The lab's language: en, or zh_CN (the Chinese edition with JupyterLab's menus in Chinese).
# Not named LANG: that is the process locale; `make lab LANG=zh_CN` would export LANG=zh_CN (a
# locale this machine may not have) to Jupyter and every kernel, and `LANG ?=` would read the
# user's own locale (e.g. en_US.UTF-8) as the lab's language.
LAB_LANG ?= en
# pytest-xdist workers for make test; --dist loadfile keeps each notebook (and each test file) on one worker
TEST_WORKERS ?= 2
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.labkit-installed

.PHONY: setup lab test check lint notebooks-clean doctor reset bench classroom clean-venv hub browser-deps translations

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
	$(BIN)/python -m labkit lab --port $(PORT) --lang $(LAB_LANG) $(LAB_FLAGS)

# The suite runs with TMPDIR set to a fresh directory: notebook kernels that nbval stops leave
# TensorFlow's __autograph_generated_file*.py behind (hundreds per run), and TensorBoard's server
# registry ($$TMPDIR/.tensorboard-info) stays separate from any TensorBoard the user has open.
# Removed after a passing run; kept, with its path printed, after a failing one.
# The browser tests need Debian's Chromium (/usr/bin/chromium); the hub test also needs root and
# configurable-http-proxy (npm). browser-deps installs what is missing when it can (as root);
# otherwise make test ends with a line naming the skipped tests and the command that enables them.
test: setup browser-deps
	@tmp=$$(mktemp -d -t tf-training-lab-test.XXXXXX) && \
	echo "TMPDIR=$$tmp $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)" && \
	TMPDIR=$$tmp $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS); \
	rc=$$?; \
	if [ $$rc -eq 0 ]; then rm -rf "$$tmp"; else echo "make test: temporary files kept in $$tmp"; fi; \
	[ -x $(CHROMIUM) ] || echo "make test: SKIPPED the browser tests (tests/test_browser.py, tests/test_hub.py): no $(CHROMIUM). Enable them with: sudo make browser-deps"; \
	if [ -x $(CHROMIUM) ] && { [ "$$(id -u)" != 0 ] || ! command -v configurable-http-proxy >/dev/null; }; then \
	  echo "make test: SKIPPED tests/test_hub.py (needs root and configurable-http-proxy). Enable it with: sudo make browser-deps test"; fi; \
	exit $$rc

CHROMIUM = /usr/bin/chromium
browser-deps:
	@if [ "$$(id -u)" = 0 ] && [ ! -x $(CHROMIUM) ] && command -v apt-get >/dev/null; then \
	  echo "browser-deps: installing chromium (Debian package) for the browser tests"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
	  echo "browser-deps: could not install chromium: the browser tests will be skipped"; fi
	@if [ "$$(id -u)" = 0 ] && [ -z "$$(fc-list :lang=zh 2>/dev/null)" ] && command -v apt-get >/dev/null; then \
	  echo "browser-deps: installing a Chinese font (fonts-wqy-microhei) for the zh_CN browser test"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null || \
	  echo "browser-deps: could not install fonts-wqy-microhei: Chinese text would render as boxes"; fi
	@if [ "$$(id -u)" = 0 ] && ! command -v configurable-http-proxy >/dev/null && command -v npm >/dev/null; then \
	  echo "browser-deps: installing configurable-http-proxy (npm) for the hub test"; \
	  npm install -g --silent configurable-http-proxy || \
	  echo "browser-deps: could not install configurable-http-proxy: the hub test will be skipped"; fi

# The classroom hub on this machine (as root): learners' accounts via
#   sudo .venv/bin/python hub/hubctl.py add-learners NAME...
# then each learner logs in at http://$(HUB_IP):$(HUB_PORT)/ (docs/instructor-guide.md).
HUB_IP   ?= 127.0.0.1
HUB_PORT ?= 8000
hub: setup
	TFLAB_HUB_IP=$(HUB_IP) TFLAB_HUB_PORT=$(HUB_PORT) $(BIN)/python hub/hubctl.py start

lint: setup
	$(BIN)/ruff check labkit tests benchmarks

# The inner loop: lint, types, docstring examples (run here directly, so the test that runs them in a
# subprocess is left out) and the unit tests (no notebooks, no browser, no test that starts TensorFlow
# in a subprocess: those are marked slow). make test runs all of it and more.
check: setup
	$(BIN)/ruff check labkit tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal -q -p no:cacheprovider -o addopts="" \
	  -m "not browser and not slow" --doctest-modules labkit/train tests \
	  --deselect tests/test_lint.py::test_docstring_examples_of_labkit_train_run

# The Chinese edition (labkit/tooling/translations.py; the workflow: docs/instructor-guide.md):
#   1. lessons: every markdown cell of notebooks/NN_*.ipynb is a msgid of locale/zh_CN/notebooks/NN_*.po;
#      update adds new/changed cells as untranslated (the old translation stays as obsolete #~),
#      generate writes notebooks/zh_CN/ and refuses a lesson with an untranslated or fuzzy entry;
#   2. labkit's own messages (exercise feedback, widget labels, doctor): labkit/locale/zh_CN/LC_MESSAGES.
# TRANSLATE_LESSONS=05 (or 05_digits_comparison ...) limits step 1 to some lessons.
TRANSLATE_LESSONS ?=
translations: setup
	$(BIN)/python -m labkit.tooling.translations update $(foreach l,$(TRANSLATE_LESSONS),--lesson $(l))
	$(BIN)/python -m labkit.tooling.message_catalog update   # labkit's messages: .po refreshed, .mo compiled
	$(BIN)/python -m labkit.tooling.translations generate $(foreach l,$(TRANSLATE_LESSONS),--lesson $(l))

notebooks-clean: setup
	$(BIN)/python -m labkit.tooling.notebook_hygiene clean notebooks

doctor: setup
	$(BIN)/python -m labkit doctor

reset: setup
	$(BIN)/python -m labkit reset

bench: setup
	$(BIN)/python benchmarks/optimizers.py
	$(BIN)/python benchmarks/xla_vs_eigen.py
	$(BIN)/python benchmarks/xla_launch.py
	$(BIN)/python benchmarks/playground.py
	$(BIN)/python benchmarks/saver.py

classroom: setup
	$(BIN)/python benchmarks/classroom.py

clean-venv:
	rm -rf $(VENV)

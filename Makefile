# Two commands do all the set-up on a fresh clone: `make run` and `make test`.
# Both (re)create the virtual environment .venv when it is missing or stale (pyproject.toml
# changed, or it was built with a Python older than 3.12), then run the job.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The main job sweeps the policy grid over draws from the calibration posterior, so its intervals
# include what the 2016-2018 record leaves unknown. The same grid at the calibrated point (Monte
# Carlo error only; with the relief levers): make run CONFIG=experiments/configs/policy_grid.toml OUT=results/policy_grid
CONFIG ?= experiments/configs/policy_posterior.toml
OUT    ?= results/policy_posterior

.PHONY: run test test-all lint bench venv clean app browser notebook

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Python >= 3.12 is needed (found " + sys.version.split()[0] + "); .python-version pins 3.12")'
	@if [ -x $(BIN)/python ] && ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
		echo "removing stale $(VENV) (Python < 3.12)"; rm -rf $(VENV); fi
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	@echo "installing the project and its dependencies into $(VENV) (a few minutes on a fresh clone; pip lists each package as it goes)"
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[dev,app]'
	@touch $(STAMP)

## run: the main job, the policy sweep over the calibration posterior, then its report
run: $(STAMP)
	$(BIN)/escalation sweep $(CONFIG) --out $(OUT)
	$(BIN)/escalation report $(OUT)

## test: the whole default test suite (slow tests excluded; see test-all). Installs nothing beyond
## .venv: the explorer's browser test skips, saying why, unless `make browser` has installed Chromium.
test: $(STAMP)
	$(BIN)/python -m pytest

## test-all: every test, the slow ones included
test-all: $(STAMP)
	$(BIN)/python -m pytest -m "slow or not slow"

## lint: ruff (lint and format check) and mypy (model/ and experiments/) over the tree; .ci/run runs it beside the tests
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## bench: engine and runner benchmarks (prints figures; never part of the tests)
bench: $(STAMP)
	$(BIN)/escalation bench

## app: the interactive explorer (one run, and the sweep in $(OUT)) on 127.0.0.1; prints the address
PORT ?= 8765
app: $(STAMP)
	$(BIN)/escalation app --port $(PORT) --results $(OUT)

## browser: opt-in. Debian's headless Chromium and chromedriver (system packages chromium and chromium-driver,
## installed with apt-get into /usr/bin, about 300 MB) for the explorer's end-to-end test; .ci/run calls it.
## Installs only when they are missing and we are root with apt-get; otherwise says why the test will skip.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then echo "browser: /usr/bin/chromium and /usr/bin/chromedriver present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "browser: installing the Debian packages chromium and chromium-driver with apt-get (system-wide, /usr/bin)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver) \
		|| echo "browser: apt-get could not install chromium and chromium-driver; the browser test will skip"; \
	else echo "browser: /usr/bin/chromium is missing and this is not root with apt-get; the browser test will skip"; fi

NOTEBOOK_PORT ?= 8888
## notebook: JupyterLab on notebooks/ (installs the [notebook] extra into .venv the first time); prints its address
notebook: $(STAMP)
	@[ -x $(BIN)/jupyter-lab ] || $(BIN)/python -m pip install --disable-pip-version-check -e '.[dev,app,notebook]'
	$(BIN)/jupyter lab --notebook-dir=notebooks --ip=127.0.0.1 --port=$(NOTEBOOK_PORT) --no-browser $$([ "$$(id -u)" = 0 ] && echo --allow-root)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis results

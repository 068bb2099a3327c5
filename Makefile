# spikedet: `make setup` builds .venv (first time ~15 min: mmcv's ops compile once per machine
# and are cached outside the repo), `make test` runs the suite, `make demo` runs the quickstart,
# `make lint` checks flake8/isort/yapf (settings in setup.cfg), `make format` applies isort/yapf.
PY := .venv/bin/python
PYTEST_ARGS ?= -n 2
LINT_PATHS ?= spikedet tools tests configs setup.py

.PHONY: setup test demo lint format clean-env

setup:
	@bash tools/setup/setup_env.sh

test: setup
	@$(PY) -m pytest tests $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests; failing." >&2; exit 1; fi; \
	exit $$rc

demo: setup
	@bash tools/demo.sh

lint: setup
	$(PY) -m flake8 $(LINT_PATHS)
	$(PY) -m isort --check-only --diff $(LINT_PATHS)
	$(PY) -m yapf --diff --recursive --parallel $(LINT_PATHS)

format: setup
	$(PY) -m isort $(LINT_PATHS)
	$(PY) -m yapf --in-place --recursive --parallel $(LINT_PATHS)

clean-env:
	rm -rf .venv

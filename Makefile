# spikedet: `make setup` builds .venv (first time ~15 min: mmcv's ops compile once per machine
# and are cached outside the repo), `make test` runs the suite, `make demo` runs the quickstart.
PY := .venv/bin/python
PYTEST_ARGS ?= -n 2

.PHONY: setup test demo clean-env

setup:
	@bash tools/setup/setup_env.sh

test: setup
	@$(PY) -m pytest tests $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests; failing." >&2; exit 1; fi; \
	exit $$rc

demo: setup
	@bash tools/demo.sh

clean-env:
	rm -rf .venv

# execspec: `make conformance` runs the suites against the host sandbox;
# `make test` runs the project's tests (unit tests + the suites, CI-bounded).
# Both set everything up on a fresh machine: a venv in .venv with
# requirements.txt; the native probe/executor are built on first use with cc.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
JOBS   ?= 2

.PHONY: setup conformance test bench clean

$(VENV)/.ok: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

setup: $(VENV)/.ok

conformance: setup
	$(PY) -m pytest suites -n $(JOBS) --target sandbox $(ARGS)

test: setup
	CI=$${CI:-true} $(PY) -m pytest tests suites -n $(JOBS) $(ARGS)

bench: setup
	$(PY) bench/bench.py

clean:
	rm -rf $(VENV) build failures .hypothesis

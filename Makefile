# execspec: `make conformance` runs the suites against the host sandbox;
# `make test` runs the project's tests (unit tests + the suites, CI-bounded).
# Both set everything up on a fresh machine: a venv in .venv with
# requirements.txt; the native probe/executor are built on first use with cc.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
JOBS   ?= 2

GUEST  ?= debian-5.10

.PHONY: setup conformance test test-guest test-docker bench bench-guests clean

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

# The suites on a QEMU guest kernel (TCG), CI-bounded: needs qemu-system-x86;
# the Debian kernel is fetched into build/kernels with a private apt state.
# Its KTAP, JUnit and summary land in build/results/; the kernel's own
# kunit_parser must read the KTAP with the run's counts.
# GUEST: debian-5.10, debian-6.1, debian-6.12, debian-7.2, debian-7.3,
# debian:SUITE, a bzImage path or a built kernel tree.
test-guest: setup
	mkdir -p build/results
	EXECSPEC_REQUIRE_TARGET=1 EXECSPEC_PROFILE=$${EXECSPEC_PROFILE:-ci-guest} \
		$(PY) -m pytest suites -n $(JOBS) --target qemu --kernel $(GUEST) \
		--ktap build/results/$(GUEST).ktap --junitxml build/results/$(GUEST).xml \
		--summary build/results/$(GUEST).json $(ARGS)
	$(PY) -m harness.kunit build/results/$(GUEST).ktap --summary build/results/$(GUEST).json >/dev/null

# The suites through a container (needs an engine: docker/engine.sh start).
test-docker: setup
	EXECSPEC_REQUIRE_TARGET=1 CI=$${CI:-true} $(PY) -m pytest suites tests/test_docker_target.py -n $(JOBS) --target docker $(ARGS)

bench-guests: setup
	$(PY) bench/guests.py

bench: setup
	$(PY) bench/bench.py

clean:
	rm -rf $(VENV) build failures .hypothesis

# PeerPrep: two commands for a newcomer.
#
#   make run    set everything up (once), start the embedded hub, print its URL
#   make test   set everything up (once), lint, type-check, jest, pytest
#   make test-oldest  the unit and integration tiers on the oldest supported versions
#
# Each setup step leaves a stamp in .stamps/ and reruns only when its inputs change, so the
# second run is fast. System packages come from Debian (apt-get) when missing; Python packages
# go into .venv; the Node proxy into .venv/node. Nothing is installed by hand.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .stamps
NODE_PREFIX := $(VENV)/node
CHP := $(NODE_PREFIX)/node_modules/.bin/configurable-http-proxy
LABEXT_SRC := $(shell find labextension/src labextension/style -type f 2>/dev/null) \
	labextension/package.json labextension/tsconfig.json
# Debian packages PeerPrep needs: bwrap for the grader and local rooms, podman + runc as the
# container engine behind the Docker API, Chromium for browser tests, debootstrap for images,
# prometheus for promtool, which checks the alert rules (monitoring/alerts.yaml).
SYSTEM_PACKAGES := bubblewrap podman runc chromium debootstrap prometheus poppler-utils
PYTEST_ARGS ?=
# pytest-xdist workers for `make pytest` (0: no workers, one process). Most tests wait on
# spawns, sockets and sleeps, so more workers than cores pays; measured on 2 cores in
# docs/how-to/run-the-tests.md. Tests sharing a hub stay on one worker (tests/parallel_groups.py).
PYTEST_WORKERS ?= 3

export PATH := $(abspath $(BIN)):$(abspath $(NODE_PREFIX)/node_modules/.bin):$(PATH)

.PHONY: help run test test-oldest lint format typecheck jest pytest setup clean engine images \
	benchmarks benchmarks-full dashboard

help:
	@echo "make run    start PeerPrep on http://127.0.0.1:8000 (embedded default)"
	@echo "make test   lint, type-check and run every test"
	@echo "make test-oldest      unit and integration tests on the oldest supported versions"
	@echo "make benchmarks       run every benchmark (quick, ~10 min), rewrite docs/benchmarks.md"
	@echo "make benchmarks-full  the same with the long runs"
	@echo "make dashboard        rebuild the Grafana dashboard files from monitoring/dashboard.py"

setup: $(STAMPS)/system $(STAMPS)/venv $(STAMPS)/labext $(STAMPS)/proxy

run: setup
	$(BIN)/python -m jupyter_peerprep.launch

test: setup lint typecheck jest pytest

lint: $(STAMPS)/venv $(STAMPS)/jlpm
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd labextension && jlpm run lint:check

format: $(STAMPS)/venv $(STAMPS)/jlpm
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	cd labextension && jlpm run lint

typecheck: $(STAMPS)/venv
	$(BIN)/mypy

jest: $(STAMPS)/jlpm
	cd labextension && jlpm run test

pytest: setup images
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=30 $(PYTEST_ARGS)

# The oldest supported versions: every runtime dependency at its pyproject.toml floor
# (.ci/oldest_constraints.py), in a venv of its own, with the lab extension `make` built; then the
# unit and integration tiers. Test tools resolve to their newest versions.
OLDEST_VENV := .venv-oldest
OLDEST_TIERS ?= tests/unit tests/integration

test-oldest: setup images $(STAMPS)/oldest
	$(OLDEST_VENV)/bin/python -m pytest $(OLDEST_TIERS) $(PYTEST_ARGS)

$(STAMPS)/oldest: pyproject.toml .ci/oldest_constraints.py | $(STAMPS)
	test -x $(OLDEST_VENV)/bin/python || $(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/pip install -q --upgrade pip setuptools wheel
	$(BIN)/python .ci/oldest_constraints.py >$(OLDEST_VENV)/constraints.txt
	$(OLDEST_VENV)/bin/pip install -q -c $(OLDEST_VENV)/constraints.txt hatchling editables \
		'hatch-jupyter-builder>=0.9' jupyterlab
	$(OLDEST_VENV)/bin/pip install -q --no-build-isolation -c $(OLDEST_VENV)/constraints.txt \
		-e '.[hub,docker,lms,test]'
	mkdir -p $(OLDEST_VENV)/share/jupyter/labextensions
	ln -sfn $(abspath jupyter_peerprep/labextension) \
		$(OLDEST_VENV)/share/jupyter/labextensions/jupyter-peerprep
	touch $@

# The container engine (podman behind the Docker API) and the images the tests run. Both
# scripts are idempotent and skip what is already up or built, so this is fast the second time.
engine: $(STAMPS)/system
	bash docker/engine-up.sh

images: engine
	bash docker/build-images.sh grader

# Every benchmarks/*.py with a PROFILES dict, then docs/benchmarks.md and its plots
# (docs/images/benchmarks/) from the JSON they wrote. Quick: about 10 minutes on 2 cores.
benchmarks: setup images $(STAMPS)/bench
	$(BIN)/python benchmarks/run_all.py --profile quick

benchmarks-full: setup images $(STAMPS)/bench
	$(BIN)/python benchmarks/run_all.py --profile full

$(STAMPS)/bench: $(STAMPS)/venv pyproject.toml | $(STAMPS)
	$(BIN)/pip install -q --no-build-isolation -e '.[hub,docker,test,dev,bench]'
	touch $@

# The Grafana dashboard (monitoring/) and its Kubernetes ConfigMap, rebuilt from
# monitoring/dashboard.py; tests/monitoring checks the committed files are up to date.
dashboard: $(STAMPS)/venv
	$(BIN)/python monitoring/dashboard.py

$(STAMPS):
	mkdir -p $(STAMPS)

# System packages: only what is missing, with apt-get update once before.
$(STAMPS)/system: | $(STAMPS)
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	touch $@

# The virtualenv with the build tools first, so the package installs without build isolation
# (setuptools and wheel too: without isolation, sdist-only dependencies such as onetimepass
# are built with the venv's own setuptools, and the one a fresh venv ships cannot).
$(STAMPS)/venv: pyproject.toml | $(STAMPS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --upgrade setuptools wheel
	$(BIN)/pip install -q hatchling editables 'hatch-jupyter-builder>=0.9' 'jupyterlab>=4.6.2,<5'
	$(MAKE) $(STAMPS)/labext
	$(BIN)/pip install -q --no-build-isolation -e '.[hub,docker,lms,test,dev]'
	touch $@

$(STAMPS)/jlpm: labextension/package.json | $(STAMPS)
	test -x $(BIN)/jlpm || { $(PYTHON) -m venv $(VENV) && $(BIN)/pip install -q 'jupyterlab>=4.6.2,<5'; }
	# A venv upgraded from JupyterLab 4.5 loses jlpm (4.5's uninstall removes the script that
	# jupyter-builder, its home from 4.6 on, had just written): put it back.
	test -x $(BIN)/jlpm || $(BIN)/pip install -q --force-reinstall --no-deps jupyter-builder
	cd labextension && jlpm install >/dev/null
	touch $@

# The prebuilt lab extension, linked into the venv's share/jupyter so JupyterLab loads it.
$(STAMPS)/labext: $(STAMPS)/jlpm $(LABEXT_SRC) | $(STAMPS)
	cd labextension && jlpm run build:prod
	mkdir -p $(VENV)/share/jupyter/labextensions
	ln -sfn $(abspath jupyter_peerprep/labextension) $(VENV)/share/jupyter/labextensions/jupyter-peerprep
	touch $@

# The Node configurable-http-proxy (the PyPI port corrupts binary websocket frames).
$(STAMPS)/proxy: | $(STAMPS)
	npm install --silent --prefix $(NODE_PREFIX) configurable-http-proxy@^4.6 >/dev/null
	touch $@

clean:
	rm -rf $(STAMPS) $(VENV) $(OLDEST_VENV) labextension/node_modules labextension/lib jupyter_peerprep/labextension

# Helpline: the two commands a new machine needs are `make run` and `make test`.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# System packages the test suite drives for real: a browser for the UI tests, an IMAP server for e-mail.
APT_PACKAGES := chromium dovecot-imapd
# PyTorch tunes the FAQ encoder (tests, engine.tune_encoder). Elsewhere, take the CPU build with
# TORCH_INDEX="--index-url https://download.pytorch.org/whl/cpu".
TORCH_VERSION ?= 2.13.0
TORCH_INDEX ?=

.PHONY: run test install install-test system-deps services lint typecheck audit unit bench clean

run: install  ## Install, upgrade the SQLite database and start Helpline on http://127.0.0.1:8080
	$(BIN)/helpline db upgrade
	@echo "Web chat: http://127.0.0.1:8080/chat   health: http://127.0.0.1:8080/healthz"
	@echo "Agent console: http://127.0.0.1:8080/console   first sign-in: $(BIN)/helpline agents add you@example.com --role admin"
	$(BIN)/helpline run

test: install-test system-deps services lint typecheck audit unit  ## Install everything the tests need and run the whole suite

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools  # the venv's own setuptools is old and has advisories

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(VENV)/bin/python
	# The CPU build first: an unpinned torch from PyPI brings several GB of CUDA libraries.
	$(BIN)/pip install --quiet "torch==$(TORCH_VERSION)" $(TORCH_INDEX)
	$(BIN)/pip install --quiet -e ".[test,tune]"
	touch $(STAMP) $@

install: $(STAMP)
install-test: $(TEST_STAMP)

system-deps:  ## apt packages the tests use (skipped when already there)
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

services:  ## make sure the local PostgreSQL the storage tests use is up
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
	  echo "starting PostgreSQL"; \
	  $(SUDO) pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start && sleep 2; }

lint:
	$(BIN)/ruff check adapters core conversations tests bench tools

typecheck:
	$(BIN)/mypy

audit:  ## Installed distributions against PyPI's advisories (pip-audit cannot reach its services here; see README)
	$(BIN)/python tools/dependency_audit.py

unit:
	$(BIN)/pytest -q

bench:  ## Print the benchmark figures (see README)
	$(BIN)/python bench/pipeline.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# gongzhi: the two commands a fresh machine needs are `make run` and `make test`.
# The work is done by the scripts in scripts/; see docs/development.md.

SHELL := /bin/bash
VENV  ?= .venv
BIN   := $(VENV)/bin
HOST  ?= 127.0.0.1
PORT  ?= 8000
PYTEST_ARGS ?=

export VENV

.PHONY: help run test lint bench clean venv

help:
	@echo "make run     set up .venv, migrate, load the demo, serve on http://$(HOST):$(PORT)/ with a task worker"
	@echo "make test    lint, Django checks, and the tests on SQLite and PostgreSQL (browser tests included)"
	@echo "make lint    ruff check src tests"
	@echo "make bench   run every bench/*.py"
	@echo "make clean   remove .venv, var/ and caches"

venv:
	@scripts/ensure-venv test

run:
	@HOST=$(HOST) PORT=$(PORT) scripts/run

test:
	@scripts/test $(PYTEST_ARGS)

lint:
	@scripts/ensure-venv test
	$(BIN)/ruff check src tests

bench:
	@scripts/ensure-venv test
	@shopt -s nullglob; benches=(bench/*.py); \
	if [ $${#benches[@]} -eq 0 ]; then echo "no benchmarks in bench/"; exit 0; fi; \
	status=0; \
	for b in "$${benches[@]}"; do \
		echo "==> $$b"; \
		$(BIN)/python "$$b" || { echo "<== $$b FAILED"; status=1; }; \
	done; \
	exit $$status

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis build dist
	find src tests -name __pycache__ -type d -prune -exec rm -rf {} +
	find src -maxdepth 1 -name '*.egg-info' -type d -prune -exec rm -rf {} +

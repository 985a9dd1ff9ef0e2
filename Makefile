# casehub: `make demo` to see it run, `make test` to prove it works, `make lint` for ruff and mypy.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CASEHUB := $(BIN)/casehub
# the test broker lives apart from the demo broker, on its own ports and folder
TEST_HOME ?= .casehub/test
TEST_PORT ?= 29092

.PHONY: install demo demo-down test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	bash scripts/demo.sh

demo-down: install
	bash scripts/demo.sh down

test: install
	CASEHUB_HOME=$(TEST_HOME) CASEHUB_BROKER_PORT=$(TEST_PORT) bash scripts/test.sh

lint: install
	$(BIN)/ruff check casehub tests bench
	$(BIN)/mypy

clean:
	-CASEHUB_HOME=$(TEST_HOME) $(CASEHUB) broker down
	-$(CASEHUB) broker down
	rm -rf .casehub $(VENV)

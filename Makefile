# Two commands on a fresh machine (Python and pip only):
#   make demo   set up, build the model if missing, run one poll of the demo inbox
#   make test   set up and run the whole test suite (lint included)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
MODEL  := models/model.json
CORPUS := $(wildcard models/corpus/*.jsonl)

.PHONY: install model demo test test-fast lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[train,test]'
	touch $@

# Rebuilt whenever the corpus or the training code changes; never committed.
$(MODEL): $(STAMP) $(CORPUS) responder/training.py responder/features.py
	$(BIN)/responder train

model: $(MODEL)

demo: $(MODEL)
	rm -f var/demo.db var/demo.db-wal var/demo.db-shm
	$(BIN)/responder --config demo/config.toml run --once
	@echo
	@echo "Review the drafts: $(BIN)/responder --config demo/config.toml review list"

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(MODEL) lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

# Pure unit tests only: no servers, no browser.
test-fast: $(MODEL)
	$(BIN)/python -m pytest -q -m "not slow"

bench: $(MODEL)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) var bench-data test-artifacts $(MODEL) models/model.npz

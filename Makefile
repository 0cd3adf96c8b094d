# Two entry points do all set-up on a fresh machine:
#   make demo   runs the whole pipeline offline on the bundled real sample
#   make test   runs the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench setup clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)
	bash scripts/system-packages.sh

demo: setup
	$(BIN)/kg run data/demo/demo-feed.txt --snapshot data/demo --out exports

test: $(STAMP)
	bash scripts/system-packages.sh --test
	$(BIN)/ruff check kg tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) exports/figures exports/*.sqlite

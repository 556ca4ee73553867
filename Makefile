# Every target makes its own virtual environment, so a fresh clone needs only python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The checkout goes on Python's path as a plain folder (setuptools' "compat" editable mode):
# the default mode loads an import hook at every start of Python, which would cost `editorial`
# a quarter of its quickest answers. Where a setuptools no longer offers that mode, the default.
$(STAMP): $(BIN)/python pyproject.toml Makefile
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet -e '.[test]' --config-settings editable_mode=compat \
		|| $(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m pipeline.demo

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/run.py

lint: $(STAMP)
	$(BIN)/ruff check pipeline tests bench

clean:
	rm -rf $(VENV) build *.egg-info demo-output

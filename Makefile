# Quick start: `make demo` and `make test`. Both create .venv when missing and install the project.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint install clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever pyproject.toml changes.
$(STAMP): pyproject.toml Makefile | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,onnx,cluster,playground]"
	touch $(STAMP)

install: $(STAMP)

# The main job: every statement of the lecture tested on the bundled digits dataset, one report in
# lecture-report/index.html (+ results.json), the runs and figures spread over one process per core
# (the default, --backend auto; the same numbers as serial). About 3 minutes on 2 cores (4.6 serial);
# `--quick` takes under a minute.
demo: $(STAMP)
	$(VENV)/bin/neuronet lecture --data digits --out lecture-report

# The house's guards (lint, format, import layers: see ARCHITECTURE.md); `make test` runs them first.
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples
	$(VENV)/bin/lint-imports

test: lint
	$(PY) -m pytest -q -n 2

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build src/*.egg-info lecture-report demo-report

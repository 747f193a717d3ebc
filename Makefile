# Quick start: `make demo` and `make test`. Both create .venv when missing and install the project.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test install clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever pyproject.toml changes.
$(STAMP): pyproject.toml Makefile | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,onnx,cluster]"
	touch $(STAMP)

install: $(STAMP)

# Until the lecture report lands: a sigmoid MLP on the bundled digits, one line per epoch with
# per-layer saturation, then a self-contained HTML report in demo-report/index.html.
demo: $(STAMP)
	$(VENV)/bin/neuronet train --data digits --hidden 64 --activation sigmoid --epochs 20 \
		--out demo-report/model.safetensors --report demo-report

test: $(STAMP)
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build src/*.egg-info

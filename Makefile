# Entry points of the lottery-ticket replication workspace. Every target sets up what it needs
# (project-local venv with PyTorch 2.11 + CMake, release build, datasets) and reuses it on the
# next call. Variables: SCALE=smoke|small|paper (default small), DEVICE=auto|cpu|cuda,
# TRIALS=N, SEED=N, JOBS=N.

SCALE  ?= small
DEVICE ?= auto
SEED   ?= 0
TRIALS ?=
JOBS   ?=

PYTHON ?= python3
VENV   := .venv
STAMPS := .stamps
TORCH  := torch==2.11.0
CMAKE  := cmake==4.4.5
# cargo finds the venv's cmake (static HDF5 build) through PATH; libtorch through .cargo/config.toml.
CARGO  := PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo
FC     := target/release/frankle-carbin-2019
FLAGS  := --scale $(SCALE) --device $(DEVICE) --seed $(SEED) $(if $(TRIALS),--trials $(TRIALS)) $(if $(JOBS),--jobs $(JOBS))

.PHONY: all build data test bench figures figure-3 frankle-carbin-2019 clean-runs help
.DEFAULT_GOAL := help

help:
	@echo "make figure-3                     Frankle & Carbin Figure 3 end to end (SCALE=$(SCALE))"
	@echo "make frankle-carbin-2019          Figures 1, 3, 4, 5 (reusing cached runs)"
	@echo "make frankle-carbin-2019-figure-N one figure (N = 1, 3, 4, 5)"
	@echo "make figures                      redraw every figure from results/ (no training)"
	@echo "make data | test | bench"

$(STAMPS)/venv:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check --quiet $(TORCH) $(CMAKE) numpy h5py
	@mkdir -p $(STAMPS) && touch $@

build: $(STAMPS)/venv
	$(CARGO) build --release --workspace

data: build
	target/release/lt-data --data-dir data

figure-3: build
	$(FC) $(FLAGS) run figure-3

frankle-carbin-2019: build
	$(FC) $(FLAGS) run all
	$(FC) --scale $(SCALE) summary --headline > results/frankle-carbin-2019/$(SCALE)/headline.md

frankle-carbin-2019-figure-%: build
	$(FC) $(FLAGS) run figure-$*

figures: build
	@for d in results/frankle-carbin-2019/*/; do \
	  [ -d "$$d" ] || { echo "no results in results/frankle-carbin-2019/; run make frankle-carbin-2019 first"; exit 1; }; \
	  s=$$(basename $$d); echo "redrawing figures/frankle-carbin-2019/$$s from $$d"; \
	  $(FC) --scale $$s plot || exit 1; \
	done

test: build
	$(CARGO) test --release --workspace

bench: build
	$(CARGO) run --release -p lt-bench -- --python $(VENV)/bin/python

clean-runs:
	rm -rf runs

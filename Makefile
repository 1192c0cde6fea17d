# Entry points of the lottery-ticket replication workspace. Every target sets up what it needs
# (project-local venv with PyTorch 2.11 + CMake, release build, datasets) and reuses it on the
# next call. Variables: SCALE=smoke|small|paper (default small), DEVICE=auto|cpu|cuda,
# TRIALS=N, SEED=N, JOBS=N, TORCH_CUDA=pypi|cu130|cu128|cu126|cpu (the PyTorch wheel, below).

SCALE  ?= small
DEVICE ?= auto
SEED   ?= 0
TRIALS ?=
JOBS   ?=

PYTHON ?= python3
VENV   := .venv
STAMPS := .stamps
TORCH  := torch==2.11.0
# Which build of PyTorch 2.11 the venv holds (libtorch for every binary): `pypi` (default) is
# PyPI's, the CUDA 13.0 build (NVIDIA driver 580 or newer; Turing to Blackwell GPUs); cu130 is
# the same from PyTorch's index; cu128 (CUDA 12.8: Turing to Blackwell) and cu126 (CUDA 12.6:
# Maxwell to Hopper) run on drivers 525 and newer; cpu is the small CPU-only build. Changing it
# reinstalls torch only: the binaries link the same libtorch 2.11 and need no rebuild.
TORCH_CUDA ?= pypi
TORCH_FROM := $(if $(filter-out pypi,$(TORCH_CUDA)),--index-url https://download.pytorch.org/whl/$(TORCH_CUDA))
CMAKE  := cmake==4.4.5
# cargo finds the venv's cmake (static HDF5 build) through PATH; libtorch through .cargo/config.toml.
CARGO  := PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo
# Every paper binary (one crate each under replications/); each gets `make <paper>`,
# `make <paper>-figure-N`, and a part in `make figures` and `make claims`.
PAPERS := $(notdir $(wildcard replications/*))
FLAGS  := --scale $(SCALE) --device $(DEVICE) --seed $(SEED) $(if $(TRIALS),--trials $(TRIALS)) $(if $(JOBS),--jobs $(JOBS))

.PHONY: all build data test lint bench gpu-check figures claims figure-3 clean-runs help $(PAPERS)
.DEFAULT_GOAL := help

help:
	@echo "make figure-3                 Frankle & Carbin Figure 3 end to end (SCALE=$(SCALE))"
	@echo "make <paper>                  every figure of one paper, then its claims table; papers: $(PAPERS)"
	@echo "make <paper>-figure-N         one figure of one paper"
	@echo "make figures                  redraw every paper's figures from results/ (no training)"
	@echo "make claims                   every headline.md, results/CLAIMS.md and the pages and README counts quoting them, from results/"
	@echo "make data | test | lint | bench | gpu-check"

$(STAMPS)/venv: $(STAMPS)/torch-$(TORCH_CUDA)
	$(VENV)/bin/pip install --disable-pip-version-check --quiet $(CMAKE) numpy h5py
	@touch $@

$(STAMPS)/torch-%:
	@case "$*" in pypi|cu130|cu128|cu126|cpu) ;; *) echo "TORCH_CUDA=$* is not a PyTorch 2.11 build; choose pypi, cu130, cu128, cu126 or cpu"; exit 2;; esac
	[ -x $(VENV)/bin/pip ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check --quiet --force-reinstall --no-deps $(TORCH_FROM) $(TORCH)
	$(VENV)/bin/pip install --disable-pip-version-check --quiet $(TORCH_FROM) $(TORCH)
	@mkdir -p $(STAMPS) && rm -f $(STAMPS)/torch-* && touch $@

build: $(STAMPS)/venv
	$(CARGO) build --release --workspace

data: build
	target/release/lt-data --data-dir data

figure-3: frankle-carbin-2019-figure-3

$(PAPERS): build
	target/release/$@ $(FLAGS) run all
	target/release/$@ --scale $(SCALE) summary --headline > results/$@/$(SCALE)/headline.md

$(addsuffix -figure-%,$(PAPERS)): build
	target/release/$(subst -figure-$*,,$@) $(FLAGS) run figure-$*

figures: build
	@found=0; for p in $(PAPERS); do for d in results/$$p/*/; do \
	  [ -d "$$d" ] || continue; found=1; s=$$(basename $$d); \
	  echo "redrawing figures/$$p/$$s from $$d"; target/release/$$p --scale $$s plot || exit 1; \
	done; done; [ $$found = 1 ] || { echo "no results in results/; run make <paper> first"; exit 1; }

claims: build
	@for p in $(PAPERS); do for d in results/$$p/*/; do \
	  [ -d "$$d" ] && ls $$d*.h5 >/dev/null 2>&1 || continue; \
	  target/release/$$p --scale $$(basename $$d) summary --headline > $$d/headline.md || exit 1; \
	done; done
	tools/claims.sh target/release results results/CLAIMS.md $(PAPERS)
	$(VENV)/bin/python tools/headlines.py $(PAPERS)

test: build
	@{ command -v slurmctld >/dev/null 2>&1 || [ -x /usr/sbin/slurmctld ]; } && [ "$$(id -u)" = 0 ] \
	  || echo "note: the Slurm cluster test will skip (it needs root and Debian's slurmctld slurmd slurm-client munge: apt-get install them, then make test)"
	$(CARGO) test --release --workspace

# One formatting (rustfmt.toml) and no clippy warning, as .ci/run checks.
lint: $(STAMPS)/venv
	cargo fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

bench: build
	$(CARGO) run --release -p lt-bench -- --python $(VENV)/bin/python

# The prepared check of the CUDA path (a machine with an NVIDIA GPU; CI never runs it):
# determinism, resume and speed of two smoke figures; GPU_CHECK_DEVICE=cpu runs it on the CPU.
GPU_CHECK_DEVICE ?= cuda
gpu-check: build
	DEVICE=$(GPU_CHECK_DEVICE) PY=$(VENV)/bin/python tools/gpu-check.sh

clean-runs:
	rm -rf runs

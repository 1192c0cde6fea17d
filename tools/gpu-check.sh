#!/bin/sh
# `make gpu-check`: the prepared check of the CUDA path, for a machine with an NVIDIA GPU (CI never
# runs it). On DEVICE (default cuda) it trains two smoke runs — Frankle & Carbin's Figure 3
# (LeNet-300-100) and the stabilizing paper's Figure 1 (ResNet-20) on synthetic data — twice, and
# compares them bit for bit (determinism); then a third copy killed partway and resumed, against
# the first (resume); then prints each stage kind's seconds per iteration from the stored wall
# times, and training steps per second of LeNet, Conv-4 and ResNet-20, ours against PyTorch eager
# on the same device (`lt-bench --speed-on`). `DEVICE=cpu tools/gpu-check.sh` exercises the same
# steps on the CPU (SPEED=0 skips the speed table, minutes on a CPU).
set -eu
DEVICE=${DEVICE:-cuda}
BIN=${BIN:-target/release}
PY=${PY:-.venv/bin/python}
OUT=${OUT:-gpu-check}
rm -rf "$OUT"
mkdir -p "$OUT"
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi: not found"
run() { # run NAME [flags...]: both papers' smoke figures into $OUT/NAME
  name=$1; shift
  for paper_figure in frankle-carbin-2019:figure-3 frankle-2019-stabilizing:figure-1; do
    paper=${paper_figure%%:*}; figure=${paper_figure#*:}
    t0=$(date +%s%N)
    "$BIN/$paper" --scale smoke --dataset synthetic --device "$DEVICE" --quiet \
      --runs-dir "$OUT/$name/runs" --results-dir "$OUT/$name/results/$paper" --figures-dir "$OUT/$name/figures/$paper" \
      "$@" run "$figure"
    echo $(( ($(date +%s%N) - t0) / 1000000 )) > "$OUT/$name/$paper.ms"
  done
}
started=$(date +%s)
run a
echo "run a: $(( $(date +%s) - started )) s"
run b
echo "determinism (two runs from scratch on $DEVICE):"
"$PY" tools/compare_results.py "$OUT/a/results" "$OUT/b/results" || echo "NOT DETERMINISTIC on $DEVICE"
# Killed halfway through the LeNet figure (as long as it took in run a), then the same command again.
half=$(awk -v ms="$(cat "$OUT/a/frankle-carbin-2019.ms")" 'BEGIN { printf "%.2f", ms / 2000 }')
( timeout -s KILL "$half" "$BIN/frankle-carbin-2019" --scale smoke --dataset synthetic --device "$DEVICE" --quiet --checkpoint-every 1 \
    --runs-dir "$OUT/c/runs" --results-dir "$OUT/c/results/frankle-carbin-2019" --figures-dir "$OUT/c/figures/frankle-carbin-2019" run figure-3 ) || echo "killed after $half s"
run c --checkpoint-every 1
echo "resume (killed, then run again, against run a):"
"$PY" tools/compare_results.py "$OUT/a/results" "$OUT/c/results" || echo "A RESUMED RUN DIFFERS on $DEVICE"
echo "seconds per iteration by stage (run a):"
"$PY" - "$OUT/a/results" <<'PY'
import sys, json, pathlib, h5py
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.h5")):
    with h5py.File(path, "r") as f:
        run = json.loads(f.attrs["run_json"])
        rows = []
        def visit(name, g):
            if isinstance(g, h5py.Group) and name.count("/") == 2:
                it = g["iteration"][()]
                steps = int(it[-1] - it[0]) if len(it) > 1 else 0
                if steps:
                    rows.append(g.attrs["wall_time_s"] / steps)
        f.visititems(visit)
        if rows:
            print(f"  {path.parent.name}/{path.name} on {run['device']}: {sum(rows) / len(rows) * 1e3:.2f} ms per iteration (evaluation included), {len(rows)} stages")
PY
if [ "${SPEED:-1}" != 0 ]; then
  "$BIN/lt-bench" --speed-on "$DEVICE" --python "$PY"
fi

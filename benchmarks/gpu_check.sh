#!/usr/bin/env bash
# The GPU checks, in one go (about 8 minutes on one modern datacenter GPU):
#
#   bash benchmarks/gpu_check.sh            # on a machine with a CUDA GPU, from the repository root
#   CHAPTERS="chapters/lenet5.ipynb" bash benchmarks/gpu_check.sh   # other chapters at full scale
#
# 1. the test suite's CUDA cases (pytest -m cuda): mixed precision, channels-last, checkpoint
#    save/resume on CUDA with the CUDA random state, torchvision twins equal on the GPU;
# 2. training throughput of the twins against torchvision's models on the GPU (bfloat16
#    autocast, channels-last), without and with torch.compile: the ratio ours/theirs;
# 3. a few chapters at `full` scale (real runs, not dry runs), each with its time and its peak
#    GPU memory (torch.cuda.max_memory_allocated, written by dl.runtime.setup).
#
# Everything goes to benchmarks/results/gpu-<time>/ (summary.md is the table to paste into
# benchmarks/README.md with the GPU's name). Sets the environment up like `make test`.
# Exit status: 0 when every step passed, 1 otherwise (all steps run anyway).
set -uo pipefail
cd "$(dirname "$0")/.."

make -s venv >/dev/null
PY=${PY:-.venv/bin/python}
# GPU_CHECK_ALLOW_CPU=1 runs the same steps on the CPU (with small TWINS/BATCH/STEPS/CHAPTERS):
# a rehearsal that the script works before GPU time is spent on it.
if [ "${GPU_CHECK_ALLOW_CPU:-0}" != 1 ] && ! $PY -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu_check: torch sees no CUDA device on this machine; nothing to check" >&2
    exit 2
fi
make -s data >/dev/null

OUT=benchmarks/results/gpu-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
export DCNN_OFFLINE=1
TWINS=${TWINS:-"resnet18 resnet50 vgg16 googlenet mobilenet_v2 densenet121 convnext_tiny vit_b_16"}
CHAPTERS=${CHAPTERS:-"chapters/lenet5.ipynb chapters/vgg.ipynb chapters/resnet.ipynb"}
BATCH=${BATCH:-64}
STEPS=${STEPS:-20}
status=0
step() { echo; echo "== $*"; }

if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
else
    echo "no GPU (rehearsal on the CPU)" | tee "$OUT/gpu.txt"
fi
$PY -c "import dcnn_lib as dl, json; print(json.dumps(dl.runtime.versions()))" > "$OUT/versions.json"

step "1. CUDA tests"
t0=$SECONDS
$PY -m pytest -m cuda tests -q -rs --junitxml="$OUT/cuda-tests.xml" 2>&1 | tee "$OUT/cuda-tests.log" | tail -5
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
echo "cuda tests: $((SECONDS - t0)) s"

step "2. twins' training throughput on the GPU (bf16 autocast, channels-last)"
for compiled in "" "--compile"; do
    tag=${compiled:+compiled}; tag=${tag:-eager}
    $PY benchmarks/run.py --only twins --models $TWINS --batch $BATCH --steps $STEPS --amp bf16 --channels-last \
        $compiled --out "$OUT/twins-$tag.json" 2>&1 | tee "$OUT/twins-$tag.log" | grep -E "ratio|Error"
    [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done

step "3. chapters at full scale"
$PY .ci/dry_run.py --no-dry-run --keep "$OUT/chapters" $CHAPTERS 2>&1 | tee "$OUT/chapters.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

$PY - "$OUT" <<'EOF'
import json, re, sys
from pathlib import Path
out = Path(sys.argv[1])
lines = [f"GPU: {(out / 'gpu.txt').read_text().splitlines()[-1]}", ""]
lines += ["| model | eager ours/torchvision | compiled ours/torchvision |", "|---|---|---|"]
runs = {tag: {r["model"]: r for r in json.loads((out / f"twins-{tag}.json").read_text()).get("twins", [])}
        for tag in ("eager", "compiled") if (out / f"twins-{tag}.json").exists()}
for model in runs.get("eager", {}):
    cells = [f"{runs[t][model]['ratio']:.3f} ({runs[t][model]['ours_img_s']:.0f} img/s)"
             if model in runs.get(t, {}) else "—" for t in ("eager", "compiled")]
    lines.append(f"| {model} | " + " | ".join(cells) + " |")
lines += ["", "| chapter (full scale) | time | peak GPU memory |", "|---|---|---|"]
for line in (out / "chapters.log").read_text().splitlines():
    m = re.match(r"(ok|FAILED)\s+chapters/(\S+)\.ipynb .* in (\d+)s", line)
    if m:
        mem = out / "chapters" / f"{m.group(2)}.memory.json"
        peak = f"{json.loads(mem.read_text())['max_memory_allocated'] / 2**30:.2f} GiB" if mem.exists() else "—"
        lines.append(f"| {m.group(2)} ({m.group(1)}) | {m.group(3)} s | {peak} |")
(out / "summary.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
echo; echo "results in $OUT (exit $status)"
exit $status

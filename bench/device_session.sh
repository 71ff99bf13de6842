#!/usr/bin/env bash
# Every GPU check of issues 3 and 7 in one call of the lent machine, most wanted first (each step
# has its own time limit; at worst about 11 minutes, so the last step may be cut at the call's 600 s):
#
#   here, once:   bash bench/device_wheels.sh
#   device tool:  run(command="bash bench/device_session.sh", carry=[".whl"], timeout_s=600)
#
# Each step writes its own file under $OUT (at most 8 come back), so a step that fails or runs out
# of time leaves the others' results. Random weights in the official checkpoint format stand in for
# the released files (speed and agreement do not depend on the weights' values).
#
# A dry run of the plumbing on a CPU, from the dev venv (its packages, no wheels), in about 4 minutes:
#   PATH=/path/to/venv/bin:$PATH DEVICE=cpu MODEL=toy-large WHEELS= INSTANCES=32 SIZE=256 \
#       IMAGE_SIZE=96x128 IMAGES=4 bash bench/device_session.sh
set -uo pipefail
shopt -s nullglob
OUT=${OUT:-$(mktemp -d)}
DEVICE=${DEVICE:-cuda}
MODEL=${MODEL:-sam-vit-h}
WHEELS=${WHEELS-.whl}
export PYTHONUNBUFFERED=1
log() { echo "[$(date +%T)] $*" | tee -a "$OUT/session.log"; }

site=$(mktemp -d)
for wheel in ${WHEELS:+$WHEELS/*.whl}; do python3 -m zipfile -e "$wheel" "$site"; done
ln -s "$PWD" "$site/sherpa_bench"  # the repository root is the package
export PYTHONPATH=$site
[ "$DEVICE" = cuda ] && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee -a "$OUT/session.log"
python3 -c "import torch, segment_anything, sam2, pycocotools, sherpa_bench; print('torch', torch.__version__, 'cuda', torch.version.cuda)" 2>&1 | tee -a "$OUT/session.log" || exit 1

log "1/6 GPU tests: metric parity (1e-6) and encoder fast-path agreement"
# the compile agreement tests (slow: several compilations) are left to bench_encoder's comparison
timeout 90 python3 -m pytest -q -m "gpu and not slow" -p no:cacheprovider tests >"$OUT/gpu_tests.log" 2>&1
log "gpu tests exit $?"

log "2/6 metric cost: 1000 instances of 1024x1024"
timeout 60 python3 bench/bench_metrics.py --device "$DEVICE" --instances "${INSTANCES:-1000}" --size "${SIZE:-1024}" \
    >"$OUT/metrics.json" 2>>"$OUT/session.log" || log "metric bench failed (exit $?)"

log "3/6 random vit_h and vit_b in the official format"
export SHERPA_BENCH_CHECKPOINTS=$site/checkpoints
mkdir -p "$SHERPA_BENCH_CHECKPOINTS"
[ "$MODEL" = sam-vit-h ] && python3 - <<'PY' 2>&1 | tee -a "$OUT/session.log"
import os, torch
from segment_anything import sam_model_registry
torch.manual_seed(0)
for kind, name in (("vit_h", "sam_vit_h_4b8939.pth"), ("vit_b", "sam_vit_b_01ec64.pth")):
    torch.save(sam_model_registry[kind]().state_dict(), os.path.join(os.environ["SHERPA_BENCH_CHECKPOINTS"], name))
    print("wrote", name)
PY

log "4/6 zero-shot evaluation and decoder-only step against upstream SamPredictor"
for paths in "--precision fp32 --attention reference" "--precision bf16 --attention sdpa"; do
    # shellcheck disable=SC2086
    timeout 100 python3 bench/bench_speed.py --model "$MODEL" --device "$DEVICE" --size "${IMAGE_SIZE:-768x1024}" \
        --images "${IMAGES:-16}" --boxes 5 $paths >>"$OUT/speed.jsonl" 2>>"$OUT/session.log" || log "speed bench ($paths) failed (exit $?)"
done

log "5/6 $MODEL encoder: img/s and TFLOP/s at batch 1 and 8 against the measured matmul peak"
timeout 200 python3 bench/bench_encoder.py --repeat 3 --model "$MODEL" --device "$DEVICE" --batch 1 --batch 8 \
    --path fp32/reference --path bf16/reference --path bf16/sdpa --path bf16/sdpa/compile \
    >"$OUT/encoder.json" 2>>"$OUT/session.log" || log "encoder bench failed (exit $?)"

log "6/6 profile: Std-ft vs SHERPA on $MODEL (its default guide), bf16/sdpa encoder"
timeout 120 python3 -m sherpa_bench profile -m std-ft -m sherpa --model "$MODEL" --device "$DEVICE" \
    --images 8 --precision bf16 --attention sdpa --out "$OUT/profile.md" >>"$OUT/session.log" 2>&1 || log "profile failed (exit $?)"
log "done"

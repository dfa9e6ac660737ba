#!/usr/bin/env bash
# Each global view's time on MobileNetV2 (issue 16), on a one-node cluster (gateway, coordinator and one worker in one
# process) with a fresh SQLite database: a dataset of the shared images plus N seeded 224x224 noise PNGs, then
#   max-activating  Grad-CAM of one class on every image, ranked, with the max/min pictures
#   tsne            every image's pooled activations of the default layer, then PCA and exact t-SNE at GetResult
#   randomization   one image's Grad-CAM and the same job on models randomised layer by layer (--metrics randomization)
#   deep-dream      two classes dreamt from noise (3 octaves x 20 steps each), one work item per class
# and the wall time of each `lantern explain` (submit, run, fetch and write every file).
# Usage: bench/global-views.sh [N]   (default 89 noise images: 100 with the 11 shared ones)
# env LANTERN: the lantern executable (default the Release build); SHARED (default ../shared); MODEL (default MobileNetV2).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-89}
lantern=${LANTERN:-src/Cli/bin/Release/net10.0/lantern}
shared=${SHARED:-../shared}
model=${MODEL:-$shared/models/mobilenetv2-12-fp32-dequant.onnx}
labels=$shared/models/imagenet_labels.txt
work=$(mktemp -d)
export LANTERN_NO_DAEMON=1
grpc=$((20000 + RANDOM % 5000)); cluster=$((grpc + 1)); http=$((grpc + 2))
gateway="http://127.0.0.1:$grpc"
node_pid=""
cleanup() {
  kill -TERM $node_pid 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "failed: $1" >&2; tail -20 "$2" >&2; exit 1; }

mkdir -p "$work/images"
cp "$shared"/images/*.jpg "$shared"/images/*.png "$work/images/"
python3 bench/noise-pngs.py "$work/images" "$n" 224 noise
images=$(ls "$work/images" | wc -l)

"$lantern" serve --roles gateway,coordinator,worker --no-auth --port "$grpc" --http-port "$http" --cluster-port "$cluster" \
  --provider cpu --db "$work/lantern.db" >"$work/node.log" 2>&1 &
node_pid=$!
for i in $(seq 121); do
  curl -sf "http://127.0.0.1:$http/readyz" >/dev/null 2>&1 && break
  [ "$i" -lt 121 ] || fail "the node was not ready after 120 s" "$work/node.log"
  sleep 1
done
"$lantern" datasets create bench "$work/images" --gateway "$gateway" >"$work/create.log" 2>&1 \
  || fail "lantern datasets create" "$work/create.log"

timed() { # NAME, then explain's arguments
  local name=$1; shift
  local start; start=$(date +%s.%N)
  "$lantern" explain "$@" --model "$model" --labels "$labels" --gateway "$gateway" --out "$work/$name" >"$work/$name.log" 2>&1 \
    || fail "lantern explain ($name)" "$work/$name.log"
  printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)"
}
# The first job loads the model on the worker; it is timed apart so the views compare like with like.
warm=$(timed warm-up "$shared/images/golden_retriever.jpg" --method gradcam --classes 207)
gradcam=$(timed gradcam "$shared/images/golden_retriever.jpg" --method gradcam --classes 207)
max=$(timed max-activating --dataset bench --method max-activating --classes 207 --top 4)
tsne=$(timed tsne --dataset bench --method tsne)
randomization=$(timed randomization "$shared/images/golden_retriever.jpg" --method gradcam --classes 207 --metrics randomization)
dream=$(timed deep-dream --method deep-dream --classes 207,130)
[ -s "$work/deep-dream/dream-130.png" ] || fail "no dream-130.png" "$work/deep-dream.log"
[ -s "$work/max-activating/max-activating-207.png" ] || fail "no max-activating-207.png" "$work/max-activating.log"
[ -s "$work/tsne/tsne.png" ] || fail "no tsne.png" "$work/tsne.log"

echo "$(nproc) cores; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $(basename "$model"), CPU provider; $images images"
echo "| view | images | explain wall s | per image, s |"
echo "|---|---:|---:|---:|"
printf '| first Grad-CAM job (loads the model) | 1 | %s | %s |\n' "$warm" "$warm"
printf '| one Grad-CAM job (the unit the views repeat) | 1 | %s | %s |\n' "$gradcam" "$gradcam"
printf '| max/min activating (Grad-CAM of class 207, ranked, 2 pictures of 4) | %d | %s | %.2f |\n' "$images" "$max" "$(echo "$max / $images" | bc -l)"
printf '| t-SNE of the default layer (pooled activations, PCA, exact t-SNE) | %d | %s | %.2f |\n' "$images" "$tsne" "$(echo "$tsne / $images" | bc -l)"
printf '| randomization check (Grad-CAM, then 5 randomised models) | 1 | %s | %s |\n' "$randomization" "$randomization"
printf '| deep dream of 2 classes (61 gradient steps each, from noise) | - | %s | - |\n' "$dream"

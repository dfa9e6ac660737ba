#!/usr/bin/env bash
# A dataset job of N images on a two-process cluster (gateway+coordinator, one worker) on a fresh SQLite database: the
# job's wall time and the memory of the coordinator's process (peak RSS, VmHWM) before and after, so the growth with
# the number of images shows. The images are N distinct seeded 64x64 noise PNGs (python3, stdlib only).
# Usage: bench/dataset-job.sh [N] [METHOD]   (default 1000 gradcam; METHOD: any --method, e.g. occlusion)
# env LANTERN: the lantern executable (default the Release build); MODEL (default samples/squeezenet1.0.onnx).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
method=${2:-gradcam}
lantern=${LANTERN:-src/Cli/bin/Release/net10.0/lantern}
model=${MODEL:-samples/squeezenet1.0.onnx}
work=$(mktemp -d)
export LANTERN_NO_DAEMON=1
grpc=$((20000 + RANDOM % 5000)); cluster=$((grpc + 1)); http=$((grpc + 2))
gateway="http://127.0.0.1:$grpc"
coordinator_pid=""; worker_pid=""
cleanup() {
  kill -TERM $worker_pid $coordinator_pid 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

python3 - "$work/images" "$n" <<'PY'
import os, random, struct, sys, zlib
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out)
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
for i in range(n):
    rng = random.Random(i)
    rows = b"".join(b"\x00" + bytes(rng.randrange(256) for _ in range(64 * 3)) for _ in range(64))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    open(os.path.join(out, f"img{i:05d}.png"), "wb").write(png)
PY

"$lantern" serve --roles gateway,coordinator --no-auth --port "$grpc" --http-port "$http" --cluster-port "$cluster" \
  --db "$work/lantern.db" >"$work/coordinator.log" 2>&1 &
coordinator_pid=$!
"$lantern" serve --roles worker --no-auth --port 0 --seeds "akka.tcp://lantern@127.0.0.1:$cluster" --provider cpu \
  >"$work/worker.log" 2>&1 &
worker_pid=$!
for _ in $(seq 120); do
  curl -sf "http://127.0.0.1:$http/readyz" >/dev/null 2>&1 && break
  sleep 1
done
kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }

"$lantern" datasets create bench "$work/images" --gateway "$gateway" >"$work/create.log" 2>&1
rss_before=$(kib "$coordinator_pid" VmRSS)
start=$(date +%s.%N)
"$lantern" explain --dataset bench --model "$model" --method "$method" --gateway "$gateway" --out "$work/out" >"$work/explain.log" 2>&1 \
  || { tail -20 "$work/explain.log" >&2; exit 1; }
seconds=$(echo "$(date +%s.%N) - $start" | bc)
peak=$(kib "$coordinator_pid" VmHWM)
rss_after=$(kib "$coordinator_pid" VmRSS)
worker_peak=$(kib "$worker_pid" VmHWM)
read -r done evaluations < <(python3 -c "
import json, sys
index = json.load(open(sys.argv[1]))
print(sum(1 for i in index['images'] if i['state'] == 'done'), index['evaluations'])" "$work/out/index.json")

echo "| images | method | done | evaluations | seconds (explain: submit, run, fetch and write every image's files) | images/s | coordinator RSS before, MB | coordinator peak RSS, MB | coordinator RSS after, MB | worker peak RSS, MB |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '| %d | %s | %d | %d | %.1f | %.1f | %d | %d | %d | %d |\n' "$n" "$method" "$done" "$evaluations" "$seconds" \
  "$(echo "$n / $seconds" | bc -l)" $((rss_before / 1024)) $((peak / 1024)) $((rss_after / 1024)) $((worker_peak / 1024))

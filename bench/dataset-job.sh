#!/usr/bin/env bash
# A dataset job of N images on a two-process cluster (gateway+coordinator, one worker) on a fresh SQLite database: the
# wall time of `lantern explain --dataset` and the memory of both processes: RSS before submit, RSS sampled every
# second while the job runs (max), and the peak (VmHWM, start-up included). N distinct seeded 64x64 noise PNGs.
# Usage: bench/dataset-job.sh [N] [METHOD] [EXPLAIN-OPTION...]   (default 1000 gradcam)
#   e.g. bench/dataset-job.sh 1000 occlusion --window 32 --stride 32
# env LANTERN: the lantern executable (default the Release build); MODEL (default samples/squeezenet1.0.onnx).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
method=${2:-gradcam}
shift $(( $# < 2 ? $# : 2 ))
options=("$@")
lantern=${LANTERN:-src/Cli/bin/Release/net10.0/lantern}
model=${MODEL:-samples/squeezenet1.0.onnx}
work=$(mktemp -d)
export LANTERN_NO_DAEMON=1
grpc=$((20000 + RANDOM % 5000)); cluster=$((grpc + 1)); http=$((grpc + 2))
gateway="http://127.0.0.1:$grpc"
coordinator_pid=""; worker_pid=""; sampler_pid=""
cleanup() {
  kill -TERM $sampler_pid $worker_pid $coordinator_pid 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "failed: $1" >&2; tail -20 "$2" >&2; exit 1; }

python3 bench/noise-pngs.py "$work/images" "$n" 64 img

"$lantern" serve --roles gateway,coordinator --no-auth --port "$grpc" --http-port "$http" --cluster-port "$cluster" \
  --db "$work/lantern.db" >"$work/coordinator.log" 2>&1 &
coordinator_pid=$!
"$lantern" serve --roles worker --no-auth --port 0 --seeds "akka.tcp://lantern@127.0.0.1:$cluster" --provider cpu \
  >"$work/worker.log" 2>&1 &
worker_pid=$!
for i in $(seq 121); do
  curl -sf "http://127.0.0.1:$http/readyz" >/dev/null 2>&1 && break
  [ "$i" -lt 121 ] || fail "the coordinator was not ready after 120 s" "$work/coordinator.log"
  sleep 1
done
kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }

"$lantern" datasets create bench "$work/images" --gateway "$gateway" >"$work/create.log" 2>&1 \
  || fail "lantern datasets create" "$work/create.log"
rss_before=$(kib "$coordinator_pid" VmRSS); worker_before=$(kib "$worker_pid" VmRSS)
# VmHWM is the true peak; the per-second samples show it is reached during the job, not at start-up.
while sleep 1; do echo "$(kib "$coordinator_pid" VmRSS) $(kib "$worker_pid" VmRSS)"; done >"$work/rss" 2>/dev/null &
sampler_pid=$!
start=$(date +%s.%N)
"$lantern" explain --dataset bench --model "$model" --method "$method" "${options[@]}" --gateway "$gateway" \
  --out "$work/out" >"$work/explain.log" 2>&1 || fail "lantern explain --dataset" "$work/explain.log"
seconds=$(echo "$(date +%s.%N) - $start" | bc)
kill -TERM "$sampler_pid"; wait "$sampler_pid" 2>/dev/null || true; sampler_pid=""
peak=$(kib "$coordinator_pid" VmHWM); worker_peak=$(kib "$worker_pid" VmHWM)
read -r sampled worker_sampled < <(awk '$1 > c { c = $1 } $2 > w { w = $2 } END { print c + 0, w + 0 }' "$work/rss")
read -r done_json done_csv evaluations < <(python3 - "$work/out" <<'PY'
import csv, json, os, sys
index = json.load(open(os.path.join(sys.argv[1], "index.json")))
rows = list(csv.DictReader(open(os.path.join(sys.argv[1], "index.csv"))))
print(sum(i["state"] == "done" for i in index["images"]), sum(r["state"] == "done" for r in rows), index["evaluations"])
PY
)
[ "$done_json" = "$done_csv" ] || echo "index.json says $done_json images done, index.csv $done_csv" >&2
mb() { echo $(( $1 / 1024 )); }

echo "$(nproc) cores; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); options: ${options[*]:-none}"
echo "| images | method | done (index.csv) | evaluations | explain wall s | images/s | coordinator RSS before submit, MB | coordinator max sampled RSS, MB | coordinator peak (VmHWM), MB | worker RSS before, MB | worker max sampled RSS, MB | worker peak (VmHWM), MB |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '| %d | %s | %d | %d | %.1f | %.1f | %d | %d | %d | %d | %d | %d |\n' "$n" "$method" "$done_csv" "$evaluations" "$seconds" \
  "$(echo "$n / $seconds" | bc -l)" "$(mb "$rss_before")" "$(mb "$sampled")" "$(mb "$peak")" \
  "$(mb "$worker_before")" "$(mb "$worker_sampled")" "$(mb "$worker_peak")"

#!/usr/bin/env bash
# Start-up of `lantern explain` and `lantern inspect`, in one run: the in-process node (--no-daemon, what every explain did
# before the background node) against the background node's first call (it starts the node) and later calls (they reuse
# it), on MobileNetV2 from ../shared/models with the model already uploaded and its gradient model already built.
# Rounds are interleaved (in-process, first, second, ...) so that a machine whose load moves affects every row alike;
# medians over the rounds are printed. Usage: bench/startup.sh [ROUNDS] (env LANTERN: the lantern executable to time,
# default the Release build; e.g. the ReadyToRun one that `bench/publish.sh` writes to bin/lantern).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
lantern=${LANTERN:-src/Cli/bin/Release/net10.0/lantern}
model=../shared/models/mobilenetv2-12-fp32-dequant.onnx
image=../shared/images/tench.png   # 224x224: occlusion 16/8 is 27x27 = 729 evaluations
work=$(mktemp -d)
export LANTERN_STATE_DIR=$work/state
unset LANTERN_NO_DAEMON
# --no-cache: every timed job computes (a repeated job would be answered from the first one's result; that is the
# "gradcam-reused" row, timed on its own).
common=(--labels ../shared/models/imagenet_labels.txt --db "$work/lantern.db" --provider cpu --no-cache)
gradcam=(explain "$image" --model "$model" --method gradcam "${common[@]}")
occlusion=(explain "$image" --model "$model" --method occlusion --window 16 --stride 8 "${common[@]}")

wall() { # wall seconds of one command; its output to the log
  local start end; start=$(date +%s.%N)
  "$@" >>"$work/log" 2>&1 || { echo "failed: $*" >&2; tail -20 "$work/log" >&2; exit 1; }
  end=$(date +%s.%N); echo "$end - $start" | bc
}
compute() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['timings']['compute_seconds'])" "$1/summary.json"; }

# A Grad-CAM job through the running background node over gRPC, as a program that keeps its connection would submit it
# (the issue compares it with pytorch-grad-cam's call): the Python client with the model and image uploaded once, then
# submit, watch and fetch the maps with no_cache, three times; the median call.
grpc_gradcam() {
  PYTHONPATH=clients/python /usr/bin/python3 - "$LANTERN_STATE_DIR/node.json" "$model" "$image" <<'PY'
import json, statistics, sys, time
from lantern_client import Client, pb
record, model, image = sys.argv[1:4]
node = json.load(open(record))
client = Client(node["address"], api_key=node["key"] or None)
request = client._request("gradcam", model, {"no_cache": True})
request.image_sha256 = client.upload_image(image)
times = []
for _ in range(3):
    start = time.perf_counter()
    job = client.stub.SubmitJob(request, metadata=client._metadata).job_id
    final = client.watch(job, progress=False)
    assert final.state == pb.JOB_STATE_DONE, final
    client.result(job)
    times.append(time.perf_counter() - start)
print(f"gradcam-grpc {statistics.median(times):.3f}")
PY
}

"$lantern" "${gradcam[@]}" --no-daemon --out "$work/warm" >>"$work/log" 2>&1   # uploads the model, builds the gradient model
: >"$work/rows"
for round in $(seq "$rounds"); do
  "$lantern" local stop >>"$work/log" 2>&1
  echo "help $(wall "$lantern" --help)" >>"$work/rows"
  echo "inspect $(wall "$lantern" inspect "$model")" >>"$work/rows"
  echo "gradcam-in-process $(wall "$lantern" "${gradcam[@]}" --no-daemon --out "$work/g0")" >>"$work/rows"
  echo "occlusion-in-process $(wall "$lantern" "${occlusion[@]}" --no-daemon --out "$work/o0")" >>"$work/rows"
  echo "occlusion-in-process-compute $(compute "$work/o0")" >>"$work/rows"
  echo "gradcam-first $(wall "$lantern" "${gradcam[@]}" --out "$work/g1")" >>"$work/rows"
  echo "gradcam-second $(wall "$lantern" "${gradcam[@]}" --out "$work/g2")" >>"$work/rows"
  echo "occlusion-second $(wall "$lantern" "${occlusion[@]}" --out "$work/o2")" >>"$work/rows"
  echo "occlusion-second-compute $(compute "$work/o2")" >>"$work/rows"
  echo "gradcam-reused $(wall "$lantern" explain "$image" --model "$model" --method gradcam --labels ../shared/models/imagenet_labels.txt \
    --db "$work/lantern.db" --provider cpu --out "$work/g3")" >>"$work/rows"
  grpc_gradcam >>"$work/rows"
done
"$lantern" local stop >>"$work/log" 2>&1
for m in g o; do
  for f in "$work/${m}0"/map-*.npy; do
    cmp -s "$f" "$work/${m}2/$(basename "$f")" && echo "$(basename "$f") ($m): in-process and background node bit-identical" \
      || echo "$(basename "$f") ($m): DIFFERS between in-process and background node"
  done
done
echo "lantern: $lantern; $(nproc) cores; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$work/rows" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, value = line.split(); rows.setdefault(name, []).append(float(value))
med = {k: statistics.median(v) for k, v in rows.items()}
for k, v in rows.items(): print(f"{k:30s} median {med[k]:6.2f} s   ({', '.join(f'{x:.2f}' for x in v)})")
print(f"second gradcam / in-process gradcam: {med['gradcam-second'] / med['gradcam-in-process']:.2f}")
print(f"occlusion 16/8 wall - compute: in-process {med['occlusion-in-process'] - med['occlusion-in-process-compute']:.2f} s, "
      f"background node {med['occlusion-second'] - med['occlusion-second-compute']:.2f} s")
PY
rm -rf "$work"

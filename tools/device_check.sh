#!/usr/bin/env bash
# The PyTorch engine on one GPU, for a session that has the device machine (no Node there): run
#   bash tools/device_check.sh [DATA_DIR]
# from the repository root. Trains resources/presets/gpt2-small.json (12 x 768, context 1024) in
# bf16 for STEPS steps on DATA_DIR (a token shard folder made here beforehand, e.g. by
# `gptw prepare` or the tokenize job, left untracked but not ignored so it travels; without one,
# random ids, which measure speed only). First measures the bf16 matmul peak, which the engine's
# MFU is computed against. Writes under $OUT: peak.json, steps.jsonl (the engine's JSON lines:
# tokens/s, mfu, memoryBytes per step), stderr.log, summary.json, and with KEEP_CHECKPOINT=1 the
# final model (model.safetensors + config.json, ~500 MB) to score on the CPU afterwards; then
# eval.json: that model served for eval in float32 and bfloat16 (requests/s, metric differences).
# Overrides: STEPS (300), BATCH (16), PRESET (gpt2-small), DEVICE (cuda), COMPILE (--compile or empty),
# EVAL_REQUESTS (1000; 0 skips the eval), EVAL_BATCH (32).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${GPTW_PYTHON:-python3}
OUT=${OUT:-/tmp/gptw-device-check}
STEPS=${STEPS:-300}
BATCH=${BATCH:-16}
PRESET=${PRESET:-gpt2-small}
DEVICE=${DEVICE:-cuda}
COMPILE=${COMPILE---compile}
DATA=${1:-}
mkdir -p "$OUT"
RUN=$(mktemp -d)

if [ -z "$DATA" ]; then
  DATA=$RUN/random-data
  "$PY" - "$DATA" <<'PYEOF'
import json, os, sys
import numpy as np
d = sys.argv[1]
os.makedirs(d)
ids = np.random.default_rng(0).integers(0, 50257, 20_000_000, dtype=np.uint16)
ids.tofile(os.path.join(d, "train.bin"))
ids[:200_000].tofile(os.path.join(d, "val.bin"))
json.dump({"format": "gptw-tokens-v1", "tokenizer": "gpt2", "vocabSize": 50257, "dtype": "uint16", "source": "random ids",
           "splits": {"train": {"file": "train.bin", "tokens": len(ids), "documents": 1}, "val": {"file": "val.bin", "tokens": 200_000, "documents": 1}},
           "createdAt": "1970-01-01T00:00:00Z"}, open(os.path.join(d, "meta.json"), "w"))
PYEOF
fi

PEAK=""
if [ "$DEVICE" = cuda ]; then
  "$PY" - > "$OUT/peak.json" <<'PYEOF'
import json, time, torch
n = 8192
a, b = (torch.randn(n, n, device="cuda", dtype=torch.bfloat16) for _ in range(2))
for _ in range(3):
    a @ b
torch.cuda.synchronize()
t, reps = time.perf_counter(), 50
for _ in range(reps):
    a @ b
torch.cuda.synchronize()
tflops = 2 * n ** 3 * reps / (time.perf_counter() - t) / 1e12
print(json.dumps({"device": torch.cuda.get_device_name(), "torch": torch.__version__, "cuda": torch.version.cuda, "bf16MatmulTflops": tflops}))
PYEOF
  PEAK=$("$PY" -c "import json; print(json.load(open('$OUT/peak.json'))['bf16MatmulTflops'])")
fi

"$PY" - "resources/presets/$PRESET.json" "$RUN/run.json" "$STEPS" "$BATCH" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1]))["config"]
steps, batch = int(sys.argv[3]), int(sys.argv[4])
c.update(steps=steps, batchSize=batch, microBatches=1)
c["schedule"] = {"decay": "cosine", "warmupSteps": max(1, steps // 10)}
c["optimizer"] = {**c.get("optimizer", {}), "lr": 6e-4, "minLr": 6e-5}
c["eval"] = {"interval": max(1, steps // 3), "batches": 4}
c["checkpoint"] = {"interval": 0, "keepLast": 1}
json.dump(c, open(sys.argv[2], "w"))
PYEOF

(cd python && "$PY" -m gptw_torch train --config "$RUN/run.json" --dataset "$(realpath "$DATA")" --out "$RUN/run" --device "$DEVICE" \
  --fast-init $COMPILE ${PEAK:+--peak-tflops "$PEAK"}) > "$OUT/steps.jsonl" 2> "$OUT/stderr.log" || { tail -20 "$OUT/stderr.log"; exit 1; }

"$PY" - "$OUT/steps.jsonl" > "$OUT/summary.json" <<'PYEOF'
import json, statistics, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
steps = [l for l in lines if l["type"] == "step"]
late = steps[len(steps) // 2:]  # past compilation and warm-up
out = {"start": lines[0], "steps": len(steps), "firstLoss": steps[0]["loss"], "lastLoss": steps[-1]["loss"],
       "valLoss": [l.get("valLoss") for l in steps if "valLoss" in l],
       "tokensPerSecMedian": statistics.median(l["tokensPerSec"] for l in late)}
if "mfu" in late[0]:
    out["mfuMedian"] = statistics.median(l["mfu"] for l in late)
if "memoryBytes" in steps[-1]:
    out["peakMemoryGiB"] = steps[-1]["memoryBytes"] / 2 ** 30
print(json.dumps(out, indent=2))
PYEOF
cat "$OUT/summary.json"

# Eval on the model server (python/gptw_torch/serve.py, as `gptw eval --engine pytorch` runs it):
# EVAL_REQUESTS lambada-shaped requests (a 60-300 token passage from the data's val split, a 1-2
# token last word) scored by the trained checkpoint in float32 and in bfloat16, each timed after a
# warm-up batch; eval.json has requests/s, acc (every continuation token the argmax), ppl and the
# differences between the two dtypes. EVAL_REQUESTS=0 skips it; EVAL_BATCH sequences per forward.
if [ "${EVAL_REQUESTS:-1000}" -gt 0 ]; then
  last=$(ls -d "$RUN"/run/checkpoints/step-* | sort -t- -k2 -n | tail -1)
  (cd python && "$PY" - "$last" "$(realpath "$DATA")/val.bin" "$DEVICE" "${EVAL_REQUESTS:-1000}" "${EVAL_BATCH:-32}") > "$OUT/eval.json" 2>> "$OUT/stderr.log" <<'PYEOF' || { tail -20 "$OUT/stderr.log"; exit 1; }
import json, math, sys, time
import numpy as np
import torch
from gptw_torch.serve import ModelServer
ckpt, val, device, n, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
ids = np.fromfile(val, dtype="<u2").astype(np.int64)
n_ctx = json.load(open(f"{ckpt}/config.json"))["n_positions"]
rng = np.random.default_rng(0)
items = []
for _ in range(n):
    ctx, cont = int(rng.integers(60, 300)), int(rng.integers(1, 3))
    s = int(rng.integers(0, len(ids) - ctx - cont - 1))
    # the harness's input: context + continuation less its last token, left-truncated to the model's
    # context; its last `cont` positions predict the continuation
    items.append({"input": ids[s:s + ctx + cont - 1][-n_ctx:].tolist(), "continuation": ids[s + ctx:s + ctx + cont].tolist()})
runs, logprobs = {}, {}
for dtype in ("float32", "bfloat16"):
    server = ModelServer(ckpt, device, dtype, batch)
    server.score(items[:batch])  # warm-up: kernels chosen, memory allocated
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t = time.perf_counter()
    got = server.score(items)
    seconds = time.perf_counter() - t
    lp = np.array([r["logprob"] for r in got])
    logprobs[dtype] = lp
    runs[dtype] = {"ran": server.ready()["dtype"], "device": server.ready()["device"], "seconds": round(seconds, 3), "requestsPerSec": round(n / seconds, 1),
                   "acc": float(np.mean([r["isGreedy"] for r in got])), "ppl": math.exp(-float(lp.mean())), "meanLogprob": float(lp.mean())}
    del server
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
f, b = runs["float32"], runs["bfloat16"]
d = np.abs(logprobs["bfloat16"] - logprobs["float32"])
print(json.dumps({"checkpoint": ckpt, "requests": n, "batchSize": batch, "runs": runs,
                  "difference": {"accAbs": abs(b["acc"] - f["acc"]), "pplRel": abs(b["ppl"] - f["ppl"]) / f["ppl"],
                                 "logprobMeanAbs": float(d.mean()), "logprobMaxAbs": float(d.max()), "logprobMaxRel": float((d / np.abs(logprobs["float32"])).max())}}, indent=2))
PYEOF
  cat "$OUT/eval.json"
fi
if [ "${KEEP_CHECKPOINT:-0}" = 1 ]; then
  last=$(ls -d "$RUN"/run/checkpoints/step-* | sort -t- -k2 -n | tail -1)
  mkdir -p "$OUT/checkpoint" && cp "$last/model.safetensors" "$last/config.json" "$OUT/checkpoint/"
fi
rm -rf "$RUN"

#!/usr/bin/env bash
# Regenerates the demo data, tokenizer, both models, the held-out file and the reference logits.
# Needs Debian's python3-torch, python3-numpy and python3-regex; run with /usr/bin/python3.
# Usage: [DEMO_TRAIN_ARGS="..."] tools/demo-model/make_all.sh [WORK_DIR]
#        (WORK_DIR holds the 20 MB training set; default /tmp/demo-data)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="${1:-/tmp/demo-data}"
res="$repo/model-zoo/src/main/resources/io/dcformer4j/demo"
py=/usr/bin/python3
# the recipe of the shipped models (report-*.json records it too)
read -r -a TRAIN_ARGS <<< "${DEMO_TRAIN_ARGS:---steps 8000 --warmup 150 --lr 3e-3 --answer-weight 10 --max-minutes 95 --eval-every 500}"

$py "$here/make_data.py" --out "$work"
$py "$here/bpe_tokenizer.py" --train "$work/train.jsonl" --out "$work/tokenizer.json"
# the two models in two processes, one core each: same seed, so the same batches and learning-rate
# schedule, and the same step count (unless --max-minutes cuts the slower DCFormer short: see the reports)
pids=()
for m in dcformer mha; do
  $py "$here/dcformer_torch.py" train --only "$m" --threads 1 --data "$work" --tokenizer "$work/tokenizer.json" \
      --out "$res" --report-dir "$here" "${TRAIN_ARGS[@]}" > "$work/train-$m.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
tail -n 3 "$work"/train-*.log
cp "$work/heldout.jsonl" "$res/heldout.jsonl"
prompt=$'\n< Mary has a pen. Tom has a fox. Mary has a cake. >. Mary does not have a kind of'
for m in dcformer mha; do
  $py "$here/dcformer_torch.py" ref-logits --model "$res/$m" --prompt "$prompt" --out "$here/reference-logits-$m.json"
done
# the Java tests compare the engine with these
mkdir -p "$repo/tool/src/test/resources/io/dcformer4j/cli/demo"
cp "$here"/report-*.json "$here"/reference-logits-*.json "$repo/tool/src/test/resources/io/dcformer4j/cli/demo/"
du -ch "$res"/*/model.safetensors

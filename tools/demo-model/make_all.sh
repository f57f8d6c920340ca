#!/usr/bin/env bash
# Regenerates the demo data, tokenizer, both models, the held-out file and the reference logits.
# Needs Debian's python3-torch, python3-numpy and python3-regex; run with /usr/bin/python3.
# Usage: [DEMO_TRAIN_ARGS="--steps N --max-minutes M"] tools/demo-model/make_all.sh [WORK_DIR]
#        (WORK_DIR holds the 20 MB training set; default /tmp/demo-data)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="${1:-/tmp/demo-data}"
res="$repo/model-zoo/src/main/resources/demo"
py=/usr/bin/python3
# training length: the shipped models used the values in report-*.json (steps, wall-clock limit)
read -r -a TRAIN_ARGS <<< "${DEMO_TRAIN_ARGS:---steps 180}"

$py "$here/make_data.py" --out "$work"
$py "$here/bpe_tokenizer.py" --train "$work/train.jsonl" --out "$work/tokenizer.json"
# both models in one process, in lockstep: same batches, same learning-rate schedule, same step count
$py "$here/dcformer_torch.py" train --data "$work" --tokenizer "$work/tokenizer.json" --out "$res" \
    --report-dir "$here" "${TRAIN_ARGS[@]}" | tee "$work/train.log"
cp "$work/heldout.jsonl" "$res/heldout.jsonl"
prompt=$'\n< Mary has a pen. Tom has a fox. Mary has a cake. >. Mary does not have a kind of'
for m in dcformer mha; do
  $py "$here/dcformer_torch.py" ref-logits --model "$res/$m" --prompt "$prompt" --out "$here/reference-logits-$m.json"
done
du -ch "$res"/*/model.safetensors

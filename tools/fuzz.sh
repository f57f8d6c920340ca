#!/usr/bin/env bash
# Fuzzes the parsers with Jazzer (coverage-guided), one target after another.
#
#   tools/fuzz.sh [-d DURATION] [TARGET ...]      TARGET: a name below, or "all" (the default)
#   tools/fuzz.sh -l                              lists the targets
#
# DURATION is per target, in Jazzer's syntax (30s, 10m, 1h; default 10m). Each target runs in its own
# surefire JVM under the model-zoo "fuzz" profile (heap 1 GB, 10 s per input). New coverage goes to
# model-zoo/.cifuzz-corpus/ (not committed); a crash, an input over the time limit or over the heap is
# written by Jazzer to model-zoo/src/test/resources/<package>/<Class>Inputs/<method>/ (crash-*, timeout-*),
# where the normal build replays it as a regression case from then on. The libFuzzer log of each target
# (executions, coverage: "cov" edges and "ft" features, findings) is in target/fuzz/<target>.log.
#
# Runs under "nice -n 10" so that it can share a machine. Needs JDK 25 (JAVA_HOME) and a previous online
# build so that Maven can work offline (-o).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(
  "safetensors=io.dcformer4j.model.checkpoint.SafetensorsFuzzTest#safetensorsFile"
  "sharded-index=io.dcformer4j.model.checkpoint.ShardedIndexFuzzTest#shardedIndex"
  "torch-archive=io.dcformer4j.model.checkpoint.TorchArchiveFuzzTest#torchArchive"
  "unpickler=io.dcformer4j.model.checkpoint.UnpicklerFuzzTest#unpickle"
  "config-json=io.dcformer4j.model.ModelConfigFuzzTest#configJson"
  "tokenizer-json=io.dcformer4j.tokenizer.TokenizerJsonFuzzTest#tokenizerJson"
  "tokenizer=io.dcformer4j.tokenizer.TokenizerFuzzTest#encodeDecode"
)

duration=10m
while getopts "d:lh" opt; do
  case $opt in
    d) duration=$OPTARG ;;
    l) printf '%s\n' "${TARGETS[@]%%=*}"; exit 0 ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
selected=("$@")
if [ ${#selected[@]} -eq 0 ] || [ "${selected[0]}" = all ]; then
  selected=("${TARGETS[@]%%=*}")
fi

mkdir -p target/fuzz
status=0
for name in "${selected[@]}"; do
  test=""
  for t in "${TARGETS[@]}"; do
    [ "${t%%=*}" = "$name" ] && test="${t#*=}"
  done
  if [ -z "$test" ]; then
    echo "unknown target '$name'; targets: ${TARGETS[*]%%=*}" >&2
    exit 2
  fi
  log="target/fuzz/$name.log"
  echo "fuzzing $name ($test) for $duration; log: $log"
  if ! nice -n 10 ./mvnw -B -ntp -o -Pfuzz -pl model-zoo -am test -Dtest="$test" \
      -Dsurefire.failIfNoSpecifiedTests=false -Dfuzz.duration="$duration" -DtrimStackTrace=false > "$log" 2>&1; then
    echo "  $name: FINDING or failure (see $log)"
    status=1
  fi
  # libFuzzer writes to the forked JVM's native stderr, which surefire keeps in *.dumpstream files.
  for d in model-zoo/target/surefire-reports/*.dumpstream; do
    [ -f "$d" ] && cat "$d" >> "$log" && rm -f "$d"
  done
  grep -E "^#[0-9]+.*(DONE|pulse|NEW)" "$log" | tail -1 | sed "s/^/  $name: last status: /" || true
done
exit $status

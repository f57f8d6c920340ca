#!/usr/bin/env bash
# Fuzzes the parsers with Jazzer (coverage-guided), one target after another.
#
#   tools/fuzz.sh [-d DURATION] [TARGET ...]      TARGET: a name below, or "all" (the default)
#   tools/fuzz.sh -l                              lists the targets
#   tools/fuzz.sh -n ...                          skips the build (reuses the last one, e.g. for a second
#                                                 target list run beside a first)
#
# DURATION is per target, in Jazzer's syntax (30s, 10m, 1h; default 10m). The modules of the selected targets
# (model-zoo, server) and their test classes are built once (Maven, offline); then each target runs in its own
# JVM through the JUnit console launcher with JAZZER_FUZZ=1, a 1 GB heap (the allocation bound the targets
# state), 10 s per input, Jazzer's hooks on and up to 20 distinct findings before it stops. New coverage goes
# to <module>/.cifuzz-corpus/ (not committed); a crash, an input over the time limit or over the heap is
# written by Jazzer to <module>/src/test/resources/<package>/<Class>Inputs/<method>/ (crash-*, timeout-*),
# where the normal build replays it as a regression case from then on. The libFuzzer log of each target
# (executions, coverage: "cov" edges and "ft" features, findings) is in target/fuzz/<target>.log.
#
# One target can also be fuzzed through Maven alone:
#   ./mvnw -Pfuzz -pl model-zoo -am test -Dtest='io.dcformer4j.model.checkpoint.UnpicklerFuzzTest' \
#       -Dsurefire.failIfNoSpecifiedTests=false -Dfuzz.duration=10m
#   (-pl server and -Dtest='io.dcformer4j.server.RequestFuzzTest' for the server's target)
#
# Runs under "nice -n 10" so that it can share a machine. Needs JDK 25 (JAVA_HOME) and a previous online
# build so that Maven can work offline (-o).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# name=module=test
TARGETS=(
  "safetensors=model-zoo=io.dcformer4j.model.checkpoint.SafetensorsFuzzTest#safetensorsFile(byte[])"
  "sharded-index=model-zoo=io.dcformer4j.model.checkpoint.ShardedIndexFuzzTest#shardedIndex(byte[])"
  "torch-archive=model-zoo=io.dcformer4j.model.checkpoint.TorchArchiveFuzzTest#torchArchive(byte[])"
  "unpickler=model-zoo=io.dcformer4j.model.checkpoint.UnpicklerFuzzTest#unpickle(byte[])"
  "config-json=model-zoo=io.dcformer4j.model.ModelConfigFuzzTest#configJson(byte[])"
  "tokenizer-json=model-zoo=io.dcformer4j.tokenizer.TokenizerJsonFuzzTest#tokenizerJson(byte[])"
  "tokenizer=model-zoo=io.dcformer4j.tokenizer.TokenizerFuzzTest#encodeDecode(com.code_intelligence.jazzer.api.FuzzedDataProvider)"
  "server-request=server=io.dcformer4j.server.RequestFuzzTest#requestBody(byte[])"
)

duration=10m
build=1
while getopts "d:lnh" opt; do
  case $opt in
    d) duration=$OPTARG ;;
    n) build=0 ;;
    l) printf '%s\n' "${TARGETS[@]%%=*}"; exit 0 ;;
    *) sed -n '2,25p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
selected=("$@")
if [ ${#selected[@]} -eq 0 ] || [ "${selected[0]}" = all ]; then
  selected=("${TARGETS[@]%%=*}")
fi
for name in "${selected[@]}"; do
  printf '%s\n' "${TARGETS[@]%%=*}" | grep -qx "$name" || { echo "unknown target '$name'; targets: ${TARGETS[*]%%=*}" >&2; exit 2; }
done

module_of() {
  local t
  for t in "${TARGETS[@]}"; do
    if [ "${t%%=*}" = "$1" ]; then t=${t#*=}; echo "${t%%=*}"; fi
  done
}
modules=$(for name in "${selected[@]}"; do module_of "$name"; done | sort -u | paste -sd, -)

java=${JAVA_HOME:+$JAVA_HOME/bin/}java
mkdir -p target/fuzz
missing=0
for m in ${modules//,/ }; do [ -f "$m/target/fuzz-classpath.txt" ] || missing=1; done
if [ $build = 1 ] || [ $missing = 1 ]; then
  echo "building $modules and their tests (log: target/fuzz/build.log)"
  # mdep.outputFile is relative to each module: <module>/target/fuzz-classpath.txt.
  nice -n 10 ./mvnw -B -ntp -o -pl "$modules" -am test-compile dependency:build-classpath \
      -Dmdep.outputFile=target/fuzz-classpath.txt -Dmdep.includeScope=test > target/fuzz/build.log 2>&1 \
    || { echo "build failed, see target/fuzz/build.log" >&2; exit 1; }
fi
console=$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/1.14.1/junit-platform-console-standalone-1.14.1.jar
if [ ! -f "$console" ]; then
  ./mvnw -B -ntp -q dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.1 >> target/fuzz/build.log 2>&1
fi

status=0
for name in "${selected[@]}"; do
  test=""
  for t in "${TARGETS[@]}"; do
    [ "${t%%=*}" = "$name" ] && test="${t#*=}"
  done
  module=${test%%=*}
  test=${test#*=}
  cp="target/test-classes:target/classes:$(cat "$module/target/fuzz-classpath.txt"):$console"
  log="$root/target/fuzz/$name.log"
  echo "fuzzing $name ($test) for $duration; log: target/fuzz/$name.log"
  # From the module, so that Jazzer finds src/test/resources for its findings and keeps .cifuzz-corpus there.
  if ! (cd "$module" && JAZZER_FUZZ=1 nice -n 10 "$java" --add-modules jdk.incubator.vector \
      --enable-native-access=ALL-UNNAMED -Xmx1g -XX:+EnableDynamicAgentLoading \
      -Djazzer.max_duration="$duration" -Djazzer.instrument='io.dcformer4j.**' -Djazzer.keep_going=20 \
      -Djazzer.hooks=true -Djunit.jupiter.execution.timeout.mode=disabled \
      -Djunit.jupiter.execution.timeout.testtemplate.method.default=10s \
      -cp "$cp" org.junit.platform.console.ConsoleLauncher execute --select-method "$test" \
      --details=summary --disable-banner > "$log" 2>&1); then
    echo "  $name: FINDING or failure (see target/fuzz/$name.log)"
    status=1
  fi
  grep -E "^#[0-9]+.*(DONE|pulse|NEW|REDUCE)" "$log" | tail -1 | sed "s/^/  $name: last status: /" || true
done
exit $status

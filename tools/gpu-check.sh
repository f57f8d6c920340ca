#!/usr/bin/env bash
# The one-call GPU check, run on the device machine from the repository root with $OUT set and the folder
# .gpu-bundle (made here by tools/gpu-bundle.sh) carried along. It needs no JDK and no network there.
#   1. nvidia-smi
#   2. the cuda provider's availability as the JVM sees it
#   3. the conformance kit on the cuda backend (CudaConformanceTest, JUnit console launcher)
#   4. the micro-benchmarks (CudaMicroBenchmark)
# Logs and a summary table go to $OUT (at most 8 files); the summary is also printed last. Every step has
# its own timeout so the whole script ends in under 8 minutes.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
OUT="${OUT:-/tmp/gpu-check-out}"
mkdir -p "$OUT"
bundle="$root/.gpu-bundle"
summary="$OUT/summary.md"
start=$(date +%s)

{
  echo "# GPU check $(date -u +%FT%TZ)"
  echo
  [ -f "$bundle/MANIFEST" ] && head -3 "$bundle/MANIFEST" | sed 's/^/    /'
  echo
  echo "| step | status | seconds |"
  echo "|---|---|---|"
} > "$summary"

# step NAME TIMEOUT_S COMMAND...: runs the command with a timeout, output to $OUT/NAME.log.
step() {
  local name="$1" limit="$2"
  shift 2
  local t0 rc
  t0=$(date +%s)
  echo "=== $name (timeout ${limit}s)"
  timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1
  rc=$?
  tail -n 25 "$OUT/$name.log"
  local status="ok"
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then status="TIMEOUT"; elif [ $rc -ne 0 ]; then status="FAILED (exit $rc)"; fi
  echo "| $name | $status | $(( $(date +%s) - t0 )) |" >> "$summary"
  return $rc
}

if [ ! -f "$bundle/jre.tar.xz" ]; then
  echo "| bundle | MISSING: run 'bash tools/gpu-bundle.sh' on the build machine and carry .gpu-bundle | 0 |" >> "$summary"
  cat "$summary"
  exit 2
fi
jre_dir=/tmp/gpu-check-jre
rm -rf "$jre_dir" && mkdir -p "$jre_dir"
tar -C "$jre_dir" -xJf "$bundle/jre.tar.xz" 2>/dev/null \
  || python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$bundle/jre.tar.xz" "$jre_dir"

java=("$jre_dir/jre/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx6g)
cp="$bundle/lib/*"

step nvidia-smi 20 nvidia-smi
step availability 30 "${java[@]}" -cp "$cp:$bundle/tests/*" io.dcformer4j.backend.cuda.CudaMicroBenchmark --describe
step conformance 240 "${java[@]}" -Ddcformer4j.cuda.syncEachLaunch=true \
  -cp "$bundle/launcher/*:$cp:$bundle/tests/*" org.junit.platform.console.ConsoleLauncher execute \
  --disable-banner --details=tree --select-class io.dcformer4j.conformance.CudaConformanceTest \
  --reports-dir /tmp/gpu-check-junit
for f in /tmp/gpu-check-junit/TEST-*.xml; do [ -f "$f" ] && cp "$f" "$OUT/conformance.xml"; done
# the launcher exits 0 when every test is aborted (the suite aborts, rather than fails, on an unavailable
# backend): when nothing passed, say so in the summary instead of "ok"
aborted=$(grep -Eo "[0-9]+ tests aborted" "$OUT/conformance.log" | grep -Eo "^[0-9]+" || echo 0)
passed=$(grep -Eo "[0-9]+ tests successful" "$OUT/conformance.log" | grep -Eo "^[0-9]+" || echo 0)
if [ "${aborted:-0}" -gt 0 ] && [ "${passed:-0}" -eq 0 ]; then
  sed -i "s/^| conformance | ok |/| conformance | NOT RUN ($aborted aborted: is the cuda backend available? see availability.log) |/" "$summary"
fi
step benchmarks 180 "${java[@]}" -cp "$cp:$bundle/tests/*" io.dcformer4j.backend.cuda.CudaMicroBenchmark "$OUT/benchmarks.md"

{
  echo
  echo "Conformance counts (JUnit console launcher):"
  grep -E "tests (successful|failed|skipped|aborted)" "$OUT/conformance.log" | sed 's/^/    /'
  echo
  if [ -f "$OUT/benchmarks.md" ]; then
    cat "$OUT/benchmarks.md"
  fi
  echo
  echo "total: $(( $(date +%s) - start )) s"
} >> "$summary"
echo
cat "$summary"

#!/usr/bin/env bash
# Compiles the CUDA kernels of this folder to PTX (compute_80, JIT-compiled by the driver on any newer GPU)
# and prints the ptxas resource use of every kernel for sm_90.
#
#   build-ptx.sh --check <outdir>   (the Maven build) compile into <outdir>, fail when the PTX kept in
#                                   src/main/resources differs, fail when a kernel spills
#   build-ptx.sh --refresh          compile into the kept folder (run after editing a .cu file)
#
# Without nvcc on PATH the kept PTX is used as is and only a notice is printed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kept="$here/../resources/io/dcformer4j/backend/cuda/ptx"
flags=(-ptx -arch=compute_80 -O3 -std=c++17)
mode="${1:-}"

case "$mode" in
  --check) out="${2:?usage: build-ptx.sh --check <outdir>}" ;;
  --refresh) out="$kept" ;;
  *) echo "usage: build-ptx.sh --check <outdir> | --refresh" >&2; exit 2 ;;
esac

if ! command -v nvcc >/dev/null 2>&1; then
  echo "[cuda-ptx] nvcc not on PATH: using the PTX kept in src/main/resources (not re-checked)"
  exit 0
fi

mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
status=0
for cu in "$here"/*.cu; do
  name="$(basename "$cu" .cu)"
  (cd "$here" && nvcc "${flags[@]}" -o "$tmp/$name.ptx" "$name.cu")
  if [ "$mode" = "--check" ]; then
    if ! cmp -s "$tmp/$name.ptx" "$kept/$name.ptx"; then
      echo "[cuda-ptx] ERROR: kept PTX $name.ptx is stale (differs from nvcc output for $name.cu)." >&2
      echo "[cuda-ptx]        Refresh it with: bash backend-cuda/src/main/cuda/build-ptx.sh --refresh" >&2
      status=1
    fi
  fi
  cp "$tmp/$name.ptx" "$out/$name.ptx"
  if command -v ptxas >/dev/null 2>&1; then
    report="$(ptxas -arch=sm_90 -v "$tmp/$name.ptx" -o /dev/null 2>&1)"
    # One line per kernel: name, registers, shared memory, stack, spills.
    echo "$report" | awk -v mod="$name" '
      /Compiling entry function/ { match($0, /\x27[^\x27]+\x27/); fn = substr($0, RSTART + 1, RLENGTH - 2) }
      /bytes stack frame/ { stack = $1; spills = $5; spilll = $9 }
      /Used [0-9]+ registers/ {
        regs = $0; sub(/.*Used /, "", regs); sub(/ registers.*/, "", regs)
        smem = "0"; if ($0 ~ /bytes smem/) { smem = $0; sub(/ bytes smem.*/, "", smem); sub(/.*, /, "", smem) }
        printf "[cuda-ptx] %-15s %-20s regs %3s  smem %6s B  stack %3s B  spill st/ld %s/%s B\n", mod, fn, regs, smem, stack, spills, spilll
      }'
    if echo "$report" | grep -E "[1-9][0-9]* bytes spill (stores|loads)" >/dev/null; then
      echo "[cuda-ptx] ERROR: a kernel of $name.cu spills registers (see ptxas -v above)" >&2
      status=1
    fi
  fi
done
exit $status

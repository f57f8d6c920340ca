#!/usr/bin/env bash
# Compiles the CUDA kernels of this folder to PTX for compute_80 (JIT-compiled by the driver for the GPU at
# hand) and keeps it in src/main/resources, where the default build takes it from as is: the default build
# needs no nvcc. KeptPtxTest (every build) fails when a .cu/.cuh file or the flags below no longer match the
# hashes recorded in ptx/sources.sha256 by --refresh.
#
#   build-ptx.sh --refresh         compile into the kept folder and record sources.sha256 (after editing a .cu)
#   build-ptx.sh --check           the explicit Maven profile -Pcuda-ptx: with the nvcc that made the kept PTX,
#                                  compile it again and fail when the kept PTX differs byte for byte; with
#                                  another nvcc or none, one notice line and no byte check. Either way, when
#                                  ptxas is present, assemble the kept PTX for sm_80 and sm_90 (which proves
#                                  the declared ISA below is enough) and fail when a kernel spills.
#   --report (after the mode)      also print ptxas -v figures of every kernel for sm_90 ([cuda-ptx] lines);
#                                  CUDA_PTX_REPORT=true does the same
#
# The declared PTX ISA: nvcc writes the newest ISA it knows (9.0 for nvcc 13.0, which only a CUDA 13 driver
# can JIT). The kernels need only ISA 7.0, the first with .target sm_80 (bf16 cvt and mma.sync.m16n8k16 came
# with it); ptxas 13.0 refuses .version 6.5 ("PTX .version 6.5 does not support .target sm_80", "Feature
# 'cvt.bf16.f32' requires PTX ISA .version 7.0") and assembles 7.0 for sm_80 and sm_90. So the .version line
# is rewritten to 7.0, which every driver from CUDA 11.0 on can JIT; JCuda 12's natives need a 12.0 driver.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kept="$here/../resources/io/dcformer4j/backend/cuda/ptx"
flags=(-ptx -arch=compute_80 -O3 -std=c++17)
isa=7.0
mode="${1:-}"
report="${CUDA_PTX_REPORT:-false}"

case "$mode" in
  --check|--refresh) [ "${2:-}" = "--report" ] && report=true ;;
  *) echo "usage: build-ptx.sh --check|--refresh [--report]" >&2; exit 2 ;;
esac

# The CUDA sources, in byte order of their names (KeptPtxTest hashes the same list the same way).
sources() { (cd "$here" && LC_ALL=C ls -1 ./*.cu ./*.cuh | sed 's|^\./||'); }
sha() { tr -d '\r' < "$here/$1" | sha256sum | cut -d' ' -f1; }
nvcc_release() { nvcc --version | sed -n 's/.*release [0-9.]*, V\([0-9.]*\).*/\1/p'; }
recorded_nvcc() { sed -n 's/^nvcc //p' "$kept/sources.sha256" 2>/dev/null; }

compile() { # compile <dir>: every .cu to <dir>/<name>.ptx, with the declared ISA
  local dir="$1" cu name
  mkdir -p "$dir"
  for cu in "$here"/*.cu; do
    name="$(basename "$cu" .cu)"
    (cd "$here" && nvcc "${flags[@]}" -o "$dir/$name.ptx" "$name.cu")
    sed -i "s/^\.version [0-9]*\.[0-9]*$/.version $isa/" "$dir/$name.ptx"
  done
}

assemble() { # assemble <dir>: ptxas for sm_80 and sm_90; optional report; returns 1 on a spill or an error
  local dir="$1" status=0 ptx name log
  for ptx in "$dir"/*.ptx; do
    name="$(basename "$ptx" .ptx)"
    for sm in sm_80 sm_90; do
      if ! log="$(ptxas -arch=$sm -v "$ptx" -o /dev/null 2>&1)"; then
        echo "[cuda-ptx] ERROR: ptxas -arch=$sm rejects $name.ptx (.version $isa):" >&2
        echo "$log" | grep -v "^ptxas info" | head -5 >&2
        status=1
        continue
      fi
      if echo "$log" | grep -E "[1-9][0-9]* bytes spill (stores|loads)" >/dev/null; then
        echo "[cuda-ptx] ERROR: a kernel of $name.ptx spills registers on $sm (run with --report to see which)" >&2
        status=1
      fi
      if [ "$sm" = sm_90 ] && [ "$report" = true ]; then
        # One line per kernel: name, registers, shared memory, stack, spills.
        echo "$log" | awk -v mod="$name" '
          /Compiling entry function/ { match($0, /\x27[^\x27]+\x27/); fn = substr($0, RSTART + 1, RLENGTH - 2) }
          /bytes stack frame/ { stack = $1; spills = $5; spilll = $9 }
          /Used [0-9]+ registers/ {
            regs = $0; sub(/.*Used /, "", regs); sub(/ registers.*/, "", regs)
            smem = "0"; if ($0 ~ /bytes smem/) { smem = $0; sub(/ bytes smem.*/, "", smem); sub(/.*, /, "", smem) }
            printf "[cuda-ptx] %-15s %-20s regs %3s  smem %6s B  stack %3s B  spill st/ld %s/%s B\n", mod, fn, regs, smem, stack, spills, spilll
          }'
      fi
    done
  done
  return $status
}

if [ "$mode" = "--refresh" ]; then
  command -v nvcc >/dev/null 2>&1 || { echo "[cuda-ptx] --refresh needs nvcc on PATH" >&2; exit 1; }
  compile "$kept"
  {
    echo "# Written by build-ptx.sh --refresh: the CUDA sources the kept PTX was compiled from, and how."
    echo "# KeptPtxTest recomputes the hashes (CR characters removed) and fails when they differ."
    echo "isa $isa"
    echo "flags ${flags[*]}"
    echo "nvcc $(nvcc_release)"
    for f in $(sources); do echo "$(sha "$f")  $f"; done
  } > "$kept/sources.sha256"
  if command -v ptxas >/dev/null 2>&1; then
    assemble "$kept"
  fi
  echo "[cuda-ptx] refreshed $(ls "$kept"/*.ptx | wc -l) PTX files (.version $isa, nvcc $(nvcc_release))"
  exit 0
fi

status=0
if ! command -v nvcc >/dev/null 2>&1; then
  echo "[cuda-ptx] notice: nvcc not on PATH: the kept PTX is used as is (its sources are checked by KeptPtxTest)"
elif [ "$(nvcc_release)" != "$(recorded_nvcc)" ]; then
  echo "[cuda-ptx] notice: nvcc $(nvcc_release) is not $(recorded_nvcc), which made the kept PTX: byte-for-byte check skipped"
else
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  compile "$tmp"
  for ptx in "$tmp"/*.ptx; do
    name="$(basename "$ptx")"
    if ! cmp -s "$ptx" "$kept/$name"; then
      echo "[cuda-ptx] ERROR: kept PTX $name is stale (differs from nvcc $(nvcc_release) output)." >&2
      echo "[cuda-ptx]        Refresh it with: bash backend-cuda/src/main/cuda/build-ptx.sh --refresh" >&2
      status=1
    fi
  done
fi
if command -v ptxas >/dev/null 2>&1; then
  assemble "$kept" || status=1
fi
exit $status

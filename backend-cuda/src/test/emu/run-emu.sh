#!/usr/bin/env bash
# Compiles the CUDA kernels with g++ against the CPU stand-in of include/cuda_emu.h.
#   run-emu.sh [outdir]          builds and runs emu_test (every kernel against float64 references)
#   run-emu.sh --lib [outdir]    builds libcudaemu.so, the kernels behind emu_launch(), for the Java
#                                backend's emulated device (-Ddcformer4j.cuda.emulator=<outdir>/libcudaemu.so)
# Needs g++ with C++20; no GPU, no CUDA toolkit.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lib=false
if [ "${1:-}" = "--lib" ]; then
  lib=true
  shift
fi
out="${1:-$here/../../../target/emu}"
mkdir -p "$out"
# One KERNEL(name) line per extern "C" kernel of the .cu files.
sed -n 's/.*extern "C" __global__ void \(__launch_bounds__([^)]*) \)\{0,1\}\([A-Za-z0-9_]*\)(.*/KERNEL(\2)/p' \
  "$here"/../../main/cuda/*.cu > "$out/kernels.inc"
if $lib; then
  g++ -std=c++20 -O2 -pthread -D_GNU_SOURCE -fPIC -shared -I"$here/include" -I"$out" -o "$out/libcudaemu.so" "$here/emu_lib.cpp"
  echo "$out/libcudaemu.so"
else
  g++ -std=c++20 -O1 -pthread -D_GNU_SOURCE -I"$here/include" -o "$out/emu_test" "$here/emu_test.cpp"
  "$out/emu_test"
fi

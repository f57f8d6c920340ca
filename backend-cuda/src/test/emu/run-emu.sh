#!/usr/bin/env bash
# Compiles the CUDA kernels with g++ against the CPU stand-in of include/cuda_emu.h and runs them against
# float64 references (emu_test.cpp). Needs g++ with C++20; no GPU, no CUDA toolkit.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../../../target/emu}"
mkdir -p "$out"
g++ -std=c++20 -O1 -pthread -D_GNU_SOURCE -I"$here/include" -o "$out/emu_test" "$here/emu_test.cpp"
"$out/emu_test"

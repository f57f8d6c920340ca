// A CPU stand-in for the small part of CUDA the kernels of src/main/cuda use, so that their source can be
// compiled by g++ and executed on a machine without a GPU: one std::thread per CUDA thread, blocks run one
// after another, __syncthreads is a block-wide barrier and warp shuffles go through a per-warp exchange.
// Exited threads drop out of the barriers (as on Volta and later GPUs). Not covered: inline PTX (mma.sync).
#pragma once
#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)

// Dynamic shared memory: one host buffer, reused by every block (blocks run one after another).
namespace emu {
inline float* dynamicShared() {
    alignas(16) static float buffer[1 << 16];
    return buffer;
}
}  // namespace emu
#define DYNAMIC_SHARED(type, name) type* name = reinterpret_cast<type*>(emu::dynamicShared())

struct uint3 {
    unsigned int x, y, z;
};
struct dim3 {
    unsigned int x = 1, y = 1, z = 1;
};
struct uint4 {
    unsigned int x, y, z, w;
};
struct alignas(16) float4 {
    float x, y, z, w;
};

inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;

using std::isfinite;
using std::max;
using std::min;

inline float __uint_as_float(unsigned int u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

inline unsigned int __float_as_uint(float f) {
    unsigned int u;
    std::memcpy(&u, &f, 4);
    return u;
}

template <typename T>
inline T __ldg(const T* p) {
    return *p;
}

namespace emu {
struct Block {
    std::unique_ptr<std::barrier<>> block;
    std::vector<std::unique_ptr<std::barrier<>>> warps;
    std::vector<float> exchange;          // one slot per thread
    std::vector<unsigned int> fragments;  // six mma fragment registers per thread
};
inline thread_local Block* current = nullptr;
inline thread_local unsigned int linearTid = 0;

// Runs kernel(args...) over the grid, one block at a time.
template <typename F>
void launch(dim3 grid, dim3 block, F&& body) {
    const unsigned int n = block.x * block.y * block.z;
    for (unsigned int bz = 0; bz < grid.z; bz++) {
        for (unsigned int by = 0; by < grid.y; by++) {
            for (unsigned int bx = 0; bx < grid.x; bx++) {
                Block b;
                b.block = std::make_unique<std::barrier<>>(n);
                for (unsigned int w = 0; w < (n + 31) / 32; w++) {
                    b.warps.push_back(std::make_unique<std::barrier<>>(std::min(32u, n - 32 * w)));
                }
                b.exchange.assign(n, 0.0f);
                b.fragments.assign(6 * n, 0u);
                std::vector<std::thread> threads;
                for (unsigned int t = 0; t < n; t++) {
                    threads.emplace_back([&, t] {
                        current = &b;
                        linearTid = t;
                        threadIdx = {t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
                        blockIdx = {bx, by, bz};
                        blockDim = block;
                        gridDim = grid;
                        body();
                        b.warps[t / 32]->arrive_and_drop();
                        b.block->arrive_and_drop();
                    });
                }
                for (auto& th : threads) {
                    th.join();
                }
            }
        }
    }
}
}  // namespace emu

inline void __syncthreads() {
    emu::current->block->arrive_and_wait();
}

inline float __shfl_xor_sync(unsigned int, float v, int laneMask) {
    emu::Block& b = *emu::current;
    const unsigned int t = emu::linearTid;
    auto& w = *b.warps[t / 32];
    b.exchange[t] = v;
    w.arrive_and_wait();
    const float other = b.exchange[(t & ~31u) | ((t & 31u) ^ (unsigned) laneMask)];
    w.arrive_and_wait();
    return other;
}

inline float emu_half16(unsigned int reg, int hi, bool f16) {
    const unsigned short bits = (unsigned short) ((reg >> (16 * hi)) & 0xffffu);
    if (f16) {
        _Float16 h;
        std::memcpy(&h, &bits, 2);
        return (float) h;
    }
    return __uint_as_float(((unsigned int) bits) << 16);
}

// mma.sync.aligned.m16n8k16.row.col.f32.{bf16,f16}: every lane of the warp passes its A (4 regs) and
// B (2 regs) fragments and receives its 4 accumulators, laid out as the PTX ISA describes
// (groupID = lane / 4, tid = lane % 4; A rows groupID and groupID + 8, k pairs 2*tid (+8); B columns
// groupID, k pairs 2*tid (+8); C rows groupID and groupID + 8, columns 2*tid and 2*tid + 1).
inline void emu_mma_m16n8k16(float* c, const unsigned int* a, const unsigned int* b, bool f16) {
    emu::Block& blk = *emu::current;
    const unsigned int t = emu::linearTid;
    const unsigned int base = t & ~31u;
    auto& w = *blk.warps[t / 32];
    for (int i = 0; i < 4; i++) {
        blk.fragments[6 * t + i] = a[i];
    }
    blk.fragments[6 * t + 4] = b[0];
    blk.fragments[6 * t + 5] = b[1];
    w.arrive_and_wait();
    auto A = [&](int r, int k) {
        const unsigned int lane = (unsigned) ((r % 8) * 4 + (k % 8) / 2);
        const int reg = (r >= 8 ? 1 : 0) + (k >= 8 ? 2 : 0);
        return emu_half16(blk.fragments[6 * (base + lane) + reg], k % 2, f16);
    };
    auto B = [&](int k, int n) {
        const unsigned int lane = (unsigned) (n * 4 + (k % 8) / 2);
        const int reg = k >= 8 ? 1 : 0;
        return emu_half16(blk.fragments[6 * (base + lane) + 4 + reg], k % 2, f16);
    };
    const int lane = (int) (t & 31u);
    const int g = lane >> 2;
    const int tq = lane & 3;
    for (int i = 0; i < 4; i++) {
        const int r = g + (i >> 1) * 8;
        const int n = 2 * tq + (i & 1);
        float s = 0.0f;
        for (int k = 0; k < 16; k++) {
            s += A(r, k) * B(k, n);
        }
        c[i] += s;
    }
    w.arrive_and_wait();
}

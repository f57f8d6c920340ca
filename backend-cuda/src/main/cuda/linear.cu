// Linear layers, out[t, r] = x[t, :] . w[r, :] + bias[r].
//  - gemv_*: few query rows (decode): one warp per output row, 16-byte weight loads.
//  - gemm_tc_*: prefill, 64x64 output tiles on tensor cores (mma.sync m16n8k16, F32 accumulation).
//    Weights are exact in their 16-bit type; each F32 activation is split while the tile is loaded into
//    16-bit terms x = t0 + t1 (+ t2), t_i = round16(x - t0 - ... - t_{i-1}), and every term goes through the
//    tensor cores: three bf16 terms (8 + 8 + 8 significant bits) or two f16 terms (11 + 11) carry the whole
//    F32 activation, so the result matches an F32 GEMM at 3x (bf16) or 2x (f16) the mma work.
//  - gemm_f32: prefill with F32 weights, 64x64 tiles of plain FFMA.
#include "common.cuh"

// Widens 8 packed 16-bit values to floats.
template <int DT>
__device__ __forceinline__ void widen8(uint4 u, float* f) {
    unsigned int w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int j = 0; j < 4; j++) {
        if (DT == DT_BF16) {
            f[2 * j] = __uint_as_float(w[j] << 16);
            f[2 * j + 1] = __uint_as_float(w[j] & 0xffff0000u);
        } else {
            f[2 * j] = f16_bits_to_float((unsigned short) (w[j] & 0xffffu));
            f[2 * j + 1] = f16_bits_to_float((unsigned short) (w[j] >> 16));
        }
    }
}

// One warp per (row, query t): gridDim.y = T, blockDim.x a multiple of 32.
template <int DT>
__device__ __forceinline__ void gemv_impl(const void* w, const float* x, const void* bias, int biasType,
                                          float* y, int rows, int cols) {
    const int row = (int) ((blockIdx.x * (unsigned) blockDim.x + threadIdx.x) >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) {
        return;
    }
    const int t = blockIdx.y;
    const float* xr = x + (size_t) t * cols;
    const int es = DT == DT_F32 ? 4 : 2;
    const char* wr = (const char*) w + (size_t) row * cols * es;
    const int epv = 16 / es;  // elements per 16-byte vector
    float acc = 0.0f;
    const bool vec = (cols % epv) == 0 && (((size_t) wr) & 15) == 0 && (((size_t) xr) & 15) == 0;
    if (vec) {
        const uint4* wv = (const uint4*) wr;
        const float4* xv = (const float4*) xr;
        const int nvec = cols / epv;
#pragma unroll 4
        for (int i = lane; i < nvec; i += 32) {
            uint4 u = __ldg(wv + i);
            if (DT == DT_F32) {
                float4 xf = xv[i];
                acc += __uint_as_float(u.x) * xf.x + __uint_as_float(u.y) * xf.y
                     + __uint_as_float(u.z) * xf.z + __uint_as_float(u.w) * xf.w;
            } else {
                float f[8];
                widen8<DT>(u, f);
                float4 x0 = xv[2 * i];
                float4 x1 = xv[2 * i + 1];
                acc += f[0] * x0.x + f[1] * x0.y + f[2] * x0.z + f[3] * x0.w
                     + f[4] * x1.x + f[5] * x1.y + f[6] * x1.z + f[7] * x1.w;
            }
        }
    } else {
        for (int c = lane; c < cols; c += 32) {
            acc += load_typed(wr, c, DT) * xr[c];
        }
    }
    acc = warp_sum(acc);
    if (lane == 0) {
        y[(size_t) t * rows + row] = acc + (bias != nullptr ? load_typed(bias, row, biasType) : 0.0f);
    }
}

extern "C" __global__ void gemv_f32(const void* w, const float* x, const void* bias, int biasType, float* y,
                                    int rows, int cols) {
    gemv_impl<DT_F32>(w, x, bias, biasType, y, rows, cols);
}

extern "C" __global__ void gemv_bf16(const void* w, const float* x, const void* bias, int biasType, float* y,
                                     int rows, int cols) {
    gemv_impl<DT_BF16>(w, x, bias, biasType, y, rows, cols);
}

extern "C" __global__ void gemv_f16(const void* w, const float* x, const void* bias, int biasType, float* y,
                                    int rows, int cols) {
    gemv_impl<DT_F16>(w, x, bias, biasType, y, rows, cols);
}

// The scale d of the Q8_0 block at p (its first two bytes, F16 little-endian).
__device__ __forceinline__ float q8_scale(const unsigned char* p) {
    return f16_bits_to_float((unsigned short) (p[0] | (p[1] << 8)));
}

// Q8_0 weights (llama.cpp's blocks of 32 along a row: an F16 scale, then 32 int8) for a few query rows: one
// warp per (row, query t) as in gemv_*, lane i taking blocks i, i + 32, ...; a block's products are summed, then
// scaled by its d.
extern "C" __global__ void gemv_q8(const unsigned char* w, const float* x, const void* bias, int biasType, float* y,
                                   int rows, int cols) {
    const int row = (int) ((blockIdx.x * (unsigned) blockDim.x + threadIdx.x) >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) {
        return;
    }
    const int t = blockIdx.y;
    const float* xr = x + (size_t) t * cols;
    const int blocks = cols / 32;
    const unsigned char* wr = w + (size_t) row * blocks * 34;
    float acc = 0.0f;
    for (int b = lane; b < blocks; b += 32) {
        const unsigned char* p = wr + (size_t) b * 34;
        const float d = q8_scale(p);
        const float* xb = xr + b * 32;
        float s = 0.0f;
#pragma unroll 8
        for (int j = 0; j < 32; j++) {
            s += (float) (signed char) p[2 + j] * xb[j];
        }
        acc += d * s;
    }
    acc = warp_sum(acc);
    if (lane == 0) {
        y[(size_t) t * rows + row] = acc + (bias != nullptr ? load_typed(bias, row, biasType) : 0.0f);
    }
}

// Q8_0 weights widened to F32 (d * q, exact) for the F32 GEMM of a prefill: one thread per weight.
extern "C" __global__ void dequant_q8(const unsigned char* w, float* out, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return;
    }
    const unsigned char* p = w + (size_t) (i / 32) * 34;
    out[i] = q8_scale(p) * (float) (signed char) p[2 + i % 32];
}

#define TC_BM 64
#define TC_BN 64
#define TC_BK 32
#define TC_PITCH (TC_BK + 8)  // 80-byte rows: the fragment loads of a warp hit 32 distinct banks

template <int DT>
__device__ __forceinline__ unsigned short to_bits16(float v) {
    if (DT == DT_F16) {
        return __half_as_ushort(__float2half_rn(v));
    }
    return __bfloat16_as_ushort(__float2bfloat16_rn(v));
}

template <int DT>
__device__ __forceinline__ float from_bits16(unsigned short b) {
    return DT == DT_F16 ? f16_bits_to_float(b) : bf16_bits_to_float(b);
}

// c += a . b for one m16n8k16 tile of the warp (fragment layout of the PTX ISA, F32 accumulators).
template <int DT>
__device__ __forceinline__ void mma16816(float* c, const unsigned int* a, const unsigned int* b) {
#ifdef __CUDA_ARCH__
    if (DT == DT_F16) {
        asm volatile(
            "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
            : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
    } else {
        asm volatile(
            "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
            : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
    }
#else
    // Only the CPU emulator of src/test/emu compiles this file for the host; it models the warp-wide mma.
    emu_mma_m16n8k16(c, a, b, DT == DT_F16);
#endif
}

// 128 threads = 4 warps in a 2x2 arrangement, each warp owns a 32x32 block of the 64x64 output tile.
// grid = (ceil(N / 64), ceil(M / 64)); x [M, K] F32, w [N, K] 16-bit, y [M, N].
template <int DT>
__device__ __forceinline__ void gemm_tc_impl(const float* x, const unsigned short* w, const void* bias,
                                             int biasType, float* y, int M, int N, int K) {
    constexpr int TERMS = DT == DT_F16 ? 2 : 3;
    __shared__ __align__(16) unsigned short as[TERMS][TC_BM][TC_PITCH];
    __shared__ __align__(16) unsigned short bs[TC_BN][TC_PITCH];
    const int tid = threadIdx.x;
    const int m0 = blockIdx.y * TC_BM;
    const int n0 = blockIdx.x * TC_BN;
    const int warp = tid >> 5;
    const int lane = tid & 31;
    const int wm = warp >> 1;
    const int wn = warp & 1;
    const int g = lane >> 2;
    const int tq = lane & 3;
    float acc[2][4][4];
#pragma unroll
    for (int mi = 0; mi < 2; mi++) {
#pragma unroll
        for (int ni = 0; ni < 4; ni++) {
#pragma unroll
            for (int r = 0; r < 4; r++) {
                acc[mi][ni][r] = 0.0f;
            }
        }
    }
    for (int k0 = 0; k0 < K; k0 += TC_BK) {
#pragma unroll 4
        for (int i = 0; i < (TC_BM * TC_BK) / 128; i++) {
            const int idx = tid + i * 128;
            const int r = idx / TC_BK;
            const int c = idx % TC_BK;
            const int gm = m0 + r;
            const int gn = n0 + r;
            const int gk = k0 + c;
            const float xv = (gm < M && gk < K) ? x[(size_t) gm * K + gk] : 0.0f;
            float rest = xv;
#pragma unroll
            for (int term = 0; term < TERMS; term++) {
                const unsigned short bits = to_bits16<DT>(rest);
                as[term][r][c] = bits;
                const float taken = from_bits16<DT>(bits);
                // An infinite or NaN term already carries the value; the remainder would be NaN.
                rest = isfinite(taken) ? rest - taken : 0.0f;
            }
            bs[r][c] = (gn < N && gk < K) ? w[(size_t) gn * K + gk] : (unsigned short) 0;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < TC_BK; kk += 16) {
            unsigned int b[4][2];
#pragma unroll
            for (int ni = 0; ni < 4; ni++) {
                const int col = wn * 32 + ni * 8 + g;
                b[ni][0] = *(const unsigned int*) &bs[col][kk + 2 * tq];
                b[ni][1] = *(const unsigned int*) &bs[col][kk + 2 * tq + 8];
            }
#pragma unroll
            for (int term = 0; term < TERMS; term++) {
#pragma unroll
                for (int mi = 0; mi < 2; mi++) {
                    const int row = wm * 32 + mi * 16 + g;
                    unsigned int a[4];
                    a[0] = *(const unsigned int*) &as[term][row][kk + 2 * tq];
                    a[1] = *(const unsigned int*) &as[term][row + 8][kk + 2 * tq];
                    a[2] = *(const unsigned int*) &as[term][row][kk + 2 * tq + 8];
                    a[3] = *(const unsigned int*) &as[term][row + 8][kk + 2 * tq + 8];
#pragma unroll
                    for (int ni = 0; ni < 4; ni++) {
                        mma16816<DT>(acc[mi][ni], a, b[ni]);
                    }
                }
            }
        }
        __syncthreads();
    }
#pragma unroll
    for (int mi = 0; mi < 2; mi++) {
#pragma unroll
        for (int ni = 0; ni < 4; ni++) {
            const int row = m0 + wm * 32 + mi * 16 + g;
            const int col = n0 + wn * 32 + ni * 8 + 2 * tq;
#pragma unroll
            for (int r = 0; r < 4; r++) {
                const int rr = row + (r >> 1) * 8;
                const int cc = col + (r & 1);
                if (rr < M && cc < N) {
                    y[(size_t) rr * N + cc] = acc[mi][ni][r] + (bias != nullptr ? load_typed(bias, cc, biasType) : 0.0f);
                }
            }
        }
    }
}

extern "C" __global__ void __launch_bounds__(128) gemm_tc_bf16(const float* x, const unsigned short* w,
        const void* bias, int biasType, float* y, int M, int N, int K) {
    gemm_tc_impl<DT_BF16>(x, w, bias, biasType, y, M, N, K);
}

extern "C" __global__ void __launch_bounds__(128) gemm_tc_f16(const float* x, const unsigned short* w,
        const void* bias, int biasType, float* y, int M, int N, int K) {
    gemm_tc_impl<DT_F16>(x, w, bias, biasType, y, M, N, K);
}

#define F_BM 64
#define F_BN 64
#define F_BK 16

// 256 threads; thread (tx, ty) computes rows ty + 16i and columns tx + 16j of the 64x64 tile.
// grid = (ceil(N / 64), ceil(M / 64)).
extern "C" __global__ void __launch_bounds__(256) gemm_f32(const float* x, const float* w, const void* bias,
        int biasType, float* y, int M, int N, int K) {
    __shared__ float as[F_BM][F_BK + 1];
    __shared__ float bs[F_BN][F_BK + 1];
    const int tid = threadIdx.x;
    const int tx = tid & 15;
    const int ty = tid >> 4;
    const int m0 = blockIdx.y * F_BM;
    const int n0 = blockIdx.x * F_BN;
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++) {
#pragma unroll
        for (int j = 0; j < 4; j++) {
            acc[i][j] = 0.0f;
        }
    }
    for (int k0 = 0; k0 < K; k0 += F_BK) {
#pragma unroll
        for (int i = 0; i < (F_BM * F_BK) / 256; i++) {
            const int idx = tid + i * 256;
            const int r = idx / F_BK;
            const int c = idx % F_BK;
            const int gk = k0 + c;
            as[r][c] = (m0 + r < M && gk < K) ? x[(size_t) (m0 + r) * K + gk] : 0.0f;
            bs[r][c] = (n0 + r < N && gk < K) ? w[(size_t) (n0 + r) * K + gk] : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < F_BK; k++) {
            float a[4];
            float b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                a[i] = as[ty + 16 * i][k];
                b[i] = bs[tx + 16 * i][k];
            }
#pragma unroll
            for (int i = 0; i < 4; i++) {
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
                }
            }
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int r = m0 + ty + 16 * i;
            const int c = n0 + tx + 16 * j;
            if (r < M && c < N) {
                y[(size_t) r * N + c] = acc[i][j] + (bias != nullptr ? load_typed(bias, c, biasType) : 0.0f);
            }
        }
    }
}

// DCMHA dynamic-weight generation (spec 2.2), in two launches:
//  dw_hidden:   hid[t, c*K + k] = gelu(a[t] . dw1[:, c, k]),  hid[t, 4K + c*N + n] = tanh(a[t] . dd[:, c*N + n])
//  dw_weights:  r = hid[t, c, :] . qkw[c], w1 rows RMS-normalised over heads (eps 1e-6), written as
//               out[t, c, 0..I-1, :] = w1, out[t, c, I..2I-1, :] = w2, out[t, c, 2I, :] = dg.
// When the caller has already projected a onto [dw1 | dd] (with its other linears), dw_activate takes the
// place of dw_hidden and dw_weights follows unchanged.
#include "common.cuh"

#define DWH_COLS 32
#define DWH_SLICES 8

// blockDim = (32, 8): 32 consecutive output columns, the E axis split in 8 slices reduced in shared memory.
// grid = (ceil((4K + 4N) / 32), T).
extern "C" __global__ void __launch_bounds__(256) dw_hidden(const float* a, const void* dw1, int dw1Type,
        const void* dd, int ddType, float* hid, int T, int E, int K4, int N4) {
    __shared__ float part[DWH_SLICES][DWH_COLS];
    const int t = blockIdx.y;
    const int j = blockIdx.x * DWH_COLS + threadIdx.x;
    const int cols = K4 + N4;
    const float* ar = a + (size_t) t * E;
    float s = 0.0f;
    if (j < cols) {
        if (j < K4) {
            for (int e = threadIdx.y; e < E; e += DWH_SLICES) {
                s += ar[e] * load_typed(dw1, (long long) e * K4 + j, dw1Type);
            }
        } else {
            for (int e = threadIdx.y; e < E; e += DWH_SLICES) {
                s += ar[e] * load_typed(dd, (long long) e * N4 + (j - K4), ddType);
            }
        }
    }
    part[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && j < cols) {
        float z = 0.0f;
#pragma unroll
        for (int i = 0; i < DWH_SLICES; i++) {
            z += part[i][threadIdx.x];
        }
        hid[(size_t) t * cols + j] = j < K4 ? gelu_exact(z) : tanhf(z);
    }
}

// hid = dw_hidden's activations of a given projection proj [T, 4K + 4N], one thread per element. The same
// device functions as dw_hidden's, so that equal pre-activations give bit-equal hidden values.
// grid = ceil(T * (4K + 4N) / 256), blockDim = 256.
extern "C" __global__ void __launch_bounds__(256) dw_activate(const float* proj, float* hid, int T, int K4, int N4) {
    const int cols = K4 + N4;
    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < (long long) T * cols) {
        const float z = proj[i];
        hid[i] = (int) (i % cols) < K4 ? gelu_exact(z) : tanhf(z);
    }
}

// One block per (slot c, token t): grid = (4, T); dynamic shared memory of 2I*N + I floats.
extern "C" __global__ void dw_weights(const float* hid, const void* qkw, int qkwType, float* out, int T, int K,
                                      int N, int I) {
    DYNAMIC_SHARED(float, dsm);
    float* r = dsm;             // [2I, N]
    float* norm = dsm + 2 * I * N;  // [I]
    const int c = blockIdx.x;
    const int t = blockIdx.y;
    const int cols = 4 * K + 4 * N;
    const float* u = hid + (size_t) t * cols + (size_t) c * K;
    const int twoIN = 2 * I * N;
    for (int idx = threadIdx.x; idx < twoIN; idx += blockDim.x) {
        const int j = idx / N;
        const int n = idx % N;
        float s = 0.0f;
        for (int k = 0; k < K; k++) {
            s += u[k] * load_typed(qkw, (((long long) c * K + k) * (2 * I) + j) * N + n, qkwType);
        }
        r[idx] = s;
    }
    __syncthreads();
    for (int i = threadIdx.x; i < I; i += blockDim.x) {
        float ss = 0.0f;
        for (int n = 0; n < N; n++) {
            ss += r[i * N + n] * r[i * N + n];
        }
        norm[i] = 1.0f / sqrtf(ss / (float) N + 1e-6f);
    }
    __syncthreads();
    const int R = 2 * I + 1;
    float* o = out + ((size_t) t * 4 + c) * R * N;
    for (int idx = threadIdx.x; idx < R * N; idx += blockDim.x) {
        const int j = idx / N;
        const int n = idx % N;
        float val;
        if (j < I) {
            val = r[idx] * norm[j];
        } else if (j < 2 * I) {
            val = r[idx];
        } else {
            val = hid[(size_t) t * cols + 4 * K + c * N + n];
        }
        o[idx] = val;
    }
}

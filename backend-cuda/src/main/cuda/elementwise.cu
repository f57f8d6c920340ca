// Norms, RoPE, activations, residual add, softmax, embedding lookup and dtype conversion.
// Element-wise kernels use one thread per element (grid = ceil(n / blockDim)); row kernels one warp per row.
#include "common.cuh"

// out = gain * x / sqrt(mean(x^2) + eps) over every contiguous group of G elements; one warp per group.
extern "C" __global__ void rms_norm(const float* x, const void* gain, int gainType, float* out, int groups, int G,
                                    float eps) {
    const int grp = (int) ((blockIdx.x * (unsigned) blockDim.x + threadIdx.x) >> 5);
    const int lane = threadIdx.x & 31;
    if (grp >= groups) {
        return;
    }
    const float* xr = x + (size_t) grp * G;
    float* yr = out + (size_t) grp * G;
    float ss = 0.0f;
    for (int i = lane; i < G; i += 32) {
        ss += xr[i] * xr[i];
    }
    ss = warp_sum(ss);
    const float inv = 1.0f / sqrtf(ss / (float) G + eps);
    for (int i = lane; i < G; i += 32) {
        yr[i] = load_typed(gain, i, gainType) * (xr[i] * inv);
    }
}

// out = gain * (x - mean) / sqrt(var + eps) + bias (bias may be null) with the population variance;
// one warp per row.
extern "C" __global__ void layer_norm(const float* x, const void* gain, int gainType, const void* bias,
                                      int biasType, float* out, int rows, int E, float eps) {
    const int row = (int) ((blockIdx.x * (unsigned) blockDim.x + threadIdx.x) >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) {
        return;
    }
    const float* xr = x + (size_t) row * E;
    float* yr = out + (size_t) row * E;
    float s = 0.0f;
    for (int i = lane; i < E; i += 32) {
        s += xr[i];
    }
    const float mean = warp_sum(s) / (float) E;
    float v = 0.0f;
    for (int i = lane; i < E; i += 32) {
        const float d = xr[i] - mean;
        v += d * d;
    }
    const float inv = 1.0f / sqrtf(warp_sum(v) / (float) E + eps);
    for (int i = lane; i < E; i += 32) {
        yr[i] = load_typed(gain, i, gainType) * ((xr[i] - mean) * inv)
              + (bias != nullptr ? load_typed(bias, i, biasType) : 0.0f);
    }
}

// Half-layout rotary embedding of x [T, H*D]: pair (j, j + Dr/2) of each head rotated by
// p_t * invFreq[j], p_t = positions[t] or, without positions, startPos + t (angle in F32, cos/sin in F64 then
// rounded); components >= Dr copied. One thread per pair or pass-through component: T * H * (D - Dr/2) items.
// In place is allowed.
__device__ __forceinline__ void rotate(const float* x, float* out, const float* invFreq, const int* positions, int T,
                                       int H, int D, int Dr, int startPos) {
    const int half = Dr / 2;
    const int per = D - half;
    const long long total = (long long) T * H * per;
    const long long idx = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) {
        return;
    }
    const int j = (int) (idx % per);
    const long long th = idx / per;
    const int t = (int) (th / H);
    const size_t base = (size_t) th * D;
    if (j < half) {
        const float theta = (float) (positions != nullptr ? positions[t] : startPos + t) * invFreq[j];
        double sd;
        double cd;
        sincos((double) theta, &sd, &cd);
        const float c = (float) cd;
        const float s = (float) sd;
        const float a = x[base + j];
        const float b = x[base + j + half];
        out[base + j] = a * c - b * s;
        out[base + j + half] = b * c + a * s;
    } else {
        const int d = Dr + (j - half);
        out[base + d] = x[base + d];
    }
}

extern "C" __global__ void rope(const float* x, float* out, const float* invFreq, int T, int H, int D, int Dr,
                                int startPos) {
    rotate(x, out, invFreq, nullptr, T, H, D, Dr, startPos);
}

// RoPE of a batch of sequences: row t at its own position positions[t].
extern "C" __global__ void rope_rows(const float* x, float* out, const float* invFreq, const int* positions, int T,
                                     int H, int D, int Dr) {
    rotate(x, out, invFreq, positions, T, H, D, Dr, 0);
}

extern "C" __global__ void swiglu(const float* gate, const float* up, float* out, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        const float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

// out[t, e*P + j] = softmax(gateLogits[t, :])[e] * u[t, e*P + j]; one block per row t,
// dynamic shared memory of Mg floats.
extern "C" __global__ void mgate(const float* u, const float* gateLogits, float* out, int T, int F, int Mg) {
    DYNAMIC_SHARED(float, gsm);
    const int t = blockIdx.x;
    if (t >= T) {
        return;
    }
    const float* gl = gateLogits + (size_t) t * Mg;
    for (int e = threadIdx.x; e < Mg; e += blockDim.x) {
        gsm[e] = gl[e];
    }
    __syncthreads();
    float mx = -INFINITY;
    for (int e = 0; e < Mg; e++) {
        mx = fmaxf(mx, gsm[e]);
    }
    float sum = 0.0f;
    for (int e = 0; e < Mg; e++) {
        sum += expf(gsm[e] - mx);
    }
    const int P = F / Mg;
    const float* ur = u + (size_t) t * F;
    float* yr = out + (size_t) t * F;
    for (int i = threadIdx.x; i < F; i += blockDim.x) {
        yr[i] = expf(gsm[i / P] - mx) / sum * ur[i];
    }
}

extern "C" __global__ void gelu(const float* x, float* out, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = gelu_exact(x[i]);
    }
}

extern "C" __global__ void add(const float* a, const float* b, float* out, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = a[i] + b[i];
    }
}

// Max-subtracted softmax over rows of `cols` elements; one warp per row. In place is allowed.
extern "C" __global__ void softmax(const float* x, float* out, int rows, int cols) {
    const int row = (int) ((blockIdx.x * (unsigned) blockDim.x + threadIdx.x) >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) {
        return;
    }
    const float* xr = x + (size_t) row * cols;
    float* yr = out + (size_t) row * cols;
    float mx = -INFINITY;
    for (int i = lane; i < cols; i += 32) {
        mx = fmaxf(mx, xr[i]);
    }
    mx = warp_max(mx);
    float sum = 0.0f;
    for (int i = lane; i < cols; i += 32) {
        sum += expf(xr[i] - mx);
    }
    const float inv = 1.0f / warp_sum(sum);
    for (int i = lane; i < cols; i += 32) {
        yr[i] = expf(xr[i] - mx) * inv;
    }
}

// out[t, e] = table[tokens[t], e]; ids were range-checked on the host. One thread per output element.
extern "C" __global__ void embedding(const void* table, int tableType, const int* tokens, float* out, int T, int E) {
    const long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long) T * E) {
        return;
    }
    const int t = (int) (i / E);
    const int e = (int) (i % E);
    out[i] = load_typed(table, (long long) tokens[t] * E + e, tableType);
}

// dst = src converted between float storage types (round to nearest even when narrowing).
extern "C" __global__ void convert(const void* src, int srcType, void* dst, int dstType, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        store_typed(dst, i, dstType, load_typed(src, i, srcType));
    }
}

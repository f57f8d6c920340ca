// Fused DCMHA attention (spec 2.1 steps 5-10, 6.5, 6.6) over the device-resident caches.
//
// Keys of a call: positions s < L come from the ring caches (slot s mod cap), s >= L from the fresh
// k/v/dyn of this call (row s - L). New keys are appended by kv_append only after attending, so a call
// never reads a slot it overwrote. Query row t sits at position L + t and sees keys
// max(0, L + t - window + 1) <= s <= L + t (window = 0: all earlier keys).
//
// Modes: 0 DCMHA, 1 query-wise only (key-side terms dropped), 2 plain MHA (no compose, dyn unused).
// Compose of a column alpha over heads, for slots (cq, ck) = (0, 1) pre and (2, 3) post:
//   out[m] = alpha[m] (1 + dgq[m] + dgk[m]) + sum_i hq_i w2q[i, m] + sum_i hk_i w2k[i, m] + sum_n alpha[n] S[n, m]
//   hq_i = sum_n w1q[i, n] alpha[n],  hk_i = sum_n w1k[i, n] alpha[n]
// Factor rows per slot: w1 rows 0..I-1, w2 rows I..2I-1, dg row 2I, each N wide (R = 2I + 1 rows).
#include "common.cuh"

#define MODE_DCMHA 0
#define MODE_QUERY_WISE 1
#define MODE_PLAIN 2
#define MAX_RANK 4

struct KeySource {
    const float* k;
    const float* v;
    const float* dyn;
    const float* kcache;
    const float* vcache;
    const float* kwcache;
    int L;
    int cap;
    int ND;
    int RN;

    __device__ __forceinline__ const float* key(int s) const {
        return s >= L ? k + (size_t) (s - L) * ND : kcache + (size_t) (s % cap) * ND;
    }

    __device__ __forceinline__ const float* value(int s) const {
        return s >= L ? v + (size_t) (s - L) * ND : vcache + (size_t) (s % cap) * ND;
    }

    // Key-side factors of key s: post = 0 gives slot 1 (pre/key), post = 1 slot 3 (post/key).
    __device__ __forceinline__ const float* factors(int s, int post) const {
        return s >= L ? dyn + ((size_t) (s - L) * 4 + (post ? 3 : 1)) * RN
                      : kwcache + ((size_t) (s % cap) * 2 + post) * RN;
    }
};

__device__ __forceinline__ bool visible(int p, int s, int window) {
    return s <= p && (window == 0 || s >= p - window + 1);
}

__device__ __forceinline__ float dot(const float* a, const float* b, int D) {
    float s = 0.0f;
#pragma unroll 4
    for (int d = 0; d < D; d++) {
        s += a[d] * b[d];
    }
    return s;
}

// Composes in place the column a[n * stride], n < N. qf/kf are the query and key factor blocks
// (kf unused unless mode is DCMHA); sw the optional static weight [N, N] with a scratch copy column a2.
__device__ __forceinline__ void compose_column(float* a, int stride, int N, int I, int mode, const float* qf,
                                               const float* kf, const void* sw, int swType, float* a2) {
    float hq[MAX_RANK];
    float hk[MAX_RANK];
#pragma unroll
    for (int i = 0; i < MAX_RANK; i++) {
        hq[i] = 0.0f;
        hk[i] = 0.0f;
    }
    const bool keyWise = mode == MODE_DCMHA;
    for (int n = 0; n < N; n++) {
        const float x = a[n * stride];
#pragma unroll
        for (int i = 0; i < MAX_RANK; i++) {
            if (i < I) {
                hq[i] += qf[i * N + n] * x;
                if (keyWise) {
                    hk[i] += kf[i * N + n] * x;
                }
            }
        }
        if (sw != nullptr) {
            a2[n * stride] = x;
        }
    }
    for (int m = 0; m < N; m++) {
        float gate = 1.0f + qf[2 * I * N + m];
        float low = 0.0f;
#pragma unroll
        for (int i = 0; i < MAX_RANK; i++) {
            if (i < I) {
                low += hq[i] * qf[(I + i) * N + m];
            }
        }
        if (keyWise) {
            gate += kf[2 * I * N + m];
#pragma unroll
            for (int i = 0; i < MAX_RANK; i++) {
                if (i < I) {
                    low += hk[i] * kf[(I + i) * N + m];
                }
            }
        }
        float out = a[m * stride] * gate + low;
        if (sw != nullptr) {
            for (int n = 0; n < N; n++) {
                out += a2[n * stride] * load_typed(sw, (long long) n * N + m, swType);
            }
        }
        a[m * stride] = out;
    }
}

// Prefill, exact two-pass scheme (spec 6.6 A). One block per tile of Bt query rows, all N heads;
// key tiles of Bs keys. Dynamic shared memory (floats): S [N][Bt][Bs], S2 of the same size when static
// weights are given, mu [Bt][N] (the LSE after pass 1), zeta [Bt][N]. Only o is written to global memory.
extern "C" __global__ void __launch_bounds__(256) attn_prefill(const float* q, const float* k, const float* v,
        const float* dyn, const float* kcache, const float* vcache, const float* kwcache, const void* spre,
        const void* spost, int swType, float* out, int T, int L, int cap, int N, int D, int I, int mode,
        int window, float scale, int Bt, int Bs) {
    DYNAMIC_SHARED(float, smem);
    const int tile = Bt * Bs;
    float* S = smem;
    float* S2 = smem + (size_t) N * tile;
    float* mu = S2 + (spre != nullptr ? (size_t) N * tile : 0);
    float* zeta = mu + Bt * N;

    const int ND = N * D;
    const int R = 2 * I + 1;
    const KeySource ks{k, v, dyn, kcache, vcache, kwcache, L, cap, ND, R * N};
    const int t0 = blockIdx.x * Bt;
    const int nt = min(Bt, T - t0);
    if (nt <= 0) {
        return;
    }
    const int p0 = L + t0;
    const int kBegin = window == 0 ? 0 : max(0, p0 - window + 1);
    const int kEnd = p0 + nt;  // exclusive; keys after the last query of the tile are never visible
    const int tid = threadIdx.x;

    for (int i = tid; i < Bt * N; i += blockDim.x) {
        mu[i] = -INFINITY;
        zeta[i] = 0.0f;
    }

    for (int pass = 0; pass < 2; pass++) {
        const bool post = pass == 1;
        for (int sBase = kBegin; sBase < kEnd; sBase += Bs) {
            // Raw scaled logits of every head.
            for (int item = tid; item < N * tile; item += blockDim.x) {
                const int n = item / tile;
                const int rem = item % tile;
                const int tt = rem / Bs;
                const int s = sBase + rem % Bs;
                float val = 0.0f;
                if (tt < nt && s < kEnd && visible(p0 + tt, s, window)) {
                    val = dot(q + (size_t) (t0 + tt) * ND + n * D, ks.key(s) + n * D, D) * scale;
                }
                S[item] = val;
            }
            __syncthreads();
            // Pre-compose; in pass 2 then probabilities exp(L' - LSE) and post-compose. One column per thread.
            for (int col = tid; col < tile; col += blockDim.x) {
                const int tt = col / Bs;
                const int s = sBase + col % Bs;
                if (tt >= nt || s >= kEnd || !visible(p0 + tt, s, window)) {
                    continue;
                }
                const float* qrow = dyn + (size_t) (t0 + tt) * 4 * R * N;
                if (mode != MODE_PLAIN) {
                    compose_column(S + col, tile, N, I, mode, qrow, ks.factors(s, 0), spre, swType, S2 + col);
                }
                if (post) {
                    for (int n = 0; n < N; n++) {
                        S[n * tile + col] = expf(S[n * tile + col] - mu[tt * N + n]);
                    }
                    if (mode != MODE_PLAIN) {
                        compose_column(S + col, tile, N, I, mode, qrow + 2 * R * N, ks.factors(s, 1), spost, swType,
                                       S2 + col);
                    }
                }
            }
            __syncthreads();
            if (!post) {
                // Online max / sum per (query, head) over the visible keys of this tile.
                for (int pair = tid; pair < nt * N; pair += blockDim.x) {
                    const int tt = pair / N;
                    const int m = pair % N;
                    float mx = mu[pair];
                    float z = zeta[pair];
                    for (int j = 0; j < Bs; j++) {
                        const int s = sBase + j;
                        if (s < kEnd && visible(p0 + tt, s, window)) {
                            const float x = S[(m * Bt + tt) * Bs + j];
                            if (x > mx) {
                                z = z * expf(mx - x) + 1.0f;
                                mx = x;
                            } else {
                                z += expf(x - mx);
                            }
                        }
                    }
                    mu[pair] = mx;
                    zeta[pair] = z;
                }
            } else {
                // o[t, m, :] += sum_s P'[m, t, s] v[s, m, :]; each (t, m, d) is owned by one thread.
                for (int item = tid; item < nt * ND; item += blockDim.x) {
                    const int tt = item / ND;
                    const int md = item % ND;
                    const int m = md / D;
                    float acc = 0.0f;
                    for (int j = 0; j < Bs; j++) {
                        const int s = sBase + j;
                        if (s < kEnd && visible(p0 + tt, s, window)) {
                            acc += S[(m * Bt + tt) * Bs + j] * ks.value(s)[md];
                        }
                    }
                    out[(size_t) (t0 + tt) * ND + md] += acc;
                }
            }
            __syncthreads();
        }
        if (!post) {
            for (int pair = tid; pair < nt * N; pair += blockDim.x) {
                mu[pair] = mu[pair] + logf(zeta[pair]);
            }
            for (int item = tid; item < nt * ND; item += blockDim.x) {
                out[(size_t) (t0 + item / ND) * ND + item % ND] = 0.0f;
            }
            __syncthreads();
        }
    }
}

// Decode phase 1 (one query at position L, all heads, split over keys): block j takes keys
// kBegin + j*chunk .. + chunk - 1, writes the pre-composed logits to lbuf [N][numKeys] and per-head
// partial (max, sum of exp) to part [nsplit][2][N]. Dynamic shared memory: A [N][chunk] (+ A2 with static weights).
__device__ __forceinline__ void decode_logits(const float* q, const float* k, const float* v, const float* dyn,
        const float* kcache, const float* vcache, const float* kwcache, const void* sw, int swType, float* lbuf,
        float* part, int L, int cap, int N, int D, int I, int mode, int window, float scale, int chunk, int split,
        float* smem) {
    float* A = smem;
    float* A2 = smem + (size_t) N * chunk;
    const int ND = N * D;
    const int R = 2 * I + 1;
    const KeySource ks{k, v, dyn, kcache, vcache, kwcache, L, cap, ND, R * N};
    const int kBegin = window == 0 ? 0 : max(0, L - window + 1);
    const int numKeys = L - kBegin + 1;
    const int j0 = split * chunk;
    const int nk = min(chunk, numKeys - j0);
    for (int item = threadIdx.x; item < N * chunk; item += blockDim.x) {
        const int n = item / chunk;
        const int j = item % chunk;
        A[item] = j < nk ? dot(q + n * D, ks.key(kBegin + j0 + j) + n * D, D) * scale : 0.0f;
    }
    __syncthreads();
    if (mode != MODE_PLAIN) {
        for (int j = threadIdx.x; j < nk; j += blockDim.x) {
            compose_column(A + j, chunk, N, I, mode, dyn, ks.factors(kBegin + j0 + j, 0), sw, swType, A2 + j);
        }
        __syncthreads();
    }
    for (int item = threadIdx.x; item < N * chunk; item += blockDim.x) {
        const int n = item / chunk;
        const int j = item % chunk;
        if (j < nk) {
            lbuf[(size_t) n * numKeys + j0 + j] = A[item];
        }
    }
    for (int n = threadIdx.x; n < N; n += blockDim.x) {
        float mx = -INFINITY;
        for (int j = 0; j < nk; j++) {
            mx = fmaxf(mx, A[n * chunk + j]);
        }
        float z = 0.0f;
        for (int j = 0; j < nk; j++) {
            z += expf(A[n * chunk + j] - mx);
        }
        part[((size_t) split * 2) * N + n] = mx;
        part[((size_t) split * 2 + 1) * N + n] = z;
    }
}

extern "C" __global__ void __launch_bounds__(256) attn_decode_logits(const float* q, const float* k,
        const float* v, const float* dyn, const float* kcache, const float* vcache, const float* kwcache,
        const void* sw, int swType, float* lbuf, float* part, int L, int cap, int N, int D, int I, int mode,
        int window, float scale, int chunk) {
    DYNAMIC_SHARED(float, smem);
    decode_logits(q, k, v, dyn, kcache, vcache, kwcache, sw, swType, lbuf, part, L, cap, N, D, I, mode, window, scale,
                  chunk, blockIdx.x, smem);
}

// A batch of decode rows, row b = blockIdx.y with its own cache: rows [B][ROW_FIELDS] holds each row's kcache,
// vcache and kwcache addresses, its cache length L and capacity, and the chunk and split count its own decode
// uses (so every row is split as it would be alone and gives the same floats). q, k, v, out are [B][N*D], dyn
// [B][4][2I+1][N]; row b's scratch starts at b times the given stride. Blocks past a row's splits do nothing.
#define ROW_FIELDS 7

struct DecodeRow {
    const float* kcache;
    const float* vcache;
    const float* kwcache;
    int L;
    int cap;
    int chunk;
    int nsplit;

    __device__ static DecodeRow of(const long long* rows, int b) {
        const long long* r = rows + (size_t) b * ROW_FIELDS;
        return DecodeRow{(const float*) (size_t) r[0], (const float*) (size_t) r[1], (const float*) (size_t) r[2],
                         (int) r[3], (int) r[4], (int) r[5], (int) r[6]};
    }
};

__device__ __forceinline__ const float* row_of(const float* base, int b, int width) {
    return base == nullptr ? nullptr : base + (size_t) b * width;
}

// Row b's own q, k, v ([B][N*D]) and dyn ([B][4][2I+1][N]) rows.
struct RowInputs {
    const float* q;
    const float* k;
    const float* v;
    const float* dyn;

    __device__ static RowInputs of(const float* q, const float* k, const float* v, const float* dyn, int b, int N,
                                   int D, int I) {
        const int ND = N * D;
        return RowInputs{row_of(q, b, ND), row_of(k, b, ND), row_of(v, b, ND), row_of(dyn, b, 4 * (2 * I + 1) * N)};
    }
};

extern "C" __global__ void __launch_bounds__(256, 1) attn_decode_logits_batch(const float* q, const float* k,
        const float* v, const float* dyn, const long long* rows, const void* sw, int swType, float* lbuf, float* part,
        int lbufStride, int partStride, int N, int D, int I, int mode, int window, float scale) {
    DYNAMIC_SHARED(float, smem);
    const int b = blockIdx.y;
    const DecodeRow r = DecodeRow::of(rows, b);
    if ((int) blockIdx.x >= r.nsplit) {
        return;
    }
    const RowInputs in = RowInputs::of(q, k, v, dyn, b, N, D, I);
    decode_logits(in.q, in.k, in.v, in.dyn, r.kcache, r.vcache, r.kwcache, sw, swType, lbuf + (size_t) b * lbufStride,
                  part + (size_t) b * partStride, r.L, r.cap, N, D, I, mode, window, scale, r.chunk, blockIdx.x, smem);
}

// Decode phase 2: lse[n] from the per-split partials; one thread per head.
__device__ __forceinline__ void decode_lse(const float* part, float* lse, int nsplit, int N) {
    const int n = blockIdx.x * blockDim.x + threadIdx.x;
    if (n >= N) {
        return;
    }
    float mx = -INFINITY;
    for (int j = 0; j < nsplit; j++) {
        mx = fmaxf(mx, part[(size_t) j * 2 * N + n]);
    }
    float z = 0.0f;
    for (int j = 0; j < nsplit; j++) {
        z += part[((size_t) j * 2 + 1) * N + n] * expf(part[(size_t) j * 2 * N + n] - mx);
    }
    lse[n] = mx + logf(z);
}

extern "C" __global__ void attn_decode_lse(const float* part, float* lse, int nsplit, int N) {
    decode_lse(part, lse, nsplit, N);
}

// Phase 2 of a batch: row b = blockIdx.y, its partials at b * partStride, its lse at b * N.
extern "C" __global__ void attn_decode_lse_batch(const float* part, float* lse, const long long* rows, int partStride,
                                                 int N) {
    const int b = blockIdx.y;
    decode_lse(part + (size_t) b * partStride, lse + (size_t) b * N, DecodeRow::of(rows, b).nsplit, N);
}

// Decode phase 3: exact probabilities, post-compose and the partial value sum of each split into
// opart [nsplit][N*D]. Dynamic shared memory as in phase 1.
__device__ __forceinline__ void decode_pv(const float* q, const float* k, const float* v, const float* dyn,
        const float* kcache, const float* vcache, const float* kwcache, const void* sw, int swType, const float* lbuf,
        const float* lse, float* opart, int L, int cap, int N, int D, int I, int mode, int window, int chunk,
        int split, float* smem) {
    float* A = smem;
    float* A2 = smem + (size_t) N * chunk;
    const int ND = N * D;
    const int R = 2 * I + 1;
    const KeySource ks{k, v, dyn, kcache, vcache, kwcache, L, cap, ND, R * N};
    const int kBegin = window == 0 ? 0 : max(0, L - window + 1);
    const int numKeys = L - kBegin + 1;
    const int j0 = split * chunk;
    const int nk = min(chunk, numKeys - j0);
    for (int item = threadIdx.x; item < N * chunk; item += blockDim.x) {
        const int n = item / chunk;
        const int j = item % chunk;
        A[item] = j < nk ? expf(lbuf[(size_t) n * numKeys + j0 + j] - lse[n]) : 0.0f;
    }
    __syncthreads();
    if (mode != MODE_PLAIN) {
        for (int j = threadIdx.x; j < nk; j += blockDim.x) {
            compose_column(A + j, chunk, N, I, mode, dyn + 2 * R * N, ks.factors(kBegin + j0 + j, 1), sw, swType,
                           A2 + j);
        }
        __syncthreads();
    }
    for (int md = threadIdx.x; md < ND; md += blockDim.x) {
        const int m = md / D;
        float acc = 0.0f;
        for (int j = 0; j < nk; j++) {
            acc += A[m * chunk + j] * ks.value(kBegin + j0 + j)[md];
        }
        opart[(size_t) split * ND + md] = acc;
    }
    (void) q;
}

extern "C" __global__ void __launch_bounds__(256) attn_decode_pv(const float* q, const float* k, const float* v,
        const float* dyn, const float* kcache, const float* vcache, const float* kwcache, const void* sw,
        int swType, const float* lbuf, const float* lse, float* opart, int L, int cap, int N, int D, int I,
        int mode, int window, int chunk) {
    DYNAMIC_SHARED(float, smem);
    decode_pv(q, k, v, dyn, kcache, vcache, kwcache, sw, swType, lbuf, lse, opart, L, cap, N, D, I, mode, window, chunk,
              blockIdx.x, smem);
}

// Phase 3 of a batch (rows and strides as in attn_decode_logits_batch; lse at b * N).
extern "C" __global__ void __launch_bounds__(256, 1) attn_decode_pv_batch(const float* q, const float* k,
        const float* v, const float* dyn, const long long* rows, const void* sw, int swType, const float* lbuf,
        const float* lse, float* opart, int lbufStride, int opartStride, int N, int D, int I, int mode, int window) {
    DYNAMIC_SHARED(float, smem);
    const int b = blockIdx.y;
    const DecodeRow r = DecodeRow::of(rows, b);
    if ((int) blockIdx.x >= r.nsplit) {
        return;
    }
    const RowInputs in = RowInputs::of(q, k, v, dyn, b, N, D, I);
    decode_pv(in.q, in.k, in.v, in.dyn, r.kcache, r.vcache, r.kwcache, sw, swType, lbuf + (size_t) b * lbufStride,
              lse + (size_t) b * N, opart + (size_t) b * opartStride, r.L, r.cap, N, D, I, mode, window, r.chunk,
              blockIdx.x, smem);
}

// Decode phase 4: out[md] = sum over splits of opart[j, md].
__device__ __forceinline__ void decode_reduce(const float* opart, float* out, int nsplit, int ND) {
    const int md = blockIdx.x * blockDim.x + threadIdx.x;
    if (md >= ND) {
        return;
    }
    float s = 0.0f;
    for (int j = 0; j < nsplit; j++) {
        s += opart[(size_t) j * ND + md];
    }
    out[md] = s;
}

extern "C" __global__ void attn_decode_reduce(const float* opart, float* out, int nsplit, int ND) {
    decode_reduce(opart, out, nsplit, ND);
}

// Phase 4 of a batch: row b = blockIdx.y, its output partials at b * opartStride, its output row at b * ND.
extern "C" __global__ void attn_decode_reduce_batch(const float* opart, float* out, const long long* rows,
                                                    int opartStride, int ND) {
    const int b = blockIdx.y;
    decode_reduce(opart + (size_t) b * opartStride, out + (size_t) b * ND, DecodeRow::of(rows, b).nsplit, ND);
}

// Appends the T fresh positions L..L+T-1 to the caches at slot (L + t) mod cap; only the last cap
// positions are written so no two threads target the same slot. keySide != 0 also stores the key-side
// factors (dyn slots 1 and 3) into kwcache [cap][2][R*N]. One thread per element.
__device__ __forceinline__ void append(const float* k, const float* v, const float* dyn, float* kcache, float* vcache,
                                       float* kwcache, int T, int L, int cap, int N, int D, int I, int keySide) {
    const int ND = N * D;
    const int RN = (2 * I + 1) * N;
    const int first = max(0, T - cap);
    const int count = T - first;
    const long long kvItems = (long long) count * ND;
    const long long kwItems = keySide ? (long long) count * 2 * RN : 0;
    const long long idx = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (idx < kvItems) {
        const int t = first + (int) (idx / ND);
        const int e = (int) (idx % ND);
        const size_t slot = (size_t) ((L + t) % cap);
        kcache[slot * ND + e] = k[(size_t) t * ND + e];
        vcache[slot * ND + e] = v[(size_t) t * ND + e];
    } else if (idx < kvItems + kwItems) {
        const long long r = idx - kvItems;
        const int t = first + (int) (r / (2 * RN));
        const int w = (int) (r % (2 * RN));
        const int post = w / RN;
        const int e = w % RN;
        const size_t slot = (size_t) ((L + t) % cap);
        kwcache[(slot * 2 + post) * RN + e] = dyn[((size_t) t * 4 + (post ? 3 : 1)) * RN + e];
    }
}

extern "C" __global__ void kv_append(const float* k, const float* v, const float* dyn, float* kcache,
                                     float* vcache, float* kwcache, int T, int L, int cap, int N, int D, int I,
                                     int keySide) {
    append(k, v, dyn, kcache, vcache, kwcache, T, L, cap, N, D, I, keySide);
}

// The append of a batch: row b = blockIdx.y writes its one fresh position L_b to its own cache.
extern "C" __global__ void kv_append_batch(const float* k, const float* v, const float* dyn, const long long* rows,
                                           int N, int D, int I, int keySide) {
    const int b = blockIdx.y;
    const DecodeRow r = DecodeRow::of(rows, b);
    const RowInputs in = RowInputs::of(nullptr, k, v, dyn, b, N, D, I);
    append(in.k, in.v, in.dyn, (float*) r.kcache, (float*) r.vcache, (float*) r.kwcache, 1, r.L, r.cap, N, D, I,
           keySide);
}

// ---------------------------------------------------------------------------------------------------
// Unfused baseline (benchmarks only): the same attention for a prefill from an empty cache, spelled out
// as separate passes over a materialised [N][T][T] score tensor in global memory, the way an eager
// implementation of spec 2.1 works. Masked entries (s > t or outside the window) are skipped and end as 0.

// lg[n][t][s] = q[t, n] . k[s, n] * scale for visible (t, s); one thread per entry.
extern "C" __global__ void unfused_logits(const float* q, const float* k, float* lg, int T, int N, int D, int window,
                                          float scale) {
    const long long idx = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long) N * T * T) {
        return;
    }
    const int s = (int) (idx % T);
    const int t = (int) ((idx / T) % T);
    const int n = (int) (idx / ((long long) T * T));
    lg[idx] = visible(t, s, window) ? dot(q + (size_t) t * N * D + n * D, k + (size_t) s * N * D + n * D, D) * scale
                                    : 0.0f;
}

// Composes every visible column (t, s) of a [N][T][T] tensor in place with query slot cq of token t and
// key slot cq + 1 of token s; one thread per (t, s).
extern "C" __global__ void unfused_compose(float* a, const float* dyn, const void* sw, int swType, float* scratch, int T,
                                           int N, int I, int mode, int window, int post) {
    const long long idx = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long) T * T) {
        return;
    }
    const int s = (int) (idx % T);
    const int t = (int) (idx / T);
    if (!visible(t, s, window)) {
        return;
    }
    const int RN = (2 * I + 1) * N;
    const float* qf = dyn + ((size_t) t * 4 + (post ? 2 : 0)) * RN;
    const float* kf = dyn + ((size_t) s * 4 + (post ? 3 : 1)) * RN;
    compose_column(a + idx, T * T, N, I, mode, qf, kf, sw, swType, scratch + idx);
}

// Softmax over the visible keys of every (n, t) row of a [N][T][T] tensor, in place; one warp per row.
extern "C" __global__ void unfused_softmax(float* a, int T, int N, int window) {
    const long long row = ((long long) blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const int lane = threadIdx.x & 31;
    if (row >= (long long) N * T) {
        return;
    }
    const int t = (int) (row % T);
    float* r = a + (size_t) row * T;
    float mx = -INFINITY;
    for (int s = lane; s < T; s += 32) {
        if (visible(t, s, window)) {
            mx = fmaxf(mx, r[s]);
        }
    }
    mx = warp_max(mx);
    float sum = 0.0f;
    for (int s = lane; s < T; s += 32) {
        if (visible(t, s, window)) {
            sum += expf(r[s] - mx);
        }
    }
    const float inv = 1.0f / warp_sum(sum);
    for (int s = lane; s < T; s += 32) {
        r[s] = visible(t, s, window) ? expf(r[s] - mx) * inv : 0.0f;
    }
}

// out[t, m, d] = sum_s p[m][t][s] v[s, m, d]; one thread per output element.
extern "C" __global__ void unfused_pv(const float* p, const float* v, float* out, int T, int N, int D, int window) {
    const long long idx = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    const int ND = N * D;
    if (idx >= (long long) T * ND) {
        return;
    }
    const int t = (int) (idx / ND);
    const int md = (int) (idx % ND);
    const int m = md / D;
    const float* pr = p + ((size_t) m * T + t) * T;
    float acc = 0.0f;
    for (int s = 0; s <= t; s++) {
        if (visible(t, s, window)) {
            acc += pr[s] * v[(size_t) s * ND + md];
        }
    }
    out[idx] = acc;
}

// Runs the CUDA kernels of src/main/cuda on the CPU (through include/cuda_emu.h) against float64
// references written from the spec, on small awkward shapes. Build and run with run-emu.sh.
#include "cuda_emu.h"

#include "../../main/cuda/attention.cu"
#include "../../main/cuda/dynamic_weights.cu"
#include "../../main/cuda/elementwise.cu"
#include "../../main/cuda/linear.cu"

#include <cstdio>
#include <random>
#include <string>

static std::mt19937_64 rng(1234);
static int failures = 0;

static std::vector<float> rnd(size_t n, float scale = 1.0f) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> v(n);
    for (auto& x : v) {
        x = u(rng) * scale;
    }
    return v;
}

static unsigned short bf16(float x) {
    return __bfloat16_as_ushort(__float2bfloat16_rn(x));
}

static float bf16f(unsigned short b) {
    return __uint_as_float(((unsigned) b) << 16);
}

static unsigned short f16(float x) {
    return __half_as_ushort(__float2half_rn(x));
}

static float f16f(unsigned short b) {
    return __half2float(__ushort_as_half(b));
}

// Max |a - b| / (max |ref| + tiny) must stay under tol; NaN always fails.
static void check(const std::string& what, const std::vector<float>& got, const std::vector<double>& ref, double tol) {
    double maxRef = 1e-30, maxErr = 0;
    bool nan = got.size() != ref.size();
    for (size_t i = 0; i < ref.size() && i < got.size(); i++) {
        if (std::isnan(got[i])) {
            nan = true;
        }
        maxRef = std::max(maxRef, std::fabs(ref[i]));
        maxErr = std::max(maxErr, std::fabs(got[i] - ref[i]));
    }
    const double rel = maxErr / maxRef;
    const bool ok = !nan && rel <= tol;
    std::printf("%-4s %-60s max err %.3g (relative %.3g, tol %.1g)\n", ok ? "ok" : "FAIL", what.c_str(), maxErr, rel, tol);
    if (!ok) {
        failures++;
    }
}

template <typename K, typename... A>
static void run(dim3 grid, dim3 block, K kernel, A... args) {
    emu::launch(grid, block, [&] { kernel(args...); });
}

static unsigned int blocks(long long n, int per) {
    return (unsigned) ((n + per - 1) / per);
}

// ---------------------------------------------------------------- linear

static void testLinear() {
    struct Case { int T, out, in; };
    for (Case c : {Case{1, 13, 40}, Case{3, 9, 37}, Case{2, 33, 64}}) {
        std::vector<float> w = rnd((size_t) c.out * c.in), x = rnd((size_t) c.T * c.in), bias = rnd(c.out);
        std::vector<unsigned short> wb(w.size()), wh(w.size());
        for (size_t i = 0; i < w.size(); i++) {
            wb[i] = bf16(w[i]);
            wh[i] = f16(w[i]);
        }
        for (int dt = 0; dt < 3; dt++) {
            std::vector<double> ref((size_t) c.T * c.out);
            for (int t = 0; t < c.T; t++) {
                for (int r = 0; r < c.out; r++) {
                    double s = bias[r];
                    for (int k = 0; k < c.in; k++) {
                        size_t i = (size_t) r * c.in + k;
                        double wv = dt == 0 ? w[i] : dt == 1 ? bf16f(wb[i]) : f16f(wh[i]);
                        s += wv * x[(size_t) t * c.in + k];
                    }
                    ref[(size_t) t * c.out + r] = s;
                }
            }
            std::vector<float> y(ref.size(), NAN);
            const void* wp = dt == 0 ? (const void*) w.data() : dt == 1 ? (const void*) wb.data() : (const void*) wh.data();
            auto k = dt == 0 ? gemv_f32 : dt == 1 ? gemv_bf16 : gemv_f16;
            run(dim3{blocks(c.out, 8), (unsigned) c.T, 1}, dim3{256, 1, 1}, k, wp, (const float*) x.data(),
                (const void*) bias.data(), 0, y.data(), c.out, c.in);
            check("gemv dtype " + std::to_string(dt) + " T" + std::to_string(c.T) + " " + std::to_string(c.out) + "x"
                  + std::to_string(c.in), y, ref, 2e-6);
        }
    }
    struct G { int M, N, K; };
    for (G g : {G{70, 75, 53}, G{8, 64, 32}, G{65, 9, 100}}) {
        std::vector<float> w = rnd((size_t) g.N * g.K), x = rnd((size_t) g.M * g.K);
        std::vector<unsigned short> wb(w.size()), wh(w.size());
        for (size_t i = 0; i < w.size(); i++) {
            wb[i] = bf16(w[i]);
            wh[i] = f16(w[i]);
        }
        for (int dt = 0; dt < 3; dt++) {
            std::vector<double> ref((size_t) g.M * g.N);
            for (int m = 0; m < g.M; m++) {
                for (int n = 0; n < g.N; n++) {
                    double s = 0;
                    for (int k = 0; k < g.K; k++) {
                        size_t i = (size_t) n * g.K + k;
                        double wv = dt == 0 ? w[i] : dt == 1 ? bf16f(wb[i]) : f16f(wh[i]);
                        s += wv * x[(size_t) m * g.K + k];
                    }
                    ref[(size_t) m * g.N + n] = s;
                }
            }
            std::vector<float> y(ref.size(), NAN);
            dim3 grid{blocks(g.N, 64), blocks(g.M, 64), 1};
            std::string name = "gemm " + std::to_string(g.M) + "x" + std::to_string(g.N) + "x" + std::to_string(g.K);
            if (dt == 0) {
                run(grid, dim3{256, 1, 1}, gemm_f32, (const float*) x.data(), (const float*) w.data(), (const void*) nullptr,
                    0, y.data(), g.M, g.N, g.K);
                check(name + " f32 FFMA", y, ref, 2e-6);
            } else {
                run(grid, dim3{128, 1, 1}, dt == 1 ? gemm_tc_bf16 : gemm_tc_f16, (const float*) x.data(),
                    (const unsigned short*) (dt == 1 ? wb.data() : wh.data()), (const void*) nullptr, 0, y.data(), g.M,
                    g.N, g.K);
                // Activations carried whole as three bf16 / two f16 terms: F32 accuracy.
                check(name + (dt == 1 ? " bf16 tensor-core" : " f16 tensor-core"), y, ref, 2e-6);
            }
        }
    }
}

// ---------------------------------------------------------------- element-wise and norms

static void testElementwise() {
    const int T = 3, E = 37, G = 5;
    std::vector<float> x = rnd((size_t) T * E * G, 2.0f), gain = rnd(E * G), bias = rnd(E * G);
    {  // grouped rms norm with G-sized groups (qk-norm shape)
        std::vector<float> g5 = rnd(G);
        long groups = (long) x.size() / G;
        std::vector<double> ref(x.size());
        for (long gi = 0; gi < groups; gi++) {
            double ss = 0;
            for (int i = 0; i < G; i++) {
                ss += (double) x[gi * G + i] * x[gi * G + i];
            }
            double inv = 1 / std::sqrt(ss / G + 1e-6);
            for (int i = 0; i < G; i++) {
                ref[gi * G + i] = g5[i] * x[gi * G + i] * inv;
            }
        }
        std::vector<float> y(x.size(), NAN);
        run(dim3{blocks(groups, 8), 1, 1}, dim3{256, 1, 1}, rms_norm, (const float*) x.data(), (const void*) g5.data(), 0,
            y.data(), (int) groups, G, 1e-6f);
        check("rms_norm groups of 5", y, ref, 1e-6);
    }
    {  // layer norm over rows of E*G
        const int W = E * G;
        std::vector<double> ref(x.size());
        for (int t = 0; t < T; t++) {
            double mu = 0, var = 0;
            for (int i = 0; i < W; i++) {
                mu += x[t * W + i];
            }
            mu /= W;
            for (int i = 0; i < W; i++) {
                var += (x[t * W + i] - mu) * (x[t * W + i] - mu);
            }
            var /= W;
            for (int i = 0; i < W; i++) {
                ref[t * W + i] = gain[i] * (x[t * W + i] - mu) / std::sqrt(var + 1e-5) + bias[i];
            }
        }
        std::vector<float> y(x.size(), NAN);
        run(dim3{1, 1, 1}, dim3{256, 1, 1}, layer_norm, (const float*) x.data(), (const void*) gain.data(), 0,
            (const void*) bias.data(), 0, y.data(), T, W, 1e-5f);
        check("layer_norm rows of 185", y, ref, 1e-6);
    }
    {  // rope, half layout, partial rotary dims, in place
        const int H = 3, D = 10, Dr = 6, start = 1000;
        std::vector<float> v = rnd((size_t) T * H * D), inv(Dr / 2);
        for (int j = 0; j < Dr / 2; j++) {
            inv[j] = (float) (1.0 / std::pow(10000.0, 2.0 * j / Dr));
        }
        std::vector<double> ref(v.size());
        for (int t = 0; t < T; t++) {
            for (int h = 0; h < H; h++) {
                const float* r = &v[(t * H + h) * D];
                for (int d = 0; d < D; d++) {
                    ref[(t * H + h) * D + d] = r[d];
                }
                for (int j = 0; j < Dr / 2; j++) {
                    double th = (float) (start + t) * inv[j];
                    ref[(t * H + h) * D + j] = r[j] * std::cos(th) - r[j + Dr / 2] * std::sin(th);
                    ref[(t * H + h) * D + j + Dr / 2] = r[j + Dr / 2] * std::cos(th) + r[j] * std::sin(th);
                }
            }
        }
        std::vector<float> y = v;
        run(dim3{blocks((long long) T * H * (D - Dr / 2), 256), 1, 1}, dim3{256, 1, 1}, rope, (const float*) y.data(),
            y.data(), (const float*) inv.data(), T, H, D, Dr, start);
        check("rope in place, Dr 6 of D 10, positions 1000..", y, ref, 1e-6);
    }
    {
        const int n = (int) x.size();
        std::vector<float> b2 = rnd(n, 3.0f);
        std::vector<double> rs(n), rg(n), ra(n);
        for (int i = 0; i < n; i++) {
            double g = x[i];
            rs[i] = g / (1 + std::exp(-g)) * b2[i];
            rg[i] = g * 0.5 * (1 + std::erf(g / std::sqrt(2.0)));
            ra[i] = (double) x[i] + b2[i];
        }
        std::vector<float> y(n, NAN);
        run(dim3{blocks(n, 256), 1, 1}, dim3{256, 1, 1}, swiglu, (const float*) x.data(), (const float*) b2.data(), y.data(), n);
        check("swiglu", y, rs, 1e-6);
        run(dim3{blocks(n, 256), 1, 1}, dim3{256, 1, 1}, gelu, (const float*) x.data(), y.data(), n);
        check("gelu (erf)", y, rg, 1e-6);
        run(dim3{blocks(n, 256), 1, 1}, dim3{256, 1, 1}, add, (const float*) x.data(), (const float*) b2.data(), y.data(), n);
        check("add", y, ra, 1e-7);
    }
    {  // softmax rows and mgate
        const int rows = 5, cols = 70;
        std::vector<float> s = rnd((size_t) rows * cols, 5.0f);
        std::vector<double> ref(s.size());
        for (int r = 0; r < rows; r++) {
            double mx = -1e300, sum = 0;
            for (int c = 0; c < cols; c++) {
                mx = std::max(mx, (double) s[r * cols + c]);
            }
            for (int c = 0; c < cols; c++) {
                sum += std::exp(s[r * cols + c] - mx);
            }
            for (int c = 0; c < cols; c++) {
                ref[r * cols + c] = std::exp(s[r * cols + c] - mx) / sum;
            }
        }
        std::vector<float> y(s.size(), NAN);
        run(dim3{1, 1, 1}, dim3{256, 1, 1}, softmax, (const float*) s.data(), y.data(), rows, cols);
        check("softmax rows of 70", y, ref, 1e-6);
        const int F = 12, Mg = 4;
        std::vector<float> u = rnd((size_t) rows * F), gl = rnd((size_t) rows * Mg, 3.0f);
        std::vector<double> rm(u.size());
        for (int t = 0; t < rows; t++) {
            double mx = -1e300, sum = 0;
            for (int e = 0; e < Mg; e++) {
                mx = std::max(mx, (double) gl[t * Mg + e]);
            }
            for (int e = 0; e < Mg; e++) {
                sum += std::exp(gl[t * Mg + e] - mx);
            }
            for (int i = 0; i < F; i++) {
                rm[t * F + i] = std::exp(gl[t * Mg + i / (F / Mg)] - mx) / sum * u[t * F + i];
            }
        }
        std::vector<float> ym(u.size(), NAN);
        run(dim3{(unsigned) rows, 1, 1}, dim3{256, 1, 1}, mgate, (const float*) u.data(), (const float*) gl.data(), ym.data(),
            rows, F, Mg);
        check("mgate F 12, Mg 4", ym, rm, 1e-6);
    }
    {  // embedding from a BF16 table, and conversion to F16
        const int Vv = 11, Ee = 7;
        std::vector<float> tab = rnd((size_t) Vv * Ee);
        std::vector<unsigned short> tb(tab.size());
        for (size_t i = 0; i < tab.size(); i++) {
            tb[i] = bf16(tab[i]);
        }
        std::vector<int> ids = {3, 0, 10, 3};
        std::vector<double> ref(ids.size() * Ee);
        for (size_t t = 0; t < ids.size(); t++) {
            for (int e = 0; e < Ee; e++) {
                ref[t * Ee + e] = bf16f(tb[ids[t] * Ee + e]);
            }
        }
        std::vector<float> y(ref.size(), NAN);
        run(dim3{1, 1, 1}, dim3{256, 1, 1}, embedding, (const void*) tb.data(), 1, (const int*) ids.data(), y.data(),
            (int) ids.size(), Ee);
        check("embedding, BF16 table", y, ref, 0);
        std::vector<unsigned short> h(tab.size());
        run(dim3{1, 1, 1}, dim3{256, 1, 1}, convert, (const void*) tab.data(), 0, (void*) h.data(), 2, (int) tab.size());
        std::vector<float> back(tab.size());
        std::vector<double> rr(tab.size());
        for (size_t i = 0; i < tab.size(); i++) {
            back[i] = f16f(h[i]);
            rr[i] = f16f(f16(tab[i]));
        }
        check("convert F32 -> F16 (round to nearest even)", back, rr, 0);
    }
}

// ---------------------------------------------------------------- dynamic weights

static void testDynamicWeights() {
    const int T = 3, E = 20, N = 4, I = 2, K = 16;
    std::vector<float> a = rnd((size_t) T * E), dw1 = rnd((size_t) E * 4 * K, 0.5f), qkw = rnd((size_t) 4 * K * 2 * I * N, 0.5f),
                       dd = rnd((size_t) E * 4 * N, 0.5f);
    const int R = 2 * I + 1;
    std::vector<double> ref((size_t) T * 4 * R * N);
    for (int t = 0; t < T; t++) {
        for (int c = 0; c < 4; c++) {
            std::vector<double> u(K), r(2 * I * N);
            for (int k = 0; k < K; k++) {
                double s = 0;
                for (int e = 0; e < E; e++) {
                    s += (double) a[t * E + e] * dw1[(size_t) e * 4 * K + c * K + k];
                }
                u[k] = s * 0.5 * (1 + std::erf(s / std::sqrt(2.0)));
            }
            for (int j = 0; j < 2 * I; j++) {
                for (int n = 0; n < N; n++) {
                    double s = 0;
                    for (int k = 0; k < K; k++) {
                        s += u[k] * qkw[(((size_t) c * K + k) * 2 * I + j) * N + n];
                    }
                    r[j * N + n] = s;
                }
            }
            double* o = &ref[((size_t) t * 4 + c) * R * N];
            for (int i = 0; i < I; i++) {
                double ms = 0;
                for (int n = 0; n < N; n++) {
                    ms += r[i * N + n] * r[i * N + n];
                }
                for (int n = 0; n < N; n++) {
                    o[i * N + n] = r[i * N + n] / std::sqrt(ms / N + 1e-6);
                    o[(I + i) * N + n] = r[(I + i) * N + n];
                }
            }
            for (int n = 0; n < N; n++) {
                double s = 0;
                for (int e = 0; e < E; e++) {
                    s += (double) a[t * E + e] * dd[(size_t) e * 4 * N + c * N + n];
                }
                o[2 * I * N + n] = std::tanh(s);
            }
        }
    }
    std::vector<float> hid((size_t) T * (4 * K + 4 * N), NAN), out(ref.size(), NAN);
    run(dim3{blocks(4 * K + 4 * N, 32), (unsigned) T, 1}, dim3{32, 8, 1}, dw_hidden, (const float*) a.data(),
        (const void*) dw1.data(), 0, (const void*) dd.data(), 0, hid.data(), T, E, 4 * K, 4 * N);
    run(dim3{4, (unsigned) T, 1}, dim3{32, 1, 1}, dw_weights, (const float*) hid.data(), (const void*) qkw.data(), 0,
        out.data(), T, K, N, I);
    check("dynamic weights T 3, E 20, N 4, I 2, K 16", out, ref, 2e-6);
}

// The finish of dynamic weights from a projection computed elsewhere (dw_activate, then dw_weights) against a
// float64 finish of the same F32 projection, and against dw_hidden + dw_weights of the input it was made from.
static void testDynamicWeightsFromProjection() {
    const int E = 40, N = 4, I = 2, K = 16, R = 2 * I + 1, K4 = 4 * K, N4 = 4 * N, cols = K4 + N4;
    for (int T : {1, 3}) {
        std::vector<float> a = rnd((size_t) T * E), dw1 = rnd((size_t) E * K4, 0.5f), qkw = rnd((size_t) K4 * 2 * I * N, 0.5f),
                           dd = rnd((size_t) E * N4, 0.5f);
        std::vector<float> proj((size_t) T * cols);
        for (int t = 0; t < T; t++) {
            for (int j = 0; j < cols; j++) {
                double s = 0;
                for (int e = 0; e < E; e++) {
                    s += (double) a[t * E + e] * (j < K4 ? dw1[(size_t) e * K4 + j] : dd[(size_t) e * N4 + j - K4]);
                }
                proj[(size_t) t * cols + j] = (float) s;
            }
        }
        std::vector<double> ref((size_t) T * 4 * R * N);
        for (int t = 0; t < T; t++) {
            const float* p = &proj[(size_t) t * cols];
            for (int c = 0; c < 4; c++) {
                std::vector<double> r(2 * I * N, 0.0);
                for (int k = 0; k < K; k++) {
                    const double z = p[c * K + k];
                    const double u = z * 0.5 * (1 + std::erf(z / std::sqrt(2.0)));
                    for (int j = 0; j < 2 * I * N; j++) {
                        r[j] += u * qkw[((size_t) c * K + k) * 2 * I * N + j];
                    }
                }
                double* o = &ref[((size_t) t * 4 + c) * R * N];
                for (int i = 0; i < I; i++) {
                    double ms = 0;
                    for (int n = 0; n < N; n++) {
                        ms += r[i * N + n] * r[i * N + n];
                    }
                    for (int n = 0; n < N; n++) {
                        o[i * N + n] = r[i * N + n] / std::sqrt(ms / N + 1e-6);
                        o[(I + i) * N + n] = r[(I + i) * N + n];
                    }
                }
                for (int n = 0; n < N; n++) {
                    o[2 * I * N + n] = std::tanh((double) p[K4 + c * N + n]);
                }
            }
        }
        const std::string shape = "T " + std::to_string(T) + ", E 40, N 4, I 2, K 16";
        std::vector<float> hid((size_t) T * cols, NAN), out(ref.size(), NAN);
        run(dim3{blocks((long long) T * cols, 256), 1, 1}, dim3{256, 1, 1}, dw_activate, (const float*) proj.data(),
            hid.data(), T, K4, N4);
        // the same device functions as dw_hidden's activations, element for element
        std::vector<float> act(hid.size());
        std::vector<double> actRef(hid.size());
        for (size_t i = 0; i < hid.size(); i++) {
            act[i] = (int) (i % cols) < K4 ? gelu_exact(proj[i]) : tanhf(proj[i]);
            actRef[i] = act[i];
        }
        check("dw_activate " + shape + " (bit for bit)", hid, actRef, 0);
        run(dim3{4, (unsigned) T, 1}, dim3{32, 1, 1}, dw_weights, (const float*) hid.data(), (const void*) qkw.data(), 0,
            out.data(), T, K, N, I);
        check("dynamic weights from the projection " + shape, out, ref, 2e-6);

        std::vector<float> hidA((size_t) T * cols, NAN), direct(ref.size(), NAN);
        run(dim3{blocks(cols, 32), (unsigned) T, 1}, dim3{32, 8, 1}, dw_hidden, (const float*) a.data(),
            (const void*) dw1.data(), 0, (const void*) dd.data(), 0, hidA.data(), T, E, K4, N4);
        run(dim3{4, (unsigned) T, 1}, dim3{32, 1, 1}, dw_weights, (const float*) hidA.data(), (const void*) qkw.data(), 0,
            direct.data(), T, K, N, I);
        check("dynamic weights from the projection vs from a, " + shape, out, std::vector<double>(direct.begin(), direct.end()),
              2e-5);
    }
}

// ---------------------------------------------------------------- attention

struct Seq {
    int P, N, D, I;
    std::vector<float> q, k, v, dyn, spre, spost;
};

// Float64 reference of spec 2.1 steps 5-10 for the query at position p (row materialisation).
static std::vector<double> refAttention(const Seq& s, int p, int window, int mode, bool statics) {
    const int N = s.N, D = s.D, I = s.I, R = 2 * I + 1, ND = N * D;
    const int first = window == 0 ? 0 : std::max(0, p - window + 1);
    const int S = p - first + 1;
    std::vector<double> L((size_t) N * S);
    for (int j = 0; j < S; j++) {
        for (int n = 0; n < N; n++) {
            double d = 0;
            for (int x = 0; x < D; x++) {
                d += (double) s.q[(size_t) p * ND + n * D + x] * s.k[(size_t) (first + j) * ND + n * D + x];
            }
            L[n * S + j] = d / std::sqrt((double) D);
        }
    }
    auto compose = [&](std::vector<double>& A, int cq, int ck, const std::vector<float>& sw) {
        if (mode == 2) {
            return;
        }
        for (int j = 0; j < S; j++) {
            const float* qf = &s.dyn[((size_t) p * 4 + cq) * R * N];
            const float* kf = &s.dyn[((size_t) (first + j) * 4 + ck) * R * N];
            std::vector<double> out(N);
            for (int m = 0; m < N; m++) {
                double o = 0;
                for (int n = 0; n < N; n++) {
                    double w = (n == m ? 1.0 : 0.0) + (statics ? sw[n * N + m] : 0.0);
                    for (int i = 0; i < I; i++) {
                        w += (double) qf[i * N + n] * qf[(I + i) * N + m];
                        if (mode == 0) {
                            w += (double) kf[i * N + n] * kf[(I + i) * N + m];
                        }
                    }
                    if (n == m) {
                        w += qf[2 * I * N + n] + (mode == 0 ? kf[2 * I * N + n] : 0.0);
                    }
                    o += A[n * S + j] * w;
                }
                out[m] = o;
            }
            for (int m = 0; m < N; m++) {
                A[m * S + j] = out[m];
            }
        }
    };
    compose(L, 0, 1, s.spre);
    for (int n = 0; n < N; n++) {
        double mx = -1e300, sum = 0;
        for (int j = 0; j < S; j++) {
            mx = std::max(mx, L[n * S + j]);
        }
        for (int j = 0; j < S; j++) {
            sum += std::exp(L[n * S + j] - mx);
        }
        for (int j = 0; j < S; j++) {
            L[n * S + j] = std::exp(L[n * S + j] - mx) / sum;
        }
    }
    compose(L, 2, 3, s.spost);
    std::vector<double> o(ND, 0.0);
    for (int m = 0; m < N; m++) {
        for (int x = 0; x < D; x++) {
            double acc = 0;
            for (int j = 0; j < S; j++) {
                acc += L[m * S + j] * s.v[(size_t) (first + j) * ND + m * D + x];
            }
            o[m * D + x] = acc;
        }
    }
    return o;
}

struct Cache {
    int cap, length = 0;
    std::vector<float> k, v, kw;
};

// One attention call over positions [cache.length, cache.length + T), as CudaBackend issues it.
static std::vector<float> callAttention(const Seq& s, Cache& c, int T, int window, bool quirk, int mode, bool statics,
                                        bool decode, int Bt, int Bs) {
    const int N = s.N, D = s.D, I = s.I, R = 2 * I + 1, ND = N * D, L = c.length;
    const float* q = &s.q[(size_t) L * ND];
    const float* k = &s.k[(size_t) L * ND];
    const float* v = &s.v[(size_t) L * ND];
    const float* dyn = mode == 2 ? nullptr : &s.dyn[(size_t) L * 4 * R * N];
    const void* spre = statics ? (const void*) s.spre.data() : nullptr;
    const void* spost = statics ? (const void*) s.spost.data() : nullptr;
    const int win = window == 0 ? 0 : window + (T > 1 && quirk ? 1 : 0);
    const float scale = (float) (1.0 / std::sqrt((double) D));
    std::vector<float> out((size_t) T * ND, NAN);
    if (!decode) {
        const size_t floats = (size_t) N * Bt * Bs * (statics ? 2 : 1) + 2 * Bt * N;
        if (floats > (size_t) (1 << 16)) {
            std::abort();
        }
        run(dim3{blocks(T, Bt), 1, 1}, dim3{256, 1, 1}, attn_prefill, q, k, v, dyn, (const float*) c.k.data(),
            (const float*) c.v.data(), (const float*) c.kw.data(), spre, spost, 0, out.data(), T, L, c.cap, N, D, I, mode,
            win, scale, Bt, Bs);
    } else {
        const int first = win == 0 ? 0 : std::max(0, L - win + 1);
        const int keys = L - first + 1;
        const int chunk = Bs;
        const int splits = (keys + chunk - 1) / chunk;
        std::vector<float> lbuf((size_t) N * keys, NAN), part((size_t) 2 * splits * N, NAN), lse(N, NAN),
            opart((size_t) splits * ND, NAN);
        run(dim3{(unsigned) splits, 1, 1}, dim3{256, 1, 1}, attn_decode_logits, q, k, v, dyn, (const float*) c.k.data(),
            (const float*) c.v.data(), (const float*) c.kw.data(), spre, 0, lbuf.data(), part.data(), L, c.cap, N, D, I,
            mode, win, scale, chunk);
        run(dim3{1, 1, 1}, dim3{256, 1, 1}, attn_decode_lse, (const float*) part.data(), lse.data(), splits, N);
        run(dim3{(unsigned) splits, 1, 1}, dim3{256, 1, 1}, attn_decode_pv, q, k, v, dyn, (const float*) c.k.data(),
            (const float*) c.v.data(), (const float*) c.kw.data(), spost, 0, (const float*) lbuf.data(),
            (const float*) lse.data(), opart.data(), L, c.cap, N, D, I, mode, win, chunk);
        run(dim3{blocks(ND, 256), 1, 1}, dim3{256, 1, 1}, attn_decode_reduce, (const float*) opart.data(), out.data(),
            splits, ND);
    }
    const int kept = std::min(T, c.cap);
    const long long items = (long long) kept * ND + (mode == 0 ? 2LL * kept * R * N : 0);
    run(dim3{blocks(items, 256), 1, 1}, dim3{256, 1, 1}, kv_append, k, v, dyn, c.k.data(), c.v.data(), c.kw.data(), T, L,
        c.cap, N, D, I, mode == 0 ? 1 : 0);
    c.length += T;
    return out;
}

static void testAttention() {
    const int P = 40, N = 4, D = 16, I = 2, R = 2 * I + 1, ND = N * D;
    Seq s{P, N, D, I, rnd((size_t) P * ND), rnd((size_t) P * ND), rnd((size_t) P * ND), rnd((size_t) P * 4 * R * N, 0.7f),
          rnd(N * N, 0.3f), rnd(N * N, 0.3f)};
    struct Case {
        const char* name;
        int window;
        bool quirk;
        int mode;
        bool statics;
        int cap;
        int prefix;  // tokens of the first prefill; the rest follow as decode steps (or as a second prefill)
        bool chunked;
        int Bt, Bs;
    };
    const Case cases[] = {
        {"DCMHA global, prefill 40", 0, false, 0, false, 48, 40, false, 16, 32},
        {"DCMHA global, prefill 24 + 16 decode steps", 0, false, 0, false, 40, 24, false, 8, 8},
        {"DCMHA local W8 ring 8, prefill 40 (T > ring)", 8, false, 0, false, 8, 40, false, 4, 8},
        {"DCMHA local W8 ring 8, prefill 24 + 16 decode", 8, false, 0, false, 8, 24, false, 16, 32},
        {"DCMHA local W8 ring 8, chunked prefill 17 + 23", 8, false, 0, false, 8, 17, true, 4, 4},
        {"DCMHA global, chunked prefill 7 + 33, tiles 2x3", 0, false, 0, false, 40, 7, true, 2, 3},
        {"DCMHA local W8 + R24 quirk (W+1 in prefill), ring 9", 8, true, 0, false, 9, 24, false, 8, 8},
        {"query-wise, local W8, prefill 24 + decode", 8, false, 1, false, 8, 24, false, 8, 16},
        {"plain MHA, global, prefill 24 + decode", 0, false, 2, false, 40, 24, false, 16, 32},
        {"DCMHA with static weights, global, prefill 24 + decode", 0, false, 0, true, 40, 24, false, 4, 8},
    };
    for (const Case& c : cases) {
        Cache cache{c.cap, 0, std::vector<float>((size_t) c.cap * ND, 0.0f), std::vector<float>((size_t) c.cap * ND, 0.0f),
                    std::vector<float>((size_t) c.cap * 2 * R * N, 0.0f)};
        std::vector<float> got;
        std::vector<float> first = callAttention(s, cache, c.prefix, c.window, c.quirk, c.mode, c.statics, false, c.Bt, c.Bs);
        got.insert(got.end(), first.begin(), first.end());
        if (c.chunked) {
            std::vector<float> rest = callAttention(s, cache, P - c.prefix, c.window, c.quirk, c.mode, c.statics, false, c.Bt,
                                                    c.Bs);
            got.insert(got.end(), rest.begin(), rest.end());
        } else {
            for (int p = c.prefix; p < P; p++) {
                std::vector<float> one = callAttention(s, cache, 1, c.window, c.quirk, c.mode, c.statics, true, c.Bt, c.Bs);
                got.insert(got.end(), one.begin(), one.end());
            }
        }
        std::vector<double> ref;
        for (int p = 0; p < P; p++) {
            // The quirk widens the window of multi-query calls only: prefill rows, not decode steps.
            bool inPrefill = p < c.prefix || c.chunked;
            int callT = p < c.prefix ? c.prefix : P - c.prefix;
            int w = c.window == 0 ? 0 : c.window + (c.quirk && inPrefill && callT > 1 ? 1 : 0);
            std::vector<double> o = refAttention(s, p, w, c.mode, c.statics);
            ref.insert(ref.end(), o.begin(), o.end());
        }
        check(std::string("attention ") + c.name, got, ref, 2e-5);
    }
}

// The unfused baseline kernels (prefill from position 0 over the fresh tokens) against the same reference.
static void testUnfusedAttention() {
    const int P = 29, N = 4, D = 16, I = 2, R = 2 * I + 1, ND = N * D;
    Seq s{P, N, D, I, rnd((size_t) P * ND), rnd((size_t) P * ND), rnd((size_t) P * ND), rnd((size_t) P * 4 * R * N, 0.7f),
          {}, {}};
    struct Case { const char* name; int window; int mode; };
    for (Case c : {Case{"DCMHA global", 0, 0}, Case{"DCMHA local W5", 5, 0}, Case{"query-wise local W5", 5, 1},
                   Case{"plain MHA global", 0, 2}}) {
        std::vector<float> scores((size_t) N * P * P, NAN), out((size_t) P * ND, NAN);
        const float scale = (float) (1.0 / std::sqrt((double) D));
        run(dim3{blocks((long long) N * P * P, 256), 1, 1}, dim3{256, 1, 1}, unfused_logits, (const float*) s.q.data(),
            (const float*) s.k.data(), scores.data(), P, N, D, c.window, scale);
        if (c.mode != 2) {
            run(dim3{blocks((long long) P * P, 256), 1, 1}, dim3{256, 1, 1}, unfused_compose, scores.data(),
                (const float*) s.dyn.data(), (const void*) nullptr, 0, (float*) nullptr, P, N, I, c.mode, c.window, 0);
        }
        run(dim3{blocks((long long) N * P, 8), 1, 1}, dim3{256, 1, 1}, unfused_softmax, scores.data(), P, N, c.window);
        if (c.mode != 2) {
            run(dim3{blocks((long long) P * P, 256), 1, 1}, dim3{256, 1, 1}, unfused_compose, scores.data(),
                (const float*) s.dyn.data(), (const void*) nullptr, 0, (float*) nullptr, P, N, I, c.mode, c.window, 1);
        }
        run(dim3{blocks((long long) P * ND, 256), 1, 1}, dim3{256, 1, 1}, unfused_pv, (const float*) scores.data(),
            (const float*) s.v.data(), out.data(), P, N, D, c.window);
        std::vector<double> ref;
        for (int p = 0; p < P; p++) {
            std::vector<double> o = refAttention(s, p, c.window, c.mode, false);
            ref.insert(ref.end(), o.begin(), o.end());
        }
        check(std::string("unfused baseline ") + c.name + ", prefill 29", out, ref, 2e-5);
    }
}

int main() {
    testLinear();
    testElementwise();
    testDynamicWeights();
    testAttention();
    testUnfusedAttention();
    // last, so that its random inputs leave those of the tests above as they were
    testDynamicWeightsFromProjection();
    std::printf("%s: %d failure(s)\n", failures == 0 ? "PASSED" : "FAILED", failures);
    return failures == 0 ? 0 : 1;
}

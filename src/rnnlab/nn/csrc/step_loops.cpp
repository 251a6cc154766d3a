// The step path's time loops for GRU, LSTM and Elman RNN, forward and backward, in compiled
// code. Built for baseline x86-64 with -O3 -fno-trapping-math (see rnnlab.nn.native_build):
// without the latter GCC will not vectorise floor or the selects below. The per-step vector
// functions carry target_clones, so their AVX2 and AVX-512 versions are picked when the library
// loads, on the CPU it runs on, and the library runs on any x86-64.
//
// rnnlab.nn.recurrence defines the math and runs the same loops in PyTorch; this file is the
// same computation without ~20 small PyTorch calls per step. Every buffer is the one
// rnnlab.nn.recurrence allocates and saves (float32, row-major, contiguous, time-major); the
// Python side keeps the input projections and the weight gradients (single large GEMMs) and
// calls these only for the recurrence itself.
//
// Parallelism: sequences in a batch are independent, so each function splits the batch into
// one block of rows per OpenMP thread and every thread runs the whole time loop for its rows,
// with no synchronisation until the end. Per step a thread does one oneDNN sgemm (its rows by
// W_hh, on its own core: called inside a parallel region oneDNN does not fork again) and one
// vectorised pass of gate math. Splitting each step's whole-batch GEMM over the threads
// instead pays a fork and a join per step, which costs more than it gains at the batch and
// layer sizes text models use (the README's benchmark tables have the measurements).
//
// Errors: no C++ exception crosses the C ABI. Every entry point runs inside guarded(), which
// returns 0, or 1 with the message kept for rnnlab_last_error(); a thread that fails inside a
// parallel region records its message and the region's caller rethrows it after the join.
//
// Shapes: T steps, B batch, H units, G gates (GRU 3: r, z, n; LSTM 4: i, f, g, o).
//   gx (T, B, G·H)   states (T+1, B, H)   w_t (H, G·H) = W_hhᵀ   w_hh (G·H, H)   b_hh (G·H)
//   step_mask (T, B) bytes, 1 at valid steps (may be null)   rec_mask (B, H) (may be null)
// reverse walks t = T-1 … 0 and then reads state slot t+1 and writes slot t (see
// rnnlab.nn.recurrence._state_index).
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

thread_local std::string last_error;

// Runs f; 0 on success, 1 with the exception's message in last_error otherwise.
template <typename F>
int guarded(F &&f) {
    try {
        f();
        return 0;
    } catch (const std::exception &err) {
        last_error = err.what();
    } catch (...) {
        last_error = "unknown C++ exception";
    }
    return 1;
}

// exp for the gate nonlinearities, written so the compiler vectorises the loops below
// (a call to the C library's expf would not be): Cephes' range reduction x = k·ln2 + r with
// ln2 split in two parts, a degree-6 polynomial for e^r, and 2^k assembled in the exponent
// bits. Relative error ≤ 2 ulp on [-88, 88]; arguments are clamped to that range.
inline float fast_exp(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    float k = std::floor(x * 1.44269504088896341f + 0.5f);
    float r = x - k * 0.693359375f + k * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
    float scale;  // 2^k; memcpy is the portable bit cast, compiled to one register move
    std::memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

inline float sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

// tanh x = 1 − 2 / (e^{2x} + 1): exact limits ±1, absolute error ~1e-7 near 0.
inline float tanh_(float x) { return 1.0f - 2.0f / (fast_exp(2.0f * x) + 1.0f); }

// C (M, N) = A (M, K) · W (K, N) [+ bias broadcast over rows]; row strides lda, ldw, ldc.
// Called inside a parallel region, oneDNN runs it on the calling thread alone. (W is passed
// as stored, not transposed: oneDNN's sgemm is slower on a transposed W than the cost of
// transposing W once per call.)
//
// A status other than dnnl_success throws, and guarded() turns that into the entry point's
// non-zero return (a RuntimeError on the Python side): C is then not the product, and every
// later step would build on it. The statuses sgemm returns — invalid arguments (a bug in
// this file), out of memory, unimplemented or a runtime error (a broken oneDNN) — do not go
// away on a retry, so the caller gets an error rather than a silent switch to slower loops.
inline void gemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *W,
        int64_t ldw, const float *bias, float *C, int64_t ldc) {
    for (int64_t m = 0; m < M; ++m) {
        if (bias != nullptr)
            std::memcpy(C + m * ldc, bias, N * sizeof(float));
        else
            std::memset(C + m * ldc, 0, N * sizeof(float));
    }
    const dnnl_status_t status = dnnl_sgemm('N', 'N', M, N, K, 1.0f, A, lda, W, ldw, 1.0f, C, ldc);
    if (status != dnnl_success) {
        using std::to_string;
        throw std::runtime_error(std::string("oneDNN's sgemm failed (") + dnnl_status2str(status) +
                ") on a (" + to_string(M) + " x " + to_string(K) + ") by (" + to_string(K) + " x " +
                to_string(N) + ") product (lda " + to_string(lda) + ", ldw " + to_string(ldw) +
                ", ldc " + to_string(ldc) + "); set RNNLAB_NATIVE=0 to run the PyTorch loops instead");
    }
}

inline int64_t slot_before(int64_t t, bool reverse) { return reverse ? t + 1 : t; }
inline int64_t slot_after(int64_t t, bool reverse) { return reverse ? t : t + 1; }

// h̃ = h ⊙ m, or h itself.
const float *hidden_input(const float *h, const float *rec_mask, float *buffer, int64_t n) {
    if (rec_mask == nullptr) return h;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) buffer[i] = h[i] * rec_mask[i];
    return buffer;
}

// GRU gates for B rows from gh = W_hh h̃ + b_hh (B, 3H): r, z = σ(gx + b_ih + gh), n = tanh(gx_n
// + b_in + r ⊙ gh_n), h' = n + z ⊙ (h − n), or h at padded steps; keeps gh_n for the backward.
__attribute__((target_clones("avx512f", "avx2", "default"))) void gru_gates(int64_t B,
        int64_t H, const float *gx, const float *b_ih, const float *gh, const float *h,
        const uint8_t *valid, float *rz, float *n, float *ghn, float *h_next) {
    for (int64_t b = 0; b < B; ++b) {
        const float *gxb = gx + b * 3 * H, *ghb = gh + b * 3 * H, *hb = h + b * H;
        float *rzb = rz + b * 2 * H, *nb = n + b * H, *ghnb = ghn + b * H, *out = h_next + b * H;
#pragma omp simd
        for (int64_t j = 0; j < 2 * H; ++j) rzb[j] = sigmoid(gxb[j] + b_ih[j] + ghb[j]);
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
            const float hn = ghb[2 * H + j];
            float cand = tanh_(gxb[2 * H + j] + b_ih[2 * H + j] + rzb[j] * hn);
            ghnb[j] = hn;
            nb[j] = cand;
            out[j] = cand + rzb[H + j] * (hb[j] - cand);
        }
        if (valid != nullptr && !valid[b]) std::memcpy(out, hb, H * sizeof(float));
    }
}

// One backward step of the GRU up to the GEMM: δ = ∂out_t + ∂h (zero at padded steps),
// δn̂ = δ ⊙ (1−z)(1−n²), δr̂ = δn̂ ⊙ ghn ⊙ r(1−r), δẑ = δ ⊙ (h−n) ⊙ z(1−z);
// ∂gx = [δr̂, δẑ, δn̂], ∂gh = [δr̂, δẑ, δn̂ ⊙ r] (d_gh, this step's rows only; its last third is
// also kept in d_hn for W_hn's gradient); the direct part of ∂h_{t−1}: δ ⊙ z at valid steps,
// the incoming ∂h unchanged at padded ones. sums (4H doubles, may be null) accumulates Σ ∂gx and
// Σ d_hn for the bias gradients.
__attribute__((target_clones("avx512f", "avx2", "default"))) void gru_delta(int64_t B,
        int64_t H, const float *grad_out, int64_t ldo, const float *grad_h, const float *rz,
        const float *n,
        const float *ghn, const float *h_prev, const uint8_t *valid, float *d_gh, float *d_gx,
        float *d_hn, float *direct, double *sums) {
    for (int64_t b = 0; b < B; ++b) {
        const float *rzb = rz + b * 2 * H, *nb = n + b * H, *ghnb = ghn + b * H;
        const float *hb = h_prev + b * H, *gb = grad_h + b * H;
        const float *ob = grad_out + b * ldo;
        float *dgh = d_gh + b * 3 * H, *dgx = d_gx + b * 3 * H, *dhn = d_hn + b * H;
        float *db = direct + b * H;
        if (valid != nullptr && !valid[b]) {  // padded: no gradient enters, ∂h passes through
            std::memset(dgh, 0, 3 * H * sizeof(float));
            std::memset(dgx, 0, 3 * H * sizeof(float));
            std::memset(dhn, 0, H * sizeof(float));
            std::memcpy(db, gb, H * sizeof(float));
            continue;
        }
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
            float delta = gb[j] + ob[j];
            float r = rzb[j], z = rzb[H + j], cand = nb[j];
            float dn = delta * (1.0f - z) * (1.0f - cand * cand);
            float dr = dn * ghnb[j] * r * (1.0f - r);
            float dz = delta * (hb[j] - cand) * z * (1.0f - z);
            dgh[j] = dr;
            dgh[H + j] = dz;
            dgh[2 * H + j] = dn * r;
            dhn[j] = dn * r;
            dgx[j] = dr;
            dgx[H + j] = dz;
            dgx[2 * H + j] = dn;
            db[j] = delta * z;
        }
        if (sums == nullptr) continue;
#pragma omp simd
        for (int64_t j = 0; j < 3 * H; ++j) sums[j] += dgx[j];
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) sums[3 * H + j] += dhn[j];
    }
}

// ∂h_{t−1} = direct + (∂gh W_hh) ⊙ m at valid steps (through is the GEMM's result).
__attribute__((target_clones("avx512f", "avx2", "default"))) void combine_grad_h(int64_t B,
        int64_t H, const float *through, const float *direct, const float *rec_mask,
        const uint8_t *valid, float *grad_h) {
    for (int64_t b = 0; b < B; ++b) {
        const bool pad = valid != nullptr && !valid[b];
        const float *tb = through + b * H, *db = direct + b * H;
        const float *mb = rec_mask != nullptr ? rec_mask + b * H : nullptr;
        float *out = grad_h + b * H;
        if (pad) {
            std::memcpy(out, db, H * sizeof(float));
        } else if (mb == nullptr) {
#pragma omp simd
            for (int64_t j = 0; j < H; ++j) out[j] = db[j] + tb[j];
        } else {
#pragma omp simd
            for (int64_t j = 0; j < H; ++j) out[j] = db[j] + tb[j] * mb[j];
        }
    }
}

// ∂h_{t−1} = (∂pre W_hh) ⊙ m at valid steps (through is the GEMM's result); padded steps pass
// ∂h through unchanged (LSTM and Elman: no direct term).
__attribute__((target_clones("avx512f", "avx2", "default"))) void recurrent_grad_h(int64_t B,
        int64_t H, const float *through, const float *rec_mask, const uint8_t *valid,
        float *grad_h) {
    for (int64_t b = 0; b < B; ++b) {
        if (valid != nullptr && !valid[b]) continue;
        const float *tb = through + b * H;
        float *out = grad_h + b * H;
        if (rec_mask == nullptr) {
            std::memcpy(out, tb, H * sizeof(float));
            continue;
        }
        const float *mb = rec_mask + b * H;
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) out[j] = tb[j] * mb[j];
    }
}

// LSTM gates with the candidate row doubled (σ(2ĝ), see rnnlab.nn.recurrence): pre = gx +
// W h̃ + b with gx's candidate part added twice; i, f, s_g, o = σ(pre); g = 2 s_g − 1;
// c' = f c + i g; h' = o tanh c'; padded steps keep (h, c).
__attribute__((target_clones("avx512f", "avx2", "default"))) void lstm_gates(int64_t B,
        int64_t H, const float *gx, const float *pre, const float *h, const float *c,
        const uint8_t *valid, float *sig, float *cand, float *tanh_c, float *h_next,
        float *c_next) {
    for (int64_t b = 0; b < B; ++b) {
        const float *gxb = gx + b * 4 * H, *pb = pre + b * 4 * H;
        const float *hb = h + b * H, *cb = c + b * H;
        float *sb = sig + b * 4 * H, *gb = cand + b * H, *tb = tanh_c + b * H;
        float *ho = h_next + b * H, *co = c_next + b * H;
#pragma omp simd
        for (int64_t j = 0; j < 2 * H; ++j) sb[j] = sigmoid(pb[j] + gxb[j]);
#pragma omp simd
        for (int64_t j = 2 * H; j < 3 * H; ++j) sb[j] = sigmoid(pb[j] + 2.0f * gxb[j]);
#pragma omp simd
        for (int64_t j = 3 * H; j < 4 * H; ++j) sb[j] = sigmoid(pb[j] + gxb[j]);
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
            float i = sb[j], f = sb[H + j], g = 2.0f * sb[2 * H + j] - 1.0f, o = sb[3 * H + j];
            gb[j] = g;
            float c_new = f * cb[j] + i * g;
            float tc = tanh_(c_new);
            tb[j] = tc;
            ho[j] = o * tc;
            co[j] = c_new;
        }
        if (valid != nullptr && !valid[b]) {  // padded step: the state stays as it was
            std::memcpy(ho, hb, H * sizeof(float));
            std::memcpy(co, cb, H * sizeof(float));
        }
    }
}

// LSTM backward step up to the GEMM: δh = ∂out_t + ∂h, δc = ∂c + δh ⊙ o ⊙ (1 − tanh²c)
// (both zero at padded steps); ∂pre = [δc g, δc c_{t−1}, 4 δc i, δh tanh c] ⊙ s(1 − s);
// ∂c_{t−1} = δc ⊙ f, or the incoming ∂c unchanged at padded steps.
__attribute__((target_clones("avx512f", "avx2", "default"))) void lstm_delta(int64_t B,
        int64_t H, const float *grad_out, int64_t ldo, const float *grad_h, const float *grad_c,
        const float *sig, const float *cand, const float *tanh_c, const float *c_prev,
        const uint8_t *valid, float *d_pre, float *grad_c_next) {
    for (int64_t b = 0; b < B; ++b) {
        const float *sb = sig + b * 4 * H, *gb = cand + b * H, *tb = tanh_c + b * H;
        const float *cp = c_prev + b * H, *ghb = grad_h + b * H, *gcb = grad_c + b * H;
        const float *ob = grad_out + b * ldo;
        float *dp = d_pre + b * 4 * H, *gco = grad_c_next + b * H;
        if (valid != nullptr && !valid[b]) {  // padded: no gradient enters, ∂c passes through
            std::memset(dp, 0, 4 * H * sizeof(float));
            std::memcpy(gco, gcb, H * sizeof(float));
            continue;
        }
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
            float dh = ghb[j] + ob[j];
            float i = sb[j], f = sb[H + j], sg = sb[2 * H + j], o = sb[3 * H + j];
            float tc = tb[j];
            float dc = gcb[j] + dh * o * (1.0f - tc * tc);
            dp[j] = dc * gb[j] * i * (1.0f - i);
            dp[H + j] = dc * cp[j] * f * (1.0f - f);
            dp[2 * H + j] = 4.0f * dc * i * sg * (1.0f - sg);
            dp[3 * H + j] = dh * tc * o * (1.0f - o);
            gco[j] = dc * f;
        }
    }
}

// Elman step for B rows: s = act(pre + gx) with act = tanh or relu; out = s and h = s at valid
// steps, out = 0 and h unchanged at padded ones (h is updated in place).
__attribute__((target_clones("avx512f", "avx2", "default"))) void rnn_activate(int64_t B,
        int64_t H, const float *gx, const float *pre, const uint8_t *valid, int relu,
        float *state, float *out, float *h) {
    for (int64_t b = 0; b < B; ++b) {
        const float *gxb = gx + b * H, *pb = pre + b * H;
        float *sb = state + b * H, *ob = out + b * H, *hb = h + b * H;
        if (relu) {
#pragma omp simd
            for (int64_t j = 0; j < H; ++j) sb[j] = std::max(pb[j] + gxb[j], 0.0f);
        } else {
#pragma omp simd
            for (int64_t j = 0; j < H; ++j) sb[j] = tanh_(pb[j] + gxb[j]);
        }
        if (valid != nullptr && !valid[b]) {
            std::memset(ob, 0, H * sizeof(float));
            continue;
        }
        std::memcpy(ob, sb, H * sizeof(float));
        std::memcpy(hb, sb, H * sizeof(float));
    }
}

// Elman backward step up to the GEMM: δ = ∂out_t + ∂h, δ̂ = δ ⊙ act'(s) (1 − s² for tanh,
// 1[s > 0] for relu), zero at padded steps.
__attribute__((target_clones("avx512f", "avx2", "default"))) void rnn_delta(int64_t B,
        int64_t H, const float *grad_out, int64_t ldo, const float *grad_h, const float *state,
        const uint8_t *valid, int relu, float *d_pre) {
    for (int64_t b = 0; b < B; ++b) {
        const float *ob = grad_out + b * ldo, *gb = grad_h + b * H, *sb = state + b * H;
        float *db = d_pre + b * H;
        if (valid != nullptr && !valid[b]) {
            std::memset(db, 0, H * sizeof(float));
            continue;
        }
        if (relu) {
#pragma omp simd
            for (int64_t j = 0; j < H; ++j) db[j] = sb[j] > 0.0f ? gb[j] + ob[j] : 0.0f;
        } else {
#pragma omp simd
            for (int64_t j = 0; j < H; ++j) db[j] = (gb[j] + ob[j]) * (1.0f - sb[j] * sb[j]);
        }
    }
}

// ∂out's rows for a backward loop: grad_out itself, or — null: no gradient reaches the outputs —
// one row of zeros that every step reads with ldo = 0.
struct OutputGrad {
    std::vector<float> zeros;
    const float *rows;
    OutputGrad(const float *grad_out, int64_t H)
        : zeros(grad_out == nullptr ? H : 0), rows(grad_out != nullptr ? grad_out : zeros.data()) {}
};

// Threads for a batch of B rows: the OpenMP team size set by rnnlab_set_threads, at most one
// per row.
inline int team_size(int64_t B) {
    return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), B)));
}

// Runs body(thread, first_row, rows) for a batch of B rows: one block of rows per OpenMP
// thread (team_size), or, when that leaves a single thread, the whole batch on the calling
// thread — outside a parallel region, so oneDNN's sgemm may use every thread for the (then
// wide) per-step product. (A team of one is not "in parallel" to OpenMP: sgemm would fork a
// nested team of its own at every step.)
template <class Body>
void over_batch(int64_t B, Body body) {
    const int team = team_size(B);
    if (team == 1) {
        body(0, 0, B);
        return;
    }
    std::string failure;  // the first thread's error; exceptions must not leave the region
#pragma omp parallel num_threads(team)
    {
        const int thread = omp_get_thread_num(), threads = omp_get_num_threads();
        const int64_t begin = B * thread / threads, end = B * (thread + 1) / threads;
        try {
            body(thread, begin, end - begin);
        } catch (const std::exception &err) {
#pragma omp critical(rnnlab_failure)
            if (failure.empty()) failure = err.what();
        } catch (...) {
#pragma omp critical(rnnlab_failure)
            if (failure.empty()) failure = "unknown C++ exception";
        }
    }
    if (!failure.empty()) throw std::runtime_error(failure);
}

}  // namespace

extern "C" {

const char *rnnlab_last_error() { return last_error.c_str(); }

void rnnlab_set_threads(int n) { omp_set_num_threads(n); }

// Backward functions read ∂out's rows ldo floats apart (H when contiguous, 2H for one
// direction's half of a bidirectional output; 0 with grad_out null: no gradient from outputs).
//
// Each function below splits the batch into one block of rows per thread and runs the whole
// time loop for its rows without synchronising: sequences are independent, so a thread never
// waits for another, and its per-step GEMM (its rows by the shared recurrent weight) runs on
// one core. One fork and join per call instead of one per step: a step's whole GEMM is too
// small at text-model sizes for splitting each one over the team to pay for the fork.

// GRU forward over time; fills rz (T,B,2H), n (T,B,H), ghn (T,B,H) = W_hn h̃ + b_hn and states
// (T+1,B,H) (states[first slot] must already hold h0). gx = W_ih x without its bias: b_ih (may be
// null) is added here, which spares the input projection a (T·B, 3H) bias broadcast.
int rnnlab_gru_steps_forward(int64_t T, int64_t B, int64_t H, int reverse, const float *gx,
        const float *b_ih, const float *w_t, const float *b_hh, const uint8_t *step_mask,
        const float *rec_mask, float *rz, float *n, float *ghn, float *states) {
    return guarded([&] {
        const std::vector<float> no_bias(b_ih == nullptr ? 3 * H : 0);
        const float *bias_x = b_ih != nullptr ? b_ih : no_bias.data();
        over_batch(B, [&](int, int64_t b0, int64_t M) {
            std::vector<float> masked(rec_mask != nullptr ? M * H : 0), gh(M * 3 * H);
            const float *mask = rec_mask != nullptr ? rec_mask + b0 * H : nullptr;
            for (int64_t s = 0; s < T; ++s) {
                const int64_t t = reverse ? T - 1 - s : s;
                const int64_t row = t * B + b0;
                const float *h = states + slot_before(t, reverse) * B * H + b0 * H;
                gemm(M, 3 * H, H, hidden_input(h, mask, masked.data(), M * H), H, w_t, 3 * H, b_hh,
                        gh.data(), 3 * H);
                gru_gates(M, H, gx + row * 3 * H, bias_x, gh.data(), h,
                        step_mask != nullptr ? step_mask + row : nullptr, rz + row * 2 * H,
                        n + row * H, ghn + row * H, states + slot_after(t, reverse) * B * H + b0 * H);
            }
        });
    });
}

// GRU backward over time; writes d_gx (T,B,3H), the gradient of the input projections, and
// d_hn (T,B,H) = δn̂ ⊙ r, the candidate part of ∂gh (its r, z parts equal d_gx's); grad_h (B,H)
// holds ∂h_T on entry and ∂h_0 on return. grad_out may be null (no gradient from the outputs).
// bias_grads (6H, may be null) receives [∂b_ih, ∂b_hh], summed over steps and batch in double.
int rnnlab_gru_steps_backward(int64_t T, int64_t B, int64_t H, int reverse,
        const float *grad_out, int64_t ldo, const float *rz, const float *n, const float *ghn,
        const float *states, const float *w_hh, const uint8_t *step_mask, const float *rec_mask,
        float *d_gx, float *d_hn, float *grad_h, float *bias_grads) {
    return guarded([&] {
        const int team = team_size(B);
        std::vector<double> sums(bias_grads != nullptr ? team * 4 * H : 0, 0.0);
        const OutputGrad outputs(grad_out, H);
        over_batch(B, [&](int thread, int64_t b0, int64_t M) {
            double *thread_sums = bias_grads != nullptr ? sums.data() + thread * 4 * H : nullptr;
            std::vector<float> d_gh(M * 3 * H), through(M * H), direct(M * H);
            const float *mask = rec_mask != nullptr ? rec_mask + b0 * H : nullptr;
            float *dh = grad_h + b0 * H;
            for (int64_t s = 0; s < T; ++s) {
                const int64_t t = reverse ? s : T - 1 - s;  // the forward order, walked backwards
                const int64_t row = t * B + b0;
                const uint8_t *valid = step_mask != nullptr ? step_mask + row : nullptr;
                gru_delta(M, H, outputs.rows + row * ldo, ldo, dh,
                        rz + row * 2 * H, n + row * H, ghn + row * H,
                        states + slot_before(t, reverse) * B * H + b0 * H, valid, d_gh.data(),
                        d_gx + row * 3 * H, d_hn + row * H, direct.data(), thread_sums);
                gemm(M, H, 3 * H, d_gh.data(), 3 * H, w_hh, H, nullptr, through.data(), H);
                combine_grad_h(M, H, through.data(), direct.data(), mask, valid, dh);
            }
        });
        if (bias_grads != nullptr) {  // threads' sums added in a fixed order: reproducible
            for (int64_t j = 0; j < 4 * H; ++j) {
                double total = 0.0;
                for (int thread = 0; thread < team; ++thread) total += sums[thread * 4 * H + j];
                // ∂b_ih = Σ ∂gx (3H); ∂b_hh = [Σ ∂gx_r, Σ ∂gx_z, Σ d_hn]
                if (j < 3 * H) bias_grads[j] = static_cast<float>(total);
                if (j < 2 * H) bias_grads[3 * H + j] = static_cast<float>(total);
                if (j >= 3 * H) bias_grads[2 * H + j] = static_cast<float>(total);
            }
        }
    });
}

// LSTM forward over time with W_hhᵀ and b_hh already carrying the doubled candidate rows;
// fills sig (T,B,4H), cand, tanh_c (T,B,H), h_states and c_states (T+1,B,H) (first slots
// hold h0, c0).
int rnnlab_lstm_steps_forward(int64_t T, int64_t B, int64_t H, int reverse, const float *gx,
        const float *w_t, const float *b_hh, const uint8_t *step_mask, const float *rec_mask,
        float *sig, float *cand, float *tanh_c, float *h_states, float *c_states) {
    return guarded([&] {
        over_batch(B, [&](int, int64_t b0, int64_t M) {
            std::vector<float> masked(rec_mask != nullptr ? M * H : 0), pre(M * 4 * H);
            const float *mask = rec_mask != nullptr ? rec_mask + b0 * H : nullptr;
            for (int64_t s = 0; s < T; ++s) {
                const int64_t t = reverse ? T - 1 - s : s;
                const int64_t before = slot_before(t, reverse) * B + b0;
                const int64_t after = slot_after(t, reverse) * B + b0;
                const int64_t row = t * B + b0;
                const float *h = h_states + before * H;
                gemm(M, 4 * H, H, hidden_input(h, mask, masked.data(), M * H), H, w_t, 4 * H, b_hh,
                        pre.data(), 4 * H);
                lstm_gates(M, H, gx + row * 4 * H, pre.data(), h, c_states + before * H,
                        step_mask != nullptr ? step_mask + row : nullptr, sig + row * 4 * H,
                        cand + row * H, tanh_c + row * H, h_states + after * H, c_states + after * H);
            }
        });
    });
}

// LSTM backward over time; writes d_pre (T,B,4H); grad_h and grad_c (B,H) hold ∂h_T, ∂c_T
// on entry and ∂h_0, ∂c_0 on return. w_hh is the unscaled (4H, H) matrix.
int rnnlab_lstm_steps_backward(int64_t T, int64_t B, int64_t H, int reverse,
        const float *grad_out, int64_t ldo, const float *sig, const float *cand,
        const float *tanh_c, const float *c_states, const float *w_hh, const uint8_t *step_mask,
        const float *rec_mask, float *d_pre, float *grad_h, float *grad_c) {
    return guarded([&] {
        const OutputGrad outputs(grad_out, H);
        over_batch(B, [&](int, int64_t b0, int64_t M) {
            std::vector<float> through(M * H), next_c(M * H);
            const float *mask = rec_mask != nullptr ? rec_mask + b0 * H : nullptr;
            float *dh = grad_h + b0 * H, *dc = grad_c + b0 * H;
            for (int64_t s = 0; s < T; ++s) {
                const int64_t t = reverse ? s : T - 1 - s;
                const int64_t row = t * B + b0;
                const uint8_t *valid = step_mask != nullptr ? step_mask + row : nullptr;
                float *dpt = d_pre + row * 4 * H;
                lstm_delta(M, H, outputs.rows + row * ldo, ldo, dh, dc, sig + row * 4 * H,
                        cand + row * H, tanh_c + row * H,
                        c_states + slot_before(t, reverse) * B * H + b0 * H, valid, dpt,
                        next_c.data());
                gemm(M, H, 4 * H, dpt, 4 * H, w_hh, H, nullptr, through.data(), H);
                recurrent_grad_h(M, H, through.data(), mask, valid, dh);
                std::memcpy(dc, next_c.data(), M * H * sizeof(float));
            }
        });
    });
}

// Elman RNN forward over time; fills states (T,B,H) = act(pre) at every step, h_prev (T,B,H)
// = the state before each step, out (T,B,H) (zero at padded steps); h (B,H) holds h0 on entry
// and h_n on return.
int rnnlab_rnn_steps_forward(int64_t T, int64_t B, int64_t H, int reverse, int relu,
        const float *gx, const float *w_t, const float *b_hh, const uint8_t *step_mask,
        const float *rec_mask, float *states, float *h_prev, float *out, float *h) {
    return guarded([&] {
        over_batch(B, [&](int, int64_t b0, int64_t M) {
            std::vector<float> masked(rec_mask != nullptr ? M * H : 0), pre(M * H);
            const float *mask = rec_mask != nullptr ? rec_mask + b0 * H : nullptr;
            float *hb = h + b0 * H;
            for (int64_t s = 0; s < T; ++s) {
                const int64_t t = reverse ? T - 1 - s : s;
                const int64_t row = t * B + b0;
                std::memcpy(h_prev + row * H, hb, M * H * sizeof(float));
                gemm(M, H, H, hidden_input(hb, mask, masked.data(), M * H), H, w_t, H, b_hh,
                        pre.data(), H);
                rnn_activate(M, H, gx + row * H, pre.data(),
                        step_mask != nullptr ? step_mask + row : nullptr, relu, states + row * H,
                        out + row * H, hb);
            }
        });
    });
}

// Elman RNN backward over time; writes d_pre (T,B,H); grad_h (B,H) holds ∂h_T on entry and
// ∂h_0 on return; padded steps pass it through unchanged. grad_out may be null.
int rnnlab_rnn_steps_backward(int64_t T, int64_t B, int64_t H, int reverse, int relu,
        const float *grad_out, int64_t ldo, const float *states, const float *w_hh,
        const uint8_t *step_mask, const float *rec_mask, float *d_pre, float *grad_h) {
    return guarded([&] {
        const OutputGrad outputs(grad_out, H);
        over_batch(B, [&](int, int64_t b0, int64_t M) {
            std::vector<float> through(M * H);
            const float *mask = rec_mask != nullptr ? rec_mask + b0 * H : nullptr;
            float *dh = grad_h + b0 * H;
            for (int64_t s = 0; s < T; ++s) {
                const int64_t t = reverse ? s : T - 1 - s;
                const int64_t row = t * B + b0;
                const uint8_t *valid = step_mask != nullptr ? step_mask + row : nullptr;
                rnn_delta(M, H, outputs.rows + row * ldo, ldo, dh, states + row * H, valid, relu,
                        d_pre + row * H);
                gemm(M, H, H, d_pre + row * H, H, w_hh, H, nullptr, through.data(), H);
                recurrent_grad_h(M, H, through.data(), mask, valid, dh);
            }
        });
    });
}

}  // extern "C"

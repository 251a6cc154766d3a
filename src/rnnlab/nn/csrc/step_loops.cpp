// The step path's time loops for GRU and LSTM, forward and backward, in compiled code.
// Built with -O3 -fno-trapping-math (see rnnlab.nn.native_build): without the latter GCC will
// not vectorise floor or the selects below.
//
// rnnlab.nn.recurrence defines the math and runs the same loops in PyTorch; this file is the
// same computation with one oneDNN sgemm per step and the gate math fused into one pass over
// the batch, so the features oneDNN's RNN primitives lack (recurrent dropout on h_{t-1}, gate
// recording, LSTM with per-sequence lengths) run without ~20 small PyTorch calls per step.
// Every buffer is the one rnnlab.nn.recurrence allocates and saves (float32, row-major,
// contiguous, time-major); the Python side keeps the input projections and the weight
// gradients (single large GEMMs) and calls these only for the recurrence itself.
//
// Shapes: T steps, B batch, H units, G gates (GRU 3: r, z, n; LSTM 4: i, f, g, o).
//   gx (T, B, G·H)   states (T+1, B, H)   w_t (H, G·H) = W_hhᵀ   w_hh (G·H, H)   b_hh (G·H)
//   step_mask (T, B) bytes, 1 at valid steps (may be null)   rec_mask (B, H) (may be null)
// reverse walks t = T-1 … 0 and then reads state slot t+1 and writes slot t (see
// rnnlab.nn.recurrence._state_index).
#include <oneapi/dnnl/dnnl.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {

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
    return y * __builtin_bit_cast(float, bits);
}

inline float sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

// tanh x = 1 − 2 / (e^{2x} + 1): exact limits ±1, absolute error ~1e-7 near 0.
inline float tanh_(float x) { return 1.0f - 2.0f / (fast_exp(2.0f * x) + 1.0f); }

// C (B, N) = A (B, K) · Bm (K, N) [+ C when accumulate]; all row-major.
inline void gemm(int64_t B, int64_t N, int64_t K, const float *A, const float *Bm, float *C,
        bool accumulate) {
    dnnl_sgemm('N', 'N', B, N, K, 1.0f, A, K, Bm, N, accumulate ? 1.0f : 0.0f, C, N);
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

// gh = bias broadcast over the batch (so the GEMM can accumulate onto it), or zeros.
void fill_bias(float *gh, const float *bias, int64_t B, int64_t N) {
    for (int64_t b = 0; b < B; ++b) {
        if (bias != nullptr)
            std::memcpy(gh + b * N, bias, N * sizeof(float));
        else
            std::memset(gh + b * N, 0, N * sizeof(float));
    }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void gru_gates(int64_t B,
        int64_t H, const float *gx, const float *gh, const float *h, const uint8_t *valid,
        float *rz, float *n, float *h_next) {
    for (int64_t b = 0; b < B; ++b) {
        const float *gxb = gx + b * 3 * H, *ghb = gh + b * 3 * H, *hb = h + b * H;
        float *rzb = rz + b * 2 * H, *nb = n + b * H, *out = h_next + b * H;
#pragma omp simd
        for (int64_t j = 0; j < 2 * H; ++j) rzb[j] = sigmoid(gxb[j] + ghb[j]);
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
            float cand = tanh_(gxb[2 * H + j] + rzb[j] * ghb[2 * H + j]);
            nb[j] = cand;
            out[j] = cand + rzb[H + j] * (hb[j] - cand);
        }
        if (valid != nullptr && !valid[b]) std::memcpy(out, hb, H * sizeof(float));
    }
}

// One backward step of the GRU up to the GEMM: δ = ∂out_t + ∂h (zero at padded steps),
// ∂gh = [δn̂ ⊙ ghn ⊙ r(1−r), δ ⊙ (h−n) ⊙ z(1−z), δn̂ ⊙ r], δn̂ = δ ⊙ (1−z)(1−n²); the direct
// part of ∂h_{t−1}: δ ⊙ z at valid steps, the incoming ∂h unchanged at padded ones.
__attribute__((target_clones("avx512f", "avx2", "default"))) void gru_delta(int64_t B,
        int64_t H, const float *grad_out, const float *grad_h, const float *rz, const float *n,
        const float *gh, const float *h_prev, const uint8_t *valid, float *d_gh, float *d_n_hat,
        float *direct) {
    for (int64_t b = 0; b < B; ++b) {
        const float *rzb = rz + b * 2 * H, *nb = n + b * H, *ghb = gh + b * 3 * H;
        const float *hb = h_prev + b * H, *gb = grad_h + b * H;
        const float *ob = grad_out + b * H;
        float *dgh = d_gh + b * 3 * H, *dnb = d_n_hat + b * H, *db = direct + b * H;
        if (valid != nullptr && !valid[b]) {  // padded: no gradient enters, ∂h passes through
            std::memset(dgh, 0, 3 * H * sizeof(float));
            std::memset(dnb, 0, H * sizeof(float));
            std::memcpy(db, gb, H * sizeof(float));
            continue;
        }
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) {
            float delta = gb[j] + ob[j];
            float r = rzb[j], z = rzb[H + j], cand = nb[j];
            float dn = delta * (1.0f - z) * (1.0f - cand * cand);
            dnb[j] = dn;
            dgh[j] = dn * ghb[2 * H + j] * r * (1.0f - r);
            dgh[H + j] = delta * (hb[j] - cand) * z * (1.0f - z);
            dgh[2 * H + j] = dn * r;
            db[j] = delta * z;
        }
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
        int64_t H, const float *grad_out, const float *grad_h, const float *grad_c,
        const float *sig, const float *cand, const float *tanh_c, const float *c_prev,
        const uint8_t *valid, float *d_pre, float *grad_c_next) {
    for (int64_t b = 0; b < B; ++b) {
        const float *sb = sig + b * 4 * H, *gb = cand + b * H, *tb = tanh_c + b * H;
        const float *cp = c_prev + b * H, *ghb = grad_h + b * H, *gcb = grad_c + b * H;
        const float *ob = grad_out + b * H;
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

}  // namespace

extern "C" {

// GRU forward over time; fills rz (T,B,2H), n (T,B,H), gh (T,B,3H), states (T+1,B,H)
// (states[first slot] must already hold h0).
int rnnlab_gru_steps_forward(int64_t T, int64_t B, int64_t H, int reverse, const float *gx,
        const float *w_t, const float *b_hh, const uint8_t *step_mask, const float *rec_mask,
        float *rz, float *n, float *gh, float *states) {
    std::vector<float> masked(rec_mask != nullptr ? B * H : 0);
    for (int64_t s = 0; s < T; ++s) {
        const int64_t t = reverse ? T - 1 - s : s;
        const float *h = states + slot_before(t, reverse) * B * H;
        float *ght = gh + t * B * 3 * H;
        fill_bias(ght, b_hh, B, 3 * H);
        gemm(B, 3 * H, H, hidden_input(h, rec_mask, masked.data(), B * H), w_t, ght, true);
        gru_gates(B, H, gx + t * B * 3 * H, ght, h,
                step_mask != nullptr ? step_mask + t * B : nullptr, rz + t * B * 2 * H,
                n + t * B * H, states + slot_after(t, reverse) * B * H);
    }
    return 0;
}

// GRU backward over time; writes d_gh (T,B,3H) and d_n_hat (T,B,H); grad_h (B,H) holds ∂h_T
// on entry and ∂h_0 on return. grad_out may be null (no gradient from the outputs).
int rnnlab_gru_steps_backward(int64_t T, int64_t B, int64_t H, int reverse,
        const float *grad_out, const float *rz, const float *n, const float *gh,
        const float *states, const float *w_hh, const uint8_t *step_mask, const float *rec_mask,
        float *d_gh, float *d_n_hat, float *grad_h) {
    std::vector<float> through(B * H), direct(B * H), no_grad(grad_out == nullptr ? B * H : 0);
    for (int64_t s = 0; s < T; ++s) {
        const int64_t t = reverse ? s : T - 1 - s;  // the forward order, walked backwards
        const uint8_t *valid = step_mask != nullptr ? step_mask + t * B : nullptr;
        float *dght = d_gh + t * B * 3 * H;
        gru_delta(B, H, grad_out != nullptr ? grad_out + t * B * H : no_grad.data(), grad_h,
                rz + t * B * 2 * H, n + t * B * H, gh + t * B * 3 * H,
                states + slot_before(t, reverse) * B * H, valid, dght, d_n_hat + t * B * H,
                direct.data());
        gemm(B, H, 3 * H, dght, w_hh, through.data(), false);
        combine_grad_h(B, H, through.data(), direct.data(), rec_mask, valid, grad_h);
    }
    return 0;
}

// LSTM forward over time with W_hhᵀ and b_hh already carrying the doubled candidate rows;
// fills sig (T,B,4H), cand, tanh_c (T,B,H), h_states and c_states (T+1,B,H) (first slots
// hold h0, c0).
int rnnlab_lstm_steps_forward(int64_t T, int64_t B, int64_t H, int reverse, const float *gx,
        const float *w_t, const float *b_hh, const uint8_t *step_mask, const float *rec_mask,
        float *sig, float *cand, float *tanh_c, float *h_states, float *c_states) {
    std::vector<float> masked(rec_mask != nullptr ? B * H : 0), pre(B * 4 * H);
    for (int64_t s = 0; s < T; ++s) {
        const int64_t t = reverse ? T - 1 - s : s;
        const int64_t before = slot_before(t, reverse), after = slot_after(t, reverse);
        const float *h = h_states + before * B * H;
        fill_bias(pre.data(), b_hh, B, 4 * H);
        gemm(B, 4 * H, H, hidden_input(h, rec_mask, masked.data(), B * H), w_t, pre.data(),
                true);
        lstm_gates(B, H, gx + t * B * 4 * H, pre.data(), h, c_states + before * B * H,
                step_mask != nullptr ? step_mask + t * B : nullptr, sig + t * B * 4 * H,
                cand + t * B * H, tanh_c + t * B * H, h_states + after * B * H,
                c_states + after * B * H);
    }
    return 0;
}

// LSTM backward over time; writes d_pre (T,B,4H); grad_h and grad_c (B,H) hold ∂h_T, ∂c_T
// on entry and ∂h_0, ∂c_0 on return. w_hh is the unscaled (4H, H) matrix.
int rnnlab_lstm_steps_backward(int64_t T, int64_t B, int64_t H, int reverse,
        const float *grad_out, const float *sig, const float *cand, const float *tanh_c,
        const float *c_states, const float *w_hh, const uint8_t *step_mask,
        const float *rec_mask, float *d_pre, float *grad_h, float *grad_c) {
    std::vector<float> through(B * H), next_c(B * H), no_grad(grad_out == nullptr ? B * H : 0);
    for (int64_t s = 0; s < T; ++s) {
        const int64_t t = reverse ? s : T - 1 - s;
        const uint8_t *valid = step_mask != nullptr ? step_mask + t * B : nullptr;
        float *dpt = d_pre + t * B * 4 * H;
        lstm_delta(B, H, grad_out != nullptr ? grad_out + t * B * H : no_grad.data(), grad_h,
                grad_c,
                sig + t * B * 4 * H, cand + t * B * H, tanh_c + t * B * H,
                c_states + slot_before(t, reverse) * B * H, valid, dpt, next_c.data());
        gemm(B, H, 4 * H, dpt, w_hh, through.data(), false);
        // ∂h_{t−1} = (∂pre W_hh) ⊙ m at valid steps; padded steps pass ∂h through unchanged.
        for (int64_t b = 0; b < B; ++b) {
            if (valid != nullptr && !valid[b]) continue;
            const float *tb = through.data() + b * H;
            float *out = grad_h + b * H;
            if (rec_mask == nullptr) {
                std::memcpy(out, tb, H * sizeof(float));
                continue;
            }
            const float *mb = rec_mask + b * H;
#pragma omp simd
            for (int64_t j = 0; j < H; ++j) out[j] = tb[j] * mb[j];
        }
        std::memcpy(grad_c, next_c.data(), B * H * sizeof(float));
    }
    return 0;
}

}  // extern "C"

// One layer, one direction of an RNN / LSTM / GRU on oneDNN's CPU RNN primitives, forward
// (inference or training) and backward, behind a small C ABI that Python calls via ctypes.
//
// Layouts (all float32, row-major, contiguous; T steps, B batch, I inputs, H units):
//   x  (T, B, I)   y (T, B, H)   h0, hT (B, H)   c0, cT (B, H) for LSTM
//   w_ih (I, G, H), w_hh (H, G, H)   -- oneDNN's "ldigo" with L = D = 1
//   bias (Gb, H)                     -- Gb = G, except lbr_gru: 4 (its hidden-side n bias)
// kind: 0 vanilla tanh, 1 vanilla relu, 2 lstm (G = 4), 3 lbr_gru (G = 3).
// The caller reorders PyTorch's weights into these layouts (gate order included).
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <cstring>
#include <exception>
#include <string>
#include <unordered_map>

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

thread_local std::string last_error;

engine &cpu_engine() {
    static engine eng(engine::kind::cpu, 0);
    return eng;
}

int gates_of(int kind) { return kind == 2 ? 4 : (kind == 3 ? 3 : 1); }
int bias_gates_of(int kind) { return kind == 3 ? 4 : gates_of(kind); }

struct Descs {
    memory::desc x, h, c, w_ih, w_hh, bias, y, w_ih_any, w_hh_any;
};

Descs make_descs(int kind, int T, int B, int I, int H) {
    const memory::dim G = gates_of(kind), Gb = bias_gates_of(kind);
    Descs d;
    d.x = memory::desc({T, B, I}, dt::f32, tag::tnc);
    d.y = memory::desc({T, B, H}, dt::f32, tag::tnc);
    d.h = memory::desc({1, 1, B, H}, dt::f32, tag::ldnc);
    d.c = memory::desc({1, 1, B, H}, dt::f32, tag::ldnc);
    d.w_ih = memory::desc({1, 1, I, G, H}, dt::f32, tag::ldigo);
    d.w_hh = memory::desc({1, 1, H, G, H}, dt::f32, tag::ldigo);
    d.w_ih_any = memory::desc({1, 1, I, G, H}, dt::f32, tag::any);
    d.w_hh_any = memory::desc({1, 1, H, G, H}, dt::f32, tag::any);
    d.bias = memory::desc({1, 1, Gb, H}, dt::f32, tag::ldgo);
    return d;
}

algorithm activation(int kind) {
    return kind == 1 ? algorithm::eltwise_relu : algorithm::eltwise_tanh;
}

const auto dir = rnn_direction::unidirectional_left2right;

// Forward primitive descriptor; the same one serves as the hint for backward.
template <typename PD>
PD forward_pd(int kind, prop_kind prop, const Descs &d);

template <>
vanilla_rnn_forward::primitive_desc forward_pd(int kind, prop_kind prop, const Descs &d) {
    return vanilla_rnn_forward::primitive_desc(cpu_engine(), prop, activation(kind), dir, d.x,
            d.h, d.w_ih_any, d.w_hh_any, d.bias, d.y, d.h);
}
template <>
lstm_forward::primitive_desc forward_pd(int, prop_kind prop, const Descs &d) {
    return lstm_forward::primitive_desc(cpu_engine(), prop, dir, d.x, d.h, d.c, d.w_ih_any,
            d.w_hh_any, d.bias, d.y, d.h, d.c);
}
template <>
lbr_gru_forward::primitive_desc forward_pd(int, prop_kind prop, const Descs &d) {
    return lbr_gru_forward::primitive_desc(cpu_engine(), prop, dir, d.x, d.h, d.w_ih_any,
            d.w_hh_any, d.bias, d.y, d.h);
}

// Memory in the primitive's layout, reordered from the user's buffer when they differ.
memory as_layout(const memory::desc &want, memory user, stream &s) {
    if (want == user.get_desc()) return user;
    memory m(want, cpu_engine());
    reorder(user, m).execute(s, user, m);
    return m;
}

template <typename PD>
size_t workspace_bytes(int kind, int T, int B, int I, int H) {
    Descs d = make_descs(kind, T, B, I, H);
    return forward_pd<PD>(kind, prop_kind::forward_training, d).workspace_desc().get_size();
}

template <typename FWD>
void run_forward(int kind, bool training, int T, int B, int I, int H, const float *x,
        const float *h0, const float *c0, const float *w_ih, const float *w_hh,
        const float *bias, float *y, float *hT, float *cT, void *workspace) {
    using PD = typename FWD::primitive_desc;
    Descs d = make_descs(kind, T, B, I, H);
    auto prop = training ? prop_kind::forward_training : prop_kind::forward_inference;
    PD pd = forward_pd<PD>(kind, prop, d);
    stream s(cpu_engine());
    auto &e = cpu_engine();
    memory x_m(d.x, e, const_cast<float *>(x)), h0_m(d.h, e, const_cast<float *>(h0));
    memory wi_m(d.w_ih, e, const_cast<float *>(w_ih)), wh_m(d.w_hh, e, const_cast<float *>(w_hh));
    memory b_m(d.bias, e, const_cast<float *>(bias)), y_m(d.y, e, y), hT_m(d.h, e, hT);
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC_LAYER, x_m}, {DNNL_ARG_SRC_ITER, h0_m},
            {DNNL_ARG_WEIGHTS_LAYER, as_layout(pd.weights_layer_desc(), wi_m, s)},
            {DNNL_ARG_WEIGHTS_ITER, as_layout(pd.weights_iter_desc(), wh_m, s)},
            {DNNL_ARG_BIAS, b_m}, {DNNL_ARG_DST_LAYER, y_m}, {DNNL_ARG_DST_ITER, hT_m}};
    if (kind == 2) {
        args[DNNL_ARG_SRC_ITER_C] = memory(d.c, e, const_cast<float *>(c0));
        args[DNNL_ARG_DST_ITER_C] = memory(d.c, e, cT);
    }
    if (training) args[DNNL_ARG_WORKSPACE] = memory(pd.workspace_desc(), e, workspace);
    FWD(pd).execute(s, args);
    s.wait();
}

template <typename BWD_PD>
BWD_PD backward_pd(int kind, const Descs &d, const typename BWD_PD::hint_type &hint);

struct VanillaBwd {
    using FWD = vanilla_rnn_forward;
    using BWD = vanilla_rnn_backward;
    static BWD::primitive_desc make(int kind, const Descs &d, const FWD::primitive_desc &hint) {
        return BWD::primitive_desc(cpu_engine(), prop_kind::backward, activation(kind), dir, d.x,
                d.h, d.w_ih_any, d.w_hh_any, d.bias, d.y, d.h, d.x, d.h, d.w_ih_any, d.w_hh_any,
                d.bias, d.y, d.h, hint);
    }
};
struct LstmBwd {
    using FWD = lstm_forward;
    using BWD = lstm_backward;
    static BWD::primitive_desc make(int, const Descs &d, const FWD::primitive_desc &hint) {
        return BWD::primitive_desc(cpu_engine(), prop_kind::backward, dir, d.x, d.h, d.c,
                d.w_ih_any, d.w_hh_any, d.bias, d.y, d.h, d.c, d.x, d.h, d.c, d.w_ih_any,
                d.w_hh_any, d.bias, d.y, d.h, d.c, hint);
    }
};
struct GruBwd {
    using FWD = lbr_gru_forward;
    using BWD = lbr_gru_backward;
    static BWD::primitive_desc make(int, const Descs &d, const FWD::primitive_desc &hint) {
        return BWD::primitive_desc(cpu_engine(), prop_kind::backward, dir, d.x, d.h, d.w_ih_any,
                d.w_hh_any, d.bias, d.y, d.h, d.x, d.h, d.w_ih_any, d.w_hh_any, d.bias, d.y, d.h,
                hint);
    }
};

template <typename K>
void run_backward(int kind, int T, int B, int I, int H, const float *x, const float *h0,
        const float *c0, const float *w_ih, const float *w_hh, const float *bias,
        const float *y, const float *hT, const float *cT, const float *dy, const float *dhT,
        const float *dcT, void *workspace, float *dx, float *dh0, float *dc0, float *dw_ih,
        float *dw_hh, float *dbias) {
    Descs d = make_descs(kind, T, B, I, H);
    auto fwd_pd = forward_pd<typename K::FWD::primitive_desc>(kind, prop_kind::forward_training, d);
    auto pd = K::make(kind, d, fwd_pd);
    stream s(cpu_engine());
    auto &e = cpu_engine();
    auto in = [&](const memory::desc &md, const float *p) {
        return memory(md, e, const_cast<float *>(p));
    };
    memory wi_m = in(d.w_ih, w_ih), wh_m = in(d.w_hh, w_hh);
    // Weight gradients land in the primitive's layout (zeroed: oneDNN accumulates into them),
    // then are reordered into the caller's ldigo buffers.
    memory dwi_p(pd.diff_weights_layer_desc(), e), dwh_p(pd.diff_weights_iter_desc(), e);
    std::memset(dwi_p.get_data_handle(), 0, pd.diff_weights_layer_desc().get_size());
    std::memset(dwh_p.get_data_handle(), 0, pd.diff_weights_iter_desc().get_size());
    std::memset(dbias, 0, d.bias.get_size());
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC_LAYER, in(d.x, x)},
            {DNNL_ARG_SRC_ITER, in(d.h, h0)},
            {DNNL_ARG_WEIGHTS_LAYER, as_layout(pd.weights_layer_desc(), wi_m, s)},
            {DNNL_ARG_WEIGHTS_ITER, as_layout(pd.weights_iter_desc(), wh_m, s)},
            {DNNL_ARG_BIAS, in(d.bias, bias)}, {DNNL_ARG_DST_LAYER, in(d.y, y)},
            {DNNL_ARG_DST_ITER, in(d.h, hT)},
            {DNNL_ARG_WORKSPACE, memory(pd.workspace_desc(), e, workspace)},
            {DNNL_ARG_DIFF_DST_LAYER, in(d.y, dy)}, {DNNL_ARG_DIFF_DST_ITER, in(d.h, dhT)},
            {DNNL_ARG_DIFF_SRC_LAYER, memory(d.x, e, dx)},
            {DNNL_ARG_DIFF_SRC_ITER, memory(d.h, e, dh0)},
            {DNNL_ARG_DIFF_WEIGHTS_LAYER, dwi_p}, {DNNL_ARG_DIFF_WEIGHTS_ITER, dwh_p},
            {DNNL_ARG_DIFF_BIAS, memory(d.bias, e, dbias)}};
    if (kind == 2) {
        args[DNNL_ARG_SRC_ITER_C] = in(d.c, c0);
        args[DNNL_ARG_DST_ITER_C] = in(d.c, cT);
        args[DNNL_ARG_DIFF_DST_ITER_C] = in(d.c, dcT);
        args[DNNL_ARG_DIFF_SRC_ITER_C] = memory(d.c, e, dc0);
    }
    typename K::BWD(pd).execute(s, args);
    memory dwi_u(d.w_ih, e, dw_ih), dwh_u(d.w_hh, e, dw_hh);
    reorder(dwi_p, dwi_u).execute(s, dwi_p, dwi_u);
    reorder(dwh_p, dwh_u).execute(s, dwh_p, dwh_u);
    s.wait();
}

template <typename F>
int guarded(F &&f) {
    try {
        f();
        return 0;
    } catch (const dnnl::error &err) {
        last_error = std::string("oneDNN: ") + err.what();
    } catch (const std::exception &err) {
        last_error = err.what();
    }
    return 1;
}

}  // namespace

extern "C" {

const char *rnnlab_last_error() { return last_error.c_str(); }

void rnnlab_set_threads(int n) { omp_set_num_threads(n); }

long long rnnlab_workspace_bytes(int kind, int T, int B, int I, int H) {
    long long bytes = -1;
    int rc = guarded([&] {
        if (kind == 2)
            bytes = workspace_bytes<lstm_forward::primitive_desc>(kind, T, B, I, H);
        else if (kind == 3)
            bytes = workspace_bytes<lbr_gru_forward::primitive_desc>(kind, T, B, I, H);
        else
            bytes = workspace_bytes<vanilla_rnn_forward::primitive_desc>(kind, T, B, I, H);
    });
    return rc == 0 ? bytes : -1;
}

int rnnlab_forward(int kind, int training, int T, int B, int I, int H, const float *x,
        const float *h0, const float *c0, const float *w_ih, const float *w_hh,
        const float *bias, float *y, float *hT, float *cT, void *workspace) {
    return guarded([&] {
        if (kind == 2)
            run_forward<lstm_forward>(kind, training, T, B, I, H, x, h0, c0, w_ih, w_hh, bias, y,
                    hT, cT, workspace);
        else if (kind == 3)
            run_forward<lbr_gru_forward>(kind, training, T, B, I, H, x, h0, c0, w_ih, w_hh, bias,
                    y, hT, cT, workspace);
        else
            run_forward<vanilla_rnn_forward>(kind, training, T, B, I, H, x, h0, c0, w_ih, w_hh,
                    bias, y, hT, cT, workspace);
    });
}

int rnnlab_backward(int kind, int T, int B, int I, int H, const float *x, const float *h0,
        const float *c0, const float *w_ih, const float *w_hh, const float *bias,
        const float *y, const float *hT, const float *cT, const float *dy, const float *dhT,
        const float *dcT, void *workspace, float *dx, float *dh0, float *dc0, float *dw_ih,
        float *dw_hh, float *dbias) {
    return guarded([&] {
        if (kind == 2)
            run_backward<LstmBwd>(kind, T, B, I, H, x, h0, c0, w_ih, w_hh, bias, y, hT, cT, dy,
                    dhT, dcT, workspace, dx, dh0, dc0, dw_ih, dw_hh, dbias);
        else if (kind == 3)
            run_backward<GruBwd>(kind, T, B, I, H, x, h0, c0, w_ih, w_hh, bias, y, hT, cT, dy,
                    dhT, dcT, workspace, dx, dh0, dc0, dw_ih, dw_hh, dbias);
        else
            run_backward<VanillaBwd>(kind, T, B, I, H, x, h0, c0, w_ih, w_hh, bias, y, hT, cT,
                    dy, dhT, dcT, workspace, dx, dh0, dc0, dw_ih, dw_hh, dbias);
    });
}

}  // extern "C"

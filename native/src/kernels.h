// Fused kernels for the GPT training step on the CPU: cross-entropy over the vocabulary,
// LayerNorm, tanh-GELU, causal self-attention, AdamW and a sum of squares. Row-parallel through the pool.
#pragma once
#include <cstddef>
#include <cstdint>

namespace gptw {

// Mean over rows of (logsumexp(x[i, :vocab]) - x[i, target[i]]); writes each row's logsumexp.
double cross_entropy_forward(const float* logits, const int32_t* targets, int rows, int stride, int vocab, float* lse);
// d logits = (softmax(x[i, :vocab]) - onehot(target)) * scale; padded columns get 0. out may be logits (in place).
void cross_entropy_backward(const float* logits, const float* lse, const int32_t* targets, int rows, int stride, int vocab, float scale, float* out);

// The tied lm head and the loss with their gradients, the logits never whole: for h [rows, c]
// (ln_f's output) and wte [vp, c], the mean cross-entropy of h wte^T against targets over the
// first `vocab` columns (returned), dh = dlogits wte and dwte = dlogits^T h with dlogits the loss's
// gradient times `scale` (1 / rows for the mean). The same bits as the head, cross_entropy_forward,
// cross_entropy_backward and the two gradient products run one after another.
double tied_head_loss(const float* h, const float* wte, const int32_t* targets, int rows, int c, int vp, int vocab, float scale, float* dh, float* dwte);

void layer_norm_forward(const float* x, const float* gamma, const float* beta, int rows, int cols, float eps, float* y, float* mean, float* rstd);
void layer_norm_backward(const float* x, const float* gamma, const float* dy, const float* mean, const float* rstd, int rows, int cols, float* dx, float* dgamma,
                         float* dbeta);

void gelu_forward(const float* x, size_t n, float* y);
void gelu_backward(const float* x, const float* dy, size_t n, float* dx);

// m, v updated in place; p_out = p - lr*wd*p (when wd > 0) - step_size * m / (sqrt(v * v_correction) + eps).
void adamw(const float* p, const float* g, float* m, float* v, float* p_out, size_t n, float lr, float beta1, float beta2, float eps, float wd, float step_size,
           float v_correction);

// Attention probabilities from scores s [batch, t, t]: row i of each matrix is softmax(scale * s[i, 0..i]) with 0 past i (causal). p may be s.
void causal_softmax_forward(const float* s, int batch, int t, float scale, float* p);
// Its backward: ds = scale * p * (dp - sum_j p dp) on j <= i, 0 past i. ds may be dp.
void causal_softmax_backward(const float* p, const float* dp, int batch, int t, float scale, float* ds);

// Causal self-attention of B sequences of T positions, H heads of width hd, on the fused qkv
// [B*T, 3C] (C = H*hd; each row q | k | v, head h at columns h*hd of each): y [B*T, C] and the
// log-sum-exp of each attention row, lse [B*H, T], the backward's only other saved state. Scores
// are scaled by 1/sqrt(hd). The T x T probabilities are never stored (flash attention).
void causal_attention_forward(const float* qkv, int batch, int t, int heads, int hd, float* y, float* lse);
// Its backward: every column of dqkv [B*T, 3C] written from dy [B*T, C], the probabilities
// recomputed tile by tile from q, k and lse.
void causal_attention_backward(const float* qkv, const float* y, const float* dy, const float* lse, int batch, int t, int heads, int hd, float* dqkv);

// out[j] = sum over i of x[i, j] for x [rows, cols] (a bias's gradient): each summed in double
// in row order and rounded once, the bits of tfjs's cpu Sum over axis 0.
void column_sums(const float* x, int rows, int cols, float* out);

double sum_squares(const float* x, size_t n);

// out[i] = a[i] + b[i] (out may be a or b): residual adds and gradient accumulation, over the pool.
void add(const float* a, const float* b, size_t n, float* out);

}  // namespace gptw

#include "kernels.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "gemm.h"
#include "thread_pool.h"

namespace gptw {
namespace {

// exp(x) for float, accurate to about 2 ulp on [-87, 88]: range reduction by ln 2, a degree-6
// polynomial, and the exponent placed with integer arithmetic. Branch-free, so loops vectorize.
inline float fast_exp(float x) {
  x = std::min(88.3762626647949f, std::max(-87.3365447505531f, x));
  const float n = std::nearbyint(x * 1.44269504088896341f);
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits;
  std::memcpy(&bits, &p, 4);
  bits += static_cast<int32_t>(n) << 23;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

inline float fast_tanh(float u) { return 1.0f - 2.0f / (fast_exp(2.0f * u) + 1.0f); }

constexpr float kGeluC = 0.7978845608028654f;  // sqrt(2 / pi)

// Maxima kept in 16 independent lanes (two 8-float vectors) and combined at the end: a single
// running max is a chain of dependent instructions (4 cycles an element) that the compiler will
// not split, since it cannot rule out NaNs. A maximum is the same whatever the order.
typedef float Floats8 __attribute__((vector_size(32)));

__attribute__((target_clones("avx2", "default"))) float scaled_row_max(const float* x, int n, float scale) {
  Floats8 m0, m1;
  for (int l = 0; l < 8; ++l) m0[l] = m1[l] = -INFINITY;
  int j = 0;
  for (; j + 16 <= n; j += 16) {
    Floats8 a, b;
    std::memcpy(&a, x + j, sizeof a);
    std::memcpy(&b, x + j + 8, sizeof b);
    a *= scale;
    b *= scale;
    m0 = a > m0 ? a : m0;
    m1 = b > m1 ? b : m1;
  }
  float m = -INFINITY;
  for (int l = 0; l < 8; ++l) m = std::max(m, std::max(m0[l], m1[l]));
  for (; j < n; ++j) m = std::max(m, x[j] * scale);
  return m;
}

inline float row_max(const float* x, int n) { return scaled_row_max(x, n, 1.0f); }

__attribute__((target_clones("avx2", "default"))) float row_sum_exp(const float* x, int n, float shift) {
  float s = 0.f;
  for (int j = 0; j < n; ++j) s += fast_exp(x[j] - shift);
  return s;
}

__attribute__((target_clones("avx2", "default"))) void row_softmax_grad(const float* x, int n, float lse, float scale, float* out) {
  for (int j = 0; j < n; ++j) out[j] = fast_exp(x[j] - lse) * scale;
}

__attribute__((target_clones("avx2", "default"))) void gelu_forward_range(const float* x, float* y, size_t b, size_t e) {
  for (size_t i = b; i < e; ++i) {
    const float v = x[i];
    y[i] = 0.5f * v * (1.0f + fast_tanh(kGeluC * (v + 0.044715f * v * v * v)));
  }
}

__attribute__((target_clones("avx2", "default"))) void gelu_backward_range(const float* x, const float* dy, float* dx, size_t b, size_t e) {
  for (size_t i = b; i < e; ++i) {
    const float v = x[i];
    const float t = fast_tanh(kGeluC * (v + 0.044715f * v * v * v));
    const float d = 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * kGeluC * (1.0f + 3.0f * 0.044715f * v * v);
    dx[i] = dy[i] * d;
  }
}

__attribute__((target_clones("avx2", "default"))) void adamw_range(const float* p, const float* g, float* m, float* v, float* out, size_t b, size_t e, float lr,
                                                                  float b1, float b2, float eps, float wd, float step, float vc) {
  const float keep = 1.0f - lr * wd;
  for (size_t i = b; i < e; ++i) {
    const float gi = g[i];
    const float mi = b1 * m[i] + (1.0f - b1) * gi;
    const float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    out[i] = p[i] * keep - step * mi / (std::sqrt(vi * vc) + eps);
  }
}

// p[j] = exp(scale * s[j] - shift) for j < n; returns their sum.
__attribute__((target_clones("avx2", "default"))) float row_exp(const float* s, int n, float scale, float shift, float* p) {
  float sum = 0.f;
  for (int j = 0; j < n; ++j) {
    const float e = fast_exp(s[j] * scale - shift);
    p[j] = e;
    sum += e;
  }
  return sum;
}

__attribute__((target_clones("avx2", "default"))) void row_scale(float* p, int n, float f) {
  for (int j = 0; j < n; ++j) p[j] *= f;
}

__attribute__((target_clones("avx2", "default"))) float row_dot(const float* a, const float* b, int n) {
  float s = 0.f;
  for (int j = 0; j < n; ++j) s += a[j] * b[j];
  return s;
}

__attribute__((target_clones("avx2", "default"))) void row_softmax_backward(const float* p, const float* dp, int n, float dot, float scale, float* ds) {
  for (int j = 0; j < n; ++j) ds[j] = scale * p[j] * (dp[j] - dot);
}

// acc[j] += x[j] in double, each column on its own (no reassociation across rows).
__attribute__((target_clones("avx2", "default"))) void add_row_to_doubles(const float* x, int n, double* acc) {
  for (int j = 0; j < n; ++j) acc[j] += static_cast<double>(x[j]);
}

// Splits [0, n) over the pool in blocks of at least `grain` elements.
template <typename F>
void for_blocks(size_t n, size_t grain, F f) {
  const size_t blocks = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(thread_count()), n / std::max<size_t>(grain, 1)));
  parallel_for(blocks, [&](size_t b0, size_t b1, int) {
    const size_t lo = n * b0 / blocks, hi = n * b1 / blocks;
    if (lo < hi) f(lo, hi);
  });
}

// Each row's logsumexp over the first `vocab` columns into lse, and its loss term
// (logsumexp - x[target]) into terms: rows over the pool.
void cross_entropy_rows(const float* logits, const int32_t* targets, int rows, int stride, int vocab, float* lse, double* terms) {
  parallel_for(static_cast<size_t>(rows), [&](size_t r0, size_t r1, int) {
    for (size_t i = r0; i < r1; ++i) {
      const float* x = logits + i * static_cast<size_t>(stride);
      const float m = row_max(x, vocab);
      const float l = m + std::log(row_sum_exp(x, vocab, m));
      lse[i] = l;
      terms[i] = static_cast<double>(l) - x[targets[i]];
    }
  });
}

// The mean of the terms, summed in row order (the same bits on any number of threads).
double mean_in_order(const std::vector<double>& terms) {
  double total = 0;
  for (double t : terms) total += t;
  return total / static_cast<double>(terms.size());
}

}  // namespace

double cross_entropy_forward(const float* logits, const int32_t* targets, int rows, int stride, int vocab, float* lse) {
  std::vector<double> terms(static_cast<size_t>(rows));
  cross_entropy_rows(logits, targets, rows, stride, vocab, lse, terms.data());
  return mean_in_order(terms);
}

void cross_entropy_backward(const float* logits, const float* lse, const int32_t* targets, int rows, int stride, int vocab, float scale, float* out) {
  parallel_for(static_cast<size_t>(rows), [&](size_t r0, size_t r1, int) {
    for (size_t i = r0; i < r1; ++i) {
      const float* x = logits + i * static_cast<size_t>(stride);
      float* o = out + i * static_cast<size_t>(stride);
      row_softmax_grad(x, vocab, lse[i], scale, o);
      o[targets[i]] -= scale;
      for (int j = vocab; j < stride; ++j) o[j] = 0.f;
    }
  });
}

double tied_head_loss(const float* h, const float* wte, const int32_t* targets, int rows, int c, int vp, int vocab, float scale, float* dh, float* dwte) {
  // Rows in pieces of kGemmKBlock: dwte's sum over rows then runs in the blocks one product over
  // all rows would use, and the other products are row by row, so every result has the bits of
  // the unfused head. A last piece of a few rows joins the one before (they would take the GEMM's
  // few-rows path). Only one piece's logits exist, in a buffer left uninitialised (no zeroing).
  const int most = std::min(rows, kGemmKBlock + kGemmFewRows);
  std::unique_ptr<float[]> logits(new float[static_cast<size_t>(most) * vp]);
  std::vector<float> lse(static_cast<size_t>(most));
  std::vector<double> terms(static_cast<size_t>(rows));
  for (int r0 = 0; r0 < rows;) {
    int n = std::min(kGemmKBlock, rows - r0);
    if (rows - r0 - n <= kGemmFewRows) n = rows - r0;
    const float* hr = h + static_cast<size_t>(r0) * c;
    sgemm(false, true, n, vp, c, hr, c, wte, c, logits.get(), vp);
    cross_entropy_rows(logits.get(), targets + r0, n, vp, vocab, lse.data(), terms.data() + r0);
    cross_entropy_backward(logits.get(), lse.data(), targets + r0, n, vp, vocab, scale, logits.get());
    sgemm(false, false, n, c, vp, logits.get(), vp, wte, c, dh + static_cast<size_t>(r0) * c, c);
    sgemm(true, false, vp, c, n, logits.get(), vp, hr, c, dwte, c, r0 > 0);
    r0 += n;
  }
  return mean_in_order(terms);
}

void layer_norm_forward(const float* x, const float* gamma, const float* beta, int rows, int cols, float eps, float* y, float* mean, float* rstd) {
  for_blocks(static_cast<size_t>(rows), 16, [&](size_t r0, size_t r1) {
    for (size_t i = r0; i < r1; ++i) {
      const float* xr = x + i * cols;
      float* yr = y + i * cols;
      double s = 0;
      for (int j = 0; j < cols; ++j) s += xr[j];
      const float mu = static_cast<float>(s / cols);
      double ss = 0;
      for (int j = 0; j < cols; ++j) ss += static_cast<double>(xr[j] - mu) * (xr[j] - mu);
      const float rs = 1.0f / std::sqrt(static_cast<float>(ss / cols) + eps);
      for (int j = 0; j < cols; ++j) yr[j] = (xr[j] - mu) * rs * gamma[j] + beta[j];
      mean[i] = mu;
      rstd[i] = rs;
    }
  });
}

void layer_norm_backward(const float* x, const float* gamma, const float* dy, const float* mean, const float* rstd, int rows, int cols, float* dx, float* dgamma,
                         float* dbeta) {
  const int threads = thread_count();
  std::vector<float> dg(static_cast<size_t>(threads) * cols, 0.f), db(static_cast<size_t>(threads) * cols, 0.f);
  parallel_for(static_cast<size_t>(rows), [&](size_t r0, size_t r1, int t) {
    float* dgt = dg.data() + static_cast<size_t>(t) * cols;
    float* dbt = db.data() + static_cast<size_t>(t) * cols;
    for (size_t i = r0; i < r1; ++i) {
      const float* xr = x + i * cols;
      const float* dyr = dy + i * cols;
      float* dxr = dx + i * cols;
      const float mu = mean[i], rs = rstd[i];
      float sum_d = 0, sum_dx = 0;
      for (int j = 0; j < cols; ++j) {
        const float xhat = (xr[j] - mu) * rs;
        const float d = dyr[j] * gamma[j];
        sum_d += d;
        sum_dx += d * xhat;
        dgt[j] += dyr[j] * xhat;
        dbt[j] += dyr[j];
      }
      const float md = sum_d / cols, mdx = sum_dx / cols;
      for (int j = 0; j < cols; ++j) {
        const float xhat = (xr[j] - mu) * rs;
        dxr[j] = rs * (dyr[j] * gamma[j] - md - xhat * mdx);
      }
    }
  });
  for (int j = 0; j < cols; ++j) {
    float g = 0, b = 0;
    for (int t = 0; t < threads; ++t) {
      g += dg[static_cast<size_t>(t) * cols + j];
      b += db[static_cast<size_t>(t) * cols + j];
    }
    dgamma[j] = g;
    dbeta[j] = b;
  }
}

void gelu_forward(const float* x, size_t n, float* y) {
  for_blocks(n, 1 << 14, [&](size_t b, size_t e) { gelu_forward_range(x, y, b, e); });
}

void gelu_backward(const float* x, const float* dy, size_t n, float* dx) {
  for_blocks(n, 1 << 14, [&](size_t b, size_t e) { gelu_backward_range(x, dy, dx, b, e); });
}

void adamw(const float* p, const float* g, float* m, float* v, float* p_out, size_t n, float lr, float beta1, float beta2, float eps, float wd, float step_size,
           float v_correction) {
  for_blocks(n, 1 << 15, [&](size_t b, size_t e) { adamw_range(p, g, m, v, p_out, b, e, lr, beta1, beta2, eps, wd, step_size, v_correction); });
}

void causal_softmax_forward(const float* s, int batch, int t, float scale, float* p) {
  const size_t rows = static_cast<size_t>(batch) * t;
  for_blocks(rows, 8, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      const int n = static_cast<int>(r % t) + 1;  // query i sees keys 0..i
      const float* sr = s + r * t;
      float* pr = p + r * t;
      const float m = scaled_row_max(sr, n, scale);
      const float sum = row_exp(sr, n, scale, m, pr);
      row_scale(pr, n, 1.0f / sum);
      std::fill(pr + n, pr + t, 0.f);
    }
  });
}

void causal_softmax_backward(const float* p, const float* dp, int batch, int t, float scale, float* ds) {
  const size_t rows = static_cast<size_t>(batch) * t;
  for_blocks(rows, 8, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      const int n = static_cast<int>(r % t) + 1;
      const float* pr = p + r * t;
      const float* dpr = dp + r * t;
      float* dsr = ds + r * t;
      const float dot = row_dot(pr, dpr, n);
      row_softmax_backward(pr, dpr, n, dot, scale, dsr);
      std::fill(dsr + n, dsr + t, 0.f);
    }
  });
}

// ---- causal self-attention, flash style ----
//
// q, k and v are read in place from the fused qkv [B*T, 3C] (row b*T + i: q | k | v, head h at
// columns h*hd of each third), the heads' output written in place into y [B*T, C]. Queries go
// in blocks of kAttBlock: a query block's scores against the keys it may see (kAttBlock x T at
// most, one per thread) are its only scores held, so the T x T probabilities are never stored.
// The backward goes in block x block tiles and recomputes each tile's probabilities from q, k
// and the saved log-sum-exp.

namespace {

constexpr int kAttBlock = 64;

struct HeadView {
  const float* q;
  const float* k;
  const float* v;
  size_t ld;  // 3C
};

HeadView head_view(const float* qkv, int b, int h, int t, int hd, int c) {
  const float* base = qkv + static_cast<size_t>(b) * t * 3 * c + static_cast<size_t>(h) * hd;
  return {base, base + c, base + 2 * static_cast<size_t>(c), 3 * static_cast<size_t>(c)};
}

// Per-thread scratch that grows to the largest size asked for and is then reused.
float* scratch(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

// Query block `qb` of head (b, h): y's rows and their log-sum-exp. The block's scores against
// every key it may see (at most kAttBlock x T, per thread, in L2) are made in one product, each
// row's softmax taken whole (no running rescale), and y = P V in a second product: two products
// with long sides instead of one small pair per key block.
void attention_forward_block(const float* qkv, int b, int h, int t, int heads, int hd, float scale, int qb, float* y, float* lse) {
  thread_local std::vector<float> s_buf;
  const int c = heads * hd;
  const HeadView hv = head_view(qkv, b, h, t, hd, c);
  const int ld = static_cast<int>(hv.ld);
  const int r0 = qb * kAttBlock, br = std::min(kAttBlock, t - r0);
  const int keys = r0 + br;  // the block's last query sees keys 0..keys - 1
  float* s = scratch(s_buf, static_cast<size_t>(br) * keys);
  sgemm_serial(false, true, br, keys, hd, hv.q + r0 * hv.ld, ld, hv.k, ld, s, keys);
  const int bh = b * heads + h;
  float inv[kAttBlock];
  for (int r = 0; r < br; ++r) {
    const int n = r0 + r + 1;  // query r0 + r sees keys up to itself
    float* sr = s + static_cast<size_t>(r) * keys;
    const float mx = scaled_row_max(sr, n, scale);
    const float l = row_exp(sr, n, scale, mx, sr);
    std::fill(sr + n, sr + keys, 0.f);
    inv[r] = 1.0f / l;
    lse[static_cast<size_t>(bh) * t + r0 + r] = mx + std::log(l);
  }
  float* yb = y + (static_cast<size_t>(b) * t + r0) * c + static_cast<size_t>(h) * hd;
  sgemm_serial(false, false, br, hd, keys, s, keys, hv.v, ld, yb, c);
  for (int r = 0; r < br; ++r) row_scale(yb + static_cast<size_t>(r) * c, hd, inv[r]);
}

// p[j] = exp(scale * s[j] - lse) for j < n, 0 for n <= j < width.
__attribute__((target_clones("avx2", "default"))) void row_probs(float* s, int n, int width, float scale, float lse) {
  for (int j = 0; j < n; ++j) s[j] = fast_exp(s[j] * scale - lse);
  for (int j = n; j < width; ++j) s[j] = 0.f;
}

// The backward of one head (b, h): pointers into qkv, y, dy, lse and dqkv, and the tile step
// the three schedules below share. Each of dQ, dK and dV is a sum of one term per tile; every
// schedule adds a row block's terms in the same order (dQ_i over key blocks 0..i, dK_j and dV_j
// over query blocks j..last) with the same calls, so all three give the same bits.
struct HeadGrad {
  HeadView hv;
  const float* o;    // y's head columns
  const float* d_o;  // dy's
  const float* lse;  // [T]
  float* dq;
  float* dk;
  float* dv;
  size_t ldo;  // C
  int t, hd;
  float scale;

  HeadGrad(const float* qkv, const float* y, const float* dy, const float* lse_all, int b, int h, int t_, int heads, int hd_, float scale_, float* dqkv)
      : t(t_), hd(hd_), scale(scale_) {
    const int c = heads * hd;
    hv = head_view(qkv, b, h, t, hd, c);
    float* dbase = dqkv + static_cast<size_t>(b) * t * 3 * c + static_cast<size_t>(h) * hd;
    dq = dbase;
    dk = dbase + c;
    dv = dbase + 2 * static_cast<size_t>(c);
    ldo = static_cast<size_t>(c);
    o = y + static_cast<size_t>(b) * t * c + static_cast<size_t>(h) * hd;
    d_o = dy + static_cast<size_t>(b) * t * c + static_cast<size_t>(h) * hd;
    lse = lse_all + static_cast<size_t>(b * heads + h) * t;
  }

  int rows(int block) const { return std::min(kAttBlock, t - block * kAttBlock); }

  void zero(float* d, int block) const {
    for (int i = block * kAttBlock, e = i + rows(block); i < e; ++i) std::fill(d + i * hv.ld, d + i * hv.ld + hd, 0.f);
  }

  // D_i = sum_j P_ij dP_ij = dO_i . O_i for the rows of query block qb.
  void row_terms(int qb, float* dsum) const {
    const int r0 = qb * kAttBlock;
    for (int r = 0, br = rows(qb); r < br; ++r) dsum[r] = row_dot(d_o + (r0 + r) * ldo, o + (r0 + r) * ldo, hd);
  }

  // Tile (qb, kb): P recomputed into p; with want_dv, dV_kb += P^T dO_qb; then dS into ds.
  void tile(int qb, int kb, const float* dsum, bool want_dv, float* p, float* ds) const {
    const int r0 = qb * kAttBlock, br = rows(qb), c0 = kb * kAttBlock, bc = rows(kb);
    const int ild = static_cast<int>(hv.ld), ildo = static_cast<int>(ldo);
    sgemm_serial(false, true, br, bc, hd, hv.q + r0 * hv.ld, ild, hv.k + c0 * hv.ld, ild, p, kAttBlock);
    for (int r = 0; r < br; ++r) row_probs(p + static_cast<size_t>(r) * kAttBlock, kb == qb ? r + 1 : bc, bc, scale, lse[r0 + r]);
    if (want_dv) sgemm_serial(true, false, bc, hd, br, p, kAttBlock, d_o + r0 * ldo, ildo, dv + c0 * hv.ld, ild, true);
    // dP = dO_i V_j^T, then dS = scale * P * (dP - D) in place (0 where P is)
    sgemm_serial(false, true, br, bc, hd, d_o + r0 * ldo, ildo, hv.v + c0 * hv.ld, ild, ds, kAttBlock);
    for (int r = 0; r < br; ++r) {
      const size_t off = static_cast<size_t>(r) * kAttBlock;
      row_softmax_backward(p + off, ds + off, bc, dsum[r], scale, ds + off);
    }
  }

  // dQ_qb += dS K_kb
  void add_dq(int qb, int kb, const float* ds) const {
    const int ild = static_cast<int>(hv.ld);
    sgemm_serial(false, false, rows(qb), hd, rows(kb), ds, kAttBlock, hv.k + kb * kAttBlock * hv.ld, ild, dq + qb * kAttBlock * hv.ld, ild, true);
  }

  // dK_kb += dS^T Q_qb
  void add_dk(int qb, int kb, const float* ds) const {
    const int ild = static_cast<int>(hv.ld);
    sgemm_serial(true, false, rows(kb), hd, rows(qb), ds, kAttBlock, hv.q + qb * kAttBlock * hv.ld, ild, dk + kb * kAttBlock * hv.ld, ild, true);
  }
};

struct TileScratch {
  float* p;
  float* ds;
  float* dsum;
};

TileScratch tile_scratch() {
  thread_local std::vector<float> buf;
  float* b = scratch(buf, 2 * static_cast<size_t>(kAttBlock) * kAttBlock + kAttBlock);
  return {b, b + kAttBlock * kAttBlock, b + 2 * kAttBlock * kAttBlock};
}

// The whole head on one thread: each tile's P and dS computed once and used for dQ, dK and dV.
void attention_backward_head(const HeadGrad& g) {
  const TileScratch s = tile_scratch();
  const int blocks = (g.t + kAttBlock - 1) / kAttBlock;
  for (int i = 0; i < blocks; ++i) {
    g.zero(g.dq, i);
    g.zero(g.dk, i);
    g.zero(g.dv, i);
  }
  for (int qb = 0; qb < blocks; ++qb) {
    g.row_terms(qb, s.dsum);
    for (int kb = 0; kb <= qb; ++kb) {
      g.tile(qb, kb, s.dsum, true, s.p, s.ds);
      g.add_dq(qb, kb, s.ds);
      g.add_dk(qb, kb, s.ds);
    }
  }
}

// Key block kb of a head alone: its dK and dV rows, over the query blocks that see it.
void attention_backward_keys(const HeadGrad& g, int kb) {
  const TileScratch s = tile_scratch();
  const int blocks = (g.t + kAttBlock - 1) / kAttBlock;
  g.zero(g.dk, kb);
  g.zero(g.dv, kb);
  for (int qb = kb; qb < blocks; ++qb) {
    g.row_terms(qb, s.dsum);
    g.tile(qb, kb, s.dsum, true, s.p, s.ds);
    g.add_dk(qb, kb, s.ds);
  }
}

// Query block qb of a head alone: its dQ rows, the tiles' P and dS computed again.
void attention_backward_queries(const HeadGrad& g, int qb) {
  const TileScratch s = tile_scratch();
  g.zero(g.dq, qb);
  g.row_terms(qb, s.dsum);
  for (int kb = 0; kb <= qb; ++kb) {
    g.tile(qb, kb, s.dsum, false, s.p, s.ds);
    g.add_dq(qb, kb, s.ds);
  }
}

// How many of bh heads to split into key-block and query-block tasks. A whole head costs 5 GEMMs
// per tile and shares no work; split, it costs 7 (P and dP computed twice) in pieces of at most
// one block row. Whole heads fill the threads round by round, so only a last, partial round is
// worth splitting, and only when its heads are few next to the threads: with 12 heads on 2
// threads none are, on 8 threads the last 4, on 16 threads none (the split would cost more).
int heads_to_split(int bh, int blocks, int threads) {
  if (blocks < 2 || threads < 2) return 0;
  const double tiles = blocks * (blocks + 1) / 2.0;
  auto makespan = [&](int split) {
    const int whole = bh - split;
    const double rounds = std::ceil(static_cast<double>(whole) / threads);
    const double spread = (5.0 * whole + 7.0 * split) * tiles / threads;
    const double longest_piece = split > 0 ? 4.0 * blocks : 0.0;
    return std::max({5.0 * tiles * rounds, spread, longest_piece});
  };
  int best = 0;
  double best_time = makespan(0);
  for (int split = 1; split <= bh; ++split) {
    const double time = makespan(split);
    if (time < 0.9 * best_time) best = split, best_time = time;
  }
  return best;
}

}  // namespace

void causal_attention_forward(const float* qkv, int batch, int t, int heads, int hd, float* y, float* lse) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int blocks = (t + kAttBlock - 1) / kAttBlock;
  const size_t bh = static_cast<size_t>(batch) * heads;
  // Work items (head, query block). Query block q costs q + 1 tiles, so each head's blocks are
  // listed short, long, short, long (0, last, 1, last - 1, ...): the pool's contiguous ranges then
  // get even shares of the triangle even when there is a single head.
  parallel_for(bh * blocks, [&](size_t i0, size_t i1, int) {
    for (size_t i = i0; i < i1; ++i) {
      const int head = static_cast<int>(i / blocks), w = static_cast<int>(i % blocks);
      const int qb = w % 2 == 0 ? w / 2 : blocks - 1 - w / 2;
      attention_forward_block(qkv, head / heads, head % heads, t, heads, hd, scale, qb, y, lse);
    }
  });
}

void causal_attention_backward(const float* qkv, const float* y, const float* dy, const float* lse, int batch, int t, int heads, int hd, float* dqkv) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int bh = batch * heads, blocks = (t + kAttBlock - 1) / kAttBlock;
  const int threads = thread_count();
  const int split = heads_to_split(bh, blocks, threads);
  // Tasks longest first, taken by whichever thread is free: whole heads (the first bh - split),
  // then each split head's key blocks (block kb covers blocks - kb tiles) and query blocks (qb + 1).
  struct Task {
    int head, kind, block;  // kind 0: whole head, 1: key block, 2: query block
    double cost;
  };
  std::vector<Task> tasks;
  const double tiles = blocks * (blocks + 1) / 2.0;
  for (int i = 0; i < bh - split; ++i) tasks.push_back({i, 0, 0, 5.0 * tiles});
  for (int i = bh - split; i < bh; ++i)
    for (int b = 0; b < blocks; ++b) {
      tasks.push_back({i, 1, b, 4.0 * (blocks - b)});
      tasks.push_back({i, 2, b, 3.0 * (b + 1)});
    }
  std::stable_sort(tasks.begin(), tasks.end(), [](const Task& a, const Task& b) { return a.cost > b.cost; });
  std::atomic<size_t> next{0};
  parallel_for(static_cast<size_t>(std::min<size_t>(tasks.size(), static_cast<size_t>(threads))), [&](size_t, size_t, int) {
    for (size_t i; (i = next.fetch_add(1)) < tasks.size();) {
      const Task& task = tasks[i];
      const HeadGrad g(qkv, y, dy, lse, task.head / heads, task.head % heads, t, heads, hd, scale, dqkv);
      if (task.kind == 0) attention_backward_head(g);
      else if (task.kind == 1) attention_backward_keys(g, task.block);
      else attention_backward_queries(g, task.block);
    }
  });
}

void column_sums(const float* x, int rows, int cols, float* out) {
  // Threads take column ranges (whole cache lines of 16 floats); each column's running sum is a
  // double over rows 0, 1, ... in order, rounded once: tfjs's cpu Sum gives exactly these bits.
  const size_t lines = (static_cast<size_t>(cols) + 15) / 16;
  for_blocks(lines, 4, [&](size_t l0, size_t l1) {
    const int j0 = static_cast<int>(l0 * 16), j1 = std::min(cols, static_cast<int>(l1 * 16));
    thread_local std::vector<double> acc;
    if (acc.size() < static_cast<size_t>(j1 - j0)) acc.resize(static_cast<size_t>(j1 - j0));
    std::fill(acc.begin(), acc.begin() + (j1 - j0), 0.0);
    for (int i = 0; i < rows; ++i) add_row_to_doubles(x + static_cast<size_t>(i) * cols + j0, j1 - j0, acc.data());
    for (int j = j0; j < j1; ++j) out[j] = static_cast<float>(acc[static_cast<size_t>(j - j0)]);
  });
}

namespace {
__attribute__((target_clones("avx2", "default"))) void add_range(const float* a, const float* b, float* out, size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; ++i) out[i] = a[i] + b[i];
}
}  // namespace

void add(const float* a, const float* b, size_t n, float* out) {
  for_blocks(n, 1 << 16, [&](size_t lo, size_t hi) { add_range(a, b, out, lo, hi); });
}

double sum_squares(const float* x, size_t n) {
  std::vector<double> partial(static_cast<size_t>(thread_count()), 0.0);
  parallel_for(n, [&](size_t b, size_t e, int t) {
    double s = 0;
    for (size_t i = b; i < e; ++i) s += static_cast<double>(x[i]) * x[i];
    partial[static_cast<size_t>(t)] = s;
  });
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

}  // namespace gptw

#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

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

__attribute__((target_clones("avx2", "default"))) float row_max(const float* x, int n) {
  float m = -INFINITY;
  for (int j = 0; j < n; ++j) m = std::max(m, x[j]);
  return m;
}

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

__attribute__((target_clones("avx2", "default"))) float scaled_row_max(const float* x, int n, float scale) {
  float m = -INFINITY;
  for (int j = 0; j < n; ++j) m = std::max(m, x[j] * scale);
  return m;
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

// Splits [0, n) over the pool in blocks of at least `grain` elements.
template <typename F>
void for_blocks(size_t n, size_t grain, F f) {
  const size_t blocks = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(thread_count()), n / std::max<size_t>(grain, 1)));
  parallel_for(blocks, [&](size_t b0, size_t b1, int) {
    const size_t lo = n * b0 / blocks, hi = n * b1 / blocks;
    if (lo < hi) f(lo, hi);
  });
}

}  // namespace

double cross_entropy_forward(const float* logits, const int32_t* targets, int rows, int stride, int vocab, float* lse) {
  std::vector<double> partial(static_cast<size_t>(thread_count()), 0.0);
  parallel_for(static_cast<size_t>(rows), [&](size_t r0, size_t r1, int t) {
    double sum = 0;
    for (size_t i = r0; i < r1; ++i) {
      const float* x = logits + i * static_cast<size_t>(stride);
      const float m = row_max(x, vocab);
      const float l = m + std::log(row_sum_exp(x, vocab, m));
      lse[i] = l;
      sum += static_cast<double>(l) - x[targets[i]];
    }
    partial[static_cast<size_t>(t)] += sum;
  });
  double total = 0;
  for (double p : partial) total += p;
  return total / rows;
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

// N-API bindings: each function takes typed arrays and numbers from JavaScript and runs one
// kernel synchronously on their memory (no copies). Argument checks throw TypeErrors that name
// the argument, so a misuse from JS fails loudly instead of reading out of bounds.
#include <node_api.h>

#include <cstdint>
#include <string>

#include "decode-gemm.h"
#include "gemm.h"
#include "kernels.h"
#include "thread_pool.h"

namespace {

struct Args {
  napi_env env;
  size_t argc = 16;
  napi_value argv[16];
  bool failed = false;

  Args(napi_env e, napi_callback_info info) : env(e) { napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr); }

  void fail(const std::string& msg) {
    if (!failed) napi_throw_type_error(env, nullptr, msg.c_str());
    failed = true;
  }

  double num(size_t i, const char* name) {
    double v = 0;
    if (i >= argc || napi_get_value_double(env, argv[i], &v) != napi_ok) fail(std::string(name) + " must be a number");
    return v;
  }

  int integer(size_t i, const char* name) { return static_cast<int>(num(i, name)); }

  bool flag(size_t i, const char* name) {
    bool v = false;
    if (i >= argc || napi_get_value_bool(env, argv[i], &v) != napi_ok) fail(std::string(name) + " must be a boolean");
    return v;
  }

  template <typename T>
  T* array(size_t i, const char* name, napi_typedarray_type want, size_t min_length) {
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (i >= argc || napi_get_typedarray_info(env, argv[i], &type, &length, &data, nullptr, nullptr) != napi_ok || type != want) {
      fail(std::string(name) + (want == napi_float32_array ? " must be a Float32Array" : " must be an Int32Array"));
      return nullptr;
    }
    if (length < min_length) fail(std::string(name) + " is too short: " + std::to_string(length) + " < " + std::to_string(min_length));
    return static_cast<T*>(data);
  }

  float* f32(size_t i, const char* name, size_t min_length) { return array<float>(i, name, napi_float32_array, min_length); }
  int32_t* i32(size_t i, const char* name, size_t min_length) { return array<int32_t>(i, name, napi_int32_array, min_length); }

  napi_value number(double v) {
    napi_value out;
    napi_create_double(env, v, &out);
    return out;
  }
  napi_value undefined() {
    napi_value out;
    napi_get_undefined(env, &out);
    return out;
  }
};

size_t sz(int a, int b) { return static_cast<size_t>(a) * static_cast<size_t>(b); }

// batchMatMul(transA, transB, batch, m, n, k, a, aBatchStride, b, bBatchStride, c, accumulate, bias)
// Row-major per batch element; a stride of 0 broadcasts that operand over the batch. bias [n]
// (optional, batch 1 only) is added to each finished element, as a second pass would add it.
napi_value BatchMatMul(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const bool ta = a.flag(0, "transA"), tb = a.flag(1, "transB");
  const int batch = a.integer(2, "batch"), m = a.integer(3, "m"), n = a.integer(4, "n"), k = a.integer(5, "k");
  const size_t sa = static_cast<size_t>(a.num(7, "aStride")), sb = static_cast<size_t>(a.num(9, "bStride"));
  const float* A = a.f32(6, "a", sa * (batch - 1) + sz(m, k));
  const float* B = a.f32(8, "b", sb * (batch - 1) + sz(k, n));
  float* C = a.f32(10, "c", sz(batch, sz(m, n)));
  const bool acc = a.argc > 11 ? a.flag(11, "accumulate") : false;
  napi_valuetype bias_type = napi_undefined;
  if (a.argc > 12) napi_typeof(env, a.argv[12], &bias_type);
  const float* bias = bias_type == napi_undefined || bias_type == napi_null ? nullptr : a.f32(12, "bias", static_cast<size_t>(n));
  if (bias && batch != 1) a.fail("bias is only supported for batch 1");
  if (a.failed) return nullptr;
  const int lda = ta ? m : k, ldb = tb ? k : n;
  const double flops = 2.0 * m * n * k;
  if (batch > 1 && flops < 4e6) {
    // Many small products (attention heads): one product per task, each on one thread.
    gptw::parallel_for(static_cast<size_t>(batch), [&](size_t b0, size_t b1, int) {
      for (size_t i = b0; i < b1; ++i) gptw::sgemm_serial(ta, tb, m, n, k, A + sa * i, lda, B + sb * i, ldb, C + i * sz(m, n), n, acc);
    });
  } else {
    for (int i = 0; i < batch; ++i) gptw::sgemm(ta, tb, m, n, k, A + sa * i, lda, B + sb * i, ldb, C + i * sz(m, n), n, acc, bias);
  }
  return a.undefined();
}

// rowsTimesTransposed(a, b, m, n, k, c): c[m, n] = a[m, k] b[n, k]^T, for few rows of a (the
// decode step's lm head against the tied embedding); every element summed over k in order.
napi_value RowsTimesTransposed(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int m = a.integer(2, "m"), n = a.integer(3, "n"), k = a.integer(4, "k");
  if (!a.failed && (m < 0 || n < 0 || k < 0)) a.fail("m, n and k must not be negative");
  if (a.failed) return nullptr;
  const float* A = a.f32(0, "a", sz(m, k));
  const float* B = a.f32(1, "b", sz(n, k));
  float* C = a.f32(5, "c", sz(m, n));
  if (a.failed) return nullptr;
  gptw::rows_times_transposed(m, n, k, A, k, B, k, C, n);
  return a.undefined();
}

// False, with the error thrown, when a target is outside [0, vocab).
bool targets_in_vocabulary(Args& a, const int32_t* t, int rows, int vocab) {
  for (int i = 0; i < rows; ++i)
    if (t[i] < 0 || t[i] >= vocab) {
      a.fail("target " + std::to_string(t[i]) + " at row " + std::to_string(i) + " is outside the vocabulary");
      return false;
    }
  return true;
}

// crossEntropyForward(logits, targets, rows, stride, vocab, lseOut) -> mean loss
napi_value CrossEntropyForward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int rows = a.integer(2, "rows"), stride = a.integer(3, "stride"), vocab = a.integer(4, "vocab");
  const float* x = a.f32(0, "logits", sz(rows, stride));
  const int32_t* t = a.i32(1, "targets", static_cast<size_t>(rows));
  float* lse = a.f32(5, "lse", static_cast<size_t>(rows));
  if (vocab > stride) a.fail("vocab must not exceed stride");
  if (a.failed || !targets_in_vocabulary(a, t, rows, vocab)) return nullptr;
  return a.number(gptw::cross_entropy_forward(x, t, rows, stride, vocab, lse));
}

// tiedHeadLoss(h, wte, targets, rows, c, vp, vocab, scale, dh, dwte) -> mean loss; dh and dwte written
napi_value TiedHeadLoss(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int rows = a.integer(3, "rows"), c = a.integer(4, "c"), vp = a.integer(5, "vp"), vocab = a.integer(6, "vocab");
  const float scale = static_cast<float>(a.num(7, "scale"));
  if (!a.failed && (rows < 1 || c < 1 || vocab < 1)) a.fail("rows, c and vocab must be positive");
  if (!a.failed && vocab > vp) a.fail("vocab must not exceed vp");
  if (a.failed) return nullptr;
  const float* h = a.f32(0, "h", sz(rows, c));
  const float* wte = a.f32(1, "wte", sz(vp, c));
  const int32_t* t = a.i32(2, "targets", static_cast<size_t>(rows));
  float* dh = a.f32(8, "dh", sz(rows, c));
  float* dwte = a.f32(9, "dwte", sz(vp, c));
  if (a.failed || !targets_in_vocabulary(a, t, rows, vocab)) return nullptr;
  return a.number(gptw::tied_head_loss(h, wte, t, rows, c, vp, vocab, scale, dh, dwte));
}

// crossEntropyBackward(logits, lse, targets, rows, stride, vocab, scale, out)
napi_value CrossEntropyBackward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int rows = a.integer(3, "rows"), stride = a.integer(4, "stride"), vocab = a.integer(5, "vocab");
  const float scale = static_cast<float>(a.num(6, "scale"));
  const float* x = a.f32(0, "logits", sz(rows, stride));
  const float* lse = a.f32(1, "lse", static_cast<size_t>(rows));
  const int32_t* t = a.i32(2, "targets", static_cast<size_t>(rows));
  float* out = a.f32(7, "out", sz(rows, stride));
  if (a.failed) return nullptr;
  gptw::cross_entropy_backward(x, lse, t, rows, stride, vocab, scale, out);
  return a.undefined();
}

// layerNormForward(x, gamma, beta, rows, cols, eps, y, mean, rstd)
napi_value LayerNormForward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int rows = a.integer(3, "rows"), cols = a.integer(4, "cols");
  const float eps = static_cast<float>(a.num(5, "eps"));
  const float* x = a.f32(0, "x", sz(rows, cols));
  const float* g = a.f32(1, "gamma", static_cast<size_t>(cols));
  const float* b = a.f32(2, "beta", static_cast<size_t>(cols));
  float* y = a.f32(6, "y", sz(rows, cols));
  float* mean = a.f32(7, "mean", static_cast<size_t>(rows));
  float* rstd = a.f32(8, "rstd", static_cast<size_t>(rows));
  if (a.failed) return nullptr;
  gptw::layer_norm_forward(x, g, b, rows, cols, eps, y, mean, rstd);
  return a.undefined();
}

// layerNormBackward(x, gamma, dy, mean, rstd, rows, cols, dx, dgamma, dbeta)
napi_value LayerNormBackward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int rows = a.integer(5, "rows"), cols = a.integer(6, "cols");
  const float* x = a.f32(0, "x", sz(rows, cols));
  const float* g = a.f32(1, "gamma", static_cast<size_t>(cols));
  const float* dy = a.f32(2, "dy", sz(rows, cols));
  const float* mean = a.f32(3, "mean", static_cast<size_t>(rows));
  const float* rstd = a.f32(4, "rstd", static_cast<size_t>(rows));
  float* dx = a.f32(7, "dx", sz(rows, cols));
  float* dg = a.f32(8, "dgamma", static_cast<size_t>(cols));
  float* db = a.f32(9, "dbeta", static_cast<size_t>(cols));
  if (a.failed) return nullptr;
  gptw::layer_norm_backward(x, g, dy, mean, rstd, rows, cols, dx, dg, db);
  return a.undefined();
}

// geluForward(x, y) / geluBackward(x, dy, dx)
napi_value GeluForward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0;
  napi_get_typedarray_info(env, a.argv[0], nullptr, &n, nullptr, nullptr, nullptr);
  const float* x = a.f32(0, "x", n);
  float* y = a.f32(1, "y", n);
  if (a.failed) return nullptr;
  gptw::gelu_forward(x, n, y);
  return a.undefined();
}

napi_value GeluBackward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0;
  napi_get_typedarray_info(env, a.argv[0], nullptr, &n, nullptr, nullptr, nullptr);
  const float* x = a.f32(0, "x", n);
  const float* dy = a.f32(1, "dy", n);
  float* dx = a.f32(2, "dx", n);
  if (a.failed) return nullptr;
  gptw::gelu_backward(x, dy, n, dx);
  return a.undefined();
}

// adamw(p, g, m, v, out, lr, beta1, beta2, eps, weightDecay, stepSize, vCorrection)
napi_value AdamW(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0;
  napi_get_typedarray_info(env, a.argv[0], nullptr, &n, nullptr, nullptr, nullptr);
  const float* p = a.f32(0, "p", n);
  const float* g = a.f32(1, "g", n);
  float* m = a.f32(2, "m", n);
  float* v = a.f32(3, "v", n);
  float* out = a.f32(4, "out", n);
  const float lr = static_cast<float>(a.num(5, "lr")), b1 = static_cast<float>(a.num(6, "beta1")), b2 = static_cast<float>(a.num(7, "beta2"));
  const float eps = static_cast<float>(a.num(8, "eps")), wd = static_cast<float>(a.num(9, "weightDecay"));
  const float step = static_cast<float>(a.num(10, "stepSize")), vc = static_cast<float>(a.num(11, "vCorrection"));
  if (a.failed) return nullptr;
  gptw::adamw(p, g, m, v, out, n, lr, b1, b2, eps, wd, step, vc);
  return a.undefined();
}

// causalSoftmaxForward(s, batch, t, scale, p) / causalSoftmaxBackward(p, dp, batch, t, scale, ds): s, p, dp, ds [batch, t, t]
napi_value CausalSoftmaxForward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int batch = a.integer(1, "batch"), t = a.integer(2, "t");
  const float scale = static_cast<float>(a.num(3, "scale"));
  if (batch < 1 || t < 1) a.fail("batch and t must be at least 1");
  if (a.failed) return nullptr;
  const size_t n = static_cast<size_t>(batch) * t * t;
  const float* s = a.f32(0, "s", n);
  float* p = a.f32(4, "p", n);
  if (a.failed) return nullptr;
  gptw::causal_softmax_forward(s, batch, t, scale, p);
  return a.undefined();
}

napi_value CausalSoftmaxBackward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int batch = a.integer(2, "batch"), t = a.integer(3, "t");
  const float scale = static_cast<float>(a.num(4, "scale"));
  if (batch < 1 || t < 1) a.fail("batch and t must be at least 1");
  if (a.failed) return nullptr;
  const size_t n = static_cast<size_t>(batch) * t * t;
  const float* p = a.f32(0, "p", n);
  const float* dp = a.f32(1, "dp", n);
  float* ds = a.f32(5, "ds", n);
  if (a.failed) return nullptr;
  gptw::causal_softmax_backward(p, dp, batch, t, scale, ds);
  return a.undefined();
}

// The arguments both attention bindings share: qkv [B*T, 3C] at `qkv_at`, then batch, t and heads
// from `shape_at`; C follows from qkv's length. Returns false (a TypeError thrown) when they do not fit.
struct AttentionArgs {
  int batch = 0, t = 0, heads = 0, c = 0;
  const float* qkv = nullptr;

  bool read(Args& a, size_t qkv_at, size_t shape_at) {
    batch = a.integer(shape_at, "batch"), t = a.integer(shape_at + 1, "t"), heads = a.integer(shape_at + 2, "heads");
    if (batch < 1 || t < 1 || heads < 1) a.fail("batch, t and heads must be at least 1");
    if (a.failed) return false;
    size_t n = 0;
    napi_get_typedarray_info(a.env, a.argv[qkv_at], nullptr, &n, nullptr, nullptr, nullptr);
    const size_t c3 = n / sz(batch, t);
    if (c3 == 0 || c3 % (3 * static_cast<size_t>(heads)) != 0) a.fail("qkv's width must be a multiple of 3 * heads");
    if (a.failed) return false;
    c = static_cast<int>(c3 / 3);
    qkv = a.f32(qkv_at, "qkv", rows() * c3);
    return !a.failed;
  }

  size_t rows() const { return sz(batch, t); }
  size_t lse_length() const { return sz(batch * heads, t); }
  int head_width() const { return c / heads; }
};

// causalAttentionForward(qkv, batch, t, heads, y, lse): qkv [B*T, 3C], y [B*T, C], lse [B*H*T]
napi_value CausalAttentionForward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  AttentionArgs at;
  if (!at.read(a, 0, 1)) return nullptr;
  float* y = a.f32(4, "y", at.rows() * at.c);
  float* lse = a.f32(5, "lse", at.lse_length());
  if (a.failed) return nullptr;
  gptw::causal_attention_forward(at.qkv, at.batch, at.t, at.heads, at.head_width(), y, lse);
  return a.undefined();
}

// causalAttentionBackward(qkv, y, dy, lse, batch, t, heads, dqkv): dqkv [B*T, 3C] fully written
napi_value CausalAttentionBackward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  AttentionArgs at;
  if (!at.read(a, 0, 4)) return nullptr;
  const float* y = a.f32(1, "y", at.rows() * at.c);
  const float* dy = a.f32(2, "dy", at.rows() * at.c);
  const float* lse = a.f32(3, "lse", at.lse_length());
  float* dqkv = a.f32(7, "dqkv", at.rows() * 3 * at.c);
  if (a.failed) return nullptr;
  gptw::causal_attention_backward(at.qkv, y, dy, lse, at.batch, at.t, at.heads, at.head_width(), dqkv);
  return a.undefined();
}

// columnSums(x, rows, cols, out): out[j] = sum_i x[i, j], x [rows, cols] (a bias's gradient)
napi_value ColumnSums(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int rows = a.integer(1, "rows"), cols = a.integer(2, "cols");
  if (!a.failed && (rows < 0 || cols < 0)) a.fail("rows and cols must not be negative");
  if (a.failed) return nullptr;
  const float* x = a.f32(0, "x", sz(rows, cols));
  float* out = a.f32(3, "out", static_cast<size_t>(cols));
  if (a.failed) return nullptr;
  gptw::column_sums(x, rows, cols, out);
  return a.undefined();
}

// add(a, b, out): out[i] = a[i] + b[i] over a's length (out may be a: in place); float32 adds, the bits of tfjs's Add.
napi_value Add(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0;
  if (a.argc > 0) napi_get_typedarray_info(env, a.argv[0], nullptr, &n, nullptr, nullptr, nullptr);
  const float* x = a.f32(0, "a", n);
  const float* y = a.f32(1, "b", n);
  float* out = a.f32(2, "out", n);
  if (a.failed) return nullptr;
  gptw::add(x, y, n, out);
  return a.undefined();
}

napi_value SumSquares(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0;
  napi_get_typedarray_info(env, a.argv[0], nullptr, &n, nullptr, nullptr, nullptr);
  const float* x = a.f32(0, "x", n);
  if (a.failed) return nullptr;
  return a.number(gptw::sum_squares(x, n));
}

napi_value Info(napi_env env, napi_callback_info info) {
  Args a(env, info);
  napi_value out, avx2, avx512, threads;
  napi_create_object(env, &out);
  napi_get_boolean(env, gptw::gemm_uses_avx2(), &avx2);
  napi_get_boolean(env, gptw::gemm_uses_avx512(), &avx512);
  napi_create_int32(env, gptw::thread_count(), &threads);
  napi_set_named_property(env, out, "avx2", avx2);
  napi_set_named_property(env, out, "avx512", avx512);
  napi_set_named_property(env, out, "threads", threads);
  return out;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int n = a.integer(0, "threads");
  if (a.failed) return nullptr;
  gptw::set_thread_count(n);
  return a.undefined();
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor fns[] = {
      {"batchMatMul", nullptr, BatchMatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"rowsTimesTransposed", nullptr, RowsTimesTransposed, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"crossEntropyForward", nullptr, CrossEntropyForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"crossEntropyBackward", nullptr, CrossEntropyBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"tiedHeadLoss", nullptr, TiedHeadLoss, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"layerNormForward", nullptr, LayerNormForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"layerNormBackward", nullptr, LayerNormBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"geluForward", nullptr, GeluForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"geluBackward", nullptr, GeluBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamw", nullptr, AdamW, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"causalSoftmaxForward", nullptr, CausalSoftmaxForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"causalSoftmaxBackward", nullptr, CausalSoftmaxBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"causalAttentionForward", nullptr, CausalAttentionForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"causalAttentionBackward", nullptr, CausalAttentionBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"columnSums", nullptr, ColumnSums, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumSquares", nullptr, SumSquares, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"add", nullptr, Add, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(fns) / sizeof(fns[0]), fns);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)

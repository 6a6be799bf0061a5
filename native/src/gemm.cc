#include "gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "thread_pool.h"

namespace gptw {
namespace {

// Every element of C is one FMA chain over each KC block of k in order, the blocks' sums added
// to C in turn, whichever micro-kernel runs: the AVX-512 and AVX2 kernels give the same bits.
constexpr int KC = kGemmKBlock;
constexpr int MC = 120;   // a multiple of every kernel's MR: one packed A block stays in L2
constexpr int NC = 1024;  // a multiple of every kernel's NR

struct Operand {
  const float* p;
  int ld;
  bool trans;
  // Element (row, col) of op(X).
  float at(int r, int c) const { return trans ? p[static_cast<size_t>(c) * ld + r] : p[static_cast<size_t>(r) * ld + c]; }
};

bool has_avx2();

// Packing a panel is a transpose: `rows` (at most 8) source rows of kc floats, row r at
// src + r * ld, become for each k `rows` consecutive floats at dst + k * stride. Eight k at a time
// through an 8 x 8 register transpose (the scalar loop moved one float per load and store: a third
// of a GEMM's time when the products are small, as in attention). Only copies: no bits change.
__attribute__((target("avx2"))) void transpose_rows_avx2(const float* src, size_t ld, int rows, int kc, float* dst, int stride) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(rows), lanes);
  int k = 0;
  for (; k + 8 <= kc; k += 8) {
    __m256 r[8];
    for (int i = 0; i < 8; ++i) r[i] = i < rows ? _mm256_loadu_ps(src + i * ld + k) : _mm256_setzero_ps();
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    const __m256 col[8] = {_mm256_permute2f128_ps(u0, u4, 0x20), _mm256_permute2f128_ps(u1, u5, 0x20), _mm256_permute2f128_ps(u2, u6, 0x20),
                           _mm256_permute2f128_ps(u3, u7, 0x20), _mm256_permute2f128_ps(u0, u4, 0x31), _mm256_permute2f128_ps(u1, u5, 0x31),
                           _mm256_permute2f128_ps(u2, u6, 0x31), _mm256_permute2f128_ps(u3, u7, 0x31)};
    for (int j = 0; j < 8; ++j) {
      float* out = dst + static_cast<size_t>(k + j) * stride;
      if (rows == 8) _mm256_storeu_ps(out, col[j]);
      else _mm256_maskstore_ps(out, mask, col[j]);
    }
  }
  for (; k < kc; ++k)
    for (int i = 0; i < rows; ++i) dst[static_cast<size_t>(k) * stride + i] = src[i * ld + k];
}

// A whole panel of `width` rows (MR or NR), 8 rows at a time.
void transpose_panel(const float* src, size_t ld, int width, int kc, float* dst) {
  for (int i = 0; i < width; i += 8) transpose_rows_avx2(src + i * ld, ld, std::min(8, width - i), kc, dst + i, width);
}

// A block [mc x kc] into MR-row panels: panel p holds, for each k, MR consecutive rows.
template <int MR>
void pack_a(const Operand& a, int i0, int mc, int k0, int kc, float* out) {
  for (int ip = 0; ip < mc; ip += MR) {
    const int rows = std::min(MR, mc - ip);
    float* dst = out + static_cast<size_t>(ip) * kc;
    if (!a.trans && rows == MR && has_avx2()) {
      transpose_panel(a.p + static_cast<size_t>(i0 + ip) * a.ld + k0, static_cast<size_t>(a.ld), MR, kc, dst);
    } else if (!a.trans) {
      for (int i = 0; i < MR; ++i) {
        if (i < rows) {
          const float* src = a.p + static_cast<size_t>(i0 + ip + i) * a.ld + k0;
          for (int k = 0; k < kc; ++k) dst[k * MR + i] = src[k];
        } else {
          for (int k = 0; k < kc; ++k) dst[k * MR + i] = 0.f;
        }
      }
    } else {
      for (int k = 0; k < kc; ++k) {
        const float* src = a.p + static_cast<size_t>(k0 + k) * a.ld + i0 + ip;
        if (rows == MR) std::memcpy(dst + k * MR, src, MR * sizeof(float));
        else
          for (int i = 0; i < MR; ++i) dst[k * MR + i] = i < rows ? src[i] : 0.f;
      }
    }
  }
}

// B block [kc x nc] into NR-column panels: panel p holds, for each k, NR consecutive columns.
template <int NR>
void pack_b(const Operand& b, int k0, int kc, int j0, int nc, float* out) {
  for (int jp = 0; jp < nc; jp += NR) {
    const int cols = std::min(NR, nc - jp);
    float* dst = out + static_cast<size_t>(jp) * kc;
    if (!b.trans) {
      for (int k = 0; k < kc; ++k) {
        const float* src = b.p + static_cast<size_t>(k0 + k) * b.ld + j0 + jp;
        if (cols == NR) std::memcpy(dst + k * NR, src, NR * sizeof(float));
        else
          for (int j = 0; j < NR; ++j) dst[k * NR + j] = j < cols ? src[j] : 0.f;
      }
    } else if (cols == NR && has_avx2()) {
      transpose_panel(b.p + static_cast<size_t>(j0 + jp) * b.ld + k0, static_cast<size_t>(b.ld), NR, kc, dst);
    } else {
      // Eight source rows at a time, so each k writes 32 contiguous bytes of the panel.
      int j = 0;
      for (; j + 8 <= cols; j += 8) {
        const float* src[8];
        for (int r = 0; r < 8; ++r) src[r] = b.p + static_cast<size_t>(j0 + jp + j + r) * b.ld + k0;
        for (int k = 0; k < kc; ++k)
          for (int r = 0; r < 8; ++r) dst[k * NR + j + r] = src[r][k];
      }
      for (; j < NR; ++j) {
        if (j < cols) {
          const float* src = b.p + static_cast<size_t>(j0 + jp + j) * b.ld + k0;
          for (int k = 0; k < kc; ++k) dst[k * NR + j] = src[k];
        } else {
          for (int k = 0; k < kc; ++k) dst[k * NR + j] = 0.f;
        }
      }
    }
  }
}

// The MR x NR tile of C at c (row stride ldc) = its kc-long products (first) or C plus them.
using MicroKernel = void (*)(int kc, const float* ap, const float* bp, float* c, int ldc, bool first);

template <int MR, int NR>
void micro_portable(int kc, const float* ap, const float* bp, float* c, int ldc, bool first) {
  float acc[MR][NR] = {};
  for (int k = 0; k < kc; ++k)
    for (int i = 0; i < MR; ++i) {
      const float a = ap[k * MR + i];
      for (int j = 0; j < NR; ++j) acc[i][j] += a * bp[k * NR + j];
    }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) c[static_cast<size_t>(i) * ldc + j] = first ? acc[i][j] : c[static_cast<size_t>(i) * ldc + j] + acc[i][j];
}

__attribute__((target("avx2,fma"))) void micro_avx2(int kc, const float* ap, const float* bp, float* c, int ldc, bool first) {
  constexpr int MR = 6, NR = 16;
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(bp + k * NR);
    const __m256 b1 = _mm256_loadu_ps(bp + k * NR + 8);
    const float* a = ap + k * MR;
    __m256 x = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(x, b0, c00);
    c01 = _mm256_fmadd_ps(x, b1, c01);
    x = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(x, b0, c10);
    c11 = _mm256_fmadd_ps(x, b1, c11);
    x = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(x, b0, c20);
    c21 = _mm256_fmadd_ps(x, b1, c21);
    x = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(x, b0, c30);
    c31 = _mm256_fmadd_ps(x, b1, c31);
    x = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(x, b0, c40);
    c41 = _mm256_fmadd_ps(x, b1, c41);
    x = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(x, b0, c50);
    c51 = _mm256_fmadd_ps(x, b1, c51);
  }
  const __m256 out[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int i = 0; i < MR; ++i) {
    float* row = c + static_cast<size_t>(i) * ldc;
    for (int h = 0; h < 2; ++h)
      _mm256_storeu_ps(row + 8 * h, first ? out[i][h] : _mm256_add_ps(_mm256_loadu_ps(row + 8 * h), out[i][h]));
  }
}

// 12 x 32 on AVX-512: 24 accumulators, two B vectors and a broadcast of 32 registers.
__attribute__((target("avx512f"))) void micro_avx512(int kc, const float* ap, const float* bp, float* c, int ldc, bool first) {
  constexpr int MR = 12, NR = 32;
  __m512 acc[MR][2];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(bp + k * NR);
    const __m512 b1 = _mm512_loadu_ps(bp + k * NR + 16);
    const float* a = ap + k * MR;
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      const __m512 x = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(x, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(x, b1, acc[i][1]);
    }
  }
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    float* row = c + static_cast<size_t>(i) * ldc;
    if (first) {
      _mm512_storeu_ps(row, acc[i][0]);
      _mm512_storeu_ps(row + 16, acc[i][1]);
    } else {
      _mm512_storeu_ps(row, _mm512_add_ps(_mm512_loadu_ps(row), acc[i][0]));
      _mm512_storeu_ps(row + 16, _mm512_add_ps(_mm512_loadu_ps(row + 16), acc[i][1]));
    }
  }
}

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

bool has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f") && std::getenv("GPTW_NO_AVX512") == nullptr;
  return yes;
}

struct Buffers {
  float* a = nullptr;
  float* b = nullptr;
  Buffers() {
    a = static_cast<float*>(std::aligned_alloc(64, sizeof(float) * MC * KC));
    b = static_cast<float*>(std::aligned_alloc(64, sizeof(float) * KC * NC));
  }
  ~Buffers() {
    std::free(a);
    std::free(b);
  }
};

// row[j] += bias[j] on a row already stored: out of line, so that -fassociative-math cannot
// fold the bias into the sum before it is complete (the bits must be (sum) + bias).
__attribute__((noinline)) void add_bias(float* row, const float* bias, int n) {
  for (int j = 0; j < n; ++j) row[j] += bias[j];
}

// One thread's share: rows [m0, m1) x columns [n0, n1) of C. With a bias, the last k block's
// write-back adds bias[col] to each finished sum: (sum + bias), the bits of adding it afterwards.
template <int MR, int NR>
void gemm_block_t(MicroKernel kernel, const Operand& a, const Operand& b, int k, float* c, int ldc, int m0, int m1, int n0, int n1, bool accumulate,
                  const float* bias) {
  static_assert(MC % MR == 0 && NC % NR == 0, "blocks hold whole micro-panels");
  thread_local Buffers buf;
  alignas(64) float acc[MR * NR];
  for (int jc = n0; jc < n1; jc += NC) {
    const int nc = std::min(NC, n1 - jc);
    for (int pc = 0; pc < k; pc += KC) {
      const int kc = std::min(KC, k - pc);
      const bool first = pc == 0 && !accumulate;
      const float* add = pc + kc >= k ? bias : nullptr;
      pack_b<NR>(b, pc, kc, jc, nc, buf.b);
      for (int ic = m0; ic < m1; ic += MC) {
        const int mc = std::min(MC, m1 - ic);
        pack_a<MR>(a, ic, mc, pc, kc, buf.a);
        for (int jr = 0; jr < nc; jr += NR) {
          const int nr = std::min(NR, nc - jr);
          for (int ir = 0; ir < mc; ir += MR) {
            const int mr = std::min(MR, mc - ir);
            float* cp = c + static_cast<size_t>(ic + ir) * ldc + jc + jr;
            const float* ap = buf.a + static_cast<size_t>(ir) * kc;
            const float* bp = buf.b + static_cast<size_t>(jr) * kc;
            if (mr == MR && nr == NR) {
              kernel(kc, ap, bp, cp, ldc, first);
            } else {
              kernel(kc, ap, bp, acc, NR, true);
              for (int i = 0; i < mr; ++i) {
                float* row = cp + static_cast<size_t>(i) * ldc;
                const float* src = acc + i * NR;
                if (first)
                  for (int j = 0; j < nr; ++j) row[j] = src[j];
                else
                  for (int j = 0; j < nr; ++j) row[j] += src[j];
              }
            }
            if (add)
              for (int i = 0; i < mr; ++i) add_bias(cp + static_cast<size_t>(i) * ldc, add + jc + jr, nr);
          }
        }
      }
    }
  }
}

// The register tile of the kernel in use: C is split between threads on its boundaries.
int tile_rows() { return has_avx512() ? 12 : 6; }
int tile_cols() { return has_avx512() ? 32 : 16; }

void gemm_block(const Operand& a, const Operand& b, int k, float* c, int ldc, int m0, int m1, int n0, int n1, bool accumulate, const float* bias) {
  if (has_avx512()) return gemm_block_t<12, 32>(micro_avx512, a, b, k, c, ldc, m0, m1, n0, n1, accumulate, bias);
  if (has_avx2()) return gemm_block_t<6, 16>(micro_avx2, a, b, k, c, ldc, m0, m1, n0, n1, accumulate, bias);
  gemm_block_t<6, 16>(micro_portable<6, 16>, a, b, k, c, ldc, m0, m1, n0, n1, accumulate, bias);
}

// ---- few rows (decoding one token, scoring a short batch): no packing, stream B once ----

float dot_portable(const float* x, const float* y, int n) {
  float s = 0.f;
  for (int i = 0; i < n; ++i) s += x[i] * y[i];
  return s;
}

__attribute__((target("avx2,fma"))) float dot_avx2(const float* x, const float* y, int n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), s0);
  __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  float out = _mm_cvtss_f32(h);
  for (; i < n; ++i) out += x[i] * y[i];
  return out;
}

void axpy_portable(float a, const float* x, float* y, int n) {
  for (int i = 0; i < n; ++i) y[i] += a * x[i];
}

__attribute__((target("avx2,fma"))) void axpy_avx2(float a, const float* x, float* y, int n) {
  const __m256 va = _mm256_set1_ps(a);
  int i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

// C[m x n] = op(A) op(B) for m small: each row of op(A) is made contiguous, then either dot
// products against B's rows (transposed B, e.g. the tied lm head) or row updates down B.
void gemm_few_rows(const Operand& a, const Operand& b, int m, int n, int k, float* c, int ldc, bool accumulate, int threads, const float* bias) {
  std::vector<float> rows(static_cast<size_t>(m) * k);
  for (int i = 0; i < m; ++i)
    for (int p = 0; p < k; ++p) rows[static_cast<size_t>(i) * k + p] = a.at(i, p);
  const bool avx = has_avx2();
  const size_t chunks = threads > 1 ? static_cast<size_t>(threads) * 4 : 1;
  auto run = [&](size_t c0, size_t c1, int) {
    const int j0 = static_cast<int>(static_cast<size_t>(n) * c0 / chunks), j1 = static_cast<int>(static_cast<size_t>(n) * c1 / chunks);
    if (j0 >= j1) return;
    for (int i = 0; i < m; ++i) {
      const float* x = rows.data() + static_cast<size_t>(i) * k;
      float* out = c + static_cast<size_t>(i) * ldc;
      if (b.trans) {
        for (int j = j0; j < j1; ++j) {
          const float v = (avx ? dot_avx2 : dot_portable)(x, b.p + static_cast<size_t>(j) * b.ld, k);
          out[j] = accumulate ? out[j] + v : v;
        }
      } else {
        if (!accumulate) std::fill(out + j0, out + j1, 0.f);
        for (int p = 0; p < k; ++p) (avx ? axpy_avx2 : axpy_portable)(x[p], b.p + static_cast<size_t>(p) * b.ld + j0, out + j0, j1 - j0);
      }
      if (bias) add_bias(out + j0, bias + j0, j1 - j0);
    }
  };
  if (chunks == 1) run(0, 1, 0);
  else parallel_for(chunks, run);
}

constexpr int kFewRows = kGemmFewRows;

// C = 0 (or C as it is, accumulating) plus the bias, for k = 0.
void empty_product(int m, int n, float* c, int ldc, bool accumulate, const float* bias) {
  for (int i = 0; i < m; ++i) {
    float* row = c + static_cast<size_t>(i) * ldc;
    if (!accumulate) std::fill(row, row + n, 0.f);
    if (bias) add_bias(row, bias, n);
  }
}

}  // namespace

bool gemm_uses_avx2() { return has_avx2(); }
bool gemm_uses_avx512() { return has_avx512(); }

void sgemm_serial(bool trans_a, bool trans_b, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) return empty_product(m, n, c, ldc, accumulate, nullptr);
  if (m <= kFewRows) return gemm_few_rows(Operand{a, lda, trans_a}, Operand{b, ldb, trans_b}, m, n, k, c, ldc, accumulate, 1, nullptr);
  gemm_block(Operand{a, lda, trans_a}, Operand{b, ldb, trans_b}, k, c, ldc, 0, m, 0, n, accumulate, nullptr);
}

void sgemm(bool trans_a, bool trans_b, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc, bool accumulate,
           const float* bias) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) return empty_product(m, n, c, ldc, accumulate, bias);
  const Operand A{a, lda, trans_a};
  const Operand B{b, ldb, trans_b};
  const double flops = 2.0 * m * n * k;
  const int threads = flops < 2e6 ? 1 : thread_count();
  if (m <= kFewRows) {
    gemm_few_rows(A, B, m, n, k, c, ldc, accumulate, threads, bias);
    return;
  }
  if (threads == 1) {
    gemm_block(A, B, k, c, ldc, 0, m, 0, n, accumulate, bias);
    return;
  }
  // Split the longer side of C into one slab per thread, on micro-tile boundaries.
  const bool split_n = n >= m;
  const int tile = split_n ? tile_cols() : tile_rows();
  const int tiles = ((split_n ? n : m) + tile - 1) / tile;
  parallel_for(static_cast<size_t>(tiles), [&](size_t t0, size_t t1, int) {
    const int lo = static_cast<int>(t0) * tile;
    const int hi = std::min(static_cast<int>(t1) * tile, split_n ? n : m);
    if (lo >= hi) return;
    if (split_n) gemm_block(A, B, k, c, ldc, 0, m, lo, hi, accumulate, bias);
    else gemm_block(A, B, k, c, ldc, lo, hi, 0, n, accumulate, bias);
  });
}

}  // namespace gptw

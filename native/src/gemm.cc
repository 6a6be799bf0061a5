#include "gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "thread_pool.h"

namespace gptw {
namespace {

constexpr int MR = 6;
constexpr int NR = 16;
constexpr int KC = 256;
constexpr int MC = 120;   // MR multiple: one packed A block stays in L2
constexpr int NC = 1024;  // NR multiple

struct Operand {
  const float* p;
  int ld;
  bool trans;
  // Element (row, col) of op(X).
  float at(int r, int c) const { return trans ? p[static_cast<size_t>(c) * ld + r] : p[static_cast<size_t>(r) * ld + c]; }
};

// A block [mc x kc] into MR-row panels: panel p holds, for each k, MR consecutive rows.
void pack_a(const Operand& a, int i0, int mc, int k0, int kc, float* out) {
  for (int ip = 0; ip < mc; ip += MR) {
    const int rows = std::min(MR, mc - ip);
    float* dst = out + static_cast<size_t>(ip) * kc;
    if (!a.trans) {
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
        for (int i = 0; i < MR; ++i) dst[k * MR + i] = i < rows ? src[i] : 0.f;
      }
    }
  }
}

// B block [kc x nc] into NR-column panels: panel p holds, for each k, NR consecutive columns.
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
    } else {
      for (int j = 0; j < NR; ++j) {
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

// acc[MR][NR] = sum_k ap[k][:] x bp[k][:]
using MicroKernel = void (*)(int kc, const float* ap, const float* bp, float* acc);

void micro_portable(int kc, const float* ap, const float* bp, float* acc) {
  float c[MR][NR] = {};
  for (int k = 0; k < kc; ++k)
    for (int i = 0; i < MR; ++i) {
      const float a = ap[k * MR + i];
      for (int j = 0; j < NR; ++j) c[i][j] += a * bp[k * NR + j];
    }
  std::memcpy(acc, c, sizeof(c));
}

__attribute__((target("avx2,fma"))) void micro_avx2(int kc, const float* ap, const float* bp, float* acc) {
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
  _mm256_storeu_ps(acc + 0 * NR, c00);
  _mm256_storeu_ps(acc + 0 * NR + 8, c01);
  _mm256_storeu_ps(acc + 1 * NR, c10);
  _mm256_storeu_ps(acc + 1 * NR + 8, c11);
  _mm256_storeu_ps(acc + 2 * NR, c20);
  _mm256_storeu_ps(acc + 2 * NR + 8, c21);
  _mm256_storeu_ps(acc + 3 * NR, c30);
  _mm256_storeu_ps(acc + 3 * NR + 8, c31);
  _mm256_storeu_ps(acc + 4 * NR, c40);
  _mm256_storeu_ps(acc + 4 * NR + 8, c41);
  _mm256_storeu_ps(acc + 5 * NR, c50);
  _mm256_storeu_ps(acc + 5 * NR + 8, c51);
}

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

MicroKernel micro() { return has_avx2() ? micro_avx2 : micro_portable; }

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

// One thread's share: rows [m0, m1) x columns [n0, n1) of C.
void gemm_block(const Operand& a, const Operand& b, int k, float* c, int ldc, int m0, int m1, int n0, int n1, bool accumulate) {
  thread_local Buffers buf;
  const MicroKernel kernel = micro();
  alignas(64) float acc[MR * NR];
  for (int jc = n0; jc < n1; jc += NC) {
    const int nc = std::min(NC, n1 - jc);
    for (int pc = 0; pc < k; pc += KC) {
      const int kc = std::min(KC, k - pc);
      const bool first = pc == 0 && !accumulate;
      pack_b(b, pc, kc, jc, nc, buf.b);
      for (int ic = m0; ic < m1; ic += MC) {
        const int mc = std::min(MC, m1 - ic);
        pack_a(a, ic, mc, pc, kc, buf.a);
        for (int jr = 0; jr < nc; jr += NR) {
          const int nr = std::min(NR, nc - jr);
          for (int ir = 0; ir < mc; ir += MR) {
            const int mr = std::min(MR, mc - ir);
            kernel(kc, buf.a + static_cast<size_t>(ir) * kc, buf.b + static_cast<size_t>(jr) * kc, acc);
            float* cp = c + static_cast<size_t>(ic + ir) * ldc + jc + jr;
            for (int i = 0; i < mr; ++i) {
              float* row = cp + static_cast<size_t>(i) * ldc;
              const float* src = acc + i * NR;
              if (first)
                for (int j = 0; j < nr; ++j) row[j] = src[j];
              else
                for (int j = 0; j < nr; ++j) row[j] += src[j];
            }
          }
        }
      }
    }
  }
}

}  // namespace

bool gemm_uses_avx2() { return has_avx2(); }

void sgemm_serial(bool trans_a, bool trans_b, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate)
      for (int i = 0; i < m; ++i) std::fill(c + static_cast<size_t>(i) * ldc, c + static_cast<size_t>(i) * ldc + n, 0.f);
    return;
  }
  gemm_block(Operand{a, lda, trans_a}, Operand{b, ldb, trans_b}, k, c, ldc, 0, m, 0, n, accumulate);
}

void sgemm(bool trans_a, bool trans_b, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate)
      for (int i = 0; i < m; ++i) std::fill(c + static_cast<size_t>(i) * ldc, c + static_cast<size_t>(i) * ldc + n, 0.f);
    return;
  }
  const Operand A{a, lda, trans_a};
  const Operand B{b, ldb, trans_b};
  const double flops = 2.0 * m * n * k;
  const int threads = flops < 2e6 ? 1 : thread_count();
  if (threads == 1) {
    gemm_block(A, B, k, c, ldc, 0, m, 0, n, accumulate);
    return;
  }
  // Split the longer side of C into one slab per thread, on micro-tile boundaries.
  const bool split_n = n >= m;
  const int tile = split_n ? NR : MR;
  const int tiles = ((split_n ? n : m) + tile - 1) / tile;
  parallel_for(static_cast<size_t>(tiles), [&](size_t t0, size_t t1, int) {
    const int lo = static_cast<int>(t0) * tile;
    const int hi = std::min(static_cast<int>(t1) * tile, split_n ? n : m);
    if (lo >= hi) return;
    if (split_n) gemm_block(A, B, k, c, ldc, 0, m, lo, hi, accumulate);
    else gemm_block(A, B, k, c, ldc, lo, hi, 0, n, accumulate);
  });
}

}  // namespace gptw

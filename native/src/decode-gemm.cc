#include "decode-gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "thread_pool.h"

namespace gptw {
namespace {

// A's rows of one pass, transposed and padded: at[p * W + i] = A[i][p] (0 past the pass's rows),
// so one or two vector loads give one k's values for every row while B's entries are broadcast.
constexpr int kMaxRows = 16;

// W = 16 columns of A (two vectors) by R = 6 rows of B: 12 accumulators, 8 loads per 12 FMAs.
// (Written out: with the accumulators in an array, GCC stored them to the stack every k.)
__attribute__((target("avx2,fma"))) void tile_16x6(int k, const float* at, const float* const* rows, const float* ahead, int ldb, float* acc) {
  const float *b0 = rows[0], *b1 = rows[1], *b2 = rows[2], *b3 = rows[3], *b4 = rows[4], *b5 = rows[5];
  __m256 s00 = _mm256_setzero_ps(), s01 = _mm256_setzero_ps(), s10 = _mm256_setzero_ps(), s11 = _mm256_setzero_ps();
  __m256 s20 = _mm256_setzero_ps(), s21 = _mm256_setzero_ps(), s30 = _mm256_setzero_ps(), s31 = _mm256_setzero_ps();
  __m256 s40 = _mm256_setzero_ps(), s41 = _mm256_setzero_ps(), s50 = _mm256_setzero_ps(), s51 = _mm256_setzero_ps();
  for (int p = 0; p < k; ++p) {
    if ((p & 15) == 0 && ahead)
      for (int r = 0; r < 6; ++r) _mm_prefetch(reinterpret_cast<const char*>(ahead + static_cast<size_t>(r) * ldb + p), _MM_HINT_T0);
    const __m256 x0 = _mm256_load_ps(at + p * 16), x1 = _mm256_load_ps(at + p * 16 + 8);
    __m256 w = _mm256_broadcast_ss(b0 + p);
    s00 = _mm256_fmadd_ps(w, x0, s00);
    s01 = _mm256_fmadd_ps(w, x1, s01);
    w = _mm256_broadcast_ss(b1 + p);
    s10 = _mm256_fmadd_ps(w, x0, s10);
    s11 = _mm256_fmadd_ps(w, x1, s11);
    w = _mm256_broadcast_ss(b2 + p);
    s20 = _mm256_fmadd_ps(w, x0, s20);
    s21 = _mm256_fmadd_ps(w, x1, s21);
    w = _mm256_broadcast_ss(b3 + p);
    s30 = _mm256_fmadd_ps(w, x0, s30);
    s31 = _mm256_fmadd_ps(w, x1, s31);
    w = _mm256_broadcast_ss(b4 + p);
    s40 = _mm256_fmadd_ps(w, x0, s40);
    s41 = _mm256_fmadd_ps(w, x1, s41);
    w = _mm256_broadcast_ss(b5 + p);
    s50 = _mm256_fmadd_ps(w, x0, s50);
    s51 = _mm256_fmadd_ps(w, x1, s51);
  }
  _mm256_store_ps(acc + 0, s00);
  _mm256_store_ps(acc + 8, s01);
  _mm256_store_ps(acc + 16, s10);
  _mm256_store_ps(acc + 24, s11);
  _mm256_store_ps(acc + 32, s20);
  _mm256_store_ps(acc + 40, s21);
  _mm256_store_ps(acc + 48, s30);
  _mm256_store_ps(acc + 56, s31);
  _mm256_store_ps(acc + 64, s40);
  _mm256_store_ps(acc + 72, s41);
  _mm256_store_ps(acc + 80, s50);
  _mm256_store_ps(acc + 88, s51);
}

// W = 8 columns of A (one vector) by R = 12 rows of B, for passes of up to 8 rows: half the FMAs
// of the 16-wide tile for the same bytes of B.
__attribute__((target("avx2,fma"))) void tile_8x12(int k, const float* at, const float* const* rows, const float* ahead, int ldb, float* acc) {
  const float *b0 = rows[0], *b1 = rows[1], *b2 = rows[2], *b3 = rows[3], *b4 = rows[4], *b5 = rows[5];
  const float *b6 = rows[6], *b7 = rows[7], *b8 = rows[8], *b9 = rows[9], *b10 = rows[10], *b11 = rows[11];
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  __m256 s4 = _mm256_setzero_ps(), s5 = _mm256_setzero_ps(), s6 = _mm256_setzero_ps(), s7 = _mm256_setzero_ps();
  __m256 s8 = _mm256_setzero_ps(), s9 = _mm256_setzero_ps(), s10 = _mm256_setzero_ps(), s11 = _mm256_setzero_ps();
  for (int p = 0; p < k; ++p) {
    if ((p & 15) == 0 && ahead)
      for (int r = 0; r < 12; ++r) _mm_prefetch(reinterpret_cast<const char*>(ahead + static_cast<size_t>(r) * ldb + p), _MM_HINT_T0);
    const __m256 x = _mm256_load_ps(at + p * 8);
    s0 = _mm256_fmadd_ps(_mm256_broadcast_ss(b0 + p), x, s0);
    s1 = _mm256_fmadd_ps(_mm256_broadcast_ss(b1 + p), x, s1);
    s2 = _mm256_fmadd_ps(_mm256_broadcast_ss(b2 + p), x, s2);
    s3 = _mm256_fmadd_ps(_mm256_broadcast_ss(b3 + p), x, s3);
    s4 = _mm256_fmadd_ps(_mm256_broadcast_ss(b4 + p), x, s4);
    s5 = _mm256_fmadd_ps(_mm256_broadcast_ss(b5 + p), x, s5);
    s6 = _mm256_fmadd_ps(_mm256_broadcast_ss(b6 + p), x, s6);
    s7 = _mm256_fmadd_ps(_mm256_broadcast_ss(b7 + p), x, s7);
    s8 = _mm256_fmadd_ps(_mm256_broadcast_ss(b8 + p), x, s8);
    s9 = _mm256_fmadd_ps(_mm256_broadcast_ss(b9 + p), x, s9);
    s10 = _mm256_fmadd_ps(_mm256_broadcast_ss(b10 + p), x, s10);
    s11 = _mm256_fmadd_ps(_mm256_broadcast_ss(b11 + p), x, s11);
  }
  _mm256_store_ps(acc + 0, s0);
  _mm256_store_ps(acc + 8, s1);
  _mm256_store_ps(acc + 16, s2);
  _mm256_store_ps(acc + 24, s3);
  _mm256_store_ps(acc + 32, s4);
  _mm256_store_ps(acc + 40, s5);
  _mm256_store_ps(acc + 48, s6);
  _mm256_store_ps(acc + 56, s7);
  _mm256_store_ps(acc + 64, s8);
  _mm256_store_ps(acc + 72, s9);
  _mm256_store_ps(acc + 80, s10);
  _mm256_store_ps(acc + 88, s11);
}

template <int W, int R>
void (*tile_avx2())(int, const float*, const float* const*, const float*, int, float*) {
  return W == 16 ? tile_16x6 : tile_8x12;
}

template <int W, int R>
void tile_portable(int k, const float* at, const float* const* rows, const float*, int, float* acc) {
  for (int r = 0; r < R; ++r)
    for (int i = 0; i < W; ++i) {
      float s = 0.f;
      for (int p = 0; p < k; ++p) s += rows[r][p] * at[p * W + i];
      acc[r * W + i] = s;
    }
}

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

// One pass: rows [i0, i0 + mb) of A against all of B, B's rows split between the threads.
template <int W, int R>
void pass(int mb, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc) {
  const size_t bytes = (sizeof(float) * static_cast<size_t>(k) * W + 63) / 64 * 64;
  float* at = static_cast<float*>(std::aligned_alloc(64, std::max<size_t>(bytes, 64)));
  for (int p = 0; p < k; ++p)
    for (int i = 0; i < W; ++i) at[p * W + i] = i < mb ? a[static_cast<size_t>(i) * lda + p] : 0.f;
  const auto tile = has_avx2() ? tile_avx2<W, R>() : tile_portable<W, R>;
  const size_t tiles = (static_cast<size_t>(n) + R - 1) / R;
  // A last tile short of R rows reads a row of zeros in their place (those sums are dropped).
  const int tail = n % R;
  std::vector<float> spare(tail ? static_cast<size_t>(k) : 0, 0.f);
  parallel_for(tiles, [&](size_t t0, size_t t1, int) {
    alignas(64) float acc[R * W];
    const float* rows[R];
    for (size_t t = t0; t < t1; ++t) {
      const int j0 = static_cast<int>(t) * R;
      const int nr = std::min(R, n - j0);
      for (int r = 0; r < R; ++r) rows[r] = r < nr ? b + static_cast<size_t>(j0 + r) * ldb : spare.data();
      // The next tile's rows, fetched while this one's are used (when it is whole: a short one is rare).
      const float* ahead = j0 + 2 * R <= n && t + 1 < t1 ? b + static_cast<size_t>(j0 + R) * ldb : nullptr;
      tile(k, at, rows, ahead, ldb, acc);
      for (int i = 0; i < mb; ++i) {
        float* out = c + static_cast<size_t>(i) * ldc + j0;
        for (int r = 0; r < nr; ++r) out[r] = acc[r * W + i];
      }
    }
  });
  std::free(at);
}

}  // namespace

void rows_times_transposed(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc) {
  if (m <= 0 || n <= 0) return;
  for (int i0 = 0; i0 < m; i0 += kMaxRows) {
    const int mb = std::min(kMaxRows, m - i0);
    const float* ap = a + static_cast<size_t>(i0) * lda;
    float* cp = c + static_cast<size_t>(i0) * ldc;
    if (mb <= 8) pass<8, 12>(mb, n, k, ap, lda, b, ldb, cp, ldc);
    else pass<16, 6>(mb, n, k, ap, lda, b, ldb, cp, ldc);
  }
}

}  // namespace gptw

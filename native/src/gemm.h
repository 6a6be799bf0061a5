// Single-precision GEMM, row-major: C[M,N] = op(A)[M,K] * op(B)[K,N] (+ C when accumulate).
// op(X) is X or its transpose; a bias [N], when given, is added to each finished element
// (sum + bias[col], the bits of adding it in a second pass). Blocked and packed (BLIS style) with a micro-kernel chosen at run
// time (AVX-512 12x32, else AVX2/FMA 6x16, else portable; all give the same bits), and all cores through the pool.
#pragma once

namespace gptw {

// Every element's sum over k runs in blocks of kGemmKBlock, in order; a product of at most
// kGemmFewRows rows takes another path (dot products), with other bits. A caller that splits one
// product into several and wants its bits cuts k on kGemmKBlock and keeps pieces above kGemmFewRows rows.
constexpr int kGemmKBlock = 256;
constexpr int kGemmFewRows = 4;

void sgemm(bool trans_a, bool trans_b, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc,
           bool accumulate = false, const float* bias = nullptr);

// The same on the calling thread only (for callers that parallelise over many small products).
void sgemm_serial(bool trans_a, bool trans_b, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc,
                  bool accumulate = false);

// True when the AVX2/FMA micro-kernel is in use (or the AVX-512 one, whose CPUs have AVX2 too).
bool gemm_uses_avx2();
// True when the AVX-512 micro-kernel is in use.
bool gemm_uses_avx512();

}  // namespace gptw
